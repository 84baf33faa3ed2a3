#include "ofproto/flow_table.h"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace vswitch::ofp {

std::unique_ptr<FlowTables> FlowTables::with_added(const std::vector<RulePtr>& added) const {
    auto next = std::make_unique<FlowTables>(*this);
    // Order keys of the rules inserted (not replacing one): the tables' ords_ are
    // rebuilt once at the end rather than shifted per insertion.
    std::unordered_map<const Rule*, uint64_t> inserted;
    std::map<uint8_t, std::vector<uint64_t>> grown;   // table -> order keys of new rules
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
            // Same match and place: the index and order key stay valid.
            if (auto it = inserted.find(same->get()); it != inserted.end()) {
                uint64_t ord = it->second;
                inserted.erase(it);
                inserted[r.get()] = ord;
            }
            *same = r;
        } else {
            uint64_t ord = TableIndex::order_key(r->priority(), next->next_seq_++);
            inserted[r.get()] = ord;
            t.insert(hi, r);
            next->n_rules_++;
            grown[r->table()].push_back(ord);
        }
    }
    std::vector<std::pair<const Rule*, uint64_t>> ins(inserted.begin(), inserted.end());
    std::sort(ins.begin(), ins.end());
    for (auto& [id, new_ords] : grown) {
        // The rules that were there keep their order (and keys); the inserted ones
        // come between them.
        const std::vector<uint64_t>& old = ords_[id];
        std::vector<uint64_t>& ords = next->ords_[id];
        ords.clear();
        ords.reserve(next->tables_[id].size());
        size_t j = 0;
        for (const RulePtr& r : next->tables_[id]) {
            const Rule* p = r.get();
            if (p < ins.front().first || p > ins.back().first) {   // the common case: old
                ords.push_back(old[j++]);
                continue;
            }
            auto it = std::lower_bound(ins.begin(), ins.end(), std::make_pair(p, uint64_t{0}));
            ords.push_back(it != ins.end() && it->first == p ? it->second : old[j++]);
        }
        next->index_[id] = TableIndex::update(index_[id], next->tables_[id], ords, new_ords, {});
    }
    return next;
}

std::unique_ptr<FlowTables> FlowTables::without(const std::function<bool(const Rule&)>& doomed,
                                                size_t* n_removed) const {
    auto next = std::make_unique<FlowTables>();
    next->groups_ = groups_;
    next->ports_ = ports_;
    next->overlay_ = overlay_;   // a snapshot built from scratch keeps the overlay view
    next->next_seq_ = next_seq_;
    size_t removed = 0;
    std::vector<TableIndex::Removed> gone;
    for (size_t i = 0; i < kNumTables; i++) {
        const RuleList& from = tables_[i];
        RuleList& to = next->tables_[i];
        std::vector<uint64_t>& to_ords = next->ords_[i];
        if (from.empty()) continue;
        to.reserve(from.size());
        to_ords.reserve(from.size());
        gone.clear();
        for (size_t j = 0; j < from.size(); j++) {
            if (doomed(*from[j])) {
                gone.push_back({ords_[i][j], &from[j]->match()});
            } else {
                to.push_back(from[j]);
                to_ords.push_back(ords_[i][j]);
            }
        }
        removed += gone.size();
        if (gone.empty()) next->index_[i] = index_[i];
        else next->index_[i] = TableIndex::update(index_[i], to, to_ords, {}, gone);
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
                // Same match and position: the index stays valid.
                r = std::make_shared<Rule>(*r, actions);
                n++;
            }
    if (n_modified) *n_modified = n;
    return next;
}

}  // namespace vswitch::ofp
