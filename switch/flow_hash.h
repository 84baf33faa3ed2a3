// The symmetric inner-flow hash the overlay uses twice: on encapsulation it picks the
// outer UDP source port (entropy for the remote NIC's RSS) and is remembered per VM rx
// queue; on decapsulation the same hash of the returning packet finds the VM queue that
// flow was sent from (flow affinity). Symmetric (swapping source and destination gives
// the same value) so a reply finds its request's queue.
//
// IPv4: addresses, protocol, and the ports for TCP/UDP only (both sides must agree on
// what a "port" is: the flow key keeps ICMP type/code in tp_src/tp_dst, the packet does
// not have ports there). Everything else (IPv6, ARP, ...): the two MAC addresses.
#pragma once

#include <cstdint>
#include <cstring>

#include <rte_byteorder.h>
#include <rte_hash_crc.h>

#include "flow_key.h"

namespace vswitch {

inline uint32_t sym_flow_hash_ipv4(uint32_t a, uint32_t b, uint8_t proto, uint16_t pa,
                                   uint16_t pb) {
    if (proto != 6 && proto != 17) pa = pb = 0;
    const uint32_t lo = a < b ? a : b, hi = a < b ? b : a;
    const uint16_t plo = pa < pb ? pa : pb, phi = pa < pb ? pb : pa;
    uint32_t h = rte_hash_crc_4byte(lo, 0x9e3779b9u);
    h = rte_hash_crc_4byte(hi, h);
    return rte_hash_crc_4byte(uint32_t(plo) << 16 | phi, h ^ proto);
}

inline uint32_t sym_flow_hash_l2(const uint8_t* mac_a, const uint8_t* mac_b) {
    uint64_t a = 0, b = 0;
    std::memcpy(&a, mac_a, 6);
    std::memcpy(&b, mac_b, 6);
    const uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
    return rte_hash_crc_8byte(hi, rte_hash_crc_8byte(lo, 0x7f4a7c15u));
}

// The same hash from a flow key (flow_extract leaves a later fragment's ports at 0, and
// sym_flow_hash_ipv4 ignores ports other than TCP/UDP): what the PMD uses on both sides,
// so the encap side remembers exactly the value the decap side looks up.
inline uint32_t sym_flow_hash(const FlowKey& k) {
    return k.dl_type == RTE_BE16(0x0800)
               ? sym_flow_hash_ipv4(k.nw_src, k.nw_dst, k.nw_proto, k.tp_src, k.tp_dst)
               : sym_flow_hash_l2(k.dl_src, k.dl_dst);
}

}  // namespace vswitch
