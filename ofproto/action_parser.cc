#include "ofproto/action_parser.h"

#include <strings.h>

#include "ofproto/port_syntax.h"
#include "ofproto/tokenizer.h"

namespace vswitch::ofp {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

FlowError error(std::string message, std::string_view token) {
    return FlowError{std::move(message), std::string(token)};
}

// A port operand: in_port keyword or a port. label prefixes errors ("output: ...").
FlowError parse_target(const Element& e, std::string_view label, std::string_view port,
                       const PortDirectory& ports, OfActionList& out) {
    if (is_in_port_keyword(port)) {
        out.push_back(InPortAction{});
        return {};
    }
    uint32_t no = 0;
    if (std::string err = parse_port(port, ports, no); !err.empty())
        return error(label.empty() ? err : std::string(label) + ": " + err, e.text);
    out.push_back(OutputAction{no});
    return {};
}

}  // namespace

FlowError parse_actions(std::string_view text, const PortDirectory& ports, OfActionList& out) {
    out.clear();
    const Element* drop = nullptr;
    std::vector<Element> elems = split_actions(text);
    for (const Element& e : elems) {
        if (iequals(e.key, "drop") && e.sep == 0) {
            drop = &e;
        } else if (iequals(e.key, "output") && e.sep == ':') {
            if (FlowError err = parse_target(e, "output", e.value, ports, out)) return err;
        } else if (iequals(e.key, "output")) {
            return error("output: expected output:PORT", e.text);
        } else if (e.sep == 0 && (is_in_port_keyword(e.key) || ports.port_number(e.key) ||
                                  (!e.key.empty() && e.key.find_first_not_of("0123456789") ==
                                                         std::string_view::npos))) {
            if (FlowError err = parse_target(e, "", e.key, ports, out)) return err;
        } else {
            return error("unknown action '" + std::string(e.text) + "'", e.text);
        }
    }
    // Like ovs-ofctl: "drop" is the explicit spelling of an empty list, not an action
    // that could sit between others.
    if (drop && !out.empty())
        return error("drop must not be accompanied by any other action", drop->text);
    return {};
}

}  // namespace vswitch::ofp
