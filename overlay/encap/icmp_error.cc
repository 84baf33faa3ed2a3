#include "overlay/encap/icmp_error.h"

#include <algorithm>
#include <cstring>

#include "overlay/encap/wire_bytes.h"

namespace vswitch::encap {

using namespace detail;

namespace {

constexpr uint32_t kQuoted = 8;    // RFC 792: the header plus 64 bits of data
constexpr uint32_t kIcmpLen = 8;   // type, code, checksum, 4 unused bytes
constexpr uint32_t kFront = kIpLen + kIcmpLen;   // what goes in front of the quote

}  // namespace

bool icmp_make_error(rte_mbuf* m, uint8_t type, uint8_t code, uint32_t src) {
    uint8_t* p = rte_pktmbuf_mtod(m, uint8_t*);
    const uint32_t seg = m->data_len;
    if (seg < kEthLen || (p[0] & 1) || (p[6] & 1)) return false;
    const uint32_t type_off = ethertype_offset(p, seg);
    const uint32_t ip_off = type_off + 2;
    if (seg < ip_off + kIpLen || rd_be16(p + type_off) != kEtherIpv4) return false;
    const uint8_t* ip = p + ip_off;
    const uint32_t ihl = (ip[0] & 0x0f) * 4u;
    const uint32_t ip_len = rd_be16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < kIpLen || ip_len < ihl || seg < ip_off + ihl) return false;
    // A non-first fragment: its payload does not start with the transport header the
    // quote is for, and the first fragment gets the answer.
    if (rd_be16(ip + 6) & kIpOffsetMask) return false;
    const uint32_t orig_src = rd_be32(ip + 12);
    if (icmp_error_unanswerable(orig_src, rd_be32(ip + 16))) return false;
    const uint32_t quoted = std::min({kQuoted, ip_len - ihl, seg - ip_off - ihl});
    if (ip[9] == kProtoIcmp && (quoted == 0 || is_icmp_error_type(ip[ihl]))) return false;
    if (rte_pktmbuf_headroom(m) < kFront) return false;

    // Make room: the link header moves 28 bytes forward, the quote stays where it is.
    uint8_t* d = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, kFront));
    std::memmove(d, p, ip_off);
    uint8_t mac[6];
    std::memcpy(mac, d, 6);   // back the way it came
    std::memcpy(d, d + 6, 6);
    std::memcpy(d + 6, mac, 6);
    if (m->next) {
        rte_pktmbuf_free(m->next);
        m->next = nullptr;
        m->nb_segs = 1;
    }
    const uint32_t icmp_len = kIcmpLen + ihl + quoted;
    m->data_len = static_cast<uint16_t>(ip_off + kIpLen + icmp_len);
    m->pkt_len = m->data_len;
    m->ol_flags &= ~RTE_MBUF_F_TX_OFFLOAD_MASK;

    uint8_t* rip = d + ip_off;
    write_icmp_error_ip(rip, icmp_len, rte_cpu_to_be_32(src), rte_cpu_to_be_32(orig_src));

    uint8_t* icmp = rip + kIpLen;
    icmp[0] = type;
    icmp[1] = code;
    wr16(icmp + 2, 0);
    wr32(icmp + 4, 0);
    wr16(icmp + 2, csum_finish(csum_add(0, icmp, icmp_len)));
    return true;
}

}  // namespace vswitch::encap
