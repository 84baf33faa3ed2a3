// Canonical text of matches, actions and whole flows, in ovs-ofctl dump-flows form.
//
// Match order follows ovs-ofctl: the protocol shorthand implied by dl_type/nw_proto (ip, icmp, tcp, udp, sctp, arp, and the
// IPv6 ones), reg0..reg7, tun_id, tun_src, tun_dst, metadata, in_port, dl_vlan/vlan_tci, dl_src, dl_dst, dl_type (if no shorthand), nw_src/nw_dst
// (arp_spa/arp_tpa for arp), nw_proto (arp_op for arp; unless the shorthand said it),
// tp_src, tp_dst. Wildcarded fields are omitted; masks are printed only when partial.
// Ports print by name when that name parses back (port_syntax.h).
//
// Contract: whatever the parser accepted, parse(format(parse(x))) == parse(x).
#pragma once

#include <string>

#include "ofproto/flow_spec.h"
#include "ofproto/ofproto.h"

namespace vswitch::ofp {

// Never includes the priority (FlowDump/FlowEntry carry it separately; switchctl
// prints "priority=N," itself). "" for a match-all.
std::string format_match(const Match& m, const PortDirectory& ports);
// One action, e.g. "resubmit(,10)" (trace prints them one by one).
std::string format_action(const OfAction& a, const PortDirectory& ports);
// "drop" for an empty list.
std::string format_actions(const OfActionList& acts, const PortDirectory& ports);
// A complete add-flow line:
// "[cookie=0xN,]table=T,priority=P[,idle_timeout=N][,hard_timeout=N][,MATCH] actions=ACTIONS".
std::string format_flow(const FlowSpec& f, const PortDirectory& ports);

}  // namespace vswitch::ofp
