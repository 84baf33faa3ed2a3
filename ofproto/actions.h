// OpenFlow-level actions, as parsed from (action_parser.cc) and printed to
// (flow_format.cc) ovs-ofctl syntax; translate.cc turns them into datapath actions.
//
// A std::variant rather than an enum + union: each action is one struct, and std::visit
// with overloaded lambdas makes the compiler point at every place that has to learn a
// new one. Every action keeps enough of its spelling to print back as written (for
// example mod_dl_src vs set_field ...->eth_src) so that dump-flows shows what was added.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ofproto/mf_fields.h"
#include "overlay/encap/dhcp_reply.h"

namespace vswitch::ofp {

// output:PORT. Like OpenFlow, sending a packet back out of the port it came in on
// needs the explicit in_port action; output to the ingress port is skipped.
struct OutputAction {
    uint32_t port;
    bool operator==(const OutputAction&) const = default;
};

// in_port / IN_PORT: output to the packet's ingress port.
struct InPortAction {
    bool operator==(const InPortAction&) const = default;
};

// ALL / FLOOD (output:all, output:flood): every port but the ingress port. (This switch
// has no per-port no-flood setting, so the two differ only in spelling.)
struct FloodAction {
    bool all;   // printed ALL, else FLOOD
    bool operator==(const FloodAction&) const = default;
};

// NORMAL: the L2 learning switch (normal.h).
struct NormalAction {
    bool operator==(const NormalAction&) const = default;
};

// resubmit:PORT, resubmit(PORT,TABLE), resubmit(,TABLE): look the packet up again in
// TABLE (default: the current one) as if it came in on PORT (default: unchanged), run
// that rule's actions, then carry on with the actions after the resubmit.
struct ResubmitAction {
    std::optional<uint32_t> port;   // nullopt = keep in_port (also written "in_port")
    std::optional<uint8_t> table;   // nullopt = current table
    bool operator==(const ResubmitAction&) const = default;
};

// goto_table:N (an instruction: last, N greater than the rule's table).
struct GotoTableAction {
    uint8_t table;
    bool operator==(const GotoTableAction&) const = default;
};

// How a field write was spelled (they all mean "set these bits of this field").
enum class SetSpelling : uint8_t {
    SetField,    // set_field:VALUE[/MASK]->FIELD
    ModDlSrc,    // mod_dl_src:MAC
    ModDlDst,
    ModNwSrc,    // mod_nw_src:IP
    ModNwDst,
    ModNwTos,    // mod_nw_tos:TOS (DSCP bits only)
    ModTpSrc,    // mod_tp_src:PORT (tcp, udp or sctp, whichever the packet is)
    ModTpDst,
};

struct SetFieldAction {
    Mf field;
    u128 value;   // already & mask
    u128 mask;    // within the field's n_bits; all ones unless written /MASK
    SetSpelling spelling = SetSpelling::SetField;
    bool operator==(const SetFieldAction&) const = default;
};

// load:VALUE->DST[ofs..end]
struct LoadAction {
    Subfield dst;
    u128 value;
    bool operator==(const LoadAction&) const = default;
};

// move:SRC[..]->DST[..] (same width)
struct MoveAction {
    Subfield src;
    Subfield dst;
    bool operator==(const MoveAction&) const = default;
};

// mod_vlan_vid:VID / mod_vlan_pcp:PCP: set the VID / PCP of the outer tag, pushing a
// tag (VID 0, PCP 0) first if the packet has none.
struct ModVlanAction {
    bool pcp;        // else vid
    uint16_t value;
    bool operator==(const ModVlanAction&) const = default;
};

// push_vlan:ETHERTYPE (0x8100): push a tag with VID 0, PCP 0.
struct PushVlanAction {
    uint16_t ethertype;
    bool operator==(const PushVlanAction&) const = default;
};

// pop_vlan / strip_vlan: remove the outer tag, if any.
struct PopVlanAction {
    bool strip;   // spelled strip_vlan
    bool operator==(const PopVlanAction&) const = default;
};

// dec_ttl: decrement the IPv4 TTL / IPv6 hop limit; a packet whose TTL is 0 or 1 is
// dropped and the pipeline stops for it.
struct DecTtlAction {
    bool operator==(const DecTtlAction&) const = default;
};

// write_metadata:VALUE[/MASK] (an instruction: only goto_table may follow it).
struct WriteMetadataAction {
    uint64_t value;
    uint64_t mask;
    bool operator==(const WriteMetadataAction&) const = default;
};

// note:HEX.HEX... — does nothing; kept and printed.
struct NoteAction {
    std::vector<uint8_t> bytes;
    bool operator==(const NoteAction&) const = default;
};

// group:ID — run the group's buckets (group.h).
struct GroupAction {
    uint32_t id;
    bool operator==(const GroupAction&) const = default;
};

// meter:ID (an instruction: first) — rate-limit the packet through meter ID.
struct MeterAction {
    uint32_t id;
    bool operator==(const MeterAction&) const = default;
};

// arp_reply:MAC (extension, not in ovs-ofctl) — the ARP responder in one action: an
// Ethernet/IPv4 ARP request becomes the reply "arp_tpa is at MAC" and goes back out of
// the ingress port; anything else is dropped. Ends the packet's path (must be last).
// Open vSwitch spells this as a sequence of move/load actions on ARP fields, which this
// datapath cannot write.
struct ArpReplyAction {
    uint8_t mac[6];
    bool operator==(const ArpReplyAction&) const = default;
};

// icmp_echo_reply (extension, not in ovs-ofctl) — the ping responder of a router: an
// ICMPv4 echo request becomes its echo reply (addresses swapped, TTL 64) and goes back
// out of the ingress port; anything else is dropped. Ends the packet's path (must be
// last). Open vSwitch has no action for the ICMP type and checksum this needs.
struct IcmpEchoReplyAction {
    bool operator==(const IcmpEchoReplyAction&) const = default;
};

// dhcp_reply(mac=MAC,server=IP,ip=IP,mask=MASK[,router=IP][,dns=IP]...[,mtu=N][,lease=S])
// (extension, not in ovs-ofctl; OVN's put_dhcp_opts in one action) — the DHCPv4 server
// of a port: a DHCP request becomes its answer (encap/dhcp_reply.h: OFFER/ACK of `ip`
// with the options given, NAK for another address) sent by MAC/`server` back out of the
// ingress port; a release or decline is dropped as dhcp_consumed, anything else as
// action_failed. Ends the packet's path (must be last).
struct DhcpReplyAction {
    encap::DhcpConfig cfg;
    bool operator==(const DhcpReplyAction&) const = default;
};

// icmp_error(type=T,code=C,src=IP) (extension; OVN's icmp4 { ... } for errors) — a
// router's ICMP error: an IPv4 packet becomes the ICMP error type T (3 unreachable, 11
// time exceeded, 12 parameter problem), code C, about itself, from IP, and goes back out
// of the ingress port; packets RFC 1812 says never to answer (ICMP errors, non-first
// fragments, group addresses) are dropped. Ends the packet's path (must be last).
struct IcmpErrorAction {
    uint8_t type = 11;
    uint8_t code = 0;
    uint32_t src = 0;   // host order
    bool operator==(const IcmpErrorAction&) const = default;
};

// drop:REASON (extension) — drop, counted in the datapath's drop statistics under
// REASON (one of the pipeline reasons of drop_reasons.h, e.g. vpc_spoofed). Ends the
// packet's path (must be last); outputs before it still happen.
struct NamedDropAction {
    uint8_t reason;   // a DropReason
    bool operator==(const NamedDropAction&) const = default;
};

using OfAction = std::variant<OutputAction, InPortAction, FloodAction, NormalAction,
                              ResubmitAction, GotoTableAction, SetFieldAction, LoadAction,
                              MoveAction, ModVlanAction, PushVlanAction, PopVlanAction,
                              DecTtlAction, WriteMetadataAction, NoteAction, GroupAction,
                              MeterAction, ArpReplyAction, IcmpEchoReplyAction, DhcpReplyAction,
                              IcmpErrorAction, NamedDropAction>;
using OfActionList = std::vector<OfAction>;   // empty = drop

template <class... Fs>
struct Overloaded : Fs... {
    using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace vswitch::ofp
