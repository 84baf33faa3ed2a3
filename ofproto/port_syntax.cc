#include "ofproto/port_syntax.h"

#include <strings.h>

#include "ofproto/value_syntax.h"

namespace vswitch::ofp {
namespace {

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

bool is_keyword(std::string_view s) {
    return is_in_port_keyword(s) || (s.size() == 4 && strncasecmp(s.data(), "drop", 4) == 0);
}

}  // namespace

bool is_in_port_keyword(std::string_view s) {
    return s.size() == 7 && strncasecmp(s.data(), "in_port", 7) == 0;
}

std::string parse_port(std::string_view text, const PortDirectory& ports, uint32_t& out) {
    if (text.empty()) return "missing port";
    if (all_digits(text)) {
        uint64_t v = 0;
        if (!parse_uint(text, kMaxPortNumber, v).empty())
            return "port number '" + std::string(text) + "' out of range (0-" +
                   std::to_string(kMaxPortNumber) + ")";
        out = static_cast<uint32_t>(v);
        return "";
    }
    std::optional<uint32_t> no = ports.port_number(text);
    if (!no) return "unknown port '" + std::string(text) + "'";
    out = *no;
    return "";
}

std::string format_port(uint32_t port, const PortDirectory& ports) {
    std::string name = ports.port_name(port);
    bool printable = !name.empty() && !all_digits(name) && !is_keyword(name) &&
                     name.find_first_of(",= \t\r\n():/\"[]") == std::string::npos;
    if (printable) {
        std::optional<uint32_t> back = ports.port_number(name);
        printable = back && *back == port;
    }
    return printable ? name : std::to_string(port);
}

}  // namespace vswitch::ofp
