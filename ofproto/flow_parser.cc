#include "ofproto/flow_parser.h"

#include <arpa/inet.h>

#include <vector>

#include "ofproto/action_parser.h"
#include "ofproto/field_syntax.h"
#include "ofproto/tokenizer.h"
#include "ofproto/value_syntax.h"

namespace vswitch::ofp {
namespace {

FlowError error(std::string message, std::string_view token) {
    return FlowError{std::move(message), std::string(token)};
}

enum class Mode { Add, Filter };

// Everything before the actions, common to both modes.
struct Header {
    std::optional<uint8_t> table;
    std::optional<uint16_t> priority;
    std::optional<uint64_t> cookie;
    uint64_t cookie_mask = 0;
    std::optional<uint16_t> idle_timeout;
    std::optional<uint16_t> hard_timeout;
};

class MatchParser {
public:
    MatchParser(Mode mode, const PortDirectory& ports) : mode_(mode), ports_(ports) {}

    FlowError element(const Element& e, Header& h, Match& m) {
        if (e.key.empty()) return error("missing field name in '" + std::string(e.text) + "'", e.text);
        // ovs-ofctl ignores these, so that dump-flows output can be fed back (replace-flows
        // FILE made from a dump, diff-flows against one).
        if (e.key == "duration" || e.key == "n_packets" || e.key == "n_bytes" || e.key == "idle_age" ||
            e.key == "hard_age")
            return {};
        if (e.key == "table") return table(e, h);
        if (e.key == "priority") return priority(e, h);
        if (e.key == "cookie") return cookie(e, h);
        if (e.key == "idle_timeout") return timeout(e, h.idle_timeout);
        if (e.key == "hard_timeout") return timeout(e, h.hard_timeout);
        if (e.key == "metadata") return metadata(e, m);
        if (e.key.size() >= 4 && e.key.substr(0, 3) == "reg") return reg(e, m);
        if (const Shorthand* s = find_shorthand(e.key)) return shorthand(e, *s, m);
        if (const FieldSyntax* s = find_field_syntax(e.key)) return field(e, *s, m);
        if (e.key == "actions")
            return mode_ == Mode::Add ? error("missing actions (expected 'actions=...')", e.text)
                                      : error("actions are not allowed here", e.text);
        return error("unknown field '" + std::string(e.key) + "'", e.text);
    }

    // Prerequisites, in the order the fields were written.
    FlowError finish(const Match& m) const {
        for (const Used& u : used_)
            if (std::string err = check_prereq(u.syntax->prereq, u.syntax->name, m); !err.empty())
                return error(err, u.text);
        return {};
    }

private:
    struct Used {
        const FieldSyntax* syntax;
        std::string_view text;
    };

    FlowError need_value(const Element& e) const {
        if (e.sep != '=' || e.value.empty())
            return error(std::string(e.key) + ": missing value", e.text);
        return {};
    }

    FlowError table(const Element& e, Header& h) {
        if (FlowError err = need_value(e)) return err;
        if (h.table) return duplicate(e);
        uint64_t v = 0;
        if (!parse_uint(e.value, kMaxTable, v).empty())
            return error("table: '" + std::string(e.value) + "' is not a table number (0-" +
                             std::to_string(kMaxTable) + ")",
                         e.text);
        h.table = static_cast<uint8_t>(v);
        return {};
    }

    FlowError priority(const Element& e, Header& h) {
        if (FlowError err = need_value(e)) return err;
        if (h.priority) return duplicate(e);
        uint64_t v = 0;
        if (std::string err = parse_uint(e.value, 0xffff, v); !err.empty())
            return error("priority: " + err, e.text);
        h.priority = static_cast<uint16_t>(v);
        return {};
    }

    // As ovs-ofctl: a cookie without a mask sets the new rule's cookie (add only); with
    // a mask it selects rules (del/dump only).
    FlowError cookie(const Element& e, Header& h) {
        if (FlowError err = need_value(e)) return err;
        if (h.cookie) return duplicate(e);
        bool masked = e.value.find('/') != std::string_view::npos;
        if (mode_ == Mode::Add && masked)
            return error("flow additions cannot use a cookie mask", e.text);
        if (mode_ == Mode::Filter && !masked)
            return error("cookie: selecting flows needs a mask (cookie=VALUE/MASK)", e.text);
        uint64_t v = 0, mask = 0;
        // "/-1" is ovs-ofctl's idiom for "every bit" (it parses the mask with strtoull).
        const size_t slash = e.value.find('/');
        if (masked && e.value.substr(slash + 1) == "-1") {
            if (std::string err = parse_uint(e.value.substr(0, slash), UINT64_MAX, v); !err.empty())
                return error("cookie: " + err, e.text);
            mask = UINT64_MAX;
        } else if (std::string err = parse_uint_masked(e.value, UINT64_MAX, v, mask); !err.empty()) {
            return error("cookie: " + err, e.text);
        }
        h.cookie = v;
        h.cookie_mask = mask;
        return {};
    }

    FlowError timeout(const Element& e, std::optional<uint16_t>& out) {
        if (FlowError err = need_value(e)) return err;
        if (out) return duplicate(e);
        if (mode_ == Mode::Filter) return error(std::string(e.key) + " is not allowed here", e.text);
        uint64_t v = 0;
        if (std::string err = parse_uint(e.value, 0xffff, v); !err.empty())
            return error(std::string(e.key) + ": " + err, e.text);
        out = static_cast<uint16_t>(v);
        return {};
    }

    FlowError metadata(const Element& e, Match& m) {
        if (FlowError err = need_value(e)) return err;
        if (claimed_pipeline_ & 1) return duplicate(e);
        uint64_t v = 0, mask = 0;
        if (std::string err = parse_uint_masked(e.value, UINT64_MAX, v, mask); !err.empty())
            return error("metadata: " + err, e.text);
        claimed_pipeline_ |= 1;
        m.set_metadata(v, mask);
        return {};
    }

    FlowError reg(const Element& e, Match& m) {
        std::string_view n = e.key.substr(3);
        if (n.size() != 1 || n[0] < '0' || n[0] >= char('0' + kNumRegs))
            return error("unknown field '" + std::string(e.key) + "'", e.text);
        unsigned i = static_cast<unsigned>(n[0] - '0');
        if (FlowError err = need_value(e)) return err;
        if (claimed_pipeline_ & (2u << i)) return duplicate(e);
        uint64_t v = 0, mask = 0;
        if (std::string err = parse_uint_masked(e.value, 0xffffffffu, v, mask); !err.empty())
            return error(std::string(e.key) + ": " + err, e.text);
        claimed_pipeline_ |= 2u << i;
        m.set_reg(i, static_cast<uint32_t>(v), static_cast<uint32_t>(mask));
        return {};
    }

    FlowError shorthand(const Element& e, const Shorthand& s, Match& m) {
        if (e.sep) return error(std::string(e.key) + " does not take a value", e.text);
        FlowKey v, mask;
        v.clear();
        mask.clear();
        v.dl_type = htons(s.dl_type);
        mask.dl_type = 0xffff;
        if (FlowError err = claim(e, Field::DlType)) return err;
        m.set_field(Field::DlType, v, mask);
        if (s.nw_proto) {
            v.nw_proto = *s.nw_proto;
            mask.nw_proto = 0xff;
            if (FlowError err = claim(e, Field::NwProto)) return err;
            m.set_field(Field::NwProto, v, mask);
        }
        return {};
    }

    FlowError field(const Element& e, const FieldSyntax& s, Match& m) {
        if (FlowError err = need_value(e)) return err;
        // dl_vlan and dl_vlan_pcp set different parts of the TCI and may be combined.
        uint8_t part = s.kind == ValueKind::VlanVid ? 1 : s.kind == ValueKind::VlanPcp ? 2 : 3;
        if (FlowError err = claim(e, s.field, part)) return err;
        FlowKey v, mask;
        v.clear();
        mask.clear();
        if (std::string err = parse_field_value(s, e.value, ports_, v, mask); !err.empty())
            return error(std::string(s.name) + ": " + err, e.text);
        if (part != 3) {
            if (!m.merge_field(s.field, v, mask))
                return error(std::string(s.name) + " contradicts the other VLAN field (dl_vlan=0xffff means untagged)", e.text);
        } else {
            m.set_field(s.field, v, mask);
        }
        used_.push_back({&s, e.text});
        return {};
    }

    // One element per Field (or part of one): "ip,dl_type=0x0800" or
    // "dl_vlan=1,vlan_tci=..." would leave the user guessing which one wins.
    FlowError claim(const Element& e, Field f, uint8_t part = 3) {
        size_t i = static_cast<size_t>(f);
        if (claimed_[i] & part) return duplicate(e, field_info(f).name);
        claimed_[i] |= part;
        return {};
    }

    static FlowError duplicate(const Element& e, std::string_view field = {}) {
        std::string msg = "duplicate field '" + std::string(e.key) + "'";
        if (!field.empty() && field != e.key) msg += " (" + std::string(field) + " is already set)";
        return error(msg, e.text);
    }

    Mode mode_;
    const PortDirectory& ports_;
    uint8_t claimed_[kFieldCount] = {};
    uint32_t claimed_pipeline_ = 0;   // bit 0 metadata, bit 1+i reg i
    std::vector<Used> used_;
};

FlowError parse_match(const std::vector<Element>& elems, Mode mode, const PortDirectory& ports,
                      Header& h, Match& m) {
    MatchParser p(mode, ports);
    for (const Element& e : elems)
        if (FlowError err = p.element(e, h, m)) return err;
    return p.finish(m);
}

}  // namespace

FlowError parse_flow(std::string_view text, const PortDirectory& ports, FlowSpec& out) {
    SplitFlow split = split_flow(text);
    Header h;
    FlowSpec spec;
    if (FlowError err = parse_match(split.match, Mode::Add, ports, h, spec.match)) return err;
    if (!split.has_actions) return error("missing actions", "");
    spec.table = h.table.value_or(0);
    ActionContext ctx{spec.table, &spec.match};
    if (FlowError err = parse_actions(split.actions, ports, spec.actions, ctx)) return err;
    spec.priority = h.priority.value_or(kDefaultPriority);
    spec.cookie = h.cookie.value_or(0);
    spec.idle_timeout = h.idle_timeout.value_or(0);
    spec.hard_timeout = h.hard_timeout.value_or(0);
    out = std::move(spec);
    return {};
}

FlowError parse_mod_flows(std::string_view text, const PortDirectory& ports, FlowFilter& filter,
                          OfActionList& actions) {
    SplitFlow split = split_flow(text);
    Header h;
    FlowFilter f;
    if (FlowError err = parse_match(split.match, Mode::Filter, ports, h, f.match)) return err;
    if (!split.has_actions) return error("missing actions", "");
    f.table = h.table;
    f.priority = h.priority.value_or(kDefaultPriority);
    f.cookie = h.cookie.value_or(0);
    f.cookie_mask = h.cookie_mask;
    // goto_table is checked against the table given, or table 0 when none is.
    ActionContext ctx{h.table.value_or(0), &f.match};
    if (FlowError err = parse_actions(split.actions, ports, actions, ctx)) return err;
    filter = std::move(f);
    return {};
}

FlowError parse_filter(std::string_view text, const PortDirectory& ports, FlowFilter& out) {
    SplitFlow split = split_flow(text);
    if (split.has_actions) return error("actions are not allowed here", split.actions_text);
    Header h;
    FlowFilter f;
    if (FlowError err = parse_match(split.match, Mode::Filter, ports, h, f.match)) return err;
    f.table = h.table;
    f.priority = h.priority.value_or(kDefaultPriority);
    f.cookie = h.cookie.value_or(0);
    f.cookie_mask = h.cookie_mask;
    out = std::move(f);
    return {};
}

}  // namespace vswitch::ofp
