// How ports are written in flows.
//
// Parsing: a token of decimal digits is a port number (0..kMaxPortNumber; the range
// above is OpenFlow's reserved ports, which the pipeline issue will name); anything
// else is looked up by name in the PortDirectory, at parse time. Numbers win over names
// as in ovs-ofctl, so a port named "7" can only be written by number.
//
// Printing: a port is printed by name only if that name would parse back to the same
// number (it resolves to it, is not all digits, holds no separator, and is not a
// keyword); otherwise by number. So printed flows always re-parse to the same rule,
// and a port without a name (deleted since) prints as its number.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ofproto/ofproto.h"

namespace vswitch::ofp {

inline constexpr uint32_t kMaxPortNumber = 0xfeff;

// Returns an error reason ("" = ok).
std::string parse_port(std::string_view text, const PortDirectory& ports, uint32_t& out);

std::string format_port(uint32_t port, const PortDirectory& ports);

// Action keywords that a bare action element or output:X means before any port name.
bool is_in_port_keyword(std::string_view s);   // "in_port", any case

}  // namespace vswitch::ofp
