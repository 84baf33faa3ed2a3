// The VPC router's "time exceeded" (the icmp_error action): an IPv4 packet turned in place
// into the ICMP error about itself, sent back to its source. In place, like the other
// answers of the router (ARP, echo, DHCP): the quoted part of the error is the packet's
// own IP header and first 8 payload bytes, which already sit in the mbuf; only the new
// IP and ICMP headers (28 bytes) are put in front of them, in the headroom.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

namespace vswitch::encap {

// RFC 1122 3.2.2 / RFC 1812 4.3.2.7: an error is never sent about an ICMP error (two
// stacks could bounce errors forever) and only its type tells; these are the error types.
inline bool is_icmp_error_type(uint8_t type) {
    return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

// Same RFCs: no error about a packet that did not come from, or was not meant for, one
// host: broadcast or multicast destinations, and sources that name no single host (the
// answer would go to a group, to everybody, or to nowhere). Host-order addresses.
inline bool icmp_error_unanswerable(uint32_t src, uint32_t dst) {
    auto group = [](uint32_t a) { return (a >> 28) >= 0xe; };   // 224/4 multicast, 240/4 + broadcast
    return src == 0 || (src >> 24) == 127 || group(src) || group(dst);
}

// Turns the IPv4 packet m (up to two VLAN tags, kept) into the ICMPv4 error type/code
// about it, from IP address `src` (host order): Ethernet addresses swapped, a fresh IPv4
// header (TOS 0xc0 as RFC 1812 4.3.2.5 asks, ID 0, TTL 64, to the packet's source), the
// ICMP header (4 unused bytes 0), then the packet's IP header and up to 8 bytes of its
// payload; the rest of the packet, other segments included, is dropped. Checksums
// computed, transmit offload requests cleared. false, m unchanged, when the rules above
// forbid an answer (m is an ICMP error, a non-first fragment, has an unanswerable
// address, or an Ethernet group address either way), when m is not IPv4 with its header
// and the quoted bytes in the first segment, or when the headroom holds less than 28
// bytes.
bool icmp_make_error(rte_mbuf* m, uint8_t type, uint8_t code, uint32_t src);

}  // namespace vswitch::encap
