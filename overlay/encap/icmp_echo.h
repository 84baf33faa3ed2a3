// The gateway's ping answer: an ICMPv4 echo request turned into its echo reply in place,
// for the VPC router (the icmp_echo_reply action). In place, like arp_make_reply: the
// reply is the request with its addresses swapped, so no allocation and no copy of the
// payload (RFC 792: the reply returns the request's data).
#pragma once

#include <rte_mbuf.h>

namespace vswitch::encap {

// Turns the ICMPv4 echo request m (type 8, code 0; up to two VLAN tags, kept) into the
// echo reply: Ethernet and IPv4 source and destination swapped, type 0, TTL 64, the
// IPv4 and ICMP checksums updated incrementally (RFC 1624; the payload is not read, so it
// may span segments). false, m unchanged, if m is not an unfragmented echo request whose
// IPv4 and ICMP headers are in its first segment, or was sent to an Ethernet or IPv4
// broadcast or multicast address (RFC 1122 3.2.2.6 allows ignoring those; answering
// them from a router makes it an amplifier).
bool icmp_make_echo_reply(rte_mbuf* m);

}  // namespace vswitch::encap
