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

// Without a subtable index, below this many added rules of one priority duplicates are
// found by comparing matches along the table's rules of that priority; above, by
// hashing those rules once. Comparing stops at the first differing word, hashing reads
// them all: comparing wins for a handful of added rules.
constexpr size_t kLinearCompareLimit = 16;

}  // namespace

void FlowTables::account(uint8_t id, uint64_t ord, const Rule& r, int dir) {
    const CookieIndex::Entry e{r.cookie(), ord, id};
    if (dir > 0) cookies_.add(e);
    else cookies_.remove(e);
    if (r.spec().idle_timeout || r.spec().hard_timeout) {
        n_timed_ += static_cast<size_t>(dir);
        timed_[id] += static_cast<uint32_t>(dir);
    }
}

void FlowTables::removed_from(uint8_t id, const std::vector<std::pair<uint64_t, RulePtr>>& gone,
                              const FlowTables& before) {
    std::vector<TableIndex::Changed> changed;
    changed.reserve(gone.size());
    for (const auto& [ord, r] : gone) {
        changed.push_back({ord, &r->match()});
        account(id, ord, *r, -1);
    }
    n_rules_ -= gone.size();
    index_[id] = TableIndex::update(before.index_[id], tables_[id], {}, changed);
}

uint64_t FlowTables::find_exact(uint8_t id, const Match& m, uint16_t priority) const {
    if (const TableIndex* ix = index_[id].get(); ix && ix->finds_exact()) return ix->find_exact(m, priority);
    uint64_t found = TableIndex::kNoMatch;
    tables_[id].for_each_in(TableIndex::order_key(priority, 0), TableIndex::order_key(priority, TableIndex::kMaxSeq),
                            [&](const RulePtr& r, uint64_t ord) {
                                if (found == TableIndex::kNoMatch && r->match() == m) found = ord;
                            });
    return found;
}

std::unique_ptr<FlowTables> FlowTables::with_added(const std::vector<RulePtr>& added) const {
    auto next = std::make_unique<FlowTables>(*this);
    // Added rules by table, in batch order.
    std::map<uint8_t, std::vector<const RulePtr*>> by_table;
    for (const RulePtr& r : added) by_table[r->table()].push_back(&r);
    for (auto& [id, rules] : by_table) {
        // Per priority (descending), the added rules of that priority.
        std::map<uint16_t, std::vector<const RulePtr*>, std::greater<uint16_t>> by_prio;
        for (const RulePtr* r : rules) by_prio[(*r)->priority()].push_back(r);
        std::vector<std::pair<uint64_t, RulePtr>> fresh;   // inserted, by order key
        std::vector<TableIndex::Changed> changed;
        RuleSeq& t = next->tables_[id];
        for (auto& [prio, group] : by_prio) {
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
            // Which of them replace a rule already in the table (its order key).
            std::vector<uint64_t> at(distinct.size(), TableIndex::kNoMatch);
            const TableIndex* ix = index_[id].get();
            if ((ix && ix->finds_exact()) || distinct.size() <= kLinearCompareLimit) {
                for (size_t d = 0; d < distinct.size(); d++) at[d] = find_exact(id, distinct[d]->match(), prio);
            } else {
                tables_[id].for_each_in(
                    TableIndex::order_key(prio, 0), TableIndex::order_key(prio, TableIndex::kMaxSeq),
                    [&](const RulePtr& r, uint64_t ord) {
                        for (auto [it, end] = seen.equal_range(match_hash(r->match())); it != end; ++it)
                            if (distinct[it->second]->match() == r->match()) at[it->second] = ord;
                    });
            }
            for (size_t d = 0; d < distinct.size(); d++) {
                if (at[d] != TableIndex::kNoMatch) {
                    // Same match and order key: the index stays valid.
                    next->account(id, at[d], **t.find(at[d]), -1);
                    next->account(id, at[d], *distinct[d], +1);
                    t.replace(at[d], distinct[d]);
                } else {
                    fresh.emplace_back(TableIndex::order_key(prio, next->next_seq_++), distinct[d]);
                }
            }
        }
        if (fresh.empty()) continue;
        // by_prio went by descending priority, so by ascending order key already.
        for (const auto& [ord, r] : fresh) {
            changed.push_back({ord, &r->match()});
            next->account(id, ord, *r, +1);
        }
        t.insert(fresh);
        next->n_rules_ += fresh.size();
        next->index_[id] = TableIndex::update(index_[id], t, changed, {});
    }
    return next;
}

std::unique_ptr<FlowTables> FlowTables::without(const std::function<bool(const Rule&)>& doomed,
                                                size_t* n_removed, const TableSet* only) const {
    auto next = std::make_unique<FlowTables>(*this);
    size_t removed = 0;
    std::vector<std::pair<uint64_t, RulePtr>> gone;   // keeps the matches alive for update()
    for (size_t i = 0; i < kNumTables; i++) {
        RuleSeq& t = next->tables_[i];
        if (t.empty() || (only && !only->test(i))) continue;
        gone.clear();
        t.erase_if(doomed, gone);
        if (gone.empty()) continue;
        removed += gone.size();
        next->removed_from(static_cast<uint8_t>(i), gone, *this);
    }
    if (n_removed) *n_removed = removed;
    return next;
}

std::unique_ptr<FlowTables> FlowTables::without_cookies(const std::vector<uint64_t>& cookies,
                                                        size_t* n_removed) const {
    std::vector<CookieIndex::Entry> found;
    for (uint64_t c : cookies) cookies_.find(c, found);
    if (n_removed) *n_removed = found.size();
    auto next = std::make_unique<FlowTables>(*this);
    if (found.empty()) return next;
    std::map<uint8_t, std::vector<uint64_t>> by_table;
    for (const CookieIndex::Entry& e : found) by_table[e.table].push_back(e.ord);
    std::vector<std::pair<uint64_t, RulePtr>> gone;
    for (auto& [id, ords] : by_table) {
        std::sort(ords.begin(), ords.end());
        ords.erase(std::unique(ords.begin(), ords.end()), ords.end());
        gone.clear();
        next->tables_[id].erase(ords, gone);
        next->removed_from(id, gone, *this);
    }
    return next;
}

std::unique_ptr<FlowTables> FlowTables::with_modified(
    const std::function<bool(const Rule&)>& modified, const OfActionList& actions,
    size_t* n_modified, const TableSet* only) const {
    auto next = std::make_unique<FlowTables>(*this);
    size_t n = 0;
    // Same match and order key: the indexes stay valid.
    for (size_t i = 0; i < kNumTables; i++) {
        if (only && !only->test(i)) continue;
        n += next->tables_[i].modify(
            [&](const RulePtr& r) { return modified(*r) ? std::make_shared<Rule>(*r, actions) : nullptr; });
    }
    if (n_modified) *n_modified = n;
    return next;
}

}  // namespace vswitch::ofp
