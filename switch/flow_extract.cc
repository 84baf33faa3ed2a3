// flow_extract: packet -> FlowKey (contract in flow_extract.h, field conventions in
// flow_key.h). Runs once per packet on the PMD: no allocation, one clear of the key,
// straight-line field copies, and length checks against the frame length only.
//
// Header access: every header we ever parse fits in kHdrMax bytes (Ethernet 14 + two
// tags 8 + IPv4 with options 60 + TCP 20 = 102). If the first segment holds
// min(frame, kHdrMax) bytes we parse it in place; otherwise (rare: a driver or a
// tunnel pop left a tiny first segment) we copy that prefix once into a stack buffer.
// After that, "offset + n <= frame" implies the bytes are readable, so the parser
// never asks the mbuf again.
#include "flow_extract.h"
#include "wire.h"

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include <cstring>

namespace vswitch {

namespace {

using namespace wire;


// Minimum L4 header we need before trusting the ports/type/code. ICMP/ICMPv6 count
// the 4-byte type-specific word: every message type has it.
inline uint32_t l4_min_len(uint8_t proto, uint8_t icmp_proto) {
    if (proto == kProtoTcp) return 20;
    if (proto == kProtoUdp) return 8;
    if (proto == kProtoSctp) return 12;
    if (proto == icmp_proto) return 8;
    return 0;   // not an L4 we key on
}

// L4 of a non-fragment or first fragment. `len` is what the L3 header says is there
// (already bounded by the frame).
inline ParseResult parse_l4(const uint8_t* l4, uint32_t len, uint8_t proto, uint8_t icmp_proto,
                            FlowKey& key) {
    uint32_t need = l4_min_len(proto, icmp_proto);
    if (need == 0) return ParseResult::Ok;
    if (__builtin_expect(len < need, 0)) return ParseResult::Malformed;
    if (proto == icmp_proto) {
        // type/code in the low byte of a network-order u16: byte 0 stays zero.
        key.tp_src = rte_cpu_to_be_16(l4[0]);
        key.tp_dst = rte_cpu_to_be_16(l4[1]);
    } else {
        std::memcpy(&key.tp_src, l4, 4);   // src and dst ports are adjacent in both
    }
    return ParseResult::Ok;
}

inline ParseResult parse_ipv4(const uint8_t* ip, uint32_t avail, FlowKey& key) {
    if (__builtin_expect(avail < kIpv4MinLen, 0)) return ParseResult::Malformed;
    uint8_t vihl = ip[0];
    uint32_t ihl = (vihl & 0x0fu) * 4;
    uint32_t total = rte_be_to_cpu_16(rd16(ip + 2));
    if (__builtin_expect((vihl >> 4) != 4 || ihl < kIpv4MinLen || total < ihl || total > avail,
                         0))
        return ParseResult::Malformed;

    key.nw_tos = ip[1];
    key.nw_ttl = ip[8];
    key.nw_proto = ip[9];
    std::memcpy(&key.nw_src, ip + 12, 8);   // src, dst adjacent in packet and key

    uint16_t frag = rte_be_to_cpu_16(rd16(ip + 6));
    uint8_t later = (frag & 0x1fff) != 0;
    key.nw_frag = static_cast<uint8_t>(((frag & 0x3fff) != 0) | (later << 1));
    if (later) return ParseResult::Ok;   // no L4 header in later fragments
    return parse_l4(ip + ihl, total - ihl, key.nw_proto, kProtoIcmp, key);
}

inline ParseResult parse_ipv6(const uint8_t* ip, uint32_t avail, FlowKey& key) {
    if (__builtin_expect(avail < kIpv6Len, 0)) return ParseResult::Malformed;
    key.nw_tos = static_cast<uint8_t>((ip[0] << 4) | (ip[1] >> 4));
    key.nw_proto = ip[6];
    key.nw_ttl = ip[7];
    std::memcpy(key.ipv6_src, ip + 8, 32);   // src, dst adjacent in packet and key
    uint32_t plen = rte_be_to_cpu_16(rd16(ip + 4));
    uint32_t rest = avail - kIpv6Len;
    return parse_l4(ip + kIpv6Len, plen < rest ? plen : rest, key.nw_proto, kProtoIcmpv6, key);
}

inline void parse_arp(const uint8_t* arp, uint32_t avail, FlowKey& key) {
    // Only ARP for IPv4 over Ethernet has SPA/TPA where the key expects them; anything
    // else (or a short ARP) keys on L2 only, which is not an error.
    if (avail < kArpEthIpv4Len || rd16(arp) != RTE_BE16(1) || rd16(arp + 2) != RTE_BE16(0x0800) ||
        arp[4] != 6 || arp[5] != 4)
        return;
    key.nw_proto = arp[7];   // low byte of the big-endian opcode
    std::memcpy(&key.nw_src, arp + 14, 4);
    std::memcpy(&key.nw_dst, arp + 24, 4);
}

}  // namespace

ParseResult flow_extract(const rte_mbuf* m, uint32_t in_port, FlowKey& key) {
    key.clear();   // the one clear; see FlowKey::clear() for why it is not memset
    key.in_port = in_port;

    const uint32_t frame = rte_pktmbuf_pkt_len(m);
    if (__builtin_expect(frame < kEthLen, 0)) return ParseResult::Runt;

    const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
    alignas(16) uint8_t buf[kHdrMax];
    const uint32_t want = frame < kHdrMax ? frame : kHdrMax;
    if (__builtin_expect(rte_pktmbuf_data_len(m) < want, 0)) {
        p = static_cast<const uint8_t*>(rte_pktmbuf_read(m, 0, want, buf));
        // Only possible if the segment lengths do not add up to pkt_len.
        if (p == nullptr) return ParseResult::Malformed;
    }

    std::memcpy(key.dl_dst, p, 12);   // dst, src adjacent in packet and key
    uint32_t off = 12;
    uint16_t type = rd16(p + off);
    if (is_vlan_tpid(type)) {
        if (__builtin_expect(frame < kEthLen + kVlanLen, 0)) return ParseResult::Runt;
        key.vlan_tci = rd16(p + off + 2) | RTE_BE16(kVlanCfi);
        off += kVlanLen;
        type = rd16(p + off);
        if (is_vlan_tpid(type)) {   // QinQ: the inner TCI is not part of the key
            if (__builtin_expect(frame < kEthLen + 2 * kVlanLen, 0)) return ParseResult::Runt;
            off += kVlanLen;
            type = rd16(p + off);
        }
    }
    off += 2;
    key.dl_type = type;

    const uint8_t* l3 = p + off;
    const uint32_t avail = frame - off;
    if (type == RTE_BE16(0x0800)) return parse_ipv4(l3, avail, key);
    if (type == RTE_BE16(0x86dd)) return parse_ipv6(l3, avail, key);
    if (type == RTE_BE16(0x0806)) parse_arp(l3, avail, key);
    return ParseResult::Ok;
}

}  // namespace vswitch
