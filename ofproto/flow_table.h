// FlowTables: one immutable snapshot of every OpenFlow table.
//
// Published to PMD threads through an atomic pointer (ofproto.cc) and never modified
// after publication: a change builds a new snapshot from the old one (the builders
// below are const) and the old one is freed after an RCU grace period. Rules are shared
// between snapshots.
//
// Each table is a vector of rules sorted by priority, highest first; among equal
// priorities, older rules first (so lookup is deterministic: the oldest wins). A
// replaced rule keeps its predecessor's position.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "ofproto/rule.h"

namespace vswitch::ofp {

class FlowTables {
public:
    using RuleList = std::vector<RulePtr>;

    const RuleList& table(uint8_t id) const { return tables_[id]; }
    size_t n_rules() const { return n_rules_; }

    // A copy with `added` installed in order. A rule with the same table, priority and
    // match as an existing one (or an earlier one in `added`) replaces it.
    std::unique_ptr<FlowTables> with_added(const std::vector<RulePtr>& added) const;

    // A copy without the rules `doomed` selects; *n_removed = how many.
    std::unique_ptr<FlowTables> without(const std::function<bool(const Rule&)>& doomed,
                                        size_t* n_removed) const;

    // Every rule, table by table in lookup order.
    template <class F>
    void for_each(F&& f) const {
        for (const RuleList& t : tables_)
            for (const RulePtr& r : t) f(r);
    }

private:
    std::array<RuleList, kNumTables> tables_;
    size_t n_rules_ = 0;
};

}  // namespace vswitch::ofp
