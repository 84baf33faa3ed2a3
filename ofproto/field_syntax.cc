#include "ofproto/field_syntax.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>

#include "ofproto/port_syntax.h"
#include "ofproto/value_syntax.h"

namespace vswitch::ofp {
namespace {

constexpr std::array<FieldSyntax, 14> kSyntax = {{
    {"in_port", Field::InPort, ValueKind::Port, Prereq::None},
    {"dl_vlan", Field::VlanTci, ValueKind::VlanVid, Prereq::None},
    {"vlan_tci", Field::VlanTci, ValueKind::VlanTci, Prereq::None},
    {"dl_src", Field::DlSrc, ValueKind::Mac, Prereq::None},
    {"dl_dst", Field::DlDst, ValueKind::Mac, Prereq::None},
    {"dl_type", Field::DlType, ValueKind::EthType, Prereq::None},
    {"nw_src", Field::NwSrc, ValueKind::Ipv4, Prereq::IpOrArp},
    {"nw_dst", Field::NwDst, ValueKind::Ipv4, Prereq::IpOrArp},
    {"arp_spa", Field::NwSrc, ValueKind::Ipv4, Prereq::Arp},
    {"arp_tpa", Field::NwDst, ValueKind::Ipv4, Prereq::Arp},
    {"nw_proto", Field::NwProto, ValueKind::U8, Prereq::IpOrArp},
    {"arp_op", Field::NwProto, ValueKind::U8, Prereq::Arp},
    {"tp_src", Field::TpSrc, ValueKind::U16Masked, Prereq::L4},
    {"tp_dst", Field::TpDst, ValueKind::U16Masked, Prereq::L4},
}};

const std::array<Shorthand, 6> kShorthands = {{
    {"ip", kEthTypeIp, std::nullopt},
    {"icmp", kEthTypeIp, kIpProtoIcmp},
    {"tcp", kEthTypeIp, kIpProtoTcp},
    {"udp", kEthTypeIp, kIpProtoUdp},
    {"sctp", kEthTypeIp, kIpProtoSctp},
    {"arp", kEthTypeArp, std::nullopt},
}};

constexpr uint16_t kVlanVidMask = 0x0fff;

std::optional<uint16_t> exact_dl_type(const Match& m) {
    if (!m.exact(Field::DlType)) return std::nullopt;
    return ntohs(m.value().dl_type);
}

}  // namespace

const FieldSyntax* find_field_syntax(std::string_view name) {
    for (const FieldSyntax& s : kSyntax)
        if (s.name == name) return &s;
    return nullptr;
}

std::string parse_field_value(const FieldSyntax& s, std::string_view text,
                              const PortDirectory& ports, FlowKey& v, FlowKey& m) {
    if (text.find('/') != std::string_view::npos &&
        (s.kind == ValueKind::Port || s.kind == ValueKind::EthType || s.kind == ValueKind::U8 ||
         s.kind == ValueKind::VlanVid))
        return "does not take a mask";
    std::string err;
    uint64_t x = 0, xm = 0;
    switch (s.kind) {
    case ValueKind::Port: {
        uint32_t port = 0;
        err = parse_port(text, ports, port);
        v.in_port = port;
        m.in_port = ~uint32_t{0};
        break;
    }
    case ValueKind::Mac:
        err = parse_mac_masked(text, field_bytes(v, s.field), field_bytes(m, s.field));
        break;
    case ValueKind::Ipv4: {
        uint32_t ip = 0, ipm = 0;
        err = parse_ipv4_masked(text, ip, ipm);
        uint32_t be = htonl(ip), bem = htonl(ipm);
        std::memcpy(field_bytes(v, s.field), &be, 4);
        std::memcpy(field_bytes(m, s.field), &bem, 4);
        break;
    }
    case ValueKind::EthType:
        err = parse_uint(text, 0xffff, x);
        v.dl_type = htons(static_cast<uint16_t>(x));
        m.dl_type = 0xffff;
        break;
    case ValueKind::U8:
        err = parse_uint(text, 0xff, x);
        *field_bytes(v, s.field) = static_cast<uint8_t>(x);
        *field_bytes(m, s.field) = 0xff;
        break;
    case ValueKind::U16Masked: {
        err = parse_uint_masked(text, 0xffff, x, xm);
        uint16_t be = htons(static_cast<uint16_t>(x)), bem = htons(static_cast<uint16_t>(xm));
        std::memcpy(field_bytes(v, s.field), &be, 2);
        std::memcpy(field_bytes(m, s.field), &bem, 2);
        break;
    }
    case ValueKind::VlanVid:
        err = parse_uint(text, 0xffff, x);
        if (err.empty() && x == 0xffff) {
            // OpenFlow 1.0's OFP_VLAN_NONE: match frames without a tag.
            v.vlan_tci = 0;
            m.vlan_tci = 0xffff;
        } else if (err.empty() && x > kVlanVidMask) {
            err = "VLAN id '" + std::string(text) + "' out of range (0-4095, or 0xffff for none)";
        } else {
            // The CFI bit is part of the match so that "tagged with VID 0" differs from
            // "untagged" (flow_key.h).
            v.vlan_tci = htons(static_cast<uint16_t>(x) | kVlanCfi);
            m.vlan_tci = htons(kVlanVidMask | kVlanCfi);
        }
        break;
    case ValueKind::VlanTci:
        err = parse_uint_masked(text, 0xffff, x, xm);
        v.vlan_tci = htons(static_cast<uint16_t>(x));
        m.vlan_tci = htons(static_cast<uint16_t>(xm));
        break;
    }
    return err;
}

std::string check_prereq(Prereq p, std::string_view name, const Match& m) {
    std::optional<uint16_t> type = exact_dl_type(m);
    std::string n(name);
    switch (p) {
    case Prereq::None:
        return "";
    case Prereq::IpOrArp:
        if (type == kEthTypeIp || type == kEthTypeArp) return "";
        return n + " requires ip or arp (dl_type=0x0800 or dl_type=0x0806)";
    case Prereq::Arp:
        if (type == kEthTypeArp) return "";
        return n + " requires arp (dl_type=0x0806)";
    case Prereq::L4: {
        uint8_t proto = m.value().nw_proto;
        if (type == kEthTypeIp && m.exact(Field::NwProto) &&
            (proto == kIpProtoTcp || proto == kIpProtoUdp || proto == kIpProtoSctp))
            return "";
        return n + " requires tcp, udp or sctp (dl_type=0x0800 and nw_proto=6, 17 or 132)";
    }
    }
    return "";
}

const Shorthand* find_shorthand(std::string_view name) {
    for (const Shorthand& s : kShorthands)
        if (s.name == name) return &s;
    return nullptr;
}

const Shorthand* shorthand_for(const Match& m) {
    std::optional<uint16_t> type = exact_dl_type(m);
    if (!type) return nullptr;
    const Shorthand* generic = nullptr;
    for (const Shorthand& s : kShorthands) {
        if (s.dl_type != *type) continue;
        if (!s.nw_proto) generic = &s;
        else if (m.exact(Field::NwProto) && m.value().nw_proto == *s.nw_proto) return &s;
    }
    return generic;
}

}  // namespace vswitch::ofp
