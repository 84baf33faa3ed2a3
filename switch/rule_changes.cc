#include "rule_changes.h"

#include <algorithm>
#include <cstring>

namespace vswitch {

namespace {

// Orders changes by group: table bit, then the mask's bytes.
bool group_less(const RuleChange& a, const RuleChange& b) {
    if (a.table_bit != b.table_bit) return a.table_bit < b.table_bit;
    return std::memcmp(&a.mask, &b.mask, sizeof(FlowKey)) < 0;
}

bool same_group(const RuleChange& a, const RuleChange& b) {
    return a.table_bit == b.table_bit && a.mask == b.mask;
}

// The word of the mask on which the rules [first, last) take the most distinct values
// (the first such word on ties); -1 if the mask fixes nothing.
int pick_anchor(std::vector<RuleChange>::const_iterator first, std::vector<RuleChange>::const_iterator last) {
    int best = -1;
    size_t best_distinct = 0;
    std::vector<uint64_t> values;
    for (size_t w = 0; w < FlowKey::kWords; w++) {
        if (!first->mask.word(w)) continue;
        values.clear();
        for (auto it = first; it != last; ++it) values.push_back(it->value.word(w));
        std::sort(values.begin(), values.end());
        const auto distinct = static_cast<size_t>(std::unique(values.begin(), values.end()) - values.begin());
        if (distinct > best_distinct) {
            best = static_cast<int>(w);
            best_distinct = distinct;
        }
    }
    return best;
}

}  // namespace

RuleChangeSet::RuleChangeSet(std::vector<RuleChange> changes) : changes_(std::move(changes)) {
    // The values are normally masked already (a rule's match is); mask them anyway, so
    // that equality on the anchor word means what the search needs.
    for (RuleChange& c : changes_) {
        flow_key_apply_mask(c.value, c.value, c.mask);
        tables_ |= c.table_bit;
    }
    std::sort(changes_.begin(), changes_.end(), group_less);
    for (size_t b = 0; b < changes_.size();) {
        size_t e = b + 1;
        while (e < changes_.size() && same_group(changes_[b], changes_[e])) e++;
        const auto first = changes_.begin() + static_cast<std::ptrdiff_t>(b);
        const auto last = changes_.begin() + static_cast<std::ptrdiff_t>(e);
        const int anchor = pick_anchor(first, last);
        if (anchor >= 0)
            std::sort(first, last, [anchor](const RuleChange& x, const RuleChange& y) {
                return x.value.word(static_cast<size_t>(anchor)) < y.value.word(static_cast<size_t>(anchor));
            });
        Group g{changes_[b].table_bit, changes_[b].mask, changes_[b].value, anchor,
                anchor >= 0 ? changes_[b].mask.word(static_cast<size_t>(anchor)) : 0,
                static_cast<uint32_t>(b), static_cast<uint32_t>(e)};
        for (size_t i = b + 1; i < e; i++)
            for (size_t w = 0; w < FlowKey::kWords; w++)
                g.common_mask.set_word(w, g.common_mask.word(w) & ~(changes_[i].value.word(w) ^ g.common_value.word(w)));
        flow_key_apply_mask(g.common_value, g.common_value, g.common_mask);
        groups_.push_back(g);
        b = e;
    }
    by_tables_ = groups_.size() > kMaxGroups;
    anchor_values_.resize(changes_.size());
    for (const Group& g : groups_)
        for (uint32_t i = g.begin; i < g.end; i++)
            anchor_values_[i] = g.anchor >= 0 ? changes_[i].value.word(static_cast<size_t>(g.anchor)) : 0;
}

bool RuleChangeSet::may_meet(uint64_t tables, uint32_t written, const FlowKey& key, const FlowKey& mask) const {
    if (!(tables & tables_)) return false;
    if (by_tables_) return true;
    for (const Group& g : groups_) {
        if (!(tables & g.table_bit)) continue;
        if (g.anchor < 0) return true;   // its rules fix no bit: any lookup of the table may find them
        bool disagrees = false;
        for (size_t w = 0; w < FlowKey::kWords && !disagrees; w++)
            disagrees = !(written & (1u << w)) &&
                        ((key.word(w) ^ g.common_value.word(w)) & mask.word(w) & g.common_mask.word(w));
        if (disagrees) continue;   // with every rule of the group, on a bit they all fix
        const auto a = static_cast<size_t>(g.anchor);
        uint32_t lo = g.begin, hi = g.end;
        if (!(written & (1u << a)) && (mask.word(a) & g.anchor_mask) == g.anchor_mask) {
            const uint64_t v = key.word(a) & g.anchor_mask;
            const auto* base = anchor_values_.data();
            lo = static_cast<uint32_t>(std::lower_bound(base + g.begin, base + g.end, v) - base);
            hi = static_cast<uint32_t>(std::upper_bound(base + lo, base + g.end, v) - base);
        } else if (g.end - g.begin > kLinearMax) {
            return true;   // the anchor says nothing about this megaflow, and the group is large
        }
        for (uint32_t i = lo; i < hi; i++)
            if (vswitch::may_meet(tables, written, key, mask, changes_[i])) return true;
    }
    return false;
}

}  // namespace vswitch
