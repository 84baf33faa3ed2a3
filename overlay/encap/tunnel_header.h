// Tunnel header codecs: VXLAN (RFC 7348) and GRE (RFC 2784 with the RFC 2890 key, payload
// Transparent Ethernet Bridging 0x6558) over an IPv4 underlay.
//
// Encapsulation works from a template: everything in the outer headers that does not
// depend on the packet (MACs, addresses, TTL, TOS, DF, ports, VNI/key) is laid out once
// by build_header() when the pipeline translates a flow, and the datapath stores the
// template inside the megaflow's action list. Per packet, push() only prepends the
// template's bytes and fills the few per-packet fields: outer IP total length and
// checksum (incremental, from the template's precomputed partial sum), UDP length and
// the UDP source port (entropy from the inner flow's hash, so the remote NIC's RSS
// spreads flows instead of piling them on one queue).
//
// Decapsulation: pop() validates the outer headers of a packet the datapath already
// classified as "tunnel traffic for us" (outer IPv4 to the local address; UDP to the
// VXLAN port, or IP protocol 47), strips them and returns the tunnel metadata (VNI/key,
// outer source and destination). It never trusts the classification: lengths, versions,
// flags and checksums it can check are checked, and anything wrong is reported so the
// datapath can count it.
//
// Layering: DPDK mbuf only (no switch/ includes). All addresses are network order as on
// the wire; VNI/key and ports are host order.
#pragma once

#include <cstdint>
#include <string>

struct rte_mbuf;
struct rte_mempool;

namespace vswitch::encap {

enum class TunnelType : uint8_t { Vxlan = 1, Gre = 2 };

inline constexpr uint16_t kVxlanPort = 4789;         // IANA (RFC 7348)
inline constexpr uint16_t kEtherTypeTeb = 0x6558;    // Transparent Ethernet Bridging
inline constexpr uint32_t kVxlanOverhead = 14 + 20 + 8 + 8;   // 50: outer eth+ip+udp+vxlan
inline constexpr uint32_t kGreOverhead = 14 + 20 + 8;         // 42: outer eth+ip+gre(key)
inline constexpr uint32_t kHeaderMax = 64;

// What a tunnel's outer headers are made of.
struct TunnelSpec {
    TunnelType type = TunnelType::Vxlan;
    uint8_t src_mac[6] = {};     // the uplink's MAC
    uint8_t dst_mac[6] = {};     // the next hop's MAC (neighbor table)
    uint32_t src_ip = 0;         // network order: the local VTEP address
    uint32_t dst_ip = 0;         // network order: the remote VTEP
    uint32_t vni = 0;            // VXLAN: 24 bits; GRE: the 32-bit key
    uint16_t dst_port = kVxlanPort;   // VXLAN only, host order
    uint8_t ttl = 64;
    uint8_t tos = 0;             // outer TOS/DSCP byte
    bool df = true;              // outer Don't Fragment
};

// A precomputed outer header. Trivially copyable, fixed size: it lives inside datapath
// action lists.
struct TunnelHeader {
    uint8_t bytes[kHeaderMax];   // eth + ipv4 + udp + vxlan, or eth + ipv4 + gre(+key)
    uint8_t len = 0;             // bytes used (50 or 42)
    TunnelType type = TunnelType::Vxlan;
    uint16_t ip_csum_base = 0;   // ones'-complement sum of the template's IP header with
                                 // total length and checksum 0 (push adds the length)
    uint16_t mtu = 0;            // underlay MTU: largest outer IP packet allowed; 0 = none
    bool operator==(const TunnelHeader& o) const;
};

// Lays out the template. false + err ("field: problem") for a spec that cannot be
// encoded (VNI over 24 bits for VXLAN, zero addresses, ...).
bool build_header(const TunnelSpec& spec, TunnelHeader& out, std::string& err);

// The VXLAN outer UDP source port for an inner flow hash: within 49152..65535 (RFC 7348
// recommends the dynamic range), the same hash always giving the same port.
uint16_t entropy_port(uint32_t inner_hash);

enum class PushResult : uint8_t { Ok, NoHeadroom, TooBig };

// Prepends h to m (which must be private and direct: the datapath prepares it) and fills
// lengths, checksum and (VXLAN) the source port from inner_hash. TooBig: the outer IP
// packet would exceed h.mtu; m is left unchanged (the caller drops it and may answer with
// icmp_frag_needed()). NoHeadroom: m unchanged.
PushResult push(rte_mbuf* m, const TunnelHeader& h, uint32_t inner_hash);

// Tunnel metadata recovered by pop().
struct TunnelMd {
    uint64_t tun_id = 0;   // VNI / GRE key (0 if the GRE packet had no key), host order
    uint32_t tun_src = 0;  // outer IPv4 source, network order
    uint32_t tun_dst = 0;  // outer IPv4 destination, network order
};

enum class PopResult : uint8_t {
    Ok,
    Malformed,     // truncated, bad IP version/IHL/length, IP options we cannot skip
    Fragment,      // outer IPv4 fragment: not reassembled, dropped
    BadChecksum,   // outer IPv4 header checksum wrong
    BadTunnelHeader,   // VXLAN without the I flag or reserved bits set; GRE with a
                       // version other than 0, routing, or a payload that is not 0x6558
    NotTunnel,     // not UDP to `vxlan_port` (VXLAN) / not protocol 47 (GRE)
};

// Strips eth + outer IPv4 + UDP/VXLAN or GRE from m (whose data starts at the outer
// Ethernet header, untagged) and fills md. On anything but Ok, m is unchanged.
// vxlan_port: host order, the UDP destination port VXLAN is expected on.
PopResult pop(rte_mbuf* m, TunnelType type, uint16_t vxlan_port, TunnelMd& md);

// Builds an ICMPv4 "destination unreachable, fragmentation needed" (type 3 code 4,
// RFC 1191 next-hop MTU) answering the IPv4 packet `orig` (data at its Ethernet header,
// possibly VLAN-tagged: the answer carries the same tag). It goes back to the sender:
// Ethernet and IP addresses swapped (the answer appears to come from the packet's
// destination), TTL 64, carrying the original IP header plus the first 8 bytes of its
// payload. nullptr when orig is not IPv4, or allocation from pool fails.
rte_mbuf* icmp_frag_needed(const rte_mbuf* orig, uint16_t next_hop_mtu, rte_mempool* pool);

// ARP (Ethernet/IPv4) helpers for the underlay and the VPC ARP responder.
// Turns the ARP request m into the reply "ip is at mac" in place: op 2, sender = (mac,
// the request's target IP), target = the request's sender, Ethernet src = mac and dst =
// the requester. false (m unchanged) if m is not an Ethernet/IPv4 ARP request.
bool arp_make_reply(rte_mbuf* m, const uint8_t mac[6]);
// A broadcast "who has target_ip? tell src_ip" request from (src_mac, src_ip); nullptr
// when allocation fails. Addresses network order.
rte_mbuf* arp_build_request(const uint8_t src_mac[6], uint32_t src_ip, uint32_t target_ip,
                            rte_mempool* pool);

}  // namespace vswitch::encap
