// Rule: one installed OpenFlow flow. Immutable after construction except for its
// counters, so table snapshots (flow_table.h) share rules by shared_ptr and a rule's
// counters and age survive unrelated table changes.
//
// It is the StatsSink the datapath credits: megaflows keep shared_ptrs to the rules
// their translation went through, and the revalidator (control thread) pushes packet
// and byte deltas into them. A rule replaced or deleted while megaflows still point at
// it just absorbs their last credits and dies with the last reference, which is the
// OpenFlow behaviour: replacing a flow resets its counters.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "ofproto/flow_spec.h"
#include "switch/upcall.h"

namespace vswitch::ofp {

class Rule final : public StatsSink {
public:
    using Clock = std::chrono::steady_clock;

    explicit Rule(FlowSpec spec, Clock::time_point created = Clock::now())
        : spec_(std::move(spec)), created_(created) {}

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

    uint64_t n_packets() const { return n_packets_.load(std::memory_order_relaxed); }
    uint64_t n_bytes() const { return n_bytes_.load(std::memory_order_relaxed); }
    // Time of the last credit with packets; nullopt if never hit.
    std::optional<Clock::time_point> last_used() const;

private:
    const FlowSpec spec_;
    const Clock::time_point created_;
    // Relaxed atomics: written by the control thread only, but dumps may run elsewhere.
    std::atomic<uint64_t> n_packets_{0};
    std::atomic<uint64_t> n_bytes_{0};
    std::atomic<Clock::rep> last_used_{0};   // Clock::duration ticks since epoch; 0 = never
};

using RulePtr = std::shared_ptr<Rule>;

}  // namespace vswitch::ofp
