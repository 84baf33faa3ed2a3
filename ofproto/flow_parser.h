// Parser for the supported subset of ovs-ofctl flow syntax (docs/flow-syntax.md).
//
//  parse_flow:   an add-flow line: [table=N] [priority=N] [cookie=N] [idle_timeout=N]
//                [hard_timeout=N] match... actions=...
//  parse_filter: a del-flows / dump-flows selector: [table=N] [priority=N]
//                [cookie=V/MASK] match..., no actions; "" selects everything.
//
// Errors carry the offending element exactly as written (FlowError::token), e.g.
// "nw_dst=10.0.0.0/33"; token is empty only when something is missing rather than
// wrong ("missing actions"). Field prerequisites are checked once the whole match is
// read, so "nw_dst=10.0.0.0/24,ip" is as good as "ip,nw_dst=10.0.0.0/24".
#pragma once

#include <string_view>

#include "ofproto/flow_spec.h"
#include "ofproto/ofproto.h"

namespace vswitch::ofp {

FlowError parse_flow(std::string_view text, const PortDirectory& ports, FlowSpec& out);
FlowError parse_filter(std::string_view text, const PortDirectory& ports, FlowFilter& out);
// mod-flows: a filter (as del-flows) plus actions=... to give the selected rules.
FlowError parse_mod_flows(std::string_view text, const PortDirectory& ports, FlowFilter& filter,
                          OfActionList& actions);

}  // namespace vswitch::ofp
