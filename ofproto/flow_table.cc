#include "ofproto/flow_table.h"

#include <algorithm>

namespace vswitch::ofp {

std::unique_ptr<FlowTables> FlowTables::with_added(const std::vector<RulePtr>& added) const {
    auto next = std::make_unique<FlowTables>(*this);
    for (const RulePtr& r : added) {
        RuleList& t = next->tables_[r->table()];
        // Rules of r's priority occupy [lo, hi); the list is sorted descending.
        auto lo = std::partition_point(t.begin(), t.end(), [&](const RulePtr& x) {
            return x->priority() > r->priority();
        });
        auto hi = std::partition_point(lo, t.end(), [&](const RulePtr& x) {
            return x->priority() == r->priority();
        });
        auto same = std::find_if(lo, hi, [&](const RulePtr& x) { return x->match() == r->match(); });
        if (same != hi) {
            *same = r;
        } else {
            t.insert(hi, r);
            next->n_rules_++;
        }
    }
    return next;
}

std::unique_ptr<FlowTables> FlowTables::without(const std::function<bool(const Rule&)>& doomed,
                                                size_t* n_removed) const {
    auto next = std::make_unique<FlowTables>();
    next->groups_ = groups_;
    next->ports_ = ports_;
    size_t removed = 0;
    for (size_t i = 0; i < kNumTables; i++) {
        const RuleList& from = tables_[i];
        RuleList& to = next->tables_[i];
        for (const RulePtr& r : from) {
            if (doomed(*r)) removed++;
            else to.push_back(r);
        }
    }
    next->n_rules_ = n_rules_ - removed;
    if (n_removed) *n_removed = removed;
    return next;
}

std::unique_ptr<FlowTables> FlowTables::with_modified(
    const std::function<bool(const Rule&)>& modified, const OfActionList& actions,
    size_t* n_modified) const {
    auto next = std::make_unique<FlowTables>(*this);
    size_t n = 0;
    for (RuleList& t : next->tables_)
        for (RulePtr& r : t)
            if (modified(*r)) {
                r = std::make_shared<Rule>(*r, actions);
                n++;
            }
    if (n_modified) *n_modified = n;
    return next;
}

}  // namespace vswitch::ofp
