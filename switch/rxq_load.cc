#include "rxq_load.h"

namespace vswitch {

bool RxqLoad::sample(uint64_t now_tsc, const std::vector<RxqTotal>& totals) {
    if (!due(now_tsc)) return false;
    // intervals_ whole intervals need intervals_ + 1 samples.
    when_.push_back(now_tsc);
    if (when_.size() > intervals_ + 1) when_.pop_front();
    // A queue's totals are those of the last samples, newest at the back; one with fewer
    // than when_ appeared (or restarted) after the window's start.
    std::map<uint32_t, std::deque<uint64_t>> next;
    for (const RxqTotal& t : totals) {
        std::deque<uint64_t>& mine = next[key(t.port_no, t.queue)];
        auto it = totals_.find(key(t.port_no, t.queue));
        if (it != totals_.end() && !it->second.empty() && t.cycles >= it->second.back())
            mine = std::move(it->second);
        mine.push_back(t.cycles);
        while (mine.size() > when_.size()) mine.pop_front();
    }
    totals_ = std::move(next);
    return true;
}

uint64_t RxqLoad::recent(uint32_t port_no, uint16_t queue, uint64_t total_now) const {
    auto it = totals_.find(key(port_no, queue));
    // Not sampled at the window's start: everything it counted is within the window.
    if (it == totals_.end() || it->second.size() < when_.size() || total_now < it->second.front())
        return total_now;
    return total_now - it->second.front();
}

uint64_t RxqLoad::window_tsc(uint64_t now_tsc) const {
    return when_.empty() || now_tsc < when_.front() ? 0 : now_tsc - when_.front();
}

}  // namespace vswitch
