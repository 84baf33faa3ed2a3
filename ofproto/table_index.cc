#include "ofproto/table_index.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <iterator>

namespace vswitch::ofp {

static_assert(std::endian::native == std::endian::little,
              "field bit masks assume FlowKey byte i of a word is bits 8i..8i+7");

namespace {

constexpr size_t kWords = FlowKey::kWords;
constexpr size_t kPWords = PipelineKey::kWords;

// Where a field lives, as words of FlowKey: at most two (dl_src and the IPv6 addresses
// straddle a word boundary).
struct FieldGeo {
    uint8_t n = 0;
    uint8_t word[2] = {0, 0};
    uint64_t bits[2] = {0, 0};
};

struct Geometry {
    FieldGeo field[kFieldCount];
    uint64_t all_fields[kWords] = {};   // bits of every field
};

Geometry make_geometry() {
    Geometry g;
    for (size_t i = 0; i < kFieldCount; i++) {
        const FieldInfo& fi = field_info(static_cast<Field>(i));
        FieldGeo& fg = g.field[i];
        for (size_t b = fi.offset; b < size_t(fi.offset) + fi.size; b++) {
            uint8_t w = static_cast<uint8_t>(b / 8);
            if (fg.n == 0 || fg.word[fg.n - 1] != w) {
                if (fg.n == 2) std::abort();   // no field spans three words
                fg.word[fg.n++] = w;
            }
            fg.bits[fg.n - 1] |= uint64_t{0xff} << (8 * (b % 8));
        }
        for (size_t j = 0; j < fg.n; j++) g.all_fields[fg.word[j]] |= fg.bits[j];
    }
    return g;
}

const Geometry kGeo = make_geometry();

const FieldGeo& geo(Field f) { return kGeo.field[static_cast<size_t>(f)]; }

std::atomic<size_t> g_subtable_min_rules{TableIndex::kDefaultSubtableMinRules};
std::atomic<size_t> g_freeze_rules{TableIndex::kDefaultFreezeRules};

// Up to 3 (word, bits) pairs: a field plus its prerequisites, within one rule's mask.
// (Largest: an IPv6 address, two words, plus dl_type.)
struct CostWords {
    uint8_t n = 0;
    uint8_t word[3] = {0, 0, 0};
    uint64_t bits[3] = {0, 0, 0};
    void add(uint8_t w, uint64_t b) {
        if (!b) return;
        for (size_t i = 0; i < n; i++)
            if (word[i] == w) {
                bits[i] |= b;
                return;
            }
        if (n == 3) std::abort();
        word[n] = w;
        bits[n++] = b;
    }
};

// The bits that un-wildcarding field f of a rule with this mask costs: f's and its
// prerequisites' (translate.cc: read_bits of the field, then of each prerequisite).
CostWords cost_words(Field f, const FlowKey& mask) {
    CostWords c;
    for (Field g : kMismatchOrder) {
        if (g != f && !(field_info(f).prereqs & field_bit(g))) continue;
        const FieldGeo& fg = geo(g);
        for (size_t j = 0; j < fg.n; j++) c.add(fg.word[j], mask.word(fg.word[j]) & fg.bits[j]);
    }
    return c;
}

// Every cost word is missing from `mask` only where not free: has the mask got them?
inline bool cost_covered(const uint8_t* word, const uint64_t* bits, const FlowKey& free, const FlowKey& mask) {
    uint64_t need = 0;
    for (size_t i = 0; i < 3; i++) need |= bits[i] & ~free.word(word[i]) & ~mask.word(word[i]);
    return need == 0;
}

inline void cost_apply(const uint8_t* word, const uint64_t* bits, const FlowKey& free, FlowKey& mask) {
    for (size_t i = 0; i < 3; i++)
        if (bits[i]) mask.set_word(word[i], mask.word(word[i]) | (bits[i] & ~free.word(word[i])));
}

inline uint64_t hash_word(uint64_t h, uint64_t v) {
    h ^= v;
    h *= 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 32);
}
inline uint64_t hash_final(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

}  // namespace

FlowKey field_set_bits(FieldSet set) {
    FlowKey k;
    k.clear();
    for (; set; set &= set - 1) {
        const FieldGeo& fg = kGeo.field[std::countr_zero(set)];
        for (size_t j = 0; j < fg.n; j++) k.set_word(fg.word[j], k.word(fg.word[j]) | fg.bits[j]);
    }
    return k;
}

void TableIndex::set_subtable_min_rules(size_t n) { g_subtable_min_rules.store(n, std::memory_order_relaxed); }
size_t TableIndex::subtable_min_rules() { return g_subtable_min_rules.load(std::memory_order_relaxed); }
void TableIndex::set_freeze_rules(size_t n) { g_freeze_rules.store(n, std::memory_order_relaxed); }
size_t TableIndex::freeze_rules() { return g_freeze_rules.load(std::memory_order_relaxed); }

// Merging costs O(n) once per merge_threshold(n) changes, a change costs O(delta):
// both O(sqrt n) per change at this threshold.
size_t TableIndex::merge_threshold(size_t n) {
    return std::max<size_t>(16, 2 * static_cast<size_t>(std::sqrt(static_cast<double>(n))));
}

// ------------------------------------------------------------------------ linear

// One packet field a rule matches: its mask and value bits (in one or two words; the
// second has mask 0 when unused) and what un-wildcarding it costs.
struct TableIndex::Term {
    uint8_t w[2];
    uint8_t cw[3];
    uint64_t m[2], v[2];
    uint64_t cb[3];
};

struct TableIndex::LinearRule {
    uint64_t ord;
    uint32_t words, pwords, terms;   // first entries in words_, pwords_, terms_
    uint8_t n_words, n_pwords, n_terms;
};

// ------------------------------------------------------------------------ subtables

namespace {

// A hash index over some of a subtable's words: rules (local numbers, ascending within a
// bucket) by the hash of their values there. Buckets may mix values whose hashes
// collide: users compare values anyway.
struct HashIndex {
    struct Slot {
        uint64_t hash = 0;             // 0: an empty slot (hashes are odd)
        uint32_t begin = 0, end = 0;   // the bucket: entries[begin, end), maybe empty
    };
    uint8_t n = 0;            // packet words hashed (plus every pipeline word)
    uint8_t j[kWords] = {};   // subtable word numbers
    uint64_t bits[kWords] = {};
    std::vector<uint32_t> entries;
    std::vector<Slot> slots;
    uint64_t slot_mask = 0;
    size_t used = 0;          // slots with a hash (some may hold an emptied bucket)

    void find(uint64_t h, const uint32_t*& b, const uint32_t*& e) const {
        for (uint64_t i = h & slot_mask;; i = (i + 1) & slot_mask) {
            const Slot& s = slots[i];
            if (s.hash == 0) {
                b = e = nullptr;
                return;
            }
            if (s.hash == h) {
                b = entries.data() + s.begin;
                e = entries.data() + s.end;
                return;
            }
        }
    }
};

}  // namespace

struct TableIndex::Subtable {
    FlowKey mask;                   // the rules' mask
    PipelineKey pmask_key;
    uint64_t mask_hash = 0;
    uint64_t first_ord = 0;
    uint8_t nw = 0, npw = 0, k = 0;
    uint8_t widx[kWords] = {};      // FlowKey words with mask bits
    uint64_t wmask[kWords] = {};
    uint64_t wfields[kWords] = {};  // wmask limited to fields (what reading the match costs)
    uint8_t pidx[kPWords] = {};     // PipelineKey words with mask bits
    uint64_t pmask[kPWords] = {};
    // The packet fields of the mask, in kMismatchOrder: bits as subtable word numbers
    // (second one with mask 0 when unused), and the cost words (FlowKey word numbers).
    struct SField {
        uint8_t j[2];
        uint64_t m[2];
        uint8_t cw[3];
        uint64_t cb[3];
    };
    SField fields[kFieldCount];
    uint32_t all_fields = 0;        // (1 << k) - 1
    std::vector<uint64_t> ords;     // local rule number -> order key (ascending)
    std::vector<uint64_t> vals;     // per rule: nw packet words then npw pipeline words
    HashIndex full, pipe;
    std::vector<HashIndex> single;  // per field (empty for the same_value ones)
    uint32_t same_value = 0;        // fields on which every rule has the same value

    size_t stride() const { return size_t(nw) + npw; }
    const uint64_t* v(uint32_t r) const { return vals.data() + r * stride(); }

    uint64_t key_hash(const HashIndex& ix, const FlowKey& key, const PipelineKey& pkey) const {
        uint64_t h = 0;
        for (size_t t = 0; t < ix.n; t++) h = hash_word(h, key.word(widx[ix.j[t]]) & ix.bits[t]);
        for (size_t p = 0; p < npw; p++) h = hash_word(h, pkey.words()[pidx[p]] & pmask[p]);
        return hash_final(h) | 1;
    }
    uint64_t rule_hash(const HashIndex& ix, uint32_t r) const {
        const uint64_t* rv = v(r);
        uint64_t h = 0;
        for (size_t t = 0; t < ix.n; t++) h = hash_word(h, rv[ix.j[t]] & ix.bits[t]);
        for (size_t p = 0; p < npw; p++) h = hash_word(h, rv[nw + p]);
        return hash_final(h) | 1;
    }

    bool matches(uint32_t r, const FlowKey& key, const PipelineKey& pkey) const {
        const uint64_t* rv = v(r);
        uint64_t d = 0;
        for (size_t t = 0; t < nw; t++) d |= (key.word(widx[t]) & wmask[t]) ^ rv[t];
        for (size_t p = 0; p < npw; p++) d |= (pkey.words()[pidx[p]] & pmask[p]) ^ rv[nw + p];
        return d == 0;
    }
    bool pipeline_matches(uint32_t r, const PipelineKey& pkey) const {
        const uint64_t* rv = v(r) + nw;
        uint64_t d = 0;
        for (size_t p = 0; p < npw; p++) d |= (pkey.words()[pidx[p]] & pmask[p]) ^ rv[p];
        return d == 0;
    }
    bool field_differs(uint32_t r, size_t i, const FlowKey& key) const {
        const SField& f = fields[i];
        const uint64_t* rv = v(r);
        return (((key.word(widx[f.j[0]]) ^ rv[f.j[0]]) & f.m[0]) |
                ((key.word(widx[f.j[1]]) ^ rv[f.j[1]]) & f.m[1])) != 0;
    }
    bool field_differs_rule(uint32_t r, size_t i, uint32_t other) const {
        const SField& f = fields[i];
        const uint64_t *rv = v(r), *ov = v(other);
        return (((rv[f.j[0]] ^ ov[f.j[0]]) & f.m[0]) | ((rv[f.j[1]] ^ ov[f.j[1]]) & f.m[1])) != 0;
    }
    bool agrees_on(uint32_t r, uint32_t set, const FlowKey& key) const {
        for (; set; set &= set - 1)
            if (field_differs(r, std::countr_zero(set), key)) return false;
        return true;
    }
    // Fields whose cost is already in the mask (or free).
    uint32_t covered(const FlowKey& free, const FlowKey& mask) const {
        uint32_t c = 0;
        for (size_t i = 0; i < k; i++)
            if (cost_covered(fields[i].cw, fields[i].cb, free, mask)) c |= 1u << i;
        return c;
    }
    void read_match(const FlowKey& free, FlowKey& mask) const {
        for (size_t t = 0; t < nw; t++)
            mask.set_word(widx[t], mask.word(widx[t]) | (wfields[t] & ~free.word(widx[t])));
    }

    // The first live rule from local number `from` on, ordered before `end`, that
    // agrees with the key on the pipeline and on every field of `cov`; UINT32_MAX if none.
    uint32_t next(uint32_t cov, uint32_t from, uint64_t end, const FlowKey& key, const PipelineKey& pkey,
                  const SubRef& ref) const {
        const uint32_t *b, *e;
        // The smallest bucket of the covered fields' indexes (fields on which all rules
        // agree have none: the key agrees with all or none).
        b = e = nullptr;
        bool narrowed = false;
        for (uint32_t s = cov; s; s &= s - 1) {
            size_t i = std::countr_zero(s);
            if (same_value & (1u << i)) {
                if (field_differs(0, i, key)) return UINT32_MAX;
                continue;
            }
            const HashIndex& ix = single[i];
            const uint32_t *sb, *se;
            ix.find(key_hash(ix, key, pkey), sb, se);
            if (sb == se) return UINT32_MAX;
            if (!narrowed || se - sb < e - b) b = sb, e = se;
            narrowed = true;
        }
        if (!narrowed) pipe.find(key_hash(pipe, key, pkey), b, e);
        if (b == e) return UINT32_MAX;
        for (b = std::lower_bound(b, e, from); b != e; ++b) {
            uint32_t r = *b;
            if (ords[r] >= end) return UINT32_MAX;
            if (pipeline_matches(r, pkey) && agrees_on(r, cov, key) && !ref.is_dead(r)) return r;
        }
        return UINT32_MAX;
    }
};

TableIndex::TableIndex() = default;
TableIndex::~TableIndex() = default;
bool TableIndex::uses_subtables() const { return !subs_.empty(); }
size_t TableIndex::n_subtables() const { return subs_.size(); }
size_t TableIndex::n_deltas() const {
    return static_cast<size_t>(std::count_if(subs_.begin(), subs_.end(), [](const SubRef& r) { return r.delta; }));
}
size_t TableIndex::n_masks() const { return subs_.size() - n_deltas(); }
size_t TableIndex::n_dead() const {
    size_t n = 0;
    for (const SubRef& r : subs_) n += r.dead ? r.dead->size() : 0;
    return n;
}

bool TableIndex::SubRef::is_dead(uint32_t r) const { return dead && std::binary_search(dead->begin(), dead->end(), r); }
size_t TableIndex::SubRef::live() const { return s->ords.size() - (dead ? dead->size() : 0); }

namespace {

HashIndex::Slot& slot_for(HashIndex& ix, uint64_t h) {
    uint64_t i = h & ix.slot_mask;
    while (ix.slots[i].hash != 0 && ix.slots[i].hash != h) i = (i + 1) & ix.slot_mask;
    return ix.slots[i];
}

// O(rules): count the rules per hash (the slot array grows with the distinct values, so
// an index on a field most rules share stays small), then place them in ascending order
// (so buckets come out sorted).
void build_hash_index(const TableIndex::Subtable& s, HashIndex& ix, std::vector<uint64_t>& hashes,
                      size_t expect_distinct) {
    uint32_t n = static_cast<uint32_t>(s.ords.size());
    hashes.resize(n);
    size_t n_slots = 8;
    while (n_slots < 2 * expect_distinct) n_slots *= 2;
    ix.slots.assign(n_slots, {});
    ix.slot_mask = n_slots - 1;
    ix.used = 0;
    for (uint32_t r = 0; r < n; r++) {
        uint64_t h = hashes[r] = s.rule_hash(ix, r);
        HashIndex::Slot& sl = slot_for(ix, h);
        if (sl.hash == 0) {
            sl.hash = h;
            ix.used++;
        }
        sl.end++;   // a count for now
        if (ix.used * 2 > ix.slots.size()) {
            std::vector<HashIndex::Slot> old(ix.slots.size() * 2);
            old.swap(ix.slots);
            ix.slot_mask = ix.slots.size() - 1;
            for (const HashIndex::Slot& o : old)
                if (o.hash) slot_for(ix, o.hash) = o;
        }
    }
    uint32_t at = 0;
    for (HashIndex::Slot& sl : ix.slots) {
        sl.begin = at;
        at += sl.end;
        sl.end = sl.begin;   // fill cursor
    }
    ix.entries.resize(n);
    for (uint32_t r = 0; r < n; r++) ix.entries[slot_for(ix, hashes[r]).end++] = r;
}

// The same index after a few rules came and went (the subtable's mask, so the same
// words): buckets keep their slots, the rules are renumbered (new_of_old, kGone for a
// deleted one) and the added ones (new numbers, ascending) merged in. False if the slot
// array would get too full: then build it anew.
constexpr uint32_t kGone = UINT32_MAX;
bool update_hash_index(const TableIndex::Subtable& ns, const TableIndex::Subtable& os, const HashIndex& old,
                       HashIndex& ix, const std::vector<uint32_t>& new_of_old, const std::vector<uint32_t>& added,
                       const std::vector<uint32_t>& deleted) {
    ix.n = old.n;
    std::copy(std::begin(old.j), std::end(old.j), std::begin(ix.j));
    std::copy(std::begin(old.bits), std::end(old.bits), std::begin(ix.bits));
    ix.slots = old.slots;
    ix.slot_mask = old.slot_mask;
    ix.used = old.used;
    std::vector<uint32_t> count(ix.slots.size());
    for (size_t i = 0; i < ix.slots.size(); i++) count[i] = ix.slots[i].end - ix.slots[i].begin;
    for (uint32_t d : deleted) count[&slot_for(ix, os.rule_hash(old, d)) - ix.slots.data()]--;
    std::vector<std::pair<uint32_t, uint32_t>> adds;   // (slot, rule)
    for (uint32_t a : added) {
        uint64_t h = ns.rule_hash(ix, a);
        HashIndex::Slot& sl = slot_for(ix, h);
        if (sl.hash == 0) {
            if ((ix.used + 1) * 2 > ix.slots.size()) return false;
            sl.hash = h;
            sl.begin = sl.end = 0;   // no old bucket
            ix.used++;
        }
        size_t i = &sl - ix.slots.data();
        count[i]++;
        adds.push_back({static_cast<uint32_t>(i), a});
    }
    std::sort(adds.begin(), adds.end());
    ix.entries.resize(ns.ords.size());
    uint32_t at = 0;
    size_t a = 0;
    for (size_t i = 0; i < ix.slots.size(); i++) {
        HashIndex::Slot& sl = ix.slots[i];
        if (!sl.hash) continue;
        uint32_t* out = ix.entries.data() + at;
        // Merge the old bucket (renumbered, ascending) with the added rules for it.
        for (uint32_t k = sl.begin; k < sl.end; k++) {
            uint32_t r = new_of_old[old.entries[k]];
            if (r == kGone) continue;
            for (; a < adds.size() && adds[a].first == i && adds[a].second < r; a++) *out++ = adds[a].second;
            *out++ = r;
        }
        for (; a < adds.size() && adds[a].first == i; a++) *out++ = adds[a].second;
        sl.begin = at;
        sl.end = at += count[i];
        if (out != ix.entries.data() + at) return false;   // cannot happen
    }
    return at == ns.ords.size();
}

uint64_t mask_hash(const FlowKey& mask, const PipelineKey& pmask) {
    uint64_t h = 0;
    for (size_t w = 0; w < kWords; w++) h = hash_word(h, mask.word(w));
    for (size_t w = 0; w < kPWords; w++) h = hash_word(h, pmask.words()[w]);
    return hash_final(h);
}

// A subtable with its mask's geometry and no rules yet.
std::shared_ptr<TableIndex::Subtable> new_subtable(const FlowKey& mask, const PipelineKey& pmask, uint64_t hash) {
    auto sp = std::make_shared<TableIndex::Subtable>();
    TableIndex::Subtable& s = *sp;
    s.mask = mask;
    s.pmask_key = pmask;
    s.mask_hash = hash;
    for (size_t w = 0; w < kWords; w++) {
        if (!mask.word(w)) continue;
        s.widx[s.nw] = static_cast<uint8_t>(w);
        s.wmask[s.nw] = mask.word(w);
        s.wfields[s.nw] = mask.word(w) & kGeo.all_fields[w];
        s.nw++;
    }
    for (size_t w = 0; w < kPWords; w++) {
        if (!pmask.words()[w]) continue;
        s.pidx[s.npw] = static_cast<uint8_t>(w);
        s.pmask[s.npw] = pmask.words()[w];
        s.npw++;
    }
    auto local_word = [&](uint8_t w) {
        for (uint8_t j = 0; j < s.nw; j++)
            if (s.widx[j] == w) return j;
        std::abort();
    };
    for (Field f : kMismatchOrder) {
        const FieldGeo& fg = geo(f);
        uint64_t m[2] = {0, 0};
        for (size_t j = 0; j < fg.n; j++) m[j] = mask.word(fg.word[j]) & fg.bits[j];
        if (!m[0] && !m[1]) continue;
        TableIndex::Subtable::SField& sf = s.fields[s.k++];
        // The words with mask bits first; an unused second slot repeats the first with
        // mask 0.
        size_t used = 0;
        for (size_t j = 0; j < fg.n; j++)
            if (m[j]) sf.j[used] = local_word(fg.word[j]), sf.m[used++] = m[j];
        if (used == 1) sf.j[1] = sf.j[0], sf.m[1] = 0;
        CostWords c = cost_words(f, mask);
        for (size_t i = 0; i < 3; i++) sf.cw[i] = c.word[i], sf.cb[i] = c.bits[i];
    }
    s.all_fields = (1u << s.k) - 1;
    return sp;
}

void add_rule(TableIndex::Subtable& s, uint64_t ord, const Match& m) {
    s.ords.push_back(ord);
    for (size_t t = 0; t < s.nw; t++) s.vals.push_back(m.value().word(s.widx[t]));
    for (size_t p = 0; p < s.npw; p++) s.vals.push_back(m.pipeline_value().words()[s.pidx[p]]);
}

void copy_rule(TableIndex::Subtable& s, const TableIndex::Subtable& from, uint32_t r) {
    s.ords.push_back(from.ords[r]);
    const uint64_t* v = from.v(r);
    s.vals.insert(s.vals.end(), v, v + from.stride());
}

// The rules are in: the hash indexes.
void finish(TableIndex::Subtable& s) {
    s.first_ord = s.ords.front();
    std::vector<uint64_t> hashes;
    s.full = HashIndex{};
    s.full.n = s.nw;
    for (uint8_t t = 0; t < s.nw; t++) s.full.j[t] = t, s.full.bits[t] = s.wmask[t];
    build_hash_index(s, s.full, hashes, s.ords.size());   // mostly distinct values
    s.pipe = HashIndex{};
    build_hash_index(s, s.pipe, hashes, 1);
    s.single.assign(s.k, HashIndex{});
    s.same_value = 0;
    for (size_t i = 0; i < s.k; i++) {
        uint32_t r = 1;
        while (r < s.ords.size() && !s.field_differs_rule(r, i, 0)) r++;
        if (r == s.ords.size()) {
            s.same_value |= 1u << i;
            continue;
        }
        HashIndex& h = s.single[i];
        const TableIndex::Subtable::SField& sf = s.fields[i];
        h.j[h.n] = sf.j[0], h.bits[h.n++] = sf.m[0];
        if (sf.m[1]) h.j[h.n] = sf.j[1], h.bits[h.n++] = sf.m[1];
        build_hash_index(s, h, hashes, 1);
    }
}

// finish() for a subtable that is `old` but for a few rules, reusing old's indexes.
// False (nothing done) when that does not pay or an added rule has a value where all
// the old ones agreed (that field has no index).
bool finish_from(TableIndex::Subtable& s, const TableIndex::Subtable& old, const std::vector<uint32_t>& new_of_old,
                 const std::vector<uint32_t>& added, const std::vector<uint32_t>& deleted) {
    if (added.size() + deleted.size() > 16 || added.size() + deleted.size() > s.ords.size() / 4) return false;
    uint32_t ref = 0;   // a surviving old rule, to compare the added ones with
    while (ref < new_of_old.size() && new_of_old[ref] == kGone) ref++;
    if (ref == new_of_old.size()) return false;
    for (uint32_t a : added)
        for (uint32_t f = old.same_value; f; f &= f - 1) {
            const TableIndex::Subtable::SField& sf = s.fields[std::countr_zero(f)];
            const uint64_t *av = s.v(a), *rv = old.v(ref);
            if (((av[sf.j[0]] ^ rv[sf.j[0]]) & sf.m[0]) | ((av[sf.j[1]] ^ rv[sf.j[1]]) & sf.m[1])) return false;
        }
    s.first_ord = s.ords.front();
    s.same_value = old.same_value;
    if (!update_hash_index(s, old, old.full, s.full, new_of_old, added, deleted) ||
        !update_hash_index(s, old, old.pipe, s.pipe, new_of_old, added, deleted))
        return false;
    s.single.assign(s.k, HashIndex{});
    for (size_t i = 0; i < s.k; i++)
        if (!(s.same_value & (1u << i)) &&
            !update_hash_index(s, old, old.single[i], s.single[i], new_of_old, added, deleted))
            return false;
    return true;
}

bool same_mask(const TableIndex::Subtable& s, uint64_t hash, const Match& m) {
    return s.mask_hash == hash && s.mask == m.mask() && s.pmask_key == m.pipeline_mask();
}
bool same_mask(const TableIndex::Subtable& a, const TableIndex::Subtable& b) {
    return a.mask_hash == b.mask_hash && a.mask == b.mask && a.pmask_key == b.pmask_key;
}

}  // namespace

bool TableIndex::want_subtables(size_t n_rules, size_t n_masks) {
    return n_rules >= subtable_min_rules() && n_masks <= kMaxSubtables && n_masks * kMinRulesPerSubtable <= n_rules;
}

std::shared_ptr<const TableIndex> TableIndex::build(const RuleSeq& seq) {
    if (seq.empty()) return nullptr;
    auto ix = std::make_shared<TableIndex>();
    ix->n_rules_ = seq.size();
    std::vector<std::pair<uint64_t, const Match*>> rules;
    rules.reserve(seq.size());
    seq.for_each([&](const RulePtr& r, uint64_t ord) { rules.emplace_back(ord, &r->match()); });

    // Group by mask (packet and pipeline words), groups in order of their first rule.
    std::vector<std::shared_ptr<Subtable>> groups;
    if (rules.size() >= subtable_min_rules()) {
        constexpr size_t kSlots = 2 * kMaxSubtables;   // power of 2
        int32_t slot[kSlots];
        std::fill(slot, slot + kSlots, -1);
        for (const auto& [ord, mp] : rules) {
            const Match& m = *mp;
            uint64_t h = mask_hash(m.mask(), m.pipeline_mask());
            size_t i = h & (kSlots - 1);
            while (slot[i] >= 0 && !same_mask(*groups[slot[i]], h, m)) i = (i + 1) & (kSlots - 1);
            if (slot[i] < 0) {
                if (groups.size() == kMaxSubtables) {   // too many masks: linear
                    groups.clear();
                    break;
                }
                slot[i] = static_cast<int32_t>(groups.size());
                groups.push_back(new_subtable(m.mask(), m.pipeline_mask(), h));
            }
            add_rule(*groups[slot[i]], ord, m);
        }
    }
    if (!groups.empty() && want_subtables(rules.size(), groups.size())) {
        for (auto& g : groups) {
            finish(*g);
            ix->subs_.push_back(SubRef{std::move(g), nullptr, false});
        }
        return ix;
    }

    ix->rules_.reserve(rules.size());
    for (const auto& [ord, mp] : rules) {
        const Match& m = *mp;
        LinearRule lr{};
        lr.ord = ord;
        lr.words = static_cast<uint32_t>(ix->words_.size());
        lr.pwords = static_cast<uint32_t>(ix->pwords_.size());
        lr.terms = static_cast<uint32_t>(ix->terms_.size());
        for (uint32_t w = 0; w < kWords; w++)
            if (m.mask().word(w)) {
                ix->words_.push_back({m.mask().word(w), m.value().word(w), w});
                lr.n_words++;
            }
        for (uint32_t w = 0; w < kPWords; w++)
            if (m.pipeline_mask().words()[w]) {
                ix->pwords_.push_back({m.pipeline_mask().words()[w], m.pipeline_value().words()[w], w});
                lr.n_pwords++;
            }
        for (Field f : kMismatchOrder) {
            const FieldGeo& fg = geo(f);
            Term t{};
            for (size_t j = 0; j < fg.n; j++) {
                t.w[j] = fg.word[j];
                t.m[j] = m.mask().word(fg.word[j]) & fg.bits[j];
                t.v[j] = m.value().word(fg.word[j]) & t.m[j];
            }
            if (fg.n == 1) t.w[1] = t.w[0];
            if (!t.m[0] && !t.m[1]) continue;
            CostWords c = cost_words(f, m.mask());
            for (size_t i = 0; i < 3; i++) t.cw[i] = c.word[i], t.cb[i] = c.bits[i];
            ix->terms_.push_back(t);
            lr.n_terms++;
        }
        ix->rules_.push_back(lr);
    }
    return ix;
}

namespace {

// One subtable of the old index and what a flow-mod does to it.
struct SubChange {
    std::vector<std::pair<uint64_t, const Match*>> add;   // by order key
    std::vector<uint64_t> del;                           // order keys
    std::vector<uint32_t> kill;                          // local numbers made dead (frozen ones)
};

// `o` without the rules of c.del and with those of c.add: patched when that pays,
// else built anew. Null when nothing is left.
std::shared_ptr<const TableIndex::Subtable> rewrite(const TableIndex::Subtable& o, SubChange& c,
                                                    const std::vector<uint32_t>* dead) {
    auto s = new_subtable(o.mask, o.pmask_key, o.mask_hash);
    s->ords.reserve(o.ords.size() + c.add.size());
    s->vals.reserve(o.vals.size() + c.add.size() * o.stride());
    std::sort(c.add.begin(), c.add.end());
    std::sort(c.del.begin(), c.del.end());
    // Merge by order key: the old rules but the deleted (and dead), and the added.
    std::vector<uint32_t> new_of_old(o.ords.size()), added_locals, deleted_locals;
    size_t a = 0;
    auto add_next = [&] {
        added_locals.push_back(static_cast<uint32_t>(s->ords.size()));
        add_rule(*s, c.add[a].first, *c.add[a].second);
        a++;
    };
    for (uint32_t r = 0; r < o.ords.size(); r++) {
        while (a < c.add.size() && c.add[a].first < o.ords[r]) add_next();
        if (std::binary_search(c.del.begin(), c.del.end(), o.ords[r]) ||
            (dead && std::binary_search(dead->begin(), dead->end(), r))) {
            new_of_old[r] = kGone;
            deleted_locals.push_back(r);
        } else {
            new_of_old[r] = static_cast<uint32_t>(s->ords.size());
            copy_rule(*s, o, r);
        }
    }
    while (a < c.add.size()) add_next();
    if (s->ords.empty()) return nullptr;
    if (!finish_from(*s, o, new_of_old, added_locals, deleted_locals)) finish(*s);
    return s;
}

// A frozen subtable and its delta as one subtable again, without the dead rules.
std::shared_ptr<const TableIndex::Subtable> merge(const TableIndex::Subtable& base, const std::vector<uint32_t>* dead,
                                                  const TableIndex::Subtable* delta) {
    auto s = new_subtable(base.mask, base.pmask_key, base.mask_hash);
    s->ords.reserve(base.ords.size() + (delta ? delta->ords.size() : 0));
    uint32_t d = 0;
    const uint32_t nd = delta ? static_cast<uint32_t>(delta->ords.size()) : 0;
    for (uint32_t r = 0; r < base.ords.size(); r++) {
        for (; d < nd && delta->ords[d] < base.ords[r]; d++) copy_rule(*s, *delta, d);
        if (!(dead && std::binary_search(dead->begin(), dead->end(), r))) copy_rule(*s, base, r);
    }
    for (; d < nd; d++) copy_rule(*s, *delta, d);
    if (s->ords.empty()) return nullptr;
    finish(*s);
    return s;
}

}  // namespace

std::shared_ptr<const TableIndex> TableIndex::update(const std::shared_ptr<const TableIndex>& old,
                                                     const RuleSeq& rules, const std::vector<Changed>& added,
                                                     const std::vector<Changed>& removed) {
    // Worth it only for a subtable index and a change touching a few rules.
    if (!old || old->subs_.empty() || rules.empty() || !want_subtables(rules.size(), 1) ||
        added.size() + removed.size() > rules.size() / 8 + 8)
        return build(rules);
    const std::vector<SubRef>& os = old->subs_;
    const size_t freeze = freeze_rules();
    // Per mask of the old index, its subtable and the delta beside it if frozen.
    struct Mask {
        long base = -1, delta = -1;
    };
    auto find_mask = [&](const Match& m, uint64_t h) {
        Mask k;
        for (size_t i = 0; i < os.size(); i++)
            if (same_mask(*os[i].s, h, m)) (os[i].delta ? k.delta : k.base) = static_cast<long>(i);
        return k;
    };
    std::vector<SubChange> ch(os.size());
    std::vector<SubChange> new_delta(os.size());   // for a frozen one without a delta yet
    std::vector<std::shared_ptr<Subtable>> fresh;  // for masks new to the table
    std::vector<Changed> sorted_added(added);      // so fresh subtables fill in order
    std::sort(sorted_added.begin(), sorted_added.end(), [](const Changed& x, const Changed& y) { return x.ord < y.ord; });
    for (const Changed& c : sorted_added) {
        const Match& m = *c.match;
        const uint64_t h = mask_hash(m.mask(), m.pipeline_mask());
        Mask k = find_mask(m, h);
        if (k.delta >= 0) {
            ch[k.delta].add.push_back({c.ord, &m});
        } else if (k.base >= 0 && os[k.base].s->ords.size() >= freeze) {
            new_delta[k.base].add.push_back({c.ord, &m});
        } else if (k.base >= 0) {
            ch[k.base].add.push_back({c.ord, &m});
        } else {
            auto f = std::find_if(fresh.begin(), fresh.end(), [&](const auto& s) { return same_mask(*s, h, m); });
            if (f == fresh.end()) {
                fresh.push_back(new_subtable(m.mask(), m.pipeline_mask(), h));
                f = fresh.end() - 1;
            }
            add_rule(**f, c.ord, m);
        }
    }
    for (const Changed& c : removed) {
        Mask k = find_mask(*c.match, mask_hash(c.match->mask(), c.match->pipeline_mask()));
        if (k.delta >= 0 && std::binary_search(os[k.delta].s->ords.begin(), os[k.delta].s->ords.end(), c.ord)) {
            ch[k.delta].del.push_back(c.ord);
            continue;
        }
        if (k.base < 0) return build(rules);   // not there: be safe
        const Subtable& b = *os[k.base].s;
        auto it = std::lower_bound(b.ords.begin(), b.ords.end(), c.ord);
        if (it == b.ords.end() || *it != c.ord) return build(rules);
        if (b.ords.size() >= freeze) ch[k.base].kill.push_back(static_cast<uint32_t>(it - b.ords.begin()));
        else ch[k.base].del.push_back(c.ord);
    }

    auto ix = std::make_shared<TableIndex>();
    ix->n_rules_ = rules.size();
    for (size_t i = 0; i < os.size(); i++) {
        SubChange& c = ch[i];
        const SubRef& o = os[i];
        if (!c.add.empty() || !c.del.empty()) {
            // Not frozen (or a delta): patched or built anew. A delta stays one. (Dead
            // rules here only if the freeze size moved since: tests.)
            std::vector<uint32_t> dead;
            if (o.dead) dead = *o.dead;
            dead.insert(dead.end(), c.kill.begin(), c.kill.end());
            std::sort(dead.begin(), dead.end());
            auto s = rewrite(*o.s, c, dead.empty() ? nullptr : &dead);
            if (s) ix->subs_.push_back(SubRef{std::move(s), nullptr, o.delta});
        } else if (!c.kill.empty()) {
            auto dead = std::make_shared<std::vector<uint32_t>>();
            if (o.dead) *dead = *o.dead;
            dead->insert(dead->end(), c.kill.begin(), c.kill.end());
            std::sort(dead->begin(), dead->end());
            dead->erase(std::unique(dead->begin(), dead->end()), dead->end());
            if (dead->size() < o.s->ords.size()) ix->subs_.push_back(SubRef{o.s, std::move(dead), o.delta});
        } else {
            ix->subs_.push_back(o);
        }
        if (!new_delta[i].add.empty()) {
            auto d = new_subtable(o.s->mask, o.s->pmask_key, o.s->mask_hash);
            std::sort(new_delta[i].add.begin(), new_delta[i].add.end());
            for (const auto& [ord, m] : new_delta[i].add) add_rule(*d, ord, *m);
            finish(*d);
            ix->subs_.push_back(SubRef{std::move(d), nullptr, true});
        }
    }
    // Deltas and dead lists grown past the threshold: merged into their base. A delta
    // whose base is gone is a subtable like any other.
    for (size_t i = 0; i < ix->subs_.size(); i++) {
        SubRef& b = ix->subs_[i];
        if (b.delta) continue;
        long d = -1;
        for (size_t j = 0; j < ix->subs_.size(); j++)
            if (ix->subs_[j].delta && ix->subs_[j].s && same_mask(*ix->subs_[j].s, *b.s)) d = static_cast<long>(j);
        const size_t extra = (b.dead ? b.dead->size() : 0) + (d >= 0 ? ix->subs_[d].s->ords.size() : 0);
        if (extra == 0 || extra <= merge_threshold(b.live())) continue;
        b = SubRef{merge(*b.s, b.dead.get(), d >= 0 ? ix->subs_[d].s.get() : nullptr), nullptr, false};
        if (d >= 0) ix->subs_[d].s = nullptr;
    }
    std::erase_if(ix->subs_, [](const SubRef& r) { return !r.s; });
    for (SubRef& r : ix->subs_) {
        if (!r.delta) continue;
        bool has_base = std::any_of(ix->subs_.begin(), ix->subs_.end(),
                                    [&](const SubRef& b) { return !b.delta && same_mask(*b.s, *r.s); });
        if (!has_base) r.delta = false;
    }
    for (auto& f : fresh) {
        finish(*f);
        ix->subs_.push_back(SubRef{std::move(f), nullptr, false});
    }
    if (!want_subtables(rules.size(), ix->n_masks())) return build(rules);
    std::sort(ix->subs_.begin(), ix->subs_.end(),
              [](const SubRef& x, const SubRef& y) { return x.s->first_ord < y.s->first_ord; });
    return ix;
}

uint64_t TableIndex::find_exact(const Match& m, uint16_t priority) const {
    const uint64_t h = mask_hash(m.mask(), m.pipeline_mask());
    const uint64_t prio_bits = order_key(priority, 0) >> 48;
    for (const SubRef& ref : subs_) {
        const Subtable& s = *ref.s;
        if (!same_mask(s, h, m)) continue;
        const uint32_t *b, *e;
        s.full.find(s.key_hash(s.full, m.value(), m.pipeline_value()), b, e);
        for (; b != e; ++b)
            if (s.ords[*b] >> 48 == prio_bits && s.matches(*b, m.value(), m.pipeline_value()) && !ref.is_dead(*b))
                return s.ords[*b];
    }
    return kNoMatch;
}

// ------------------------------------------------------------------------ lookups

uint64_t TableIndex::lookup(const FlowKey& key, const PipelineKey& pkey, const FlowKey& free, FlowKey& mask) const {
    return subs_.empty() ? lookup_linear(key, pkey, free, mask) : lookup_subtables(key, pkey, free, mask);
}

inline bool TableIndex::linear_pipeline_matches(const LinearRule& r, const PipelineKey& pkey) const {
    uint64_t d = 0;
    for (const MaskedWord* w = pwords_.data() + r.pwords, *e = w + r.n_pwords; w != e; ++w)
        d |= (pkey.words()[w->index] & w->mask) ^ w->value;
    return d == 0;
}

inline bool TableIndex::linear_matches(const LinearRule& r, const FlowKey& key, const PipelineKey& pkey) const {
    uint64_t d = 0;
    for (const MaskedWord* w = words_.data() + r.words, *e = w + r.n_words; w != e; ++w)
        d |= (key.word(w->index) & w->mask) ^ w->value;
    return d == 0 && (r.n_pwords == 0 || linear_pipeline_matches(r, pkey));
}

inline void TableIndex::linear_read_match(const LinearRule& r, const FlowKey& free, FlowKey& mask) const {
    for (const MaskedWord* w = words_.data() + r.words, *e = w + r.n_words; w != e; ++w)
        mask.set_word(w->index, mask.word(w->index) | (w->mask & kGeo.all_fields[w->index] & ~free.word(w->index)));
}

// translate.h: a failed rule adds one mismatching field (and its prerequisites): none if
// one of them costs nothing already, else the first in kMismatchOrder. Pipeline-only
// failures add nothing.
inline void TableIndex::linear_failure(const LinearRule& r, const FlowKey& key, const PipelineKey& pkey,
                                       const FlowKey& free, FlowKey& mask) const {
    if (r.n_pwords && !linear_pipeline_matches(r, pkey)) return;
    const Term* chosen = nullptr;
    for (const Term* t = terms_.data() + r.terms, *e = t + r.n_terms; t != e; ++t) {
        uint64_t d = ((key.word(t->w[0]) ^ t->v[0]) & t->m[0]) | ((key.word(t->w[1]) ^ t->v[1]) & t->m[1]);
        if (!d) continue;
        if (cost_covered(t->cw, t->cb, free, mask)) return;
        if (!chosen) chosen = t;
    }
    if (!chosen) {
        linear_read_match(r, free, mask);   // cannot happen: a failed match has a field
        return;
    }
    cost_apply(chosen->cw, chosen->cb, free, mask);
}

uint64_t TableIndex::lookup_linear(const FlowKey& key, const PipelineKey& pkey, const FlowKey& free,
                                   FlowKey& mask) const {
    const LinearRule* rules = rules_.data();
    size_t n = rules_.size(), hit = 0;
    while (hit < n && !linear_matches(rules[hit], key, pkey)) hit++;
    // The winner first, so failing rules can reuse the fields it pins.
    if (hit < n) linear_read_match(rules[hit], free, mask);
    for (size_t i = 0; i < hit; i++) linear_failure(rules[i], key, pkey, free, mask);
    return hit < n ? rules[hit].ord : kNoMatch;
}

uint64_t TableIndex::lookup_subtables(const FlowKey& key, const PipelineKey& pkey, const FlowKey& free,
                                      FlowKey& mask) const {
    // 1. The winner: the first rule (in lookup order) that matches. Subtables in the
    // order of their first rule; none after the best found so far can beat it.
    constexpr uint32_t kNone = UINT32_MAX;
    constexpr uint64_t kEnd = UINT64_MAX;
    uint64_t best = kEnd;
    const Subtable* winner = nullptr;
    size_t n_probed = 0;
    for (; n_probed < subs_.size(); n_probed++) {
        const SubRef& ref = subs_[n_probed];
        const Subtable& s = *ref.s;
        if (s.first_ord >= best) break;
        const uint32_t *b, *e;
        s.full.find(s.key_hash(s.full, key, pkey), b, e);
        for (; b != e; ++b) {
            if (s.ords[*b] >= best) break;
            if (s.matches(*b, key, pkey) && !ref.is_dead(*b)) {
                best = s.ords[*b];
                winner = &s;
                break;
            }
        }
    }
    if (winner) winner->read_match(free, mask);

    // 2. The failures before the winner, in lookup order, but only those that can add
    // bits: per subtable the next rule that agrees with the key on every field already
    // covered (a rule differing on a covered field adds nothing, now or later, as the
    // mask only grows). A min-heap on order keys merges the subtables; an entry goes
    // stale when other failures cover more fields of its subtable, and is re-checked
    // when it comes up (the rule it names is still the subtable's next candidate if it
    // agrees on the newly covered fields, else the search goes on from there).
    struct Entry {
        uint64_t ord;
        uint32_t sub, rule, cov;
        bool operator>(const Entry& o) const { return ord > o.ord; }
    };
    Entry heap[2 * kMaxSubtables];   // a delta beside each frozen subtable
    size_t n_heap = 0;
    auto push = [&](uint32_t si, uint32_t r, uint32_t cov) {
        heap[n_heap++] = {subs_[si].s->ords[r], si, r, cov};
        std::push_heap(heap, heap + n_heap, std::greater<>());
    };
    for (uint32_t si = 0; si < n_probed; si++) {
        const Subtable& s = *subs_[si].s;
        if (s.first_ord >= best) continue;
        uint32_t cov = s.covered(free, mask);
        if (cov == s.all_fields) continue;
        uint32_t r = s.next(cov, 0, best, key, pkey, subs_[si]);
        if (r != kNone) push(si, r, cov);
    }
    while (n_heap) {
        std::pop_heap(heap, heap + n_heap, std::greater<>());
        Entry en = heap[--n_heap];
        const Subtable& s = *subs_[en.sub].s;
        uint32_t r = en.rule;
        uint32_t cov = s.covered(free, mask);
        if (cov != en.cov && !s.agrees_on(r, cov, key)) {
            // Stale: r now differs on a covered field, so it adds nothing.
            if (cov == s.all_fields) continue;
            uint32_t next = s.next(cov, r + 1, best, key, pkey, subs_[en.sub]);
            if (next != kNone) push(en.sub, next, cov);
            continue;
        }
        // r fails on some field, none of them covered: the first one is added.
        size_t i = 0;
        while (i < s.k && !s.field_differs(r, i, key)) i++;
        if (i == s.k) s.read_match(free, mask);   // cannot happen: see linear_failure()
        else cost_apply(s.fields[i].cw, s.fields[i].cb, free, mask);
        cov = s.covered(free, mask);
        if (cov == s.all_fields) continue;
        uint32_t next = s.next(cov, r + 1, best, key, pkey, subs_[en.sub]);
        if (next != kNone) push(en.sub, next, cov);
    }
    return best == kEnd ? kNoMatch : best;
}

}  // namespace vswitch::ofp
