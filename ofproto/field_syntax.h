// The field names the parser accepts and how each one's value is written: the row
// that maps ovs-ofctl text onto the Field model (fields.h). Several names may map to
// one Field (dl_vlan, dl_vlan_pcp and vlan_tci; nw_src and arp_spa; tp_src and
// icmp_type), each with its own value syntax and prerequisite.
//
// Protocol shorthands (ip, tcp, ...) are separate: they take no value and set dl_type
// and possibly nw_proto; the formatter uses the same table to print them back.
//
// Pipeline fields (metadata, reg0..reg7) are not Fields (fields.h); flow_parser.cc
// handles them itself.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ofproto/fields.h"
#include "ofproto/match.h"
#include "ofproto/ofproto.h"

namespace vswitch::ofp {

inline constexpr uint16_t kEthTypeIp = 0x0800;
inline constexpr uint16_t kEthTypeArp = 0x0806;
inline constexpr uint16_t kEthTypeIpv6 = 0x86dd;
inline constexpr uint16_t kEthTypeVlan = 0x8100;
inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoIcmpv6 = 58;
inline constexpr uint8_t kIpProtoSctp = 132;
inline constexpr unsigned kNumRegs = 8;   // reg0..reg7 are reachable from the syntax

enum class ValueKind : uint8_t {
    Port,        // name or number, exact
    Mac,         // MAC[/MAC]
    Ipv4,        // a.b.c.d[/N|/mask]
    Ipv6,        // IPv6 address[/N|/mask]
    EthType,     // 16-bit, exact
    U8,          // 8-bit, exact
    Tos,         // nw_tos: DSCP bits of the TOS byte, a multiple of 4, exact
    U8InU16,     // icmp_type/code: 8-bit value in a 16-bit field, exact
    U16Masked,   // 16-bit[/mask]
    U64Masked,   // 64-bit[/mask]
    VlanVid,     // dl_vlan: 0..4095, or 0xffff = untagged
    VlanPcp,     // dl_vlan_pcp: 0..7 (a tagged frame with that priority)
    VlanTci,     // vlan_tci: 16-bit[/mask], raw TCI with CFI
};

enum class Prereq : uint8_t {
    None,
    IpOrArp,      // dl_type=0x0800 or 0x0806
    Arp,          // dl_type=0x0806
    Ip,           // dl_type=0x0800
    Ipv6,         // dl_type=0x86dd
    IpAny,        // ip or ipv6
    IpAnyOrArp,   // ip, ipv6 or arp
    L4,           // ip or ipv6 with nw_proto tcp, udp or sctp
    Tcp,
    Udp,
    Sctp,
    Icmp,         // ip with nw_proto=1
    Icmp6,        // ipv6 with nw_proto=58
};

struct FieldSyntax {
    std::string_view name;
    Field field;
    ValueKind kind;
    Prereq prereq;
};

const FieldSyntax* find_field_syntax(std::string_view name);

// Parses a value for syntax s into (value, mask) in f's bytes of two scratch keys.
// Returns an error reason ("" = ok).
std::string parse_field_value(const FieldSyntax& s, std::string_view text,
                              const PortDirectory& ports, FlowKey& value, FlowKey& mask);

// "" if m satisfies p, else why not, naming the field as the user wrote it.
std::string check_prereq(Prereq p, std::string_view field_name, const Match& m);
// Does the packet (a key, with every field known) satisfy p?
bool key_satisfies(Prereq p, const FlowKey& key);

struct Shorthand {
    std::string_view name;
    uint16_t dl_type;                 // host order
    std::optional<uint8_t> nw_proto;
};

const Shorthand* find_shorthand(std::string_view name);
// The shorthand that prints m's dl_type (and nw_proto, if it has one), if any.
const Shorthand* shorthand_for(const Match& m);

}  // namespace vswitch::ofp
