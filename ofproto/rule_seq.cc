#include "ofproto/rule_seq.h"

#include <algorithm>
#include <iterator>
#include <unordered_set>

namespace vswitch::ofp {

size_t RuleSeq::chunk_for(uint64_t ord) const {
    // The first chunk whose last key is >= ord (else the last chunk).
    auto it = std::partition_point(chunks_.begin(), chunks_.end(),
                                   [ord](const std::shared_ptr<Chunk>& c) { return c->ords.back() < ord; });
    if (it == chunks_.end()) return chunks_.empty() ? 0 : chunks_.size() - 1;
    return static_cast<size_t>(it - chunks_.begin());
}

RuleSeq::Chunk& RuleSeq::own(size_t i) {
    // A chunk only this sequence holds was made by the change under way: edit in place.
    // (Only the control thread copies these pointers; published sequences are const.)
    if (chunks_[i].use_count() > 1) chunks_[i] = std::make_shared<Chunk>(*chunks_[i]);
    return *chunks_[i];
}

void RuleSeq::split_if_big(size_t i) {
    Chunk& c = *chunks_[i];
    if (c.ords.size() <= kMaxChunk) return;
    auto tail = std::make_shared<Chunk>();
    const size_t half = c.ords.size() / 2;
    tail->ords.assign(c.ords.begin() + static_cast<std::ptrdiff_t>(half), c.ords.end());
    tail->rules.assign(std::make_move_iterator(c.rules.begin() + static_cast<std::ptrdiff_t>(half)),
                       std::make_move_iterator(c.rules.end()));
    c.ords.resize(half);
    c.rules.resize(half);
    chunks_.insert(chunks_.begin() + static_cast<std::ptrdiff_t>(i) + 1, std::move(tail));
}

void RuleSeq::rebuild(std::vector<std::pair<uint64_t, RulePtr>> all) {
    chunks_.clear();
    size_ = all.size();
    constexpr size_t kFill = kMaxChunk / 2;   // room to grow before a split
    for (size_t i = 0; i < all.size(); i += kFill) {
        auto c = std::make_shared<Chunk>();
        const size_t n = std::min(kFill, all.size() - i);
        c->ords.reserve(n);
        c->rules.reserve(n);
        for (size_t j = i; j < i + n; j++) {
            c->ords.push_back(all[j].first);
            c->rules.push_back(std::move(all[j].second));
        }
        chunks_.push_back(std::move(c));
    }
}

void RuleSeq::insert(const std::vector<std::pair<uint64_t, RulePtr>>& sorted) {
    if (sorted.empty()) return;
    if (sorted.size() * 8 > size_) {
        // Many (a table filled in one batch): one merge of both, not one insertion each.
        std::vector<std::pair<uint64_t, RulePtr>> all;
        all.reserve(size_ + sorted.size());
        size_t k = 0;
        for_each([&](const RulePtr& r, uint64_t ord) {
            while (k < sorted.size() && sorted[k].first < ord) all.push_back(sorted[k++]);
            all.emplace_back(ord, r);
        });
        while (k < sorted.size()) all.push_back(sorted[k++]);
        rebuild(std::move(all));
        return;
    }
    // Backwards, so the chunk numbers of the keys still to insert do not move when a
    // chunk splits.
    for (size_t k = sorted.size(); k-- > 0;) {
        const auto& [ord, rule] = sorted[k];
        const size_t i = chunk_for(ord);
        Chunk& c = own(i);
        auto at = std::lower_bound(c.ords.begin(), c.ords.end(), ord);
        const auto pos = at - c.ords.begin();
        c.ords.insert(at, ord);
        c.rules.insert(c.rules.begin() + pos, rule);
        split_if_big(i);
    }
    size_ += sorted.size();
}

void RuleSeq::replace(uint64_t ord, RulePtr r) {
    Chunk& c = own(chunk_for(ord));
    auto it = std::lower_bound(c.ords.begin(), c.ords.end(), ord);
    c.rules[static_cast<size_t>(it - c.ords.begin())] = std::move(r);
}

void RuleSeq::erase_if(const std::function<bool(const Rule&)>& doomed,
                       std::vector<std::pair<uint64_t, RulePtr>>& removed) {
    for (size_t i = 0; i < chunks_.size();) {
        const Chunk& look = *chunks_[i];
        size_t first = 0;
        while (first < look.rules.size() && !doomed(*look.rules[first])) first++;
        if (first == look.rules.size()) {
            i++;
            continue;
        }
        // Something goes: keep the rest in a copy (the old chunk may be shared).
        auto kept = std::make_shared<Chunk>();
        kept->ords.reserve(look.ords.size());
        kept->rules.reserve(look.rules.size());
        kept->ords.assign(look.ords.begin(), look.ords.begin() + static_cast<std::ptrdiff_t>(first));
        kept->rules.assign(look.rules.begin(), look.rules.begin() + static_cast<std::ptrdiff_t>(first));
        removed.emplace_back(look.ords[first], look.rules[first]);
        for (size_t j = first + 1; j < look.rules.size(); j++) {
            if (doomed(*look.rules[j])) {
                removed.emplace_back(look.ords[j], look.rules[j]);
            } else {
                kept->ords.push_back(look.ords[j]);
                kept->rules.push_back(look.rules[j]);
            }
        }
        size_ -= look.rules.size() - kept->rules.size();
        if (kept->rules.empty()) {
            chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
            chunks_[i] = std::move(kept);
            i++;
        }
    }
    repack_if_sparse();
}

void RuleSeq::repack_if_sparse() {
    // Deletions leave chunks small; once they average under an eighth full, repack.
    if (chunks_.size() > 8 && chunks_.size() * (kMaxChunk / 8) > size_) {
        std::vector<std::pair<uint64_t, RulePtr>> all;
        all.reserve(size_);
        for_each([&](const RulePtr& r, uint64_t ord) { all.emplace_back(ord, r); });
        rebuild(std::move(all));
    }
}

void RuleSeq::erase(const std::vector<uint64_t>& sorted_ords, std::vector<std::pair<uint64_t, RulePtr>>& removed) {
    // Backwards, so dropping an emptied chunk does not move the ones still to visit.
    for (size_t k = sorted_ords.size(); k-- > 0;) {
        const size_t i = chunk_for(sorted_ords[k]);
        Chunk& c = own(i);
        auto it = std::lower_bound(c.ords.begin(), c.ords.end(), sorted_ords[k]);
        if (it == c.ords.end() || *it != sorted_ords[k]) continue;
        const auto pos = it - c.ords.begin();
        removed.emplace_back(*it, std::move(c.rules[static_cast<size_t>(pos)]));
        c.ords.erase(it);
        c.rules.erase(c.rules.begin() + pos);
        size_--;
        if (c.ords.empty()) chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(i));
    }
    repack_if_sparse();
}

size_t RuleSeq::modify(const std::function<RulePtr(const RulePtr&)>& fn) {
    size_t n = 0;
    for (size_t i = 0; i < chunks_.size(); i++) {
        for (size_t j = 0; j < chunks_[i]->rules.size(); j++) {
            RulePtr r = fn(chunks_[i]->rules[j]);
            if (!r) continue;
            own(i).rules[j] = std::move(r);
            n++;
        }
    }
    return n;
}

bool RuleSeq::diff(const RuleSeq& a, const RuleSeq& b, std::vector<const Rule*>& out, size_t cap) {
    std::unordered_set<const Chunk*> in_a, in_b;
    for (const auto& c : a.chunks_) in_a.insert(c.get());
    for (const auto& c : b.chunks_) in_b.insert(c.get());
    std::vector<const Rule*> ra, rb;
    for (const auto& c : a.chunks_)
        if (!in_b.count(c.get()))
            for (const RulePtr& r : c->rules) ra.push_back(r.get());
    for (const auto& c : b.chunks_)
        if (!in_a.count(c.get()))
            for (const RulePtr& r : c->rules) rb.push_back(r.get());
    out.clear();
    // The difference has at least this many rules: a table rewritten wholesale (a VPC's
    // full sync) is not sorted for nothing.
    if (std::max(ra.size(), rb.size()) - std::min(ra.size(), rb.size()) > cap) return false;
    std::sort(ra.begin(), ra.end());
    std::sort(rb.begin(), rb.end());
    std::set_symmetric_difference(ra.begin(), ra.end(), rb.begin(), rb.end(), std::back_inserter(out));
    return out.size() <= cap;
}

}  // namespace vswitch::ofp
