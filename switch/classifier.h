// Megaflow classifier: tuple-space search over the installed megaflows, shared by all
// PMD threads.
//
// Structure: one subtable per distinct mask. The subtables share two lock-free tables,
// so memory is sized once for max_flows whatever the number of masks:
//  - narrow: a mask that keeps at most 13 of the FlowKey's 24 32-bit words (every IPv4
//    and L2 megaflow, IPv6 5-tuples) keys its megaflows by the subtable's tag plus those
//    masked words, packed into 56 bytes (NarrowKey, kept in Megaflow::nkey), in a
//    SigTable (sig_table.h): one bucket line, then the megaflow. Sized for max_flows.
//  - wide: other masks key by the masked FlowKey with word 7 (FlowKey::reserved0) set to
//    the subtable's tag, in an rte_hash (RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF). Holds
//    at most ~a quarter of max_flows (insert() says Full).
// Megaflow::key is always the masked FlowKey with word 7 = tag. A lookup builds the key
// of each subtable in turn (most-hit subtables first) until one hits.
//
// Concurrency:
//  - lookup*() are wait-free readers, callable from any registered PMD thread inside its
//    RCU read-side section.
//  - insert()/remove() serialize on an internal spinlock held only for the hash update
//    (microseconds): PMDs insert on upcall, the control thread removes on revalidation.
//    The subtable array is copy-on-write and published with an atomic pointer.
//  - remove() marks the megaflow dead, unlinks it, bumps removal_generation() and
//    hands the object to an rte_rcu_qsbr defer queue; it is freed once every PMD has
//    reported quiescent. A PMD MUST, right after each rte_rcu_qsbr_quiescent() and
//    before touching its EMC, compare removal_generation() with the value it last saw
//    and, if it changed, call Emc::sweep_dead(). (The token load in quiescent() is an
//    acquire that orders the generation bump before the sweep.) Because that sweep
//    itself reads the cached megaflows, a removed megaflow is freed only after TWO
//    grace periods: the first guarantees every PMD has seen the bump, the second that
//    it has finished the sweep that followed.
//  - Destruction: only once no reader can reach the classifier; the destructor may wait
//    for a grace period, so the destroying thread must not be an online reader.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <rte_spinlock.h>

#include "megaflow.h"
#include "sig_table.h"

struct rte_hash;
struct rte_rcu_qsbr;
struct rte_rcu_qsbr_dq;

namespace vswitch {

class Classifier {
public:
    // qsv: the datapath's RCU variable (PMDs are registered readers on it).
    // max_flows: capacity; insert() fails beyond it.
    Classifier(rte_rcu_qsbr* qsv, uint32_t max_flows, const char* name = "vsw_mf");
    ~Classifier();
    Classifier(const Classifier&) = delete;
    Classifier& operator=(const Classifier&) = delete;

    // Readers. hash = flow_key_hash(key, 0) is not used (each subtable rehashes the
    // masked key), it is accepted for future use.
    Megaflow* lookup(const FlowKey& key) const;
    // Batch form: for i in [0,n): out[i] = match or nullptr. Returns number of hits. The
    // hits' hot lines (megaflow_prefetch) have been asked for: callers need not again.
    unsigned lookup_batch(const FlowKey* const keys[], Megaflow* out[], unsigned n) const;

    enum class InsertResult { Inserted, Exists, Full, Error };
    // Installs (key & mask) -> actions. If an identical masked key+mask is already
    // present (two PMDs raced on the same upcall) returns the existing one with Exists.
    // On Inserted the classifier takes ownership of *actions.
    Megaflow* insert(const FlowKey& key, const Translation& t, uint32_t pmd_id,
                     InsertResult& result);

    // Control thread: unlink + defer free (see above). Idempotent on dead flows. f stays
    // valid for the control thread until its next reclaim() (or, with the table full, a
    // PMD insert reclaiming flows whose two grace periods are over).
    void remove(Megaflow* f);
    // Control thread: atomically replace a live megaflow's actions (old list freed
    // after a grace period).
    void replace_actions(Megaflow* f, DpActionList&& acts);

    // Control thread: visit every live megaflow. The writer lock is held per chunk of the
    // walk, never during the callback (which must not call insert/remove: collect and act
    // afterwards). Megaflows inserted meanwhile may or may not be visited.
    void for_each(const std::function<void(Megaflow&)>& fn) const;
    // Control thread: out = every live megaflow, each once (the walk for_each does,
    // without a callback). out's capacity is kept, so a caller that reuses it does not
    // fault in fresh pages on every revalidation pass.
    void collect(std::vector<Megaflow*>& out) const;

    uint64_t removal_generation() const { return removal_gen_.load(std::memory_order_acquire); }
    uint32_t size() const { return n_flows_.load(std::memory_order_relaxed); }
    uint32_t n_subtables() const;
    uint32_t capacity() const { return max_flows_; }
    // Reclaims what the defer queue can free now (control thread, periodically).
    void reclaim();

    // Control thread: re-sorts the subtables by hits since the last ranking (most-hit
    // first) and publishes the new order. Hit counts are halved afterwards so the order
    // follows the current traffic.
    void rank_subtables();
    // Per-subtable hit counters, in lookup order (diagnostics, tests).
    std::vector<uint64_t> subtable_hits() const;
    // Objects (megaflows, subtables, arrays, action lists) unlinked but not yet freed.
    uint32_t pending_frees() const { return n_pending_.load(std::memory_order_relaxed); }

private:
    struct Subtable;
    struct SubtableArray;
    // ... implementation-defined members
    rte_rcu_qsbr* qsv_;
    uint32_t max_flows_;
    std::unique_ptr<SigTable> narrow_;   // narrow subtables (see classifier.cc)
    rte_hash* wide_ = nullptr;   // subtables whose mask keeps too many words
    uint32_t wide_max_ = 0;      // megaflows the wide table may hold
    uint32_t n_wide_ = 0;        // under lock_
    rte_rcu_qsbr_dq* dq_ = nullptr;
    mutable rte_spinlock_t lock_;
    std::atomic<SubtableArray*> subtables_{nullptr};
    std::atomic<uint64_t> removal_gen_{0};
    std::atomic<uint32_t> n_flows_{0};
    uint64_t next_id_ = 1;
    std::vector<Megaflow*> live_;   // under lock_: every live megaflow (Megaflow::live_idx)

    // What waits for a grace period. A removed wide megaflow keeps its rte_hash key
    // position (pos) until it is freed, see classifier.cc; narrow ones have pos -1.
    struct Deferred {
        void* ptr;
        uint32_t kind;
        int32_t pos;
    };
    struct Limbo {
        uint64_t token;
        Deferred d;
    };
    std::deque<Limbo> limbo_;          // under lock_: first grace period / dq overflow
    uint64_t next_tag_ = 1;            // under lock_: subtable tags, never reused
    std::atomic<uint32_t> n_pending_{0};
    std::atomic<uint32_t> n_subtables_{0};

    Subtable* find_subtable(const FlowKey& mask) const;
    void publish(SubtableArray* next);
    void defer(const Deferred& d);
    void defer_after_sweep(const Deferred& d);
    void reclaim_locked(unsigned max_free);
    void free_deferred(const Deferred& d);
    static void dq_free_cb(void* p, void* e, unsigned n);
    static uint32_t hash_fn(const void* key, uint32_t key_len, uint32_t init_val);
};

}  // namespace vswitch
