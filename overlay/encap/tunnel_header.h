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
// the wire; VNI/key and ports are host order. docs/encap.md describes the formats and
// the measured per-packet cost.
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
                                 // total length and checksum 0 (push adds the length),
                                 // folded to 16 bits, host order (the sum of the
                                 // header's big-endian words as numbers)
    uint16_t mtu = 0;            // underlay MTU: largest outer IP packet allowed; 0 = none
                                 // (build_header sets 0; the caller sets the uplink's MTU)
    // Same template: len, type, base, mtu and the first len bytes (build_header zeroes
    // the rest anyway, so a plain byte comparison of two built headers agrees).
    bool operator==(const TunnelHeader& o) const;
};

// Lays out the template. false + err ("field: problem") for a spec that cannot be
// encoded, checked in this order: type unknown; VXLAN vni over 24 bits ("vni: ... exceeds
// 24 bits"); src_ip 0.0.0.0, multicast or broadcast; dst_ip 0.0.0.0 (a multicast dst_ip
// is fine: VXLAN flood groups); src_mac multicast or all zeros; dst_mac all zeros (an
// unresolved neighbor); VXLAN dst_port 0; ttl 0. On false `out` is unchanged.
// The outer IPv4 identification is always 0 (RFC 6864 allows any value in an atomic, DF
// datagram). With df=false the outer packets may be fragmented on the way and all share
// ID 0, so reassembly at the remote VTEP can mix fragments of different packets: keep
// df=true and set mtu instead.
bool build_header(const TunnelSpec& spec, TunnelHeader& out, std::string& err);

// The template decoded for people (dump-dpflows, trace): "vxlan,dst_port=4789,key=5001,
// src=192.0.2.1,dst=192.0.2.2,eth_dst=02:00:00:00:02:01,mtu=1500" (GRE: no dst_port).
std::string describe(const TunnelHeader& h);

// The VXLAN outer UDP source port for an inner flow hash: within 49152..65535 (RFC 7348
// recommends the dynamic range), the same hash always giving the same port.
uint16_t entropy_port(uint32_t inner_hash);

enum class PushResult : uint8_t { Ok, NoHeadroom, TooBig };

// Prepends h to m (which must be private and direct: the datapath prepares it) and fills
// lengths, checksum and (VXLAN) the source port from inner_hash. h must come from
// build_header() (push trusts h.len: it is the per-packet path). TooBig: the outer IP
// packet (pkt_len + h.len - 14 bytes) would exceed h.mtu, or 65535 when h.mtu is 0; m is
// left unchanged (the caller drops it and may answer with icmp_frag_needed(), giving
// next_hop_mtu = h.mtu - h.len for an untagged inner frame). NoHeadroom: m unchanged.
// The outer headers go into the first segment; m's offload fields (ol_flags, l2_len,
// packet_type, ...) are not touched: inner checksums must be final before push.
PushResult push(rte_mbuf* m, const TunnelHeader& h, uint32_t inner_hash);

// Tunnel metadata recovered by pop().
struct TunnelMd {
    uint64_t tun_id = 0;   // VNI / GRE key (0 if the GRE packet had no key), host order
    uint32_t tun_src = 0;  // outer IPv4 source, network order
    uint32_t tun_dst = 0;  // outer IPv4 destination, network order
};

enum class PopResult : uint8_t {
    Ok,
    Malformed,     // truncated, bad IP version/IHL/length or UDP length, outer headers
                   // not all in the first segment, no 14-byte inner frame left, trailing
                   // bytes beyond the IP total length that one trim cannot remove
    Fragment,      // outer IPv4 fragment (MF or offset): not reassembled, dropped
    BadChecksum,   // outer IPv4 header checksum wrong (checked before any other IP
                   // field is believed; always in software, ol_flags are not consulted)
    BadTunnelHeader,   // VXLAN without the I flag or any other flag/reserved bit set; GRE
                       // with a version other than 0, routing or another of the RFC 2784
                       // bits 1..5 besides K and S, or a payload that is not 0x6558
    NotTunnel,     // not IPv4 (EtherType), not UDP to `vxlan_port` (VXLAN) / not
                   // protocol 47 (GRE)
};

// Strips eth + outer IPv4 (options skipped) + UDP/VXLAN or GRE from m (whose data starts
// at the outer Ethernet header, untagged), trims anything past the IP total length (or,
// VXLAN, past the UDP length: Ethernet padding) and fills md. The outer headers must be
// in the first segment (a NIC always puts them there); the inner frame may span more.
// Not verified: a nonzero VXLAN UDP checksum (optional in RFC 7348) and the GRE checksum
// (C bit: skipped). On anything but Ok, m and md are unchanged.
// vxlan_port: host order, the UDP destination port VXLAN is expected on.
PopResult pop(rte_mbuf* m, TunnelType type, uint16_t vxlan_port, TunnelMd& md);

// Builds an ICMPv4 "destination unreachable, fragmentation needed" (type 3 code 4,
// RFC 1191 next-hop MTU) answering the IPv4 packet `orig` (data at its Ethernet header,
// possibly VLAN-tagged: the answer carries the same tag). It goes back to the sender:
// Ethernet and IP addresses swapped (the answer appears to come from the packet's
// destination), TTL 64, carrying the original IP header plus the first 8 bytes of its
// payload. IP TOS 0xc0 (RFC 1812 4.3.2.5), ID 0, no DF. next_hop_mtu: the largest IP
// packet the sender may send (for a tunnel, h.mtu - h.len: 1450 for VXLAN on a 1500
// underlay). Whether orig deserves one (DF set) is the caller's decision.
// nullptr, following RFC 1122 3.2.2 / RFC 1812 4.3.2.7, when orig is not IPv4 (up to two
// VLAN tags are skipped; bad version/IHL/length), is a non-first fragment, is itself an
// ICMP error (type 3, 4, 5, 11, 12; never answer an error with an error), was sent to an
// Ethernet multicast/broadcast address or from one, to an IP multicast/broadcast
// address, or from 0.0.0.0, 127/8, multicast or 240/4; or when allocation from pool
// fails.
rte_mbuf* icmp_frag_needed(const rte_mbuf* orig, uint16_t next_hop_mtu, rte_mempool* pool);

// ARP (Ethernet/IPv4) helpers for the underlay and the VPC ARP responder.
// Turns the ARP request m into the reply "ip is at mac" in place: op 2, sender = (mac,
// the request's target IP), target = the request's sender, Ethernet src = mac and dst =
// the requester (the request's Ethernet source). Up to two VLAN tags are kept as they
// are; the length (padding) too. false (m unchanged) if m is not an Ethernet/IPv4 ARP
// request.
bool arp_make_reply(rte_mbuf* m, const uint8_t mac[6]);
// A broadcast "who has target_ip? tell src_ip" request from (src_mac, src_ip), target
// hardware address zero, padded with zeros to 60 bytes as on the wire; nullptr when
// allocation fails. Addresses network order.
rte_mbuf* arp_build_request(const uint8_t src_mac[6], uint32_t src_ip, uint32_t target_ip,
                            rte_mempool* pool);

}  // namespace vswitch::encap
