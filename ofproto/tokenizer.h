// Tokenizer for ovs-ofctl flow text.
//
// A flow is elements separated by runs of commas and/or white space. In the match part
// an element is `key` or `key=value`; the element `actions=` ends the match part and
// everything after its '=' is the action list (so actions always come last, as in
// ovs-ofctl). In the action list an element is `key`, `key:arg` or `key(args)`.
// Parentheses nest and protect separators, so future actions such as `resubmit(,1)` or
// `learn(...)` stay one element.
//
// The tokenizer never fails: it only cuts. Every element keeps its exact source text
// (a view into the input) so that errors can quote the offending token verbatim.
#pragma once

#include <string_view>
#include <vector>

namespace vswitch::ofp {

struct Element {
    std::string_view text;    // whole element as written
    std::string_view key;     // before the separator
    std::string_view value;   // after it (without the closing ')' of key(args))
    char sep = 0;             // 0 (bare key), '=', ':' or '('
};

struct SplitFlow {
    std::vector<Element> match;
    bool has_actions = false;        // saw `actions=`
    std::string_view actions;        // text after `actions=`
    std::string_view actions_text;   // `actions=...` as written, for errors
};

// Cuts a flow (match part, then optional actions). A bare `actions` without '=' is
// returned as an ordinary match element; the parser reports it.
SplitFlow split_flow(std::string_view text);

// Cuts an action list into elements.
std::vector<Element> split_actions(std::string_view text);

}  // namespace vswitch::ofp
