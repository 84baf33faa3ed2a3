#include "ofproto/rule.h"

namespace vswitch::ofp {

Rule::Rule(const Rule& old, OfActionList actions)
    : spec_([&] {
          FlowSpec s = old.spec_;
          s.actions = std::move(actions);
          return s;
      }()),
      created_(old.created_),
      ctr_(old.ctr_) {}

void Rule::credit(uint64_t packets, uint64_t bytes, uint64_t) {
    if (packets == 0 && bytes == 0) return;
    ctr_->n_packets.fetch_add(packets, std::memory_order_relaxed);
    ctr_->n_bytes.fetch_add(bytes, std::memory_order_relaxed);
    if (packets) {
        Clock::rep now = Clock::now().time_since_epoch().count();
        ctr_->last_used.store(now == 0 ? 1 : now, std::memory_order_relaxed);
    }
}

std::optional<Rule::Clock::time_point> Rule::last_used() const {
    Clock::rep t = ctr_->last_used.load(std::memory_order_relaxed);
    if (t == 0) return std::nullopt;
    return Clock::time_point(Clock::duration(t));
}

bool Rule::expired(Clock::time_point now) const {
    using std::chrono::seconds;
    if (spec_.hard_timeout && now - created_ >= seconds(spec_.hard_timeout)) return true;
    if (spec_.idle_timeout) {
        Clock::time_point last = last_used().value_or(created_);
        if (last < created_) last = created_;
        if (now - last >= seconds(spec_.idle_timeout)) return true;
    }
    return false;
}

}  // namespace vswitch::ofp
