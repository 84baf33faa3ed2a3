#include "ofproto/flow_format.h"

#include <arpa/inet.h>

#include "ofproto/field_syntax.h"
#include "ofproto/port_syntax.h"
#include "ofproto/value_syntax.h"

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

std::string u16_masked(uint16_t v, uint16_t m) {
    if (m == 0xffff) return std::to_string(v);
    return format_hex(v) + "/" + format_hex(m);
}

void format_vlan(const Match& m, Out& out) {
    uint16_t v = ntohs(m.value().vlan_tci), mask = ntohs(m.mask().vlan_tci);
    if (mask == (0x0fff | kVlanCfi) && (v & kVlanCfi))
        out.add("dl_vlan", std::to_string(v & 0x0fff));
    else if (mask == 0xffff)
        out.add("vlan_tci", format_hex(v, 4));
    else
        out.add("vlan_tci", format_hex(v, 4) + "/" + format_hex(mask, 4));
}

void format_mac_field(const Match& m, Field f, Out& out) {
    std::string s = format_mac(field_bytes(m.value(), f));
    if (!m.exact(f)) {
        s += '/';
        s += format_mac(field_bytes(m.mask(), f));
    }
    out.add(field_info(f).name, s);
}

}  // namespace

std::string format_match(const Match& m, const PortDirectory& ports) {
    Out out;
    const Shorthand* sh = shorthand_for(m);
    bool arp = sh && sh->dl_type == kEthTypeArp;
    if (sh) out.add(sh->name);
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
    if (m.has(Field::NwProto) && !(sh && sh->nw_proto))
        out.add(arp ? "arp_op" : "nw_proto", std::to_string(m.value().nw_proto));
    for (Field f : {Field::TpSrc, Field::TpDst})
        if (m.has(f))
            out.add(field_info(f).name, u16_masked(be16_at(m.value(), f), be16_at(m.mask(), f)));
    return out.take();
}

std::string format_actions(const OfActionList& acts, const PortDirectory& ports) {
    if (acts.empty()) return "drop";
    std::string s;
    for (const OfAction& a : acts) {
        if (!s.empty()) s += ',';
        std::visit(Overloaded{
                       [&](const OutputAction& o) { s += "output:" + format_port(o.port, ports); },
                       [&](const InPortAction&) { s += "IN_PORT"; },
                   },
                   a);
    }
    return s;
}

std::string format_flow(const FlowSpec& f, const PortDirectory& ports) {
    std::string s;
    if (f.cookie) s += "cookie=" + format_hex(f.cookie) + ",";
    s += "table=" + std::to_string(f.table) + ",priority=" + std::to_string(f.priority);
    std::string match = format_match(f.match, ports);
    if (!match.empty()) s += "," + match;
    s += " actions=" + format_actions(f.actions, ports);
    return s;
}

}  // namespace vswitch::ofp
