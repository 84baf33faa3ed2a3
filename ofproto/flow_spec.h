// The parsed form of one flow-mod text: what add-flow installs (FlowSpec) and what
// del-flows / dump-flows select (FlowFilter). Plain data; flow_parser.cc fills them,
// flow_format.cc prints them, flow_table.cc stores FlowSpecs inside Rules.
#pragma once

#include <cstdint>
#include <optional>

#include "ofproto/actions.h"
#include "ofproto/match.h"

namespace vswitch::ofp {

inline constexpr uint16_t kDefaultPriority = 32768;
inline constexpr unsigned kNumTables = 254;   // tables 0..253, as OpenFlow
inline constexpr uint8_t kMaxTable = kNumTables - 1;

struct FlowSpec {
    uint8_t table = 0;
    uint16_t priority = kDefaultPriority;
    uint64_t cookie = 0;
    uint16_t idle_timeout = 0;   // seconds without a packet before removal; 0 = never
    uint16_t hard_timeout = 0;   // seconds after adding before removal; 0 = never
    Match match;
    OfActionList actions;   // empty = drop

    bool operator==(const FlowSpec&) const = default;
};

struct FlowFilter {
    std::optional<uint8_t> table;          // none = every table
    uint16_t priority = kDefaultPriority;  // strict only (non-strict ignores it, as OVS)
    uint64_t cookie = 0;                   // rule selected iff (cookie ^ rule) & mask == 0
    uint64_t cookie_mask = 0;
    Match match;

    // Non-strict: the rule's match is at least as specific as ours (every packet the
    // rule accepts, we accept). Strict: same match and same priority.
    bool selects(uint8_t table, uint16_t priority, uint64_t cookie, const Match& m,
                 bool strict) const {
        if (this->table && *this->table != table) return false;
        if ((cookie ^ this->cookie) & cookie_mask) return false;
        if (strict) return priority == this->priority && m == match;
        return match.covers(m);
    }
};

}  // namespace vswitch::ofp
