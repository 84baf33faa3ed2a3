#include "ofproto/action_parser.h"

#include <arpa/inet.h>
#include <strings.h>

#include <cstring>

#include "ofproto/field_syntax.h"
#include "ofproto/flow_spec.h"
#include "ofproto/port_syntax.h"
#include "ofproto/tokenizer.h"
#include "ofproto/value_syntax.h"
#include "switch/drop_reasons.h"

namespace vswitch::ofp {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

FlowError error(std::string message, std::string_view token) {
    return FlowError{std::move(message), std::string(token)};
}

bool all_digits(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

enum class Special { None, InPort, All, Flood, Normal, Unsupported };

Special special_port(std::string_view s) {
    if (is_in_port_keyword(s)) return Special::InPort;
    if (iequals(s, "all")) return Special::All;
    if (iequals(s, "flood")) return Special::Flood;
    if (iequals(s, "normal")) return Special::Normal;
    if (iequals(s, "local") || iequals(s, "controller") || iequals(s, "table") ||
        iequals(s, "none"))
        return Special::Unsupported;
    return Special::None;
}

// An output operand: a reserved port keyword or a port.
FlowError parse_target(const Element& e, std::string_view label, std::string_view port,
                       const PortDirectory& ports, OfActionList& out) {
    switch (special_port(port)) {
    case Special::InPort: out.push_back(InPortAction{}); return {};
    case Special::All: out.push_back(FloodAction{true}); return {};
    case Special::Flood: out.push_back(FloodAction{false}); return {};
    case Special::Normal: out.push_back(NormalAction{}); return {};
    case Special::Unsupported:
        return error("reserved port '" + std::string(port) + "' is not supported", e.text);
    case Special::None: break;
    }
    uint32_t no = 0;
    if (std::string err = parse_port(port, ports, no); !err.empty())
        return error(label.empty() ? err : std::string(label) + ": " + err, e.text);
    out.push_back(OutputAction{no});
    return {};
}

// "NAME", "NAME[]", "NAME[N]", "NAME[A..B]"; NAME an NXM/OXM name or a field name.
std::string parse_subfield(std::string_view s, Subfield& out) {
    size_t br = s.find('[');
    std::string_view name = s.substr(0, br);
    const MfInfo* f = mf_by_nxm(name);
    if (!f) f = mf_by_name(name);
    if (!f) return "unknown field '" + std::string(name) + "'";
    out.field = f->id;
    out.ofs = 0;
    out.n_bits = f->n_bits;
    if (br == std::string_view::npos) return "";
    if (s.back() != ']') return "malformed subfield '" + std::string(s) + "' (expected NAME[A..B])";
    std::string_view range = s.substr(br + 1, s.size() - br - 2);
    if (range.empty()) return "";
    size_t dots = range.find("..");
    uint64_t a = 0, b = 0;
    std::string_view sa = range.substr(0, dots);
    std::string_view sb = dots == std::string_view::npos ? sa : range.substr(dots + 2);
    if (!all_digits(sa) || !all_digits(sb) || sa.size() > 3 || sb.size() > 3)
        return "malformed subfield '" + std::string(s) + "' (expected NAME[A..B])";
    parse_uint(sa, 999, a);
    parse_uint(sb, 999, b);
    if (a > b || b >= f->n_bits)
        return "subfield '" + std::string(s) + "' is outside " + std::string(f->name) + " (" +
               std::to_string(f->n_bits) + " bits)";
    out.ofs = static_cast<uint8_t>(a);
    out.n_bits = static_cast<uint8_t>(b - a + 1);
    return "";
}

std::string parse_u128(std::string_view s, unsigned n_bits, u128& out) {
    if (n_bits <= 64) {
        uint64_t v = 0;
        std::string err = parse_uint(s, n_bits == 64 ? UINT64_MAX : (uint64_t{1} << n_bits) - 1, v);
        out = v;
        return err;
    }
    // Wider than 64 bits: hex only (IPv6 subfields).
    if (s.size() < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || s.size() > 34)
        return "invalid number '" + std::string(s) + "' (use 0x hex for fields over 64 bits)";
    u128 v = 0;
    for (char c : s.substr(2)) {
        int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
        if (d < 0) return "invalid number '" + std::string(s) + "'";
        v = v << 4 | static_cast<unsigned>(d);
    }
    out = v;
    return "";
}

// A value (and optional /mask) of field f in set_field syntax.
std::string parse_mf_value(const MfInfo& f, std::string_view text, const PortDirectory& ports,
                           u128& value, u128& mask) {
    mask = mf_full_mask(f.id);
    if (f.id == Mf::InPort) {
        uint32_t no = 0;
        std::string err = parse_port(text, ports, no);
        value = no;
        return err;
    }
    switch (f.format) {
    case MfFormat::Mac: {
        uint8_t v[6], m[6];
        if (std::string err = parse_mac_masked(text, v, m); !err.empty()) return err;
        value = mask = 0;
        for (int i = 0; i < 6; i++) {
            value = value << 8 | v[i];
            mask = mask << 8 | m[i];
        }
        return "";
    }
    case MfFormat::Ipv4: {
        uint32_t v = 0, m = 0;
        if (std::string err = parse_ipv4_masked(text, v, m); !err.empty()) return err;
        value = v;
        mask = m;
        return "";
    }
    case MfFormat::Ipv6: {
        uint8_t v[16], m[16];
        if (std::string err = parse_ipv6_masked(text, v, m); !err.empty()) return err;
        value = mask = 0;
        for (int i = 0; i < 16; i++) {
            value = value << 8 | v[i];
            mask = mask << 8 | m[i];
        }
        return "";
    }
    case MfFormat::Decimal:
    case MfFormat::Hex: {
        size_t slash = text.find('/');
        // vlan_vid: OpenFlow writes it with the "present" bit 0x1000; accept both.
        unsigned bits = f.id == Mf::VlanVid ? 13 : f.n_bits;
        if (std::string err = parse_u128(text.substr(0, slash), bits, value); !err.empty())
            return err;
        if (slash != std::string_view::npos) {
            if (std::string err = parse_u128(text.substr(slash + 1), bits, mask); !err.empty())
                return "invalid mask: " + err;
        }
        if (f.id == Mf::VlanVid) {
            value &= 0xfff;
            mask &= 0xfff;
        }
        if (f.id == Mf::NwTos && (value & 3))
            return "'" + std::string(text) + "' is not a multiple of 4 (nw_tos is the DSCP part)";
        return "";
    }
    }
    return "";
}

FlowError check_field_prereq(const MfInfo& f, std::string_view action, const Element& e,
                             const ActionContext& ctx) {
    if (!ctx.match) return {};
    if (std::string err = check_prereq(f.prereq, f.name, *ctx.match); !err.empty())
        return error(std::string(action) + ": " + err + " in the flow's match", e.text);
    return {};
}

FlowError not_writable(const MfInfo& f, std::string_view action, const Element& e) {
    return error(std::string(action) + ": field '" + std::string(f.name) +
                     "' cannot be written (no datapath action sets it)",
                 e.text);
}

FlowError parse_set_field(const Element& e, const PortDirectory& ports, const ActionContext& ctx,
                          OfActionList& out) {
    size_t arrow = e.value.rfind("->");
    if (arrow == std::string_view::npos)
        return error("set_field: expected set_field:VALUE->FIELD", e.text);
    std::string_view name = e.value.substr(arrow + 2);
    const MfInfo* f = mf_by_name(name);
    if (!f) f = mf_by_nxm(name);
    if (!f) return error("set_field: unknown field '" + std::string(name) + "'", e.text);
    if (!f->writable) return not_writable(*f, "set_field", e);
    SetFieldAction a{f->id, 0, 0, SetSpelling::SetField};
    if (std::string err = parse_mf_value(*f, e.value.substr(0, arrow), ports, a.value, a.mask);
        !err.empty())
        return error("set_field: " + std::string(f->name) + ": " + err, e.text);
    a.mask &= mf_full_mask(f->id);
    a.value &= a.mask;
    if (FlowError err = check_field_prereq(*f, "set_field", e, ctx)) return err;
    out.push_back(a);
    return {};
}

FlowError parse_load(const Element& e, const ActionContext& ctx, OfActionList& out) {
    size_t arrow = e.value.find("->");
    if (arrow == std::string_view::npos) return error("load: expected load:VALUE->DST[]", e.text);
    LoadAction a{};
    if (std::string err = parse_subfield(e.value.substr(arrow + 2), a.dst); !err.empty())
        return error("load: " + err, e.text);
    const MfInfo& f = mf_info(a.dst.field);
    if (!f.writable) return not_writable(f, "load", e);
    if (std::string err = parse_u128(e.value.substr(0, arrow), a.dst.n_bits, a.value); !err.empty())
        return error("load: " + err + " (destination is " + std::to_string(a.dst.n_bits) + " bits)",
                     e.text);
    if (FlowError err = check_field_prereq(f, "load", e, ctx)) return err;
    out.push_back(a);
    return {};
}

FlowError parse_move(const Element& e, const ActionContext& ctx, OfActionList& out) {
    size_t arrow = e.value.find("->");
    if (arrow == std::string_view::npos)
        return error("move: expected move:SRC[]->DST[]", e.text);
    MoveAction a{};
    if (std::string err = parse_subfield(e.value.substr(0, arrow), a.src); !err.empty())
        return error("move: " + err, e.text);
    if (std::string err = parse_subfield(e.value.substr(arrow + 2), a.dst); !err.empty())
        return error("move: " + err, e.text);
    if (a.src.n_bits != a.dst.n_bits)
        return error("move: source is " + std::to_string(a.src.n_bits) + " bits, destination " +
                         std::to_string(a.dst.n_bits),
                     e.text);
    const MfInfo& d = mf_info(a.dst.field);
    if (!d.writable) return not_writable(d, "move", e);
    if (FlowError err = check_field_prereq(mf_info(a.src.field), "move", e, ctx)) return err;
    if (FlowError err = check_field_prereq(d, "move", e, ctx)) return err;
    out.push_back(a);
    return {};
}

FlowError parse_mod(const Element& e, SetSpelling sp, Mf field, const PortDirectory& ports,
                    OfActionList& out) {
    const MfInfo& f = mf_info(field);
    SetFieldAction a{field, 0, 0, sp};
    std::string_view label = e.key;
    if (e.sep != ':' || e.value.empty())
        return error(std::string(label) + ": missing value", e.text);
    if (e.value.find('/') != std::string_view::npos)
        return error(std::string(label) + ": does not take a mask", e.text);
    if (std::string err = parse_mf_value(f, e.value, ports, a.value, a.mask); !err.empty())
        return error(std::string(label) + ": " + err, e.text);
    out.push_back(a);
    return {};
}

FlowError parse_resubmit(const Element& e, const PortDirectory& ports, OfActionList& out) {
    ResubmitAction a;
    std::string_view port, table;
    if (e.sep == ':') {
        port = e.value;
        if (port.empty()) return error("resubmit: missing port", e.text);
    } else if (e.sep == '(') {
        if (e.text.back() != ')') return error("resubmit: missing ')'", e.text);
        size_t comma = e.value.find(',');
        port = e.value.substr(0, comma);
        if (comma != std::string_view::npos) table = e.value.substr(comma + 1);
        if (comma != std::string_view::npos && table.find(',') != std::string_view::npos)
            return error("resubmit: expected resubmit(PORT,TABLE)", e.text);
        if (port.empty() && table.empty())
            return error("resubmit: needs a port or a table", e.text);
    } else {
        return error("resubmit: expected resubmit:PORT or resubmit(PORT,TABLE)", e.text);
    }
    if (!port.empty() && !is_in_port_keyword(port)) {
        uint32_t no = 0;
        if (std::string err = parse_port(port, ports, no); !err.empty())
            return error("resubmit: " + err, e.text);
        a.port = no;
    }
    if (!table.empty()) {
        uint64_t t = 0;
        if (!parse_uint(table, kMaxTable, t).empty())
            return error("resubmit: '" + std::string(table) + "' is not a table number (0-" +
                             std::to_string(kMaxTable) + ")",
                         e.text);
        a.table = static_cast<uint8_t>(t);
    }
    out.push_back(a);
    return {};
}

// The KEY=VALUE items of NAME(ITEM,...) (e.value; the caller checked the parentheses),
// in order: item(key, value, fail) handles one, fail(why) being the error
// "NAME: KEY: why". Refused here: an item without KEY=, a key given twice (but
// `repeatable`). `seen` gets the keys, for missing_key().
template <class Item>
FlowError each_key_value(const Element& e, std::string_view name, std::string_view repeatable,
                         std::vector<std::string_view>& seen, Item item) {
    std::string_view rest = e.value;
    while (!rest.empty()) {
        const size_t comma = rest.find(',');
        const std::string_view it = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        const size_t eq = it.find('=');
        if (eq == std::string_view::npos || eq == 0)
            return error(std::string(name) + ": expected KEY=VALUE, got '" + std::string(it) + "'", e.text);
        const std::string_view key = it.substr(0, eq), val = it.substr(eq + 1);
        auto fail = [&](const std::string& why) {
            return error(std::string(name) + ": " + std::string(key) + ": " + why, e.text);
        };
        if (key != repeatable)
            for (std::string_view k : seen)
                if (k == key) return fail("given twice");
        seen.push_back(key);
        if (FlowError err = item(key, val, fail)) return err;
    }
    return {};
}

FlowError missing_key(const Element& e, std::string_view name, const std::vector<std::string_view>& seen,
                      std::initializer_list<std::string_view> required) {
    for (std::string_view need : required) {
        bool found = false;
        for (std::string_view k : seen) found |= k == need;
        if (!found) return error(std::string(name) + ": missing " + std::string(need) + "=", e.text);
    }
    return {};
}

// dhcp_reply(KEY=VALUE,...): every key once but dns (up to 4); mac, server, ip and mask
// required.
FlowError parse_dhcp_reply(const Element& e, OfActionList& out) {
    if (e.sep != '(' || e.text.back() != ')')
        return error("dhcp_reply: expected dhcp_reply(mac=MAC,server=IP,ip=IP,mask=MASK,...)", e.text);
    encap::DhcpConfig c;
    std::vector<std::string_view> seen;
    FlowError err = each_key_value(e, "dhcp_reply", "dns", seen, [&](std::string_view key, std::string_view val,
                                                                     const auto& fail) -> FlowError {
        std::string bad;
        uint32_t addr = 0;
        const bool is_addr = key == "server" || key == "ip" || key == "mask" || key == "router" || key == "dns";
        if (is_addr && !(bad = parse_ipv4(val, addr)).empty()) return fail(bad);
        if (key == "mac") {
            if (!(bad = parse_mac(val, c.server_mac)).empty()) return fail(bad);
            if (c.server_mac[0] & 1) return fail("the MAC must be unicast");
        } else if (key == "mask") {
            if (addr == 0 || (~addr & (~addr + 1))) return fail("'" + std::string(val) + "' is not a netmask");
            c.netmask = addr;
        } else if (is_addr) {
            if (addr == 0 || addr == 0xffffffffu || (addr >> 28) == 0xe)
                return fail("'" + std::string(val) + "' is not a unicast address");
            if (key == "server") c.server_ip = addr;
            else if (key == "ip") c.client_ip = addr;
            else if (key == "router") c.router = addr;
            else if (c.n_dns == encap::DhcpConfig::kMaxDns)
                return fail("at most " + std::to_string(encap::DhcpConfig::kMaxDns) + " servers");
            else c.dns[c.n_dns++] = addr;
        } else if (key == "mtu" || key == "lease") {
            uint64_t v = 0;
            if (!(bad = parse_uint(val, key == "mtu" ? 65535 : 0xffffffffu, v)).empty()) return fail(bad);
            if (key == "mtu" && v < 68) return fail("below 68, the IPv4 minimum");
            if (key == "lease" && v == 0) return fail("must be at least 1 second");
            if (key == "mtu") c.mtu = static_cast<uint16_t>(v);
            else c.lease = static_cast<uint32_t>(v);
        } else {
            return error("dhcp_reply: unknown key '" + std::string(key) +
                             "' (mac, server, ip, mask, router, dns, mtu, lease)",
                         e.text);
        }
        return {};
    });
    if (err) return err;
    if (FlowError m = missing_key(e, "dhcp_reply", seen, {"mac", "server", "ip", "mask"})) return m;
    // /31 and /32 have no network or broadcast address (RFC 3021).
    const uint32_t host = c.client_ip & ~c.netmask;
    if (c.netmask < 0xfffffffeu && (host == 0 || host == ~c.netmask))
        return error("dhcp_reply: ip: the network or broadcast address of its subnet", e.text);
    out.push_back(DhcpReplyAction{c});
    return {};
}

// icmp_error(type=T,code=C,src=IP): all three keys, each once, any order.
FlowError parse_icmp_error(const Element& e, OfActionList& out) {
    if (e.sep != '(' || e.text.back() != ')')
        return error("icmp_error: expected icmp_error(type=T,code=C,src=IP)", e.text);
    IcmpErrorAction a;
    std::vector<std::string_view> seen;
    FlowError err = each_key_value(e, "icmp_error", "", seen, [&](std::string_view key, std::string_view val,
                                                                 const auto& fail) -> FlowError {
        std::string bad;
        uint64_t v = 0;
        if (key == "src") {
            uint32_t ip = 0;
            if (!(bad = parse_ipv4(val, ip)).empty()) return fail(bad);
            if (ip == 0 || (ip >> 28) >= 0xe || (ip >> 24) == 127)
                return fail("'" + std::string(val) + "' is not a unicast address");
            a.src = ip;
        } else if (key != "type" && key != "code") {
            return error("icmp_error: unknown key '" + std::string(key) + "' (type, code, src)", e.text);
        } else if (!(bad = parse_uint(val, 255, v)).empty()) {
            return fail(bad);
        } else if (key == "type") {
            if (v != 3 && v != 11 && v != 12)
                return fail(std::to_string(v) + " is not an error type this action sends (3, 11, 12)");
            a.type = static_cast<uint8_t>(v);
        } else {
            if (v > 15) return fail("code " + std::to_string(v) + " out of range (0-15)");
            a.code = static_cast<uint8_t>(v);
        }
        return {};
    });
    if (err) return err;
    if (FlowError m = missing_key(e, "icmp_error", seen, {"type", "code", "src"})) return m;
    out.push_back(a);
    return {};
}

FlowError parse_note(const Element& e, OfActionList& out) {
    NoteAction n;
    int hi = -1;
    for (char c : e.value) {
        if (c == '.' && hi < 0) continue;
        int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
        if (d < 0) return error("note: expected hex bytes (e.g. note:01.02.ab)", e.text);
        if (hi < 0) {
            hi = d;
        } else {
            n.bytes.push_back(static_cast<uint8_t>(hi << 4 | d));
            hi = -1;
        }
    }
    if (hi >= 0) return error("note: odd number of hex digits", e.text);
    if (n.bytes.size() > 1024) return error("note: longer than 1024 bytes", e.text);
    out.push_back(std::move(n));
    return {};
}

FlowError parse_u32_arg(const Element& e, std::string_view label, uint64_t max, uint64_t& v) {
    if (e.sep != ':' || e.value.empty())
        return error(std::string(label) + ": missing value", e.text);
    if (std::string err = parse_uint(e.value, max, v); !err.empty())
        return error(std::string(label) + ": " + err, e.text);
    return {};
}

}  // namespace

u128 mf_full_mask(Mf f) {
    if (f == Mf::NwTos) return 0xfc;
    return mf_all_bits(mf_info(f).n_bits);
}

std::string format_u128_hex(u128 v) {
    if (v >> 64 == 0) return format_hex(static_cast<uint64_t>(v));
    char buf[40];
    std::snprintf(buf, sizeof buf, "0x%llx%016llx", static_cast<unsigned long long>(v >> 64),
                  static_cast<unsigned long long>(static_cast<uint64_t>(v)));
    return buf;
}

std::string format_mf_value(Mf id, u128 v, const PortDirectory& ports) {
    const MfInfo& f = mf_info(id);
    if (id == Mf::InPort) return format_port(static_cast<uint32_t>(v), ports);
    switch (f.format) {
    case MfFormat::Mac: {
        uint8_t m[6];
        for (int i = 5; i >= 0; i--, v >>= 8) m[i] = static_cast<uint8_t>(v);
        return format_mac(m);
    }
    case MfFormat::Ipv4: return format_ipv4(static_cast<uint32_t>(v));
    case MfFormat::Ipv6: {
        uint8_t a[16], ones[16];
        for (int i = 15; i >= 0; i--, v >>= 8) a[i] = static_cast<uint8_t>(v);
        std::memset(ones, 0xff, 16);
        return format_ipv6_masked(a, ones);
    }
    case MfFormat::Decimal: {
        char buf[48];
        std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(v));
        return buf;
    }
    case MfFormat::Hex: return format_u128_hex(v);
    }
    return "";
}

std::string format_subfield(const Subfield& s) {
    const MfInfo& f = mf_info(s.field);
    std::string out(f.nxm);
    if (s.ofs == 0 && s.n_bits == f.n_bits) return out + "[]";
    if (s.n_bits == 1) return out + "[" + std::to_string(s.ofs) + "]";
    return out + "[" + std::to_string(s.ofs) + ".." + std::to_string(s.ofs + s.n_bits - 1) + "]";
}

FlowError parse_actions(std::string_view text, const PortDirectory& ports, OfActionList& out,
                        const ActionContext& ctx) {
    out.clear();
    const Element* drop = nullptr;
    const Element* terminal = nullptr;           // drop:REASON or an answering action seen
    const Element* last_instruction = nullptr;   // write_metadata or goto_table seen
    bool saw_goto = false;
    std::vector<Element> elems = split_actions(text);
    for (const Element& e : elems) {
        size_t before = out.size();
        if (saw_goto) return error("goto_table must be the last action", e.text);
        std::string_view k = e.key;
        bool bare = e.sep == 0;
        auto need_bare = [&](std::string_view name) -> FlowError {
            if (!bare) return error(std::string(name) + " does not take an argument", e.text);
            return {};
        };
        if (terminal) return error(std::string(terminal->key) + " must be the last action", terminal->text);
        if (iequals(k, "drop") && bare) {
            drop = &e;
            continue;
        } else if (iequals(k, "drop")) {
            if (e.sep != ':' || e.value.empty()) return error("drop: expected drop or drop:REASON", e.text);
            std::optional<DropReason> r;
            for (size_t i = 0; i < kDropReasonCount; i++) {
                const auto dr = static_cast<DropReason>(i);
                if (drop_reason_is_pipeline(dr) && e.value == drop_reason_name(dr)) r = dr;
            }
            if (!r) {
                std::string names;
                for (size_t i = 0; i < kDropReasonCount; i++)
                    if (drop_reason_is_pipeline(static_cast<DropReason>(i)))
                        names += std::string(names.empty() ? "" : ", ") +
                                 drop_reason_name(static_cast<DropReason>(i));
                return error("drop: '" + std::string(e.value) + "' is not a drop reason (" + names + ")",
                             e.text);
            }
            out.push_back(NamedDropAction{static_cast<uint8_t>(*r)});
            terminal = &e;
        } else if (iequals(k, "arp_reply")) {
            if (e.sep != ':') return error("arp_reply: expected arp_reply:MAC", e.text);
            ArpReplyAction a{};
            if (std::string err = parse_mac(e.value, a.mac); !err.empty())
                return error("arp_reply: " + err, e.text);
            if (a.mac[0] & 1) return error("arp_reply: the MAC must be unicast", e.text);
            out.push_back(a);
            terminal = &e;
        } else if (iequals(k, "icmp_error")) {
            if (FlowError err = parse_icmp_error(e, out)) return err;
            terminal = &e;
        } else if (iequals(k, "dhcp_reply")) {
            if (FlowError err = parse_dhcp_reply(e, out)) return err;
            terminal = &e;
        } else if (iequals(k, "icmp_echo_reply")) {
            if (FlowError err = need_bare("icmp_echo_reply")) return err;
            out.push_back(IcmpEchoReplyAction{});
            terminal = &e;
        } else if (iequals(k, "output")) {
            if (e.sep != ':') return error("output: expected output:PORT", e.text);
            if (FlowError err = parse_target(e, "output", e.value, ports, out)) return err;
        } else if (bare && special_port(k) != Special::None) {
            if (FlowError err = parse_target(e, "", k, ports, out)) return err;
        } else if (iequals(k, "resubmit")) {
            if (FlowError err = parse_resubmit(e, ports, out)) return err;
        } else if (iequals(k, "goto_table")) {
            uint64_t t = 0;
            if (!ctx.table) return error("goto_table is not allowed in a group bucket", e.text);
            if (FlowError err = parse_u32_arg(e, "goto_table", kMaxTable, t)) return err;
            if (t <= *ctx.table)
                return error("goto_table: table " + std::to_string(t) +
                                 " is not after the flow's table " + std::to_string(*ctx.table),
                             e.text);
            out.push_back(GotoTableAction{static_cast<uint8_t>(t)});
            saw_goto = true;
            last_instruction = &e;
            continue;
        } else if (iequals(k, "write_metadata")) {
            if (!ctx.table) return error("write_metadata is not allowed in a group bucket", e.text);
            if (e.sep != ':' || e.value.empty())
                return error("write_metadata: missing value", e.text);
            uint64_t v = 0, m = 0;
            if (std::string err = parse_uint_masked(e.value, UINT64_MAX, v, m); !err.empty())
                return error("write_metadata: " + err, e.text);
            if (last_instruction) return error("write_metadata may appear only once", e.text);
            out.push_back(WriteMetadataAction{v & m, m});
            last_instruction = &e;
            continue;
        } else if (iequals(k, "set_field")) {
            if (e.sep != ':') return error("set_field: expected set_field:VALUE->FIELD", e.text);
            if (FlowError err = parse_set_field(e, ports, ctx, out)) return err;
        } else if (iequals(k, "load")) {
            if (e.sep != ':') return error("load: expected load:VALUE->DST[]", e.text);
            if (FlowError err = parse_load(e, ctx, out)) return err;
        } else if (iequals(k, "move")) {
            if (e.sep != ':') return error("move: expected move:SRC[]->DST[]", e.text);
            if (FlowError err = parse_move(e, ctx, out)) return err;
        } else if (iequals(k, "mod_dl_src")) {
            if (FlowError err = parse_mod(e, SetSpelling::ModDlSrc, Mf::EthSrc, ports, out)) return err;
        } else if (iequals(k, "mod_dl_dst")) {
            if (FlowError err = parse_mod(e, SetSpelling::ModDlDst, Mf::EthDst, ports, out)) return err;
        } else if (iequals(k, "mod_nw_src")) {
            if (FlowError err = parse_mod(e, SetSpelling::ModNwSrc, Mf::IpSrc, ports, out)) return err;
        } else if (iequals(k, "mod_nw_dst")) {
            if (FlowError err = parse_mod(e, SetSpelling::ModNwDst, Mf::IpDst, ports, out)) return err;
        } else if (iequals(k, "mod_nw_tos")) {
            if (FlowError err = parse_mod(e, SetSpelling::ModNwTos, Mf::NwTos, ports, out)) return err;
        } else if (iequals(k, "mod_tp_src")) {
            if (FlowError err = parse_mod(e, SetSpelling::ModTpSrc, Mf::TcpSrc, ports, out)) return err;
        } else if (iequals(k, "mod_tp_dst")) {
            if (FlowError err = parse_mod(e, SetSpelling::ModTpDst, Mf::TcpDst, ports, out)) return err;
        } else if (iequals(k, "mod_vlan_vid") || iequals(k, "mod_vlan_pcp")) {
            bool pcp = iequals(k, "mod_vlan_pcp");
            uint64_t v = 0;
            if (FlowError err = parse_u32_arg(e, k, pcp ? 7 : 4095, v)) return err;
            out.push_back(ModVlanAction{pcp, static_cast<uint16_t>(v)});
        } else if (iequals(k, "push_vlan")) {
            uint64_t v = 0;
            if (FlowError err = parse_u32_arg(e, "push_vlan", 0xffff, v)) return err;
            if (v != kEthTypeVlan)
                return error("push_vlan: only ethertype 0x8100 is supported", e.text);
            out.push_back(PushVlanAction{static_cast<uint16_t>(v)});
        } else if (iequals(k, "pop_vlan") || iequals(k, "strip_vlan")) {
            if (FlowError err = need_bare(k)) return err;
            out.push_back(PopVlanAction{iequals(k, "strip_vlan")});
        } else if (iequals(k, "dec_ttl")) {
            if (FlowError err = need_bare(k)) return err;
            out.push_back(DecTtlAction{});
        } else if (iequals(k, "note")) {
            if (e.sep != ':') return error("note: expected note:HEX", e.text);
            if (FlowError err = parse_note(e, out)) return err;
        } else if (iequals(k, "group")) {
            uint64_t v = 0;
            if (FlowError err = parse_u32_arg(e, "group", 0xfffffeff, v)) return err;
            out.push_back(GroupAction{static_cast<uint32_t>(v)});
        } else if (iequals(k, "meter")) {
            uint64_t v = 0;
            if (!ctx.table) return error("meter is not allowed in a group bucket", e.text);
            if (FlowError err = parse_u32_arg(e, "meter", 0xffff0000, v)) return err;
            if (v == 0) return error("meter: meter ids start at 1", e.text);
            if (!out.empty() || drop) return error("meter must be the first action", e.text);
            out.push_back(MeterAction{static_cast<uint32_t>(v)});
            continue;
        } else if (bare && (all_digits(k) || ports.port_number(k))) {
            if (FlowError err = parse_target(e, "", k, ports, out)) return err;
        } else {
            return error("unknown action '" + std::string(e.text) + "'", e.text);
        }
        if (last_instruction && out.size() > before)
            return error(std::string(last_instruction->key) + " must come after every action",
                         last_instruction->text);
    }
    // Like ovs-ofctl: "drop" is the explicit spelling of an empty list, not an action
    // that could sit between others.
    if (drop && !out.empty())
        return error("drop must not be accompanied by any other action", drop->text);
    return {};
}

}  // namespace vswitch::ofp
