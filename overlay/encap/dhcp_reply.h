// The VPC's DHCP server in one packet rewrite (the dhcp_reply action): a DHCPv4 request
// from a VM becomes the server's answer in place, with the address and options the
// switch already knows for that VM. As OVN's native DHCP: no lease database, no server
// process, no packet leaves the host; the "lease" is the binding itself, so every
// request for the bound address is granted and any other is refused.
//
// Answers (RFC 2131 section 4.3):
//   DHCPDISCOVER                 -> DHCPOFFER  of client_ip
//   DHCPREQUEST for client_ip    -> DHCPACK    (requested address: option 50, else ciaddr)
//   DHCPREQUEST for another one  -> DHCPNAK    (the client restarts and is offered ours)
//   DHCPREQUEST to another server (option 54 names one) -> nothing (Consumed)
//   DHCPINFORM                   -> DHCPACK    with the options, no address, no lease
//   DHCPDECLINE, DHCPRELEASE     -> nothing (Consumed): the address stays the VM's
// Options sent: 53 message type, 54 server identifier, and for OFFER/ACK 1 subnet mask,
// 3 router, 6 DNS servers, 26 interface MTU (those configured), 51 lease time with
// 58/59 renewal times (not for INFORM).
//
// Addressing of the answer (RFC 2131 4.1): to ciaddr if the client has one (renewal,
// INFORM); else broadcast if the client set the broadcast flag, or for a NAK; else
// unicast to yiaddr at chaddr. The Ethernet source is the server's MAC; VLAN tags are
// kept, as the other in-place answers do.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

namespace vswitch::encap {

struct DhcpConfig {
    static constexpr unsigned kMaxDns = 4;
    static constexpr uint32_t kDefaultLease = 86400;   // seconds
    uint8_t server_mac[6] = {};
    uint32_t server_ip = 0;   // host order, as every address here; option 54, IP source
    uint32_t client_ip = 0;   // yiaddr
    uint32_t netmask = 0;     // option 1
    uint32_t router = 0;      // option 3; 0 = not sent
    uint32_t lease = kDefaultLease;   // option 51; 0xffffffff = infinite (no 58/59 then)
    uint16_t mtu = 0;         // option 26; 0 = not sent
    uint8_t n_dns = 0;        // option 6
    uint32_t dns[kMaxDns] = {};
    bool operator==(const DhcpConfig&) const = default;
};

enum class DhcpResult : uint8_t {
    Reply,      // m is now the answer, to send back to the client
    Consumed,   // a valid request that gets no answer (RELEASE, DECLINE, another server)
    Invalid,    // not a DHCP request we can answer: m unchanged
};

// Rewrites the DHCP request m into its answer. The request must be an unfragmented
// IPv4/UDP packet 68 -> 67 whose headers and options up to option 53 lie in the first
// segment (a chain's other segments are freed), BOOTREQUEST over Ethernet (htype 1, hlen 6) with chaddr equal
// to the Ethernet source, the magic cookie and option 53. The answer is at least the
// 300-byte BOOTP minimum (zero padded) and must fit the first segment's buffer; UDP and
// IPv4 checksums are computed (and transmit offload requests cleared).
DhcpResult dhcp_make_reply(rte_mbuf* m, const DhcpConfig& cfg);

}  // namespace vswitch::encap
