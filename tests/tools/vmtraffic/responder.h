// responder.h - the minimal host stack of --answer: ARP and ICMP echo for one IPv4 address.
//
// Contract:
//   answer_in_place() looks at one received frame (untagged Ethernet, first segment).
//   If it is an ARP request for `ip` (host order) it is rewritten in place into the
//   reply "ip is at mac"; if it is an ICMP echo request to `ip` (IPv4 without
//   fragmentation, the whole ICMP message in the first segment) it is rewritten in place
//   into the echo reply (addresses swapped, TTL 64, checksums recomputed; identifier,
//   sequence and data kept). In both cases the Ethernet destination becomes the frame's
//   source and the source becomes `mac`. Returns what it did; on None the frame is
//   untouched. Nothing else (other ARP, other ICMP, other addresses, VLAN-tagged
//   frames) is answered.
#pragma once

#include <cstdint>

#include <rte_ether.h>
#include <rte_mbuf.h>

namespace vmt {

enum class Answer { None, Arp, IcmpEcho };

Answer answer_in_place(rte_mbuf* m, uint32_t ip, const rte_ether_addr& mac);

}  // namespace vmt
