// switchctl's output: text rendering of each reply (ovs-ofctl / ovs-appctl look), the
// JSON rendering, and error lines. Pure functions of a Response, unit-tested on fixed
// replies.
//
// Contract:
//  - format_text() returns what to print on stdout for a successful Response: "" for
//    commands that print nothing on success (add-port, del-port, add-flow(s),
//    del-flows, mod-flows, add/mod/del-group(s), add/mod/del-meter(s)), otherwise newline-terminated lines. Maps are printed sorted by key,
//    and drop counters only when non-zero, so output is stable and greppable.
//  - format_json() prints the reply message (the Response body, e.g. a DumpFlowsReply)
//    as one JSON object with proto field names and every field present, newline ended.
//    64-bit integers are JSON strings, as the proto3 JSON mapping says.
//  - format_error() is the stderr line: "switchctl: [FILE:LINE: ]MESSAGE[ near 'TOKEN']
//    [ (field: F)]", FILE:LINE only for add-flows when the failing flow is identified.
#pragma once

#include <string>

#include "ctl/api/cli_args.h"
#include "vswitch.pb.h"

namespace vswitch::cli {

// The body a successful Response to `req` must carry.
api::Response::BodyCase expected_body(const api::Request& req);
// "dump_flows" for a body case (for "unexpected reply" messages).
std::string body_name(api::Response::BodyCase body);

std::string format_text(const api::Response& resp);
bool format_json(const api::Response& resp, std::string& out, std::string& err);
// `req` is the request that was rejected (to point add-flows errors at FILE:LINE).
std::string format_error(const api::Error& error, const Options& opts, const api::Request& req);

// Per-reply renderers, exposed for tests.
std::string format_flow(const api::FlowEntry& flow);
std::string format_dpflow(const api::DpFlow& flow);
std::string format_dump_flows(const api::DumpFlowsReply& reply);
std::string format_dump_dpflows(const api::DumpDpflowsReply& reply);
std::string format_show(const api::ShowReply& reply);
std::string format_port_stats(const api::PortStatsReply& reply);
std::string format_pmd_stats(const api::PmdStatsReply& reply);
std::string format_pmd_rxq_show(const api::PmdRxqShowReply& reply);
std::string format_pmd_rebalance(const api::PmdRebalanceReply& reply);
std::string format_dump_tables(const api::DumpTablesReply& reply);
std::string format_trace(const api::TraceReply& reply);
std::string format_fdb_show(const api::FdbShowReply& reply);
std::string format_show_uplink(const api::ShowUplinkReply& reply);
std::string format_dump_groups(const api::DumpGroupsReply& reply);
std::string format_dump_meters(const api::DumpMetersReply& reply);

}  // namespace vswitch::cli
