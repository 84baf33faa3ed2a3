// The field names the parser accepts and how each one's value is written: the row
// that maps ovs-ofctl text onto the Field model (fields.h). Several names may map to
// one Field (dl_vlan and vlan_tci; nw_src and arp_spa), each with its own value syntax
// and prerequisite.
//
// Protocol shorthands (ip, tcp, ...) are separate: they take no value and set dl_type
// and possibly nw_proto; the formatter uses the same table to print them back.
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
inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoSctp = 132;

enum class ValueKind : uint8_t {
    Port,        // name or number, exact
    Mac,         // MAC[/MAC]
    Ipv4,        // a.b.c.d[/N|/mask]
    EthType,     // 16-bit, exact
    U8,          // 8-bit, exact
    U16Masked,   // 16-bit[/mask]
    VlanVid,     // dl_vlan: 0..4095, or 0xffff = untagged
    VlanTci,     // vlan_tci: 16-bit[/mask], raw TCI with CFI
};

enum class Prereq : uint8_t {
    None,
    IpOrArp,   // dl_type=0x0800 or 0x0806
    Arp,       // dl_type=0x0806
    L4,        // ip with nw_proto tcp, udp or sctp
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

struct Shorthand {
    std::string_view name;
    uint16_t dl_type;                 // host order
    std::optional<uint8_t> nw_proto;
};

const Shorthand* find_shorthand(std::string_view name);
// The shorthand that prints m's dl_type (and nw_proto, if it has one), if any.
const Shorthand* shorthand_for(const Match& m);

}  // namespace vswitch::ofp
