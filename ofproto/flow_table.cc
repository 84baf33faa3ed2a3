#include "ofproto/flow_table.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <unordered_map>

namespace vswitch::ofp {

namespace {

// A hash of a match's values (equal matches have equal values, so equal hashes).
uint64_t match_hash(const Match& m) {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    auto mix = [&h](const void* p, size_t n) {
        for (size_t i = 0; i < n; i += 8) {
            uint64_t w;
            std::memcpy(&w, static_cast<const char*>(p) + i, sizeof w);
            h = (h ^ w) * 0xff51afd7ed558ccdull;
            h ^= h >> 29;
        }
    };
    mix(&m.value(), sizeof(FlowKey));
    mix(&m.pipeline_value(), sizeof(PipelineKey));
    return h;
}

// Below this many (added rules of one priority) x (rules of that priority in the table),
// duplicates are found by comparing matches; above, by hashing the table's rules of
// that priority once. Comparing stops at the first differing word, hashing reads them
// all: comparing wins for a handful of added rules.
constexpr size_t kLinearCompareLimit = 16;

}  // namespace

std::unique_ptr<FlowTables> FlowTables::with_added(const std::vector<RulePtr>& added) const {
    auto next = std::make_unique<FlowTables>(*this);
    // Added rules by table, in batch order.
    std::map<uint8_t, std::vector<const RulePtr*>> by_table;
    for (const RulePtr& r : added) by_table[r->table()].push_back(&r);
    for (auto& [id, rules] : by_table) {
        const RuleList& old = tables_[id];
        const std::vector<uint64_t>& old_ords = ords_[id];
        // Per priority (descending), the added rules of that priority.
        std::map<uint16_t, std::vector<const RulePtr*>, std::greater<uint16_t>> by_prio;
        for (const RulePtr* r : rules) by_prio[(*r)->priority()].push_back(r);
        std::vector<std::pair<size_t, RulePtr>> replaced;   // (old position, new rule)
        struct New {
            RulePtr rule;
            uint64_t ord;
        };
        std::vector<New> fresh;   // inserted, in lookup order (priority desc, batch order)
        std::vector<uint64_t> new_ords;
        for (auto& [prio, group] : by_prio) {
            // The table's rules of this priority occupy [lo, hi) (sorted descending).
            size_t lo = static_cast<size_t>(std::partition_point(old.begin(), old.end(), [&](const RulePtr& x) {
                                                return x->priority() > prio;
                                            }) - old.begin());
            size_t hi = lo;
            while (hi < old.size() && old[hi]->priority() == prio) hi++;
            // Distinct matches of the group, in order of first appearance; the last rule
            // with a match is the one that stays (a later add replaces an earlier one).
            std::vector<RulePtr> distinct;
            std::unordered_multimap<uint64_t, size_t> seen;
            for (const RulePtr* r : group) {
                const uint64_t h = match_hash((*r)->match());
                size_t d = distinct.size();
                for (auto [it, end] = seen.equal_range(h); it != end; ++it)
                    if (distinct[it->second]->match() == (*r)->match()) d = it->second;
                if (d == distinct.size()) {
                    seen.emplace(h, d);
                    distinct.push_back(*r);
                } else {
                    distinct[d] = *r;
                }
            }
            // Which of them replace a rule already in the table.
            std::vector<size_t> at(distinct.size(), SIZE_MAX);
            if (distinct.size() <= kLinearCompareLimit) {
                for (size_t d = 0; d < distinct.size(); d++)
                    for (size_t i = lo; i < hi; i++)
                        if (old[i]->match() == distinct[d]->match()) {
                            at[d] = i;
                            break;
                        }
            } else {
                for (size_t i = lo; i < hi; i++)
                    for (auto [it, end] = seen.equal_range(match_hash(old[i]->match())); it != end; ++it)
                        if (distinct[it->second]->match() == old[i]->match()) at[it->second] = i;
            }
            for (size_t d = 0; d < distinct.size(); d++) {
                if (at[d] != SIZE_MAX) {
                    // Same match and place: the index and order key stay valid.
                    replaced.emplace_back(at[d], distinct[d]);
                } else {
                    uint64_t ord = TableIndex::order_key(prio, next->next_seq_++);
                    fresh.push_back({distinct[d], ord});
                    new_ords.push_back(ord);
                }
            }
        }
        RuleList& t = next->tables_[id];
        for (auto& [pos, r] : replaced) t[pos] = r;
        if (fresh.empty()) continue;
        // Merge: the new rules go after the table's rules of their priority.
        RuleList merged;
        std::vector<uint64_t> ords;
        merged.reserve(t.size() + fresh.size());
        ords.reserve(t.size() + fresh.size());
        size_t i = 0;
        for (const New& n : fresh) {
            while (i < t.size() && t[i]->priority() >= n.rule->priority()) {
                merged.push_back(std::move(t[i]));
                ords.push_back(old_ords[i]);
                i++;
            }
            merged.push_back(n.rule);
            ords.push_back(n.ord);
        }
        for (; i < t.size(); i++) {
            merged.push_back(std::move(t[i]));
            ords.push_back(old_ords[i]);
        }
        t = std::move(merged);
        next->ords_[id] = std::move(ords);
        next->n_rules_ += fresh.size();
        next->index_[id] = TableIndex::update(index_[id], t, next->ords_[id], new_ords, {});
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
