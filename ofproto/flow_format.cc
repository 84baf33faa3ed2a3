#include "ofproto/flow_format.h"

#include <arpa/inet.h>

#include "ofproto/action_parser.h"
#include "ofproto/field_syntax.h"
#include "ofproto/port_syntax.h"
#include "ofproto/value_syntax.h"
#include "switch/drop_reasons.h"

namespace vswitch::ofp {
namespace {

class Out {
public:
    void add(std::string_view s) {
        if (!s_.empty()) s_ += ',';
        s_ += s;
    }
    void add(std::string_view name, const std::string& value) {
        if (!s_.empty()) s_ += ',';
        s_ += name;
        s_ += '=';
        s_ += value;
    }
    std::string take() { return std::move(s_); }

private:
    std::string s_;
};

uint16_t be16_at(const FlowKey& k, Field f) {
    uint16_t v;
    std::memcpy(&v, field_bytes(k, f), 2);
    return ntohs(v);
}

uint32_t be32_at(const FlowKey& k, Field f) {
    uint32_t v;
    std::memcpy(&v, field_bytes(k, f), 4);
    return ntohl(v);
}

std::string u16_masked(uint16_t v, uint16_t m) {
    if (m == 0xffff) return std::to_string(v);
    return format_hex(v) + "/" + format_hex(m);
}

std::string hex_masked(uint64_t v, uint64_t m, uint64_t all) {
    if (m == all) return format_hex(v);
    return format_hex(v) + "/" + format_hex(m);
}

void format_vlan(const Match& m, Out& out) {
    constexpr uint16_t vid_cfi = 0x0fff | kVlanCfi, pcp_cfi = 0xe000 | kVlanCfi;
    uint16_t v = ntohs(m.value().vlan_tci), mask = ntohs(m.mask().vlan_tci);
    bool tagged = v & kVlanCfi;
    if (mask == vid_cfi && tagged) {
        out.add("dl_vlan", std::to_string(v & 0x0fff));
    } else if (mask == pcp_cfi && tagged) {
        out.add("dl_vlan_pcp", std::to_string(v >> 13));
    } else if (mask == 0xffff && tagged) {
        out.add("dl_vlan", std::to_string(v & 0x0fff));
        out.add("dl_vlan_pcp", std::to_string(v >> 13));
    } else if (mask == 0xffff) {
        out.add("vlan_tci", format_hex(v, 4));
    } else {
        out.add("vlan_tci", format_hex(v, 4) + "/" + format_hex(mask, 4));
    }
}

void format_mac_field(const Match& m, Field f, Out& out) {
    std::string s = format_mac(field_bytes(m.value(), f));
    if (!m.exact(f)) {
        s += '/';
        s += format_mac(field_bytes(m.mask(), f));
    }
    out.add(field_info(f).name, s);
}

std::string set_field_text(const SetFieldAction& a, const PortDirectory& ports) {
    std::string v = format_mf_value(a.field, a.value, ports);
    switch (a.spelling) {
    case SetSpelling::ModDlSrc: return "mod_dl_src:" + v;
    case SetSpelling::ModDlDst: return "mod_dl_dst:" + v;
    case SetSpelling::ModNwSrc: return "mod_nw_src:" + v;
    case SetSpelling::ModNwDst: return "mod_nw_dst:" + v;
    case SetSpelling::ModNwTos: return "mod_nw_tos:" + v;
    case SetSpelling::ModTpSrc: return "mod_tp_src:" + v;
    case SetSpelling::ModTpDst: return "mod_tp_dst:" + v;
    case SetSpelling::SetField: break;
    }
    std::string s = "set_field:" + v;
    if (a.mask != mf_full_mask(a.field)) s += "/" + format_mf_value(a.field, a.mask, ports);
    return s + "->" + std::string(mf_info(a.field).name);
}

}  // namespace

std::string format_match(const Match& m, const PortDirectory& ports) {
    Out out;
    const Shorthand* sh = shorthand_for(m);
    uint16_t type = sh ? sh->dl_type : 0;
    bool arp = type == kEthTypeArp;
    bool icmp = sh && sh->nw_proto == kIpProtoIcmp && type == kEthTypeIp;
    bool icmp6 = sh && sh->nw_proto == kIpProtoIcmpv6 && type == kEthTypeIpv6;
    if (sh) out.add(sh->name);
    const PipelineKey& pv = m.pipeline_value();
    const PipelineKey& pm = m.pipeline_mask();
    for (unsigned i = 0; i < kNumRegs; i++)
        if (pm.regs[i]) out.add("reg" + std::to_string(i), hex_masked(pv.regs[i], pm.regs[i], 0xffffffffu));
    if (m.has(Field::TunId))
        out.add("tun_id", hex_masked(m.value().tun_id, m.mask().tun_id, ~uint64_t{0}));
    for (Field f : {Field::TunSrc, Field::TunDst})
        if (m.has(f))
            out.add(field_info(f).name, format_ipv4_masked(be32_at(m.value(), f), be32_at(m.mask(), f)));
    if (pm.metadata) out.add("metadata", hex_masked(pv.metadata, pm.metadata, ~uint64_t{0}));
    if (m.has(Field::InPort)) out.add("in_port", format_port(m.value().in_port, ports));
    if (m.has(Field::VlanTci)) format_vlan(m, out);
    if (m.has(Field::DlSrc)) format_mac_field(m, Field::DlSrc, out);
    if (m.has(Field::DlDst)) format_mac_field(m, Field::DlDst, out);
    if (!sh && m.has(Field::DlType)) out.add("dl_type", format_hex(ntohs(m.value().dl_type), 4));
    if (m.has(Field::NwSrc))
        out.add(arp ? "arp_spa" : "nw_src",
                format_ipv4_masked(ntohl(m.value().nw_src), ntohl(m.mask().nw_src)));
    if (m.has(Field::NwDst))
        out.add(arp ? "arp_tpa" : "nw_dst",
                format_ipv4_masked(ntohl(m.value().nw_dst), ntohl(m.mask().nw_dst)));
    for (Field f : {Field::Ipv6Src, Field::Ipv6Dst})
        if (m.has(f))
            out.add(field_info(f).name,
                    format_ipv6_masked(field_bytes(m.value(), f), field_bytes(m.mask(), f)));
    if (m.has(Field::NwProto) && !(sh && sh->nw_proto))
        out.add(arp ? "arp_op" : "nw_proto", std::to_string(m.value().nw_proto));
    if (m.has(Field::NwTos)) out.add("nw_tos", std::to_string(m.value().nw_tos));
    if (m.has(Field::NwTtl)) out.add("nw_ttl", std::to_string(m.value().nw_ttl));
    if (icmp || icmp6) {
        if (m.has(Field::TpSrc))
            out.add(icmp ? "icmp_type" : "icmpv6_type", std::to_string(be16_at(m.value(), Field::TpSrc)));
        if (m.has(Field::TpDst))
            out.add(icmp ? "icmp_code" : "icmpv6_code", std::to_string(be16_at(m.value(), Field::TpDst)));
    } else {
        for (Field f : {Field::TpSrc, Field::TpDst})
            if (m.has(f))
                out.add(field_info(f).name, u16_masked(be16_at(m.value(), f), be16_at(m.mask(), f)));
    }
    return out.take();
}

std::string format_action(const OfAction& a, const PortDirectory& ports) {
    return std::visit(
        Overloaded{
            [&](const OutputAction& o) { return "output:" + format_port(o.port, ports); },
            [&](const InPortAction&) { return std::string("IN_PORT"); },
            [&](const FloodAction& f) { return std::string(f.all ? "ALL" : "FLOOD"); },
            [&](const NormalAction&) { return std::string("NORMAL"); },
            [&](const ResubmitAction& r) {
                if (!r.table) return "resubmit:" + (r.port ? format_port(*r.port, ports) : std::string("IN_PORT"));
                return "resubmit(" + (r.port ? format_port(*r.port, ports) : std::string()) + "," +
                       std::to_string(*r.table) + ")";
            },
            [&](const GotoTableAction& g) { return "goto_table:" + std::to_string(g.table); },
            [&](const SetFieldAction& s) { return set_field_text(s, ports); },
            [&](const LoadAction& l) {
                return "load:" + format_u128_hex(l.value) + "->" + format_subfield(l.dst);
            },
            [&](const MoveAction& m) {
                return "move:" + format_subfield(m.src) + "->" + format_subfield(m.dst);
            },
            [&](const ModVlanAction& v) {
                return std::string(v.pcp ? "mod_vlan_pcp:" : "mod_vlan_vid:") + std::to_string(v.value);
            },
            [&](const PushVlanAction& p) { return "push_vlan:" + format_hex(p.ethertype, 4); },
            [&](const PopVlanAction& p) { return std::string(p.strip ? "strip_vlan" : "pop_vlan"); },
            [&](const DecTtlAction&) { return std::string("dec_ttl"); },
            [&](const WriteMetadataAction& w) {
                return "write_metadata:" + hex_masked(w.value, w.mask, ~uint64_t{0});
            },
            [&](const NoteAction& n) {
                std::string s = "note:";
                char b[4];
                for (size_t i = 0; i < n.bytes.size(); i++) {
                    std::snprintf(b, sizeof b, "%s%02x", i ? "." : "", n.bytes[i]);
                    s += b;
                }
                return s;
            },
            [&](const GroupAction& g) { return "group:" + std::to_string(g.id); },
            [&](const MeterAction& m) { return "meter:" + std::to_string(m.id); },
            [&](const ArpReplyAction& a) { return "arp_reply:" + format_mac(a.mac); },
            [&](const IcmpEchoReplyAction&) { return std::string("icmp_echo_reply"); },
            [&](const DhcpReplyAction& d) {
                const encap::DhcpConfig& c = d.cfg;
                std::string s = "dhcp_reply(mac=" + format_mac(c.server_mac) + ",server=" +
                                format_ipv4(c.server_ip) + ",ip=" + format_ipv4(c.client_ip) +
                                ",mask=" + format_ipv4(c.netmask);
                if (c.router) s += ",router=" + format_ipv4(c.router);
                for (unsigned i = 0; i < c.n_dns; i++) s += ",dns=" + format_ipv4(c.dns[i]);
                if (c.mtu) s += ",mtu=" + std::to_string(c.mtu);
                return s + ",lease=" + std::to_string(c.lease) + ")";
            },
            [&](const IcmpErrorAction& a) {
                return "icmp_error(type=" + std::to_string(a.type) + ",code=" + std::to_string(a.code) +
                       ",src=" + format_ipv4(a.src) + ")";
            },
            [&](const NamedDropAction& d) {
                return std::string("drop:") + drop_reason_name(static_cast<DropReason>(d.reason));
            },
        },
        a);
}

std::string format_actions(const OfActionList& acts, const PortDirectory& ports) {
    if (acts.empty()) return "drop";
    std::string s;
    for (const OfAction& a : acts) {
        if (!s.empty()) s += ',';
        s += format_action(a, ports);
    }
    return s;
}

std::string format_flow(const FlowSpec& f, const PortDirectory& ports) {
    std::string s;
    if (f.cookie) s += "cookie=" + format_hex(f.cookie) + ",";
    s += "table=" + std::to_string(f.table) + ",priority=" + std::to_string(f.priority);
    if (f.idle_timeout) s += ",idle_timeout=" + std::to_string(f.idle_timeout);
    if (f.hard_timeout) s += ",hard_timeout=" + std::to_string(f.hard_timeout);
    std::string match = format_match(f.match, ports);
    if (!match.empty()) s += "," + match;
    s += " actions=" + format_actions(f.actions, ports);
    return s;
}

}  // namespace vswitch::ofp
