// Recent load of the rx queues, for pmd-rxq-show and pmd-rebalance.
//
// The PMDs count busy cycles per rx queue as running totals (Port::rxq_stats). What a
// rebalance needs is what a queue costs now: a queue that was busy an hour ago and idle
// since must not weigh, and a queue that just became busy must. So the control thread
// samples the totals every `interval` (as OVS, 12 intervals of 5 s by default), and a
// queue's recent load is its total now minus its total at the oldest sample kept: the
// last `intervals` whole intervals plus the current partial one.
//
// Contract:
//  - Control thread only (no locking): sample() from the periodic tick, recent() when
//    asked. Reading the PMDs' totals is the caller's business (relaxed loads).
//  - A queue that appeared after the window's start (a port added since) weighs its
//    whole total; before the first sample, every queue does.
//  - A total that went down (the port was deleted and one with the same number added)
//    starts the queue's history again.
//  - Queues missing from a sample are forgotten.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <vector>

namespace vswitch {

struct RxqTotal {
    uint32_t port_no;
    uint16_t queue;
    uint64_t cycles;   // busy cycles since the queue exists
};

class RxqLoad {
public:
    RxqLoad(uint64_t interval_tsc, unsigned intervals) : interval_(interval_tsc), intervals_(intervals) {}

    // Whether a sample is due: `interval` passed since the last one, or none yet.
    bool due(uint64_t now_tsc) const { return when_.empty() || now_tsc - when_.back() >= interval_; }
    // Takes a sample of every queue in `totals` if one is due. Returns whether it did.
    bool sample(uint64_t now_tsc, const std::vector<RxqTotal>& totals);
    // The queue's cycles within the window, given its total now.
    uint64_t recent(uint32_t port_no, uint16_t queue, uint64_t total_now) const;
    // How far back the window reaches at now_tsc (0 before the first sample).
    uint64_t window_tsc(uint64_t now_tsc) const;

    uint64_t interval_tsc() const { return interval_; }
    unsigned intervals() const { return intervals_; }

private:
    static uint32_t key(uint32_t port_no, uint16_t queue) { return port_no << 16 | queue; }

    uint64_t interval_;
    unsigned intervals_;
    std::deque<uint64_t> when_;                        // sample times, oldest first
    std::map<uint32_t, std::deque<uint64_t>> totals_;  // per queue: its totals at the newest samples
};

}  // namespace vswitch
