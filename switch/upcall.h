// The upcall contract: what the datapath asks the pipeline when a packet misses the
// megaflow cache. The datapath defines it; ofproto implements it (layering: ofproto
// may use switch/, never the reverse).
//
// Threading: translate() is called from PMD threads, concurrently, inside an RCU
// read-side section (between two quiescent-state reports of the calling PMD). It must
// not block, must not take locks a control thread can hold for long, and must only read
// an immutable snapshot of the tables. The control side publishes a new snapshot and
// waits for an RCU grace period before freeing the old one.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "dp_actions.h"
#include "flow_key.h"

namespace vswitch {

// Opaque handle to whatever the pipeline wants to credit with the megaflow's packet and
// byte counts (OpenFlow rules). The datapath only stores and hands these back.
struct StatsSink {
    virtual ~StatsSink() = default;
    virtual void credit(uint64_t packets, uint64_t bytes, uint64_t last_used_tsc) = 0;
};

struct Translation {
    FlowKey mask;                                   // fields the pipeline looked at
    DpActionList actions;                           // empty = drop
    std::vector<std::shared_ptr<StatsSink>> rules;  // rules to credit, in pipeline order
    // The tables the pipeline looked up, as a bloom: bit (table id % 64). A change to
    // the rules of a table whose bit is clear cannot change this translation, so
    // revalidation after such a change skips it (Datapath::revalidate_tables).
    uint64_t tables = 0;
    // The FlowKey words (bit i = word i) in which the key a table was looked up with
    // differed from the packet's: actions had rewritten them. Elsewhere, on the bits of
    // `mask`, every packet of the megaflow was looked up with the packet's own value.
    uint32_t written = 0;
    // False: execute the actions for this packet but install no megaflow, so that every
    // such packet is translated (ARP to the VTEP: each one confirms a neighbor).
    bool cache = true;
    void reset() {
        mask.clear();
        actions.clear();
        rules.clear();
        tables = 0;
        written = 0;
        cache = true;
    }
};

// A rule that came, went or changed (its actions) in a table, as revalidation needs it:
// the table's bloom bit and the packets the rule matches, over the FlowKey (the match's
// pipeline part, registers and metadata, is left out: as if it matched anything).
struct RuleChange {
    uint64_t table_bit;
    FlowKey value;   // & mask
    FlowKey mask;
};

// Can the lookup of some packet of a megaflow (its translation's tables and written
// words, the packet that created it and its mask) meet rule change c? No when the
// megaflow did not look up c's table, or when the rule and the megaflow's packets
// disagree on a bit both fix and no action had rewritten before a lookup: then no
// lookup of those packets finds the rule, so its coming, going or change cannot alter
// their translation.
inline bool may_meet(uint64_t tables, uint32_t written, const FlowKey& first_key, const FlowKey& mask,
                     const RuleChange& c) {
    if (!(tables & c.table_bit)) return false;
    for (size_t i = 0; i < FlowKey::kWords; i++) {
        if (written & (1u << i)) continue;
        if ((first_key.word(i) ^ c.value.word(i)) & mask.word(i) & c.mask.word(i)) return false;
    }
    return true;
}

class FlowTranslator {
public:
    virtual ~FlowTranslator() = default;
    // Runs the packet's key through the pipeline. Fills out (mask, actions, rules).
    // Returns false if the packet cannot be translated (then the datapath drops it,
    // counted "upcall_error", and installs nothing).
    virtual bool translate(const FlowKey& key, Translation& out) const = 0;
};

}  // namespace vswitch
