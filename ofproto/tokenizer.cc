#include "ofproto/tokenizer.h"

namespace vswitch::ofp {
namespace {

bool is_delim(char c) { return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

size_t skip_delims(std::string_view s, size_t i) {
    while (i < s.size() && is_delim(s[i])) i++;
    return i;
}

// End of the element starting at i: the first delimiter outside parentheses.
size_t element_end(std::string_view s, size_t i) {
    int depth = 0;
    for (; i < s.size(); i++) {
        char c = s[i];
        if (c == '(') depth++;
        else if (c == ')' && depth > 0) depth--;
        else if (depth == 0 && is_delim(c)) break;
    }
    return i;
}

// Splits one element's text at the first character of seps.
Element cut(std::string_view text, std::string_view seps) {
    Element e;
    e.text = text;
    size_t p = text.find_first_of(seps);
    if (p == std::string_view::npos) {
        e.key = text;
        return e;
    }
    e.key = text.substr(0, p);
    e.sep = text[p];
    e.value = text.substr(p + 1);
    if (e.sep == '(' && !e.value.empty() && e.value.back() == ')') e.value.remove_suffix(1);
    return e;
}

}  // namespace

SplitFlow split_flow(std::string_view s) {
    SplitFlow out;
    constexpr std::string_view kActions = "actions=";
    size_t i = skip_delims(s, 0);
    while (i < s.size()) {
        // Checked before cutting: the action list contains separators of its own.
        if (s.substr(i, kActions.size()) == kActions) {
            out.has_actions = true;
            out.actions_text = s.substr(i);
            out.actions = s.substr(i + kActions.size());
            return out;
        }
        size_t end = element_end(s, i);
        out.match.push_back(cut(s.substr(i, end - i), "="));
        i = skip_delims(s, end);
    }
    return out;
}

std::vector<Element> split_actions(std::string_view s) {
    std::vector<Element> out;
    size_t i = skip_delims(s, 0);
    while (i < s.size()) {
        size_t end = element_end(s, i);
        out.push_back(cut(s.substr(i, end - i), ":=("));
        i = skip_delims(s, end);
    }
    return out;
}

}  // namespace vswitch::ofp
