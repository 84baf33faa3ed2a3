// Parser for the action list of a flow (the text after `actions=`) and of a group
// bucket, in ovs-ofctl syntax (docs/flow-syntax.md lists every action).
//
// Keywords are matched case-insensitively and before port names, so a port named
// "drop", "in_port", "all", "flood" or "normal" can only be written by number.
// Instructions keep OpenFlow's order: meter first, then the actions, then
// write_metadata, then goto_table.
#pragma once

#include <optional>
#include <string_view>

#include "ofproto/actions.h"
#include "ofproto/match.h"
#include "ofproto/ofproto.h"

namespace vswitch::ofp {

struct ActionContext {
    // The rule's table (goto_table must go further); nullopt in a group bucket, where
    // goto_table, write_metadata and meter are not allowed.
    std::optional<uint8_t> table = 0;
    // The rule's match: set_field, load and move need it to satisfy their fields'
    // prerequisites (as ovs-ofctl). Null = not checked (group buckets).
    const Match* match = nullptr;
};

// On error, token = the offending action element as written.
FlowError parse_actions(std::string_view text, const PortDirectory& ports, OfActionList& out,
                        const ActionContext& ctx = {});

// Text of one field value in set_field syntax (MAC, IP, decimal or hex by field).
std::string format_mf_value(Mf f, u128 value, const PortDirectory& ports);
std::string format_subfield(const Subfield& s);
std::string format_u128_hex(u128 v);
// The mask that means "the whole field" for set_field (nw_tos: the DSCP bits 0xfc).
u128 mf_full_mask(Mf f);

}  // namespace vswitch::ofp
