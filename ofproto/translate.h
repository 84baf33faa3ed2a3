// Translation: runs one packet key through a FlowTables snapshot and produces what the
// datapath caches as a megaflow: datapath actions, the rules to credit, and a mask.
//
// The mask contract: every key that agrees with the translated key on the mask bits
// translates to the same actions and rules. So the mask must cover everything the
// outcome depended on, and should cover nothing else (wider megaflows = fewer upcalls).
//
// How the mask is built, per table lookup (rules walked in priority order):
//  - the matching rule contributes its whole match mask: any key that agrees there
//    matches it too;
//  - each higher-priority rule that failed contributes ONE field on which the key
//    disagrees with it (plus that field's prerequisites, e.g. dl_type for nw_dst):
//    any key agreeing on those bits disagrees with the rule the same way, so fails it
//    too. Fields already in the mask are preferred (they cost nothing); otherwise the
//    first mismatching field in a fixed coarse-to-fine order (in_port, dl_type, ...).
//    Prefix fields contribute the rule's whole prefix, not just the bits up to the
//    first difference: that would be wider but would create one datapath mask per
//    prefix length, and each distinct mask is one more subtable every datapath lookup
//    probes;
//  - a rule that fails on pipeline-only state (registers, metadata) costs nothing:
//    that state comes from actions, whose own inputs are already in the mask;
//  - actions add what they read: output:P depends on whether the packet came in on P
//    (output to the ingress port is skipped), and in_port outputs to it, so both
//    un-wildcard in_port.
//
// Thread safety: reads the snapshot only; allocates nothing beyond growing out's
// vectors (which callers reuse). Safe to run concurrently.
#pragma once

#include "ofproto/flow_table.h"
#include "switch/upcall.h"

namespace vswitch::ofp {

// Optional hook for trace-style tools: told about every rule examined, in order.
class XlateObserver {
public:
    virtual ~XlateObserver() = default;
    virtual void rule_examined(uint8_t table, const Rule& rule, bool matched) = 0;
    virtual void table_miss(uint8_t table) = 0;
};

// Resets out, then fills it. Table-miss = drop.
void translate_key(const FlowTables& tables, const FlowKey& key, Translation& out,
                   XlateObserver* observer = nullptr);

}  // namespace vswitch::ofp
