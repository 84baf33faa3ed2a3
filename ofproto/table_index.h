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
// Big subtables change by difference: once a subtable holds freeze_rules() rules, a
// flow-mod does not copy it (its hash indexes are as big as it is) but leaves it shared
// with the previous snapshot, adds go to a small "delta" subtable of the same mask and
// deletes to a list of dead rules beside it. The lookup takes the two as two subtables
// (nothing in it needs masks to be distinct: the winner is the first match in order,
// failures are merged by order key) and skips dead rules. When delta and dead list
// together pass merge_threshold() (about twice the square root of the base), they are
// merged into a new base. So a flow-mod in a table of n rules costs O(sqrt n) plus the
// amortized merge, O(sqrt n) too, instead of O(n).
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
#include "ofproto/rule_seq.h"

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

    // rules: one table (FlowTables::table()). Null if the table is empty.
    static std::shared_ptr<const TableIndex> build(const RuleSeq& rules);
    // What build(rules) would look up the same, for a table that was indexed by `old`
    // and has since gained `added` and lost `removed` (order keys and matches; the
    // matches must live until this returns): subtables that neither touches are shared
    // with `old`, big ones change by difference (above).
    struct Changed {
        uint64_t ord;
        const Match* match;
    };
    static std::shared_ptr<const TableIndex> update(const std::shared_ptr<const TableIndex>& old,
                                                    const RuleSeq& rules, const std::vector<Changed>& added,
                                                    const std::vector<Changed>& removed);

    // Order key of the first rule matching (key, pkey), or kNoMatch. ORs into `mask`
    // what the outcome depended on, as translate.h describes: the winner's match, and
    // for every rule before it that failed on packet fields one mismatching field (plus
    // prerequisites) unless one is already covered. `free` = the bits of fields written
    // by actions: reading them costs nothing.
    static constexpr uint64_t kNoMatch = UINT64_MAX;
    uint64_t lookup(const FlowKey& key, const PipelineKey& pkey, const FlowKey& free, FlowKey& mask) const;

    // A subtable index finds a rule by its exact match and priority (its order key, or
    // kNoMatch) without a scan; a linear one cannot (false).
    bool finds_exact() const { return !subs_.empty(); }
    uint64_t find_exact(const Match& m, uint16_t priority) const;

    size_t n_rules() const { return n_rules_; }
    bool uses_subtables() const;
    size_t n_subtables() const;   // 0 = linear; deltas count
    size_t n_masks() const;       // distinct masks of the subtables
    size_t n_deltas() const;      // subtables that are a delta of a frozen one
    size_t n_dead() const;        // rules of frozen subtables deleted since they froze

    // Tables with at least this many rules (and at most kMaxSubtables distinct masks,
    // at least kMinRulesPerSubtable rules per mask on average) use subtables. Read by
    // build()/update(): tests and benchmarks change it before adding flows.
    static void set_subtable_min_rules(size_t n);
    static size_t subtable_min_rules();
    static constexpr size_t kDefaultSubtableMinRules = 8;
    // Subtables of at least this many rules change by difference (tests lower it).
    static void set_freeze_rules(size_t n);
    static size_t freeze_rules();
    static constexpr size_t kDefaultFreezeRules = 2048;
    // Delta + dead rules beyond which a frozen subtable of n live rules is merged anew.
    static size_t merge_threshold(size_t n);
    static constexpr size_t kMaxSubtables = 256;
    static constexpr size_t kMinRulesPerSubtable = 2;

    struct Term;
    struct LinearRule;
    struct Subtable;
    // A subtable as this snapshot sees it: shared, maybe with dead rules (local
    // numbers, ascending), maybe the delta of a frozen subtable of the same mask.
    struct SubRef {
        std::shared_ptr<const Subtable> s;
        std::shared_ptr<const std::vector<uint32_t>> dead;
        bool delta = false;
        bool is_dead(uint32_t r) const;
        size_t live() const;
    };
    TableIndex();
    ~TableIndex();

private:
    struct MaskedWord {
        uint64_t mask, value;
        uint32_t index;   // word of FlowKey / PipelineKey
    };

    static bool want_subtables(size_t n_rules, size_t n_masks);
    uint64_t lookup_linear(const FlowKey& key, const PipelineKey& pkey, const FlowKey& free, FlowKey& mask) const;
    uint64_t lookup_subtables(const FlowKey& key, const PipelineKey& pkey, const FlowKey& free, FlowKey& mask) const;
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
    std::vector<SubRef> subs_;
};

}  // namespace vswitch::ofp
