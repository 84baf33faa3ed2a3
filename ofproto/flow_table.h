// FlowTables: one immutable snapshot of every OpenFlow table.
//
// Published to PMD threads through an atomic pointer (ofproto.cc) and never modified
// after publication: a change builds a new snapshot from the old one (the builders
// below are const) and the old one is freed after an RCU grace period. Rules are shared
// between snapshots.
//
// Besides the rules it holds what translation needs of the rest of the switch: the
// groups (by id) and the port numbers (output:all, flood, NORMAL), so one snapshot is
// one consistent view.
//
// Each table is a RuleSeq (rule_seq.h): the rules sorted by priority, highest first;
// among equal priorities, older rules first (so lookup is deterministic: the oldest
// wins), each with an order key (priority, insertion sequence) that, unlike a position,
// survives other rules coming and going. A replaced rule keeps its predecessor's key.
// A snapshot shares with the one it was made from every chunk of rules a change did not
// touch.
//
// Next to each table, its TableIndex (table_index.h): the same rules compiled for
// translation's lookups, which answer with an order key. The builders below update the
// indexes of the tables they change: subtables that a change does not touch are shared
// with the previous snapshot, small ones are patched, big ones change by difference.
// So a flow-mod costs about the square root of the rules of the tables it touches, not
// the rules of the switch.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <bitset>
#include <memory>
#include <vector>

#include "ofproto/cookie_index.h"
#include "ofproto/group.h"
#include "ofproto/overlay_config.h"
#include "ofproto/rule.h"
#include "ofproto/rule_seq.h"
#include "ofproto/table_index.h"

namespace vswitch::ofp {

using TableSet = std::bitset<kNumTables>;

class FlowTables {
public:
    const RuleSeq& table(uint8_t id) const { return tables_[id]; }
    // Null for an empty table.
    const TableIndex* index(uint8_t id) const { return index_[id].get(); }
    size_t n_rules() const { return n_rules_; }
    // Rules with an idle or hard timeout (none: nothing can expire), in all and per table.
    size_t n_timed() const { return n_timed_; }
    uint32_t n_timed(uint8_t id) const { return timed_[id]; }

    // A copy with every rule `modified` selects replaced by Rule(old, actions) (mod-flows:
    // same counters and age); *n_modified = how many. With `only`, the rules of the
    // tables not in it are not asked (a filter naming its table walks that table only).
    std::unique_ptr<FlowTables> with_modified(const std::function<bool(const Rule&)>& modified,
                                              const OfActionList& actions, size_t* n_modified,
                                              const TableSet* only = nullptr) const;

    // Groups and ports. The setters are for a copy under construction only (never
    // called on a published snapshot).
    const GroupSpec* group(uint32_t id) const {
        auto it = groups_.find(id);
        return it == groups_.end() ? nullptr : it->second.get();
    }
    const std::map<uint32_t, std::shared_ptr<const GroupSpec>>& groups() const { return groups_; }
    const std::vector<uint32_t>& ports() const { return ports_; }
    std::unique_ptr<FlowTables> copy() const { return std::make_unique<FlowTables>(*this); }
    void set_group(GroupSpec g) {
        uint32_t id = g.id;
        groups_[id] = std::make_shared<const GroupSpec>(std::move(g));
    }
    bool erase_group(uint32_t id) { return groups_.erase(id) > 0; }
    void set_ports(std::vector<uint32_t> sorted) { ports_ = std::move(sorted); }
    // Never null (an empty config: no underlay, no tunnels).
    const OverlayConfig& overlay() const { return *overlay_; }
    void set_overlay(OverlayConfig c) { overlay_ = std::make_shared<const OverlayConfig>(std::move(c)); }

    // A copy with `added` installed in order. A rule with the same table, priority and
    // match as an existing one (or an earlier one in `added`) replaces it.
    std::unique_ptr<FlowTables> with_added(const std::vector<RulePtr>& added) const;

    // A copy without the rules `doomed` selects; *n_removed = how many. With `only`, as
    // with_modified.
    std::unique_ptr<FlowTables> without(const std::function<bool(const Rule&)>& doomed, size_t* n_removed,
                                        const TableSet* only = nullptr) const;
    // The same for the rules whose cookie is one of `cookies`, found through the cookie
    // index: no rule is asked.
    std::unique_ptr<FlowTables> without_cookies(const std::vector<uint64_t>& cookies, size_t* n_removed) const;

    // Every rule, table by table in lookup order.
    template <class F>
    void for_each(F&& f) const {
        for (const RuleSeq& t : tables_) t.for_each([&](const RulePtr& r, uint64_t) { f(r); });
    }

private:
    // The order key of the rule of table `id` with this priority and match, or
    // TableIndex::kNoMatch.
    uint64_t find_exact(uint8_t id, const Match& m, uint16_t priority) const;
    // Bookkeeping of a rule coming (+1) or going (-1): cookie index, timed count.
    void account(uint8_t id, uint64_t ord, const Rule& r, int dir);
    // Index update after table id lost `gone`.
    void removed_from(uint8_t id, const std::vector<std::pair<uint64_t, RulePtr>>& gone, const FlowTables& before);

    std::array<RuleSeq, kNumTables> tables_;
    std::array<std::shared_ptr<const TableIndex>, kNumTables> index_;
    CookieIndex cookies_;
    uint64_t next_seq_ = 0;   // insertion sequence number of the next new rule
    size_t n_rules_ = 0;
    size_t n_timed_ = 0;
    std::array<uint32_t, kNumTables> timed_{};
    std::map<uint32_t, std::shared_ptr<const GroupSpec>> groups_;
    std::vector<uint32_t> ports_;   // ascending
    std::shared_ptr<const OverlayConfig> overlay_ = std::make_shared<const OverlayConfig>();
};

}  // namespace vswitch::ofp
