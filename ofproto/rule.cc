#include "ofproto/rule.h"

namespace vswitch::ofp {

void Rule::credit(uint64_t packets, uint64_t bytes, uint64_t) {
    if (packets == 0 && bytes == 0) return;
    n_packets_.fetch_add(packets, std::memory_order_relaxed);
    n_bytes_.fetch_add(bytes, std::memory_order_relaxed);
    if (packets) {
        Clock::rep now = Clock::now().time_since_epoch().count();
        last_used_.store(now == 0 ? 1 : now, std::memory_order_relaxed);
    }
}

std::optional<Rule::Clock::time_point> Rule::last_used() const {
    Clock::rep t = last_used_.load(std::memory_order_relaxed);
    if (t == 0) return std::nullopt;
    return Clock::time_point(Clock::duration(t));
}

}  // namespace vswitch::ofp
