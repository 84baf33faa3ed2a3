// Rule: one installed OpenFlow flow. Immutable after construction except for its
// counters, so table snapshots (flow_table.h) share rules by shared_ptr and a rule's
// counters and age survive unrelated table changes.
//
// It is the StatsSink the datapath credits: megaflows keep shared_ptrs to the rules
// their translation went through, and the revalidator (control thread) pushes packet
// and byte deltas into them. A rule replaced or deleted while megaflows still point at
// it just absorbs their last credits and dies with the last reference, which is the
// OpenFlow behaviour: replacing a flow resets its counters.
//
// mod-flows is different: it keeps counters and age. The modified rule is a new Rule
// (new actions) sharing the old one's RuleCounters, so credits still in flight to the
// old rule count for the new one too.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "ofproto/flow_spec.h"
#include "switch/upcall.h"

namespace vswitch::ofp {

struct RuleCounters {
    // Relaxed atomics: written by the control thread only, but dumps may run elsewhere.
    std::atomic<uint64_t> n_packets{0};
    std::atomic<uint64_t> n_bytes{0};
    std::atomic<int64_t> last_used{0};   // steady_clock ticks since epoch; 0 = never
};

class Rule final : public StatsSink {
public:
    using Clock = std::chrono::steady_clock;

    explicit Rule(FlowSpec spec, Clock::time_point created = Clock::now())
        : spec_(std::move(spec)), created_(created), ctr_(std::make_shared<RuleCounters>()) {}
    // mod-flows: same counters and creation time as `old`, new actions.
    Rule(const Rule& old, OfActionList actions);

    const FlowSpec& spec() const { return spec_; }
    uint8_t table() const { return spec_.table; }
    uint16_t priority() const { return spec_.priority; }
    uint64_t cookie() const { return spec_.cookie; }
    const Match& match() const { return spec_.match; }
    const OfActionList& actions() const { return spec_.actions; }
    Clock::time_point created() const { return created_; }

    // Deltas. last_used_tsc is not converted (ofproto has no TSC clock): a credit with
    // packets stamps "now", so the idle age is as fresh as the revalidator's cadence.
    void credit(uint64_t packets, uint64_t bytes, uint64_t last_used_tsc) override;

    uint64_t n_packets() const { return ctr_->n_packets.load(std::memory_order_relaxed); }
    uint64_t n_bytes() const { return ctr_->n_bytes.load(std::memory_order_relaxed); }
    // Time of the last credit with packets; nullopt if never hit.
    std::optional<Clock::time_point> last_used() const;

    // Timeouts (idle_timeout / hard_timeout): has the rule expired at `now`?
    bool expired(Clock::time_point now) const;

private:
    const FlowSpec spec_;
    const Clock::time_point created_;
    const std::shared_ptr<RuleCounters> ctr_;
};

using RulePtr = std::shared_ptr<Rule>;

}  // namespace vswitch::ofp
