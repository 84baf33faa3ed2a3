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
#include "narrow_key.h"
#include "upcall.h"

namespace vswitch {

// Layout: what a PMD touches per batch comes first and is contiguous, so finding and
// executing a megaflow costs the PMD three adjacent cache lines, all asked for at once
// (kHotBytes): line 0 the classifier's key (a narrow subtable's, compared by the lookup,
// see sig_table.h) and the action pointer; then the owner's counters and the initial
// action list with up to DpActionList::kInline actions stored inline. With a million
// megaflows every packet misses the cache on its megaflow; what costs is the lines in
// flight and each step that must wait for the previous one's (before: two buckets, a
// key slot, the megaflow, in three steps; now: a bucket, then the megaflow).
struct alignas(64) Megaflow {
    // The packed key of a narrow subtable's megaflow (zero in a wide one): set once at
    // install time, before the megaflow is published.
    NarrowKey nkey{};

    // Swapped by revalidation; old list freed after an RCU grace period. Points at
    // initial_actions until the first swap (or at a PMD's scratch list).
    std::atomic<const DpActionList*> actions{nullptr};

    // Hot counters, updated once per batch (credit()). The installing PMD (pmd_id), which
    // sees nearly all of a megaflow's packets, owns `packets`/`bytes` and updates them
    // with a plain load and store; any other PMD adds to shared_* atomically. A locked
    // add per batch was measured at 1M flows (one packet per batch): ~45% of
    // Pmd::process, since each one waits for the store buffer to drain.
    std::atomic<uint64_t> packets{0};
    std::atomic<uint64_t> bytes{0};
    std::atomic<uint64_t> used_tsc{0};   // rte_rdtsc() of the last hit (0 = never)
    uint32_t pmd_id = 0;      // PMD that installed it (set once at install time)
    std::atomic<bool> dead{false};

    // The list the megaflow was installed with; immutable, lives as long as the megaflow.
    // Its header is in line 1, its inline elements in lines 1-2, `tunnels` (TunnelPush
    // only) just after them.
    DpActionList initial_actions;

    std::atomic<uint64_t> shared_packets{0};
    std::atomic<uint64_t> shared_bytes{0};

    FlowKey key;    // masked key (word 7 = subtable tag, see classifier.h)
    FlowKey mask;
    FlowKey first_key;   // unmasked key of the packet that created it (revalidation input)

    // Set once at install time.
    uint64_t id = 0;          // unique, for dump-dpflows
    uint32_t subtable = 0;    // classifier internal
    uint32_t live_idx = 0;    // classifier internal: position in its list of live megaflows
    uint64_t created_tsc = 0;

    // Control-thread only (revalidator): rules to credit, the tables looked up and the
    // words rewritten before a lookup (Translation::tables, written) and what was pushed
    // so far.
    std::vector<std::shared_ptr<StatsSink>> rules;
    uint64_t tables = 0;
    uint32_t written = 0;   // Translation::written
    uint64_t pushed_packets = 0;
    uint64_t pushed_bytes = 0;

    // Bytes from the start of a megaflow a PMD reads per batch when its list is the
    // initial one of up to DpActionList::kInline actions: the span to prefetch.
    static constexpr size_t kHotBytes = 192;

    // PMD `pmd`: n packets of `b` bytes hit this megaflow at TSC `now`.
    void credit(uint32_t pmd, uint64_t n, uint64_t b, uint64_t now) {
        if (pmd == pmd_id) {
            packets.store(packets.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
            bytes.store(bytes.load(std::memory_order_relaxed) + b, std::memory_order_relaxed);
        } else {
            shared_packets.fetch_add(n, std::memory_order_relaxed);
            shared_bytes.fetch_add(b, std::memory_order_relaxed);
        }
        used_tsc.store(now, std::memory_order_relaxed);
    }
    // Totals over every PMD (control thread; monotonic).
    uint64_t n_packets() const {
        return packets.load(std::memory_order_relaxed) + shared_packets.load(std::memory_order_relaxed);
    }
    uint64_t n_bytes() const {
        return bytes.load(std::memory_order_relaxed) + shared_bytes.load(std::memory_order_relaxed);
    }

    Megaflow() = default;
    Megaflow(const Megaflow&) = delete;
    Megaflow& operator=(const Megaflow&) = delete;
    ~Megaflow() {
        const DpActionList* a = actions.load(std::memory_order_relaxed);
        if (a != &initial_actions) delete a;
    }
};

// PMD: starts loading what executing f touches (kHotBytes) without waiting for it, so
// the misses of a burst's megaflows overlap instead of each stalling its batch. Line 1
// with write intent: the counters are written per batch.
inline void megaflow_prefetch(const Megaflow* f) {
    static_assert(Megaflow::kHotBytes == 3 * 64, "the lines prefetched below");
    const char* p = reinterpret_cast<const char*>(f);
    __builtin_prefetch(p, 0, 3);
    __builtin_prefetch(p + 64, 1, 3);
    __builtin_prefetch(p + 128, 0, 3);
}

}  // namespace vswitch
