#include "ofproto/field_syntax.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>

#include "ofproto/port_syntax.h"
#include "ofproto/value_syntax.h"

namespace vswitch::ofp {
namespace {

constexpr FieldSyntax kSyntax[] = {
    {"in_port", Field::InPort, ValueKind::Port, Prereq::None},
    {"dl_vlan", Field::VlanTci, ValueKind::VlanVid, Prereq::None},
    {"dl_vlan_pcp", Field::VlanTci, ValueKind::VlanPcp, Prereq::None},
    {"vlan_tci", Field::VlanTci, ValueKind::VlanTci, Prereq::None},
    {"dl_src", Field::DlSrc, ValueKind::Mac, Prereq::None},
    {"eth_src", Field::DlSrc, ValueKind::Mac, Prereq::None},
    {"dl_dst", Field::DlDst, ValueKind::Mac, Prereq::None},
    {"eth_dst", Field::DlDst, ValueKind::Mac, Prereq::None},
    {"dl_type", Field::DlType, ValueKind::EthType, Prereq::None},
    {"eth_type", Field::DlType, ValueKind::EthType, Prereq::None},
    {"nw_src", Field::NwSrc, ValueKind::Ipv4, Prereq::IpOrArp},
    {"nw_dst", Field::NwDst, ValueKind::Ipv4, Prereq::IpOrArp},
    {"ip_src", Field::NwSrc, ValueKind::Ipv4, Prereq::Ip},
    {"ip_dst", Field::NwDst, ValueKind::Ipv4, Prereq::Ip},
    {"arp_spa", Field::NwSrc, ValueKind::Ipv4, Prereq::Arp},
    {"arp_tpa", Field::NwDst, ValueKind::Ipv4, Prereq::Arp},
    {"ipv6_src", Field::Ipv6Src, ValueKind::Ipv6, Prereq::Ipv6},
    {"ipv6_dst", Field::Ipv6Dst, ValueKind::Ipv6, Prereq::Ipv6},
    {"nw_proto", Field::NwProto, ValueKind::U8, Prereq::IpAnyOrArp},
    {"ip_proto", Field::NwProto, ValueKind::U8, Prereq::IpAny},
    {"arp_op", Field::NwProto, ValueKind::U8, Prereq::Arp},
    {"nw_tos", Field::NwTos, ValueKind::Tos, Prereq::IpAny},
    {"nw_ttl", Field::NwTtl, ValueKind::U8, Prereq::IpAny},
    {"tp_src", Field::TpSrc, ValueKind::U16Masked, Prereq::L4},
    {"tp_dst", Field::TpDst, ValueKind::U16Masked, Prereq::L4},
    {"tcp_src", Field::TpSrc, ValueKind::U16Masked, Prereq::Tcp},
    {"tcp_dst", Field::TpDst, ValueKind::U16Masked, Prereq::Tcp},
    {"udp_src", Field::TpSrc, ValueKind::U16Masked, Prereq::Udp},
    {"udp_dst", Field::TpDst, ValueKind::U16Masked, Prereq::Udp},
    {"sctp_src", Field::TpSrc, ValueKind::U16Masked, Prereq::Sctp},
    {"sctp_dst", Field::TpDst, ValueKind::U16Masked, Prereq::Sctp},
    {"icmp_type", Field::TpSrc, ValueKind::U8InU16, Prereq::Icmp},
    {"icmp_code", Field::TpDst, ValueKind::U8InU16, Prereq::Icmp},
    {"icmpv6_type", Field::TpSrc, ValueKind::U8InU16, Prereq::Icmp6},
    {"icmpv6_code", Field::TpDst, ValueKind::U8InU16, Prereq::Icmp6},
    {"tun_id", Field::TunId, ValueKind::U64Masked, Prereq::None},
    {"tunnel_id", Field::TunId, ValueKind::U64Masked, Prereq::None},
    {"tun_src", Field::TunSrc, ValueKind::Ipv4, Prereq::None},
    {"tun_dst", Field::TunDst, ValueKind::Ipv4, Prereq::None},
};

const Shorthand kShorthands[] = {
    {"ip", kEthTypeIp, std::nullopt},
    {"icmp", kEthTypeIp, kIpProtoIcmp},
    {"tcp", kEthTypeIp, kIpProtoTcp},
    {"udp", kEthTypeIp, kIpProtoUdp},
    {"sctp", kEthTypeIp, kIpProtoSctp},
    {"ipv6", kEthTypeIpv6, std::nullopt},
    {"icmp6", kEthTypeIpv6, kIpProtoIcmpv6},
    {"tcp6", kEthTypeIpv6, kIpProtoTcp},
    {"udp6", kEthTypeIpv6, kIpProtoUdp},
    {"sctp6", kEthTypeIpv6, kIpProtoSctp},
    {"arp", kEthTypeArp, std::nullopt},
};

constexpr uint16_t kVlanVidMask = 0x0fff;
constexpr uint16_t kVlanPcpMask = 0xe000;

std::optional<uint16_t> exact_dl_type(const Match& m) {
    if (!m.exact(Field::DlType)) return std::nullopt;
    return ntohs(m.value().dl_type);
}

std::optional<uint8_t> exact_proto(const Match& m) {
    if (!m.exact(Field::NwProto)) return std::nullopt;
    return m.value().nw_proto;
}

// The one predicate behind both checks: a missing value (nullopt) never satisfies.
bool satisfied(Prereq p, std::optional<uint16_t> type, std::optional<uint8_t> proto) {
    bool ip = type == kEthTypeIp, ip6 = type == kEthTypeIpv6, arp = type == kEthTypeArp;
    switch (p) {
    case Prereq::None: return true;
    case Prereq::IpOrArp: return ip || arp;
    case Prereq::Arp: return arp;
    case Prereq::Ip: return ip;
    case Prereq::Ipv6: return ip6;
    case Prereq::IpAny: return ip || ip6;
    case Prereq::IpAnyOrArp: return ip || ip6 || arp;
    case Prereq::L4:
        return (ip || ip6) && (proto == kIpProtoTcp || proto == kIpProtoUdp || proto == kIpProtoSctp);
    case Prereq::Tcp: return (ip || ip6) && proto == kIpProtoTcp;
    case Prereq::Udp: return (ip || ip6) && proto == kIpProtoUdp;
    case Prereq::Sctp: return (ip || ip6) && proto == kIpProtoSctp;
    case Prereq::Icmp: return ip && proto == kIpProtoIcmp;
    case Prereq::Icmp6: return ip6 && proto == kIpProtoIcmpv6;
    }
    return false;
}

const char* describe(Prereq p) {
    switch (p) {
    case Prereq::None: return "";
    case Prereq::IpOrArp: return "ip or arp (dl_type=0x0800 or dl_type=0x0806)";
    case Prereq::Arp: return "arp (dl_type=0x0806)";
    case Prereq::Ip: return "ip (dl_type=0x0800)";
    case Prereq::Ipv6: return "ipv6 (dl_type=0x86dd)";
    case Prereq::IpAny: return "ip or ipv6 (dl_type=0x0800 or dl_type=0x86dd)";
    case Prereq::IpAnyOrArp: return "ip, ipv6 or arp (dl_type=0x0800, 0x86dd or 0x0806)";
    case Prereq::L4:
        return "tcp, udp or sctp (dl_type=0x0800 or 0x86dd and nw_proto=6, 17 or 132)";
    case Prereq::Tcp: return "tcp or tcp6 (nw_proto=6)";
    case Prereq::Udp: return "udp or udp6 (nw_proto=17)";
    case Prereq::Sctp: return "sctp or sctp6 (nw_proto=132)";
    case Prereq::Icmp: return "icmp (dl_type=0x0800 and nw_proto=1)";
    case Prereq::Icmp6: return "icmp6 (dl_type=0x86dd and nw_proto=58)";
    }
    return "";
}

void put_be16(FlowKey& k, Field f, uint16_t host) {
    uint16_t be = htons(host);
    std::memcpy(field_bytes(k, f), &be, 2);
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
         s.kind == ValueKind::VlanVid || s.kind == ValueKind::VlanPcp ||
         s.kind == ValueKind::Tos || s.kind == ValueKind::U8InU16))
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
    case ValueKind::Ipv6:
        err = parse_ipv6_masked(text, field_bytes(v, s.field), field_bytes(m, s.field));
        break;
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
    case ValueKind::Tos:
        err = parse_uint(text, 0xff, x);
        if (err.empty() && (x & 3))
            err = "'" + std::string(text) + "' is not a multiple of 4 (nw_tos is the DSCP part)";
        *field_bytes(v, s.field) = static_cast<uint8_t>(x);
        *field_bytes(m, s.field) = 0xfc;
        break;
    case ValueKind::U8InU16:
        err = parse_uint(text, 0xff, x);
        put_be16(v, s.field, static_cast<uint16_t>(x));
        put_be16(m, s.field, 0xffff);
        break;
    case ValueKind::U16Masked:
        err = parse_uint_masked(text, 0xffff, x, xm);
        put_be16(v, s.field, static_cast<uint16_t>(x));
        put_be16(m, s.field, static_cast<uint16_t>(xm));
        break;
    case ValueKind::U64Masked:
        // Host order in the key (flow_key.h).
        err = parse_uint_masked(text, UINT64_MAX, x, xm);
        std::memcpy(field_bytes(v, s.field), &x, 8);
        std::memcpy(field_bytes(m, s.field), &xm, 8);
        break;
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
    case ValueKind::VlanPcp:
        err = parse_uint(text, 7, x);
        v.vlan_tci = htons(static_cast<uint16_t>(x << 13) | kVlanCfi);
        m.vlan_tci = htons(kVlanPcpMask | kVlanCfi);
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
    if (satisfied(p, exact_dl_type(m), exact_proto(m))) return "";
    return std::string(name) + " requires " + describe(p);
}

bool key_satisfies(Prereq p, const FlowKey& key) {
    return satisfied(p, ntohs(key.dl_type), key.nw_proto);
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
