// TableIndex: one OpenFlow table compiled, once per snapshot, into what translation's
// lookup needs: the rules' matches as 64-bit words (value, mask) over FlowKey and
// PipelineKey, and for each rule the packet fields it matches as precomputed word masks
// (the field's bits, and the bits that un-wildcarding it costs: the field plus its
// prerequisites). A lookup finds the highest-priority matching rule and ORs into the
// megaflow mask exactly what translate.h's contract says — the same bits as the
// field-by-field walk over the Match objects (translate.cc keeps that walk for trace
// observers, and the tests compare the two).
//
// Two shapes, chosen per table when the snapshot is built:
//  - linear: rules in lookup order, each a few (word, mask, value) triples; a lookup tests
//    them in order, then accounts each higher-priority failure (one mismatching field).
//  - subtables (tuple space search): rules grouped by their mask; each group hashes its
//    rules' masked values (a lookup is one probe per group, groups probed in the order of
//    their first rule, stopping once the best match found comes first). The failures are
//    accounted by replaying, in lookup order, only the rules that can add mask bits:
//    a failed rule adds nothing if the key differs from it on a field whose bits are
//    already in the mask, and such fields only accumulate, so per group only the rules
//    that agree with the key on every already-covered field are visited (found through
//    per-field hash indexes). Each visited rule covers one more field of its group, so a
//    lookup visits at most (#fields of the group) rules per group, whatever the table's
//    size — and the mask comes out bit-for-bit the same as the linear walk's.
//    Used for tables of at least subtable_min_rules() rules with few distinct masks.
//
// Immutable after build; lookups are thread-safe and allocate nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

#include "ofproto/match.h"
#include "ofproto/rule.h"

namespace vswitch::ofp {

// The order in which a failed rule's mismatching field is chosen (translate.h): coarse
// fields first, since most rules and megaflows pin them already.
inline constexpr Field kMismatchOrder[] = {
    Field::InPort,  Field::TunId,   Field::TunSrc,  Field::TunDst, Field::DlType, Field::VlanTci,
    Field::DlSrc,   Field::DlDst,   Field::NwProto, Field::NwSrc,  Field::NwDst,  Field::Ipv6Src,
    Field::Ipv6Dst, Field::NwTos,   Field::NwTtl,   Field::TpSrc,  Field::TpDst,
};
static_assert(std::size(kMismatchOrder) == kFieldCount);

// Bits of every field in `set`, as a FlowKey-shaped mask (all ones over their bytes).
FlowKey field_set_bits(FieldSet set);

class TableIndex {
public:
    // A rule's place in lookup order as a key that survives other rules coming and going:
    // (0xffff - priority) << 48 | insertion sequence number (FlowTables keeps them, one
    // per rule, ascending along the table).
    static uint64_t order_key(uint16_t priority, uint64_t seq) { return uint64_t(0xffff - priority) << 48 | seq; }
    static constexpr uint64_t kMaxSeq = (uint64_t{1} << 48) - 1;

    // rules: one table, in lookup order (FlowTables::table()), ords their order keys.
    // Null if the table is empty.
    static std::shared_ptr<const TableIndex> build(const std::vector<RulePtr>& rules,
                                                   const std::vector<uint64_t>& ords);
    // The index build(rules, ords) would make, for a table that was indexed by `old`
    // and has since gained the rules whose order keys are `added` and lost `removed`:
    // subtables that neither touches are shared with `old` (so a flow-mod costs the
    // rules of the subtables it touches, not the table's).
    struct Removed {
        uint64_t ord;
        const Match* match;
    };
    static std::shared_ptr<const TableIndex> update(const std::shared_ptr<const TableIndex>& old,
                                                    const std::vector<RulePtr>& rules,
                                                    const std::vector<uint64_t>& ords,
                                                    const std::vector<uint64_t>& added,
                                                    const std::vector<Removed>& removed);

    // Position (in the rules the index was built for; ords = their order keys) of the
    // first rule matching (key, pkey), or -1. ORs into `mask` what the outcome depended
    // on, as translate.h describes: the winner's match, and for every rule before it
    // that failed on packet fields one mismatching field (plus prerequisites) unless one
    // is already covered. `free` = the bits of fields written by actions: reading them
    // costs nothing.
    long lookup(const std::vector<uint64_t>& ords, const FlowKey& key, const PipelineKey& pkey,
                const FlowKey& free, FlowKey& mask) const;

    size_t n_rules() const { return n_rules_; }
    bool uses_subtables() const;
    size_t n_subtables() const;   // 0 = linear

    // Tables with at least this many rules (and at most kMaxSubtables distinct masks,
    // at least kMinRulesPerSubtable rules per mask on average) use subtables. Read by
    // build()/update(): tests and benchmarks change it before adding flows.
    static void set_subtable_min_rules(size_t n);
    static size_t subtable_min_rules();
    static constexpr size_t kDefaultSubtableMinRules = 8;
    static constexpr size_t kMaxSubtables = 256;
    static constexpr size_t kMinRulesPerSubtable = 2;

    struct Term;
    struct LinearRule;
    struct Subtable;
    TableIndex();
    ~TableIndex();

private:
    struct MaskedWord {
        uint64_t mask, value;
        uint32_t index;   // word of FlowKey / PipelineKey
    };

    static bool want_subtables(size_t n_rules, size_t n_masks);
    long lookup_linear(const FlowKey& key, const PipelineKey& pkey, const FlowKey& free, FlowKey& mask) const;
    long lookup_subtables(const std::vector<uint64_t>& ords, const FlowKey& key, const PipelineKey& pkey,
                          const FlowKey& free, FlowKey& mask) const;
    bool linear_matches(const LinearRule& r, const FlowKey& key, const PipelineKey& pkey) const;
    bool linear_pipeline_matches(const LinearRule& r, const PipelineKey& pkey) const;
    void linear_read_match(const LinearRule& r, const FlowKey& free, FlowKey& mask) const;
    void linear_failure(const LinearRule& r, const FlowKey& key, const PipelineKey& pkey, const FlowKey& free,
                        FlowKey& mask) const;

    size_t n_rules_ = 0;
    // linear
    std::vector<LinearRule> rules_;
    std::vector<MaskedWord> words_;    // packet words of every rule
    std::vector<MaskedWord> pwords_;   // pipeline words
    std::vector<Term> terms_;
    // subtables, by order key of their first rule; shared between snapshots
    std::vector<std::shared_ptr<const Subtable>> subs_;
};

}  // namespace vswitch::ofp
