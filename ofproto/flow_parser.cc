#include "ofproto/flow_parser.h"

#include <arpa/inet.h>

#include <bitset>
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
};

class MatchParser {
public:
    MatchParser(Mode mode, const PortDirectory& ports) : mode_(mode), ports_(ports) {}

    FlowError element(const Element& e, Header& h, Match& m) {
        if (e.key.empty()) return error("missing field name in '" + std::string(e.text) + "'", e.text);
        if (e.key == "table") return table(e, h);
        if (e.key == "priority") return priority(e, h);
        if (e.key == "cookie") return cookie(e, h);
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
        if (std::string err = parse_uint_masked(e.value, UINT64_MAX, v, mask); !err.empty())
            return error("cookie: " + err, e.text);
        h.cookie = v;
        h.cookie_mask = mask;
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
        if (FlowError err = claim(e, s.field)) return err;
        FlowKey v, mask;
        v.clear();
        mask.clear();
        if (std::string err = parse_field_value(s, e.value, ports_, v, mask); !err.empty())
            return error(std::string(s.name) + ": " + err, e.text);
        m.set_field(s.field, v, mask);
        used_.push_back({&s, e.text});
        return {};
    }

    // One element per Field: "ip,dl_type=0x0800" or "dl_vlan=1,vlan_tci=..." would
    // leave the user guessing which one wins.
    FlowError claim(const Element& e, Field f) {
        size_t i = static_cast<size_t>(f);
        if (claimed_[i]) return duplicate(e, field_info(f).name);
        claimed_[i] = true;
        return {};
    }

    static FlowError duplicate(const Element& e, std::string_view field = {}) {
        std::string msg = "duplicate field '" + std::string(e.key) + "'";
        if (!field.empty() && field != e.key) msg += " (" + std::string(field) + " is already set)";
        return error(msg, e.text);
    }

    Mode mode_;
    const PortDirectory& ports_;
    std::bitset<kFieldCount> claimed_;
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
    if (FlowError err = parse_actions(split.actions, ports, spec.actions)) return err;
    spec.table = h.table.value_or(0);
    spec.priority = h.priority.value_or(kDefaultPriority);
    spec.cookie = h.cookie.value_or(0);
    out = std::move(spec);
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
