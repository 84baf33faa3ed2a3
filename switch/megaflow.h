// A megaflow: one wildcarded datapath flow (masked key + actions), installed by an
// upcall and shared by all PMD threads through the classifier.
//
// Ownership and lifetime: the classifier owns megaflows. PMD threads hold raw pointers
// only inside one poll iteration (an RCU read-side section) and in their EMC; a removed
// megaflow is marked dead, unlinked, and freed only after every PMD has passed a
// quiescent state following its removal (see classifier.h for how EMCs are swept).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "dp_actions.h"
#include "flow_key.h"
#include "upcall.h"

namespace vswitch {

struct Megaflow {
    FlowKey key;    // masked key (word 7 = subtable tag, see classifier.h)
    FlowKey mask;
    FlowKey first_key;   // unmasked key of the packet that created it (revalidation input)

    // Swapped by revalidation; old list freed after an RCU grace period.
    std::atomic<const DpActionList*> actions{nullptr};

    // Hot counters, written by PMDs with relaxed atomics once per batch.
    std::atomic<uint64_t> packets{0};
    std::atomic<uint64_t> bytes{0};
    std::atomic<uint64_t> used_tsc{0};   // rte_rdtsc() of the last hit (0 = never)

    std::atomic<bool> dead{false};

    // Set once at install time.
    uint64_t id = 0;          // unique, for dump-dpflows
    uint32_t pmd_id = 0;      // PMD that installed it
    uint32_t subtable = 0;    // classifier internal
    uint64_t created_tsc = 0;

    // Control-thread only (revalidator): rules to credit and what was pushed so far.
    std::vector<std::shared_ptr<StatsSink>> rules;
    uint64_t pushed_packets = 0;
    uint64_t pushed_bytes = 0;

    ~Megaflow() { delete actions.load(std::memory_order_relaxed); }
};

}  // namespace vswitch
