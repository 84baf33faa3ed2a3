// Parser for the action list of a flow (the text after `actions=`).
//
// Accepted now: output:PORT, a bare PORT (shorthand for output), in_port / IN_PORT
// (also output:in_port), and drop, which must then be the only action. An empty list
// is drop. Keywords are matched case-insensitively and before port names, so a port
// named "drop" or "in_port" can only be written by number.
#pragma once

#include <string_view>

#include "ofproto/actions.h"
#include "ofproto/ofproto.h"

namespace vswitch::ofp {

// On error, token = the offending action element as written.
FlowError parse_actions(std::string_view text, const PortDirectory& ports, OfActionList& out);

}  // namespace vswitch::ofp
