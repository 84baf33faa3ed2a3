// The rules one control-plane change touched, indexed for revalidation: can a megaflow
// meet any of them? The answer of may_meet() (upcall.h) over the whole list, without
// asking each rule: a VPC batch changes thousands of rules, and revalidation asks once
// per megaflow (a million of them), so a linear check would cost more than the
// re-translations it saves.
//
// How: the changes are grouped by (table, mask); rules of one group fix the same bits.
// Each group is sorted on one "anchor" word of its mask, the one whose values differ
// most among its rules (nw_dst for VPC endpoints). When a megaflow fixes the anchor's
// bits and no action rewrote that word before a lookup, only the rules whose anchor
// value equals the megaflow's can meet it (the others disagree on a bit both fix): a
// binary search finds them, and may_meet() decides for each. Before that, the bits
// on which all of a group's rules agree (in_port=vm2, ip) rule the whole group out when
// the megaflow fixes one of them to another value. Otherwise the group is checked rule
// by rule while it is small, and counted as met when it is not: a megaflow wrongly
// counted as met is only re-translated for nothing, never kept wrong. A megaflow costs a
// look at every group; past kMaxGroups (rules of many different shapes, such as port
// ranges) that would cost more than re-translating, so then every megaflow that looked
// up one of the tables counts as met.
//
// Built and asked from the control thread's revalidation; may_meet() is const and may
// be called concurrently (the TBB phase).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "flow_key.h"
#include "upcall.h"

namespace vswitch {

class RuleChangeSet {
public:
    // Past this many rules a group whose anchor a megaflow does not fix counts as met.
    static constexpr size_t kLinearMax = 32;
    // Past this many (table, mask) groups, the tables alone decide.
    static constexpr size_t kMaxGroups = 64;

    RuleChangeSet() = default;
    explicit RuleChangeSet(std::vector<RuleChange> changes);

    bool empty() const { return changes_.empty(); }
    size_t size() const { return changes_.size(); }
    size_t groups() const { return groups_.size(); }
    uint64_t tables() const { return tables_; }   // the union of the changes' table bits

    // True if some change c has may_meet(tables, written, key, mask, c); may also be true
    // when none has (see above), never false when one has.
    bool may_meet(uint64_t tables, uint32_t written, const FlowKey& key, const FlowKey& mask) const;

private:
    struct Group {
        uint64_t table_bit;
        FlowKey common_mask;     // the mask's bits on which all its rules agree
        FlowKey common_value;    // their value there
        int anchor;              // FlowKey word, or -1: the mask fixes no bit of the key
        uint64_t anchor_mask;    // the group's mask on that word
        uint32_t begin, end;     // its rules in changes_ / anchor_values_
    };
    std::vector<RuleChange> changes_;      // by group, then by anchor value
    std::vector<uint64_t> anchor_values_;  // changes_[i].value's anchor word
    std::vector<Group> groups_;
    uint64_t tables_ = 0;
    bool by_tables_ = false;   // more than kMaxGroups groups
};

}  // namespace vswitch
