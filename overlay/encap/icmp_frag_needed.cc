// icmp_frag_needed(): the "fragmentation needed" answer that makes path MTU discovery
// work across a tunnel. Cold path (one packet per too-big packet, and senders back off
// at once), so it reads the original through rte_pktmbuf_read and favours clarity.
#include <rte_mbuf.h>

#include <algorithm>

#include "overlay/encap/icmp_error.h"
#include "overlay/encap/tunnel_header.h"
#include "overlay/encap/wire_bytes.h"

namespace vswitch::encap {

using namespace detail;

namespace {

constexpr uint32_t kMaxTags = 2;      // 802.1Q, or 802.1ad + 802.1Q (QinQ)
constexpr uint32_t kIpMaxLen = 60;    // IHL 15
constexpr uint32_t kQuoted = 8;       // RFC 792: the header plus 64 bits of data
constexpr uint32_t kIcmpLen = 8;      // type, code, checksum, unused, next-hop MTU

bool is_vlan_tpid(uint16_t t) { return t == 0x8100 || t == 0x88a8; }

}  // namespace

rte_mbuf* icmp_frag_needed(const rte_mbuf* orig, uint16_t next_hop_mtu, rte_mempool* pool) {
    uint8_t copy[kEthLen + kMaxTags * kVlanLen + kIpMaxLen + kQuoted];
    const uint32_t have = std::min<uint32_t>(rte_pktmbuf_pkt_len(orig), sizeof copy);
    if (have < kEthLen + kIpLen) return nullptr;
    const auto* d = static_cast<const uint8_t*>(rte_pktmbuf_read(orig, 0, have, copy));
    if (!d) return nullptr;

    // Link-layer broadcast/multicast, either way: same rule as for IP group addresses.
    if ((d[0] & 1) || (d[6] & 1)) return nullptr;
    uint32_t type_off = 12;
    for (uint32_t tags = 0; tags < kMaxTags && is_vlan_tpid(rd_be16(d + type_off)); ++tags) {
        type_off += kVlanLen;
        if (have < type_off + 2) return nullptr;
    }
    if (rd_be16(d + type_off) != kEtherIpv4) return nullptr;
    const uint32_t ip_off = type_off + 2;
    if (have < ip_off + kIpLen) return nullptr;
    const uint8_t* ip = d + ip_off;
    const uint32_t ihl = (ip[0] & 0xf) * 4u;
    if ((ip[0] >> 4) != 4 || ihl < kIpLen || have < ip_off + ihl) return nullptr;
    const uint32_t ip_len = rd_be16(ip + 2);
    if (ip_len < ihl) return nullptr;
    // A non-first fragment: its sender learns from the first one already, and its
    // payload does not start with the transport header the quote is for.
    if (rd_be16(ip + 6) & kIpOffsetMask) return nullptr;
    if (icmp_error_unanswerable(rd_be32(ip + 12), rd_be32(ip + 16))) return nullptr;
    // Up to 8 payload bytes: fewer if the datagram (or what arrived of it) is shorter.
    const uint32_t quoted = std::min({kQuoted, ip_len - ihl, have - ip_off - ihl});
    if (ip[9] == kProtoIcmp && (quoted == 0 || is_icmp_error_type(ip[ihl]))) return nullptr;

    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (!m) return nullptr;
    const uint32_t icmp_len = kIcmpLen + ihl + quoted;
    const uint32_t total = ip_off + kIpLen + icmp_len;   // >= 62: no Ethernet padding
    auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(total)));
    if (!p) {
        rte_pktmbuf_free(m);
        return nullptr;
    }

    // Back the way it came: MACs swapped, the VLAN tag(s) and EtherType kept.
    std::memcpy(p, d + 6, 6);
    std::memcpy(p + 6, d, 6);
    std::memcpy(p + 12, d + 12, ip_off - 12);

    uint8_t* rip = p + ip_off;
    // "Appears to come from the packet's destination", as a router on the path would
    // send it: the sender's stack looks the route up by the quoted destination anyway.
    write_icmp_error_ip(rip, icmp_len, rd32(ip + 16), rd32(ip + 12));

    uint8_t* icmp = rip + kIpLen;
    icmp[0] = 3;   // destination unreachable
    icmp[1] = 4;   // fragmentation needed and DF set
    wr16(icmp + 2, 0);
    wr16(icmp + 4, 0);   // unused (RFC 1191), RFC 4884 length 0: no extension
    wr_be16(icmp + 6, next_hop_mtu);
    std::memcpy(icmp + kIcmpLen, ip, ihl + quoted);
    wr16(icmp + 2, csum_finish(csum_add(0, icmp, icmp_len)));
    return m;
}

}  // namespace vswitch::encap
