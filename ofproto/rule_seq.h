// RuleSeq: one OpenFlow table's rules in lookup order, as an immutable value that is
// cheap to copy and to change a little.
//
// Rules are kept with their order keys (TableIndex::order_key: priority, then insertion
// sequence), ascending, in chunks of at most kMaxChunk rules, each chunk shared between
// the copies that did not change it. A copy costs one pointer per chunk; a change copies
// only the chunks it touches. So a flow-mod in a table of a million rules (a VPC's
// endpoints) costs a few thousand pointer copies, not a million rule references, and the
// snapshot it replaces frees as little.
//
// Order keys are unique within a table. Not thread-safe to modify; a published RuleSeq
// is never modified (FlowTables builds a new one), so readers need no lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "ofproto/rule.h"

namespace vswitch::ofp {

class RuleSeq {
public:
    static constexpr size_t kMaxChunk = 1024;   // split in two beyond

    size_t size() const { return size_; }
    // The same rules in the same order, because the same chunks (a copy that no change
    // touched): what revalidation's change tracking asks, in O(chunks).
    bool same_as(const RuleSeq& o) const { return chunks_ == o.chunks_; }
    // The rules in one of a and b but not in the other (added, deleted, or replaced by
    // mod-flows), found through the chunks the two do not share: O(chunks + the rules
    // of the chunks a change copied). False if there are more than `cap` (out is then
    // unspecified).
    static bool diff(const RuleSeq& a, const RuleSeq& b, std::vector<const Rule*>& out, size_t cap);
    bool empty() const { return size_ == 0; }

    // f(const RulePtr&, uint64_t ord) for every rule, in order.
    template <class F>
    void for_each(F&& f) const {
        for (const auto& c : chunks_)
            for (size_t i = 0; i < c->rules.size(); i++) f(c->rules[i], c->ords[i]);
    }
    // f(const RulePtr&, uint64_t ord) for the rules with lo <= ord <= hi, in order.
    template <class F>
    void for_each_in(uint64_t lo, uint64_t hi, F&& f) const {
        for (size_t i = chunks_.empty() ? 0 : chunk_for(lo); i < chunks_.size(); i++) {
            const Chunk& c = *chunks_[i];
            for (size_t j = 0; j < c.ords.size(); j++) {
                if (c.ords[j] > hi) return;
                if (c.ords[j] >= lo) f(c.rules[j], c.ords[j]);
            }
        }
    }
    // The rule with this order key, or null. O(log n). (Translation asks it once per
    // table lookup: inline, and most tables are one chunk.)
    const RulePtr* find(uint64_t ord) const {
        if (chunks_.empty()) return nullptr;
        const Chunk& c = *chunks_[chunks_.size() == 1 ? 0 : chunk_for(ord)];
        const uint64_t* b = c.ords.data();
        size_t n = c.ords.size();
        while (n > 1) {   // branch-free lower bound: the chunk's keys are few cache lines
            const size_t half = n / 2;
            b = b[half - 1] < ord ? b + half : b;
            n -= half;
        }
        if (*b != ord) return nullptr;
        return &c.rules[static_cast<size_t>(b - c.ords.data())];
    }

    // Adds rules whose order keys are not in the sequence yet; `sorted` ascending by
    // order key.
    void insert(const std::vector<std::pair<uint64_t, RulePtr>>& sorted);
    // Replaces the rule with order key `ord` (it must be there).
    void replace(uint64_t ord, RulePtr r);
    // Removes the rules `doomed` selects (every rule is asked); appends them, with their
    // order keys, to `removed`.
    void erase_if(const std::function<bool(const Rule&)>& doomed, std::vector<std::pair<uint64_t, RulePtr>>& removed);
    // Removes the rules with these order keys (ascending; each must be there); appends
    // them to `removed`.
    void erase(const std::vector<uint64_t>& sorted_ords, std::vector<std::pair<uint64_t, RulePtr>>& removed);
    // Replaces each rule `fn` returns a new rule for (null: unchanged); how many.
    size_t modify(const std::function<RulePtr(const RulePtr&)>& fn);

    size_t n_chunks() const { return chunks_.size(); }

private:
    struct Chunk {
        std::vector<uint64_t> ords;
        std::vector<RulePtr> rules;
    };
    // The chunk that holds, or would hold, order key ord.
    size_t chunk_for(uint64_t ord) const;
    // chunks_[i], made private to this sequence (copied if shared).
    Chunk& own(size_t i);
    void split_if_big(size_t i);
    // Replaces everything by `all` (ascending), in half-full chunks.
    void rebuild(std::vector<std::pair<uint64_t, RulePtr>> all);
    void repack_if_sparse();

    std::vector<std::shared_ptr<Chunk>> chunks_;   // ascending, none empty
    size_t size_ = 0;
};

}  // namespace vswitch::ofp
