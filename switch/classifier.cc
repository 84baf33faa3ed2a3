// Tuple-space-search megaflow classifier (contract in classifier.h).
//
// Layout: two tables shared by all subtables. Narrow subtables: a SigTable (sig_table.h)
// keyed by the subtable's tag and its kept words (NarrowKey, stored in the megaflow).
// Wide subtables: a lock-free rte_hash, key = masked FlowKey with word 7 = the subtable's
// tag, data = Megaflow*. Subtables live in a copy-on-write array that
// readers load once per lookup; writers (serialized by lock_) publish a new array.
// Tags are never reused: a reader still holding an old array must not match a key of a
// later subtable that happened to get the same tag but a different mask.
//
// Reclamation. Why TWO grace periods for a megaflow: a PMD only learns that a flow died
// when it reads removal_generation() after a quiescent report, and then sweeps its EMC,
// which dereferences every cached flow. The quiescent report that ends the first grace
// period can come *before* that sweep, so freeing after one grace period would let the
// sweep (or an EMC hit) read freed memory. After a second grace period every PMD has
// run the sweep that followed the first one. The first period is tracked in limbo_
// (control thread only), the second by the rte_rcu_qsbr defer queue dq_.
// Subtables, subtable arrays and replaced action lists are never cached across a
// quiescent state, so one grace period (straight into dq_) is enough for them.
//
// A narrow megaflow's SigTable slot is free again as soon as remove() clears it: the key
// lives in the megaflow, which the grace periods protect. The wide table is rte_hash:
// why NO_FREE_ON_DEL (implied by RW_CONCURRENCY_LF) with our own position free, rather
// than rte_hash_rcu_qsbr_add(): a reader finds a Megaflow* through the key slot, so the
// slot and the megaflow must be released together and only after the second grace
// period. One dq element {megaflow, key position} does exactly that; the hash's own
// queue would recycle the slot after one grace period and needs a separate queue for
// the megaflow anyway. rte_hash_free_key_with_position() is a writer operation, so the
// dq callback only ever runs inside calls made under lock_.
//
// Frees happen only in reclaim() on the control thread (the dq has auto-reclaim off),
// never in remove(), so a removed megaflow stays readable by the control thread until
// its next reclaim(). The exception is insert() finding no free key slot: it reclaims
// what is due (both grace periods over) rather than failing.
#ifndef ALLOW_EXPERIMENTAL_API
#define ALLOW_EXPERIMENTAL_API 1   // rte_rcu_qsbr_dq_* are experimental in 22.11
#endif

#include "classifier.h"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace vswitch {

namespace {

enum Kind : uint32_t { kFlow, kFlowWide, kSubtable, kArray, kActions };

constexpr uint32_t kBulkMax = RTE_HASH_LOOKUP_BULK_MAX;
constexpr uint32_t kHashSeed = 0x5bd1e995;   // decorrelates from the EMC's seed 0
constexpr unsigned kReclaimChunk = 256;

std::atomic<uint32_t> g_instances{0};

}  // namespace

// The narrow table's key (narrow_key.h): the subtable's tag and the masked 32-bit words
// of the FlowKey that its mask does not clear, packed into 56 bytes, so that it shares
// the megaflow's first line with the action pointer.
constexpr unsigned kHalves = sizeof(FlowKey) / 4;   // 24 32-bit words in a FlowKey
constexpr unsigned kNarrowHalves = NarrowKey::kWords;

inline uint32_t half(const FlowKey& k, unsigned i) {
    uint32_t v;
    std::memcpy(&v, reinterpret_cast<const unsigned char*>(&k) + 4 * i, sizeof v);
    return v;
}

struct alignas(64) Classifier::Subtable {
    FlowKey mask;            // reserved0 always 0
    uint64_t tag;
    uint32_t n_flows = 0;    // under lock_
    // Narrow (the mask keeps at most kNarrowHalves 32-bit words): key = tag + those words,
    // in the narrow table. Wide: key = masked FlowKey with word 7 = tag, in the wide table.
    bool wide = false;
    uint8_t n_halves = 0;
    uint8_t idx[kNarrowHalves] = {};
    uint32_t mask_h[kNarrowHalves] = {};
    // Own cache line: every PMD bumps it, every PMD reads the fields above.
    alignas(64) std::atomic<uint64_t> hits{0};

    Subtable(const FlowKey& m, uint64_t t) : mask(m), tag(t) {
        unsigned n = 0;
        for (unsigned i = 0; i < kHalves; i++) n += half(m, i) != 0;
        wide = n > kNarrowHalves;
        if (wide) return;
        for (unsigned i = 0; i < kHalves; i++)
            if (const uint32_t mh = half(m, i)) {
                idx[n_halves] = static_cast<uint8_t>(i);
                mask_h[n_halves++] = mh;
            }
    }
    // The table key of `key` (any key: it is masked here). Tags are 64-bit and never
    // reused; the narrow key keeps their low 32 bits, which repeat only after 2^32
    // subtables have been created.
    void narrow_key(const FlowKey& key, NarrowKey& out) const {
        // Zeroed whole (a fixed size: two vector stores), then filled: zeroing only the
        // tail compiled to a `rep stos`, whose start-up cost showed in profiles.
        out = NarrowKey{};
        out.tag = static_cast<uint32_t>(tag);
        for (unsigned j = 0; j < n_halves; j++) out.h[j] = half(key, idx[j]) & mask_h[j];
    }
    void wide_key(const FlowKey& key, FlowKey& out) const {
        flow_key_apply_mask(out, key, mask);
        out.reserved0 = tag;
    }
};

struct Classifier::SubtableArray {
    uint32_t n;
    Subtable* st[];   // GNU flexible array member; allocated with malloc

    static SubtableArray* make(uint32_t n) {
        auto* a = static_cast<SubtableArray*>(
            std::malloc(sizeof(SubtableArray) + n * sizeof(Subtable*)));
        if (a == nullptr) throw std::bad_alloc();
        a->n = n;
        return a;
    }
};

uint32_t Classifier::hash_fn(const void* key, uint32_t, uint32_t init_val) {
    return flow_key_hash_bytes(key, init_val);
}

Classifier::Classifier(rte_rcu_qsbr* qsv, uint32_t max_flows, const char* name)
    : qsv_(qsv), max_flows_(max_flows) {
    rte_spinlock_init(&lock_);
    if (qsv == nullptr || max_flows == 0) throw std::invalid_argument("Classifier: bad args");

    // rte_hash/ring names are global to the process and short: tag with an instance no.
    const uint32_t inst = g_instances.fetch_add(1, std::memory_order_relaxed);
    char dname[RTE_RCU_QSBR_DQ_NAMESIZE];
    std::snprintf(dname, sizeof dname, "%.12s_dq%u", name ? name : "vsw_mf", inst);

    // Capacity with slack, from which the wide table's share and the defer queue are
    // sized: removed wide flows keep their key slot for two grace periods, and cuckoo
    // insertion fails before 100% occupancy.
    uint64_t entries = uint64_t(max_flows) + max_flows / 4 + 64;
    if (entries > RTE_HASH_ENTRIES_MAX) entries = RTE_HASH_ENTRIES_MAX;
    if (max_flows > entries) max_flows_ = static_cast<uint32_t>(entries);

    narrow_ = std::make_unique<SigTable>(max_flows_);
    rte_hash_parameters hp{};
    hp.hash_func_init_val = kHashSeed;
    hp.socket_id = static_cast<int>(rte_socket_id());
    // No MULTI_WRITER_ADD: writers already serialize on lock_.
    hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF;
    // Masks that keep more than kNarrowHalves words (e.g. IPv6 addresses plus Ethernet
    // addresses plus ports) are rare: their table holds a quarter of the capacity.
    char wname[RTE_HASH_NAMESIZE];
    std::snprintf(wname, sizeof wname, "%.11s_w%u", name ? name : "vsw_mf", inst);
    const uint64_t wide_entries = entries / 4 + 64;
    wide_max_ = static_cast<uint32_t>(wide_entries - wide_entries / 5);
    hp.name = wname;
    hp.entries = static_cast<uint32_t>(wide_entries);
    hp.key_len = sizeof(FlowKey);
    hp.hash_func = hash_fn;
    wide_ = rte_hash_create(&hp);
    if (wide_ == nullptr)
        throw std::runtime_error(std::string("Classifier: rte_hash_create (wide): ") +
                                 rte_strerror(rte_errno));

    rte_rcu_qsbr_dq_parameters dp{};
    dp.name = dname;
    dp.flags = RTE_RCU_QSBR_DQ_MT_UNSAFE;   // only used under lock_
    // Pending megaflows are bounded by the key slots; the rest (arrays, subtables, action
    // lists) overflow into limbo_ rather than fail.
    dp.size = static_cast<uint32_t>(entries + wide_entries) + 1024;
    dp.esize = sizeof(Deferred);
    dp.trigger_reclaim_limit = dp.size + 1;   // > size: no auto reclaim (see top)
    dp.max_reclaim_size = dp.size;
    dp.free_fn = dq_free_cb;
    dp.p = this;
    dp.v = qsv;
    dq_ = rte_rcu_qsbr_dq_create(&dp);
    if (dq_ == nullptr) {
        rte_hash_free(wide_);
        throw std::runtime_error(std::string("Classifier: rte_rcu_qsbr_dq_create: ") +
                                 rte_strerror(rte_errno));
    }
    subtables_.store(SubtableArray::make(0), std::memory_order_release);
    live_.reserve(max_flows_);
}

// Precondition: no reader can reach this classifier any more. Pending frees may still
// need a grace period (the defer queue cannot be force-drained), so the destroying
// thread must not be an online reader of qsv_.
Classifier::~Classifier() {
    rte_spinlock_lock(&lock_);
    for (const Limbo& l : limbo_) free_deferred(l.d);
    limbo_.clear();
    if (rte_rcu_qsbr_dq_delete(dq_) != 0) {
        rte_rcu_qsbr_synchronize(qsv_, RTE_QSBR_THRID_INVALID);
        rte_rcu_qsbr_dq_delete(dq_);
    }
    for (Megaflow* f : live_) delete f;
    SubtableArray* a = subtables_.load(std::memory_order_relaxed);
    for (uint32_t i = 0; i < a->n; i++) delete a->st[i];
    std::free(a);
    rte_hash_free(wide_);
    rte_spinlock_unlock(&lock_);
}

// ---------------------------------------------------------------------------- readers

Megaflow* Classifier::lookup(const FlowKey& key) const {
    const SubtableArray* a = subtables_.load(std::memory_order_acquire);
    FlowKey masked;
    NarrowKey nk;
    for (uint32_t s = 0; s < a->n; s++) {
        Subtable* st = a->st[s];
        void* data = nullptr;
        if (st->wide) {
            st->wide_key(key, masked);
            if (rte_hash_lookup_data(wide_, &masked, &data) < 0) data = nullptr;
        } else {
            st->narrow_key(key, nk);
            data = narrow_->lookup(nk, narrow_key_hash(nk));
        }
        if (data != nullptr) {
            st->hits.fetch_add(1, std::memory_order_relaxed);
            return static_cast<Megaflow*>(data);
        }
    }
    return nullptr;
}

unsigned Classifier::lookup_batch(const FlowKey* const keys[], Megaflow* out[],
                                  unsigned n) const {
    const SubtableArray* a = subtables_.load(std::memory_order_acquire);
    static_assert(kBulkMax == SigTable::kBulkMax, "one batch size for both tables");
    FlowKey masked[kBulkMax];
    NarrowKey narrow[kBulkMax];
    const void* kp[kBulkMax];
    const NarrowKey* np[kBulkMax];
    uint64_t nh[kBulkMax];
    void* data[kBulkMax];
    Megaflow* nf[kBulkMax];
    uint8_t idx[kBulkMax];
    unsigned found = 0;

    for (unsigned base = 0; base < n; base += kBulkMax) {
        const unsigned cnt = std::min(n - base, kBulkMax);
        const FlowKey* const* k = keys + base;
        Megaflow** o = out + base;
        for (unsigned i = 0; i < cnt; i++) o[i] = nullptr;
        uint64_t pending = cnt == 64 ? ~uint64_t(0) : (uint64_t(1) << cnt) - 1;

        for (uint32_t s = 0; s < a->n && pending != 0; s++) {
            Subtable* st = a->st[s];
            unsigned m = 0;
            for (uint64_t p = pending; p != 0; p &= p - 1) {
                const unsigned i = static_cast<unsigned>(__builtin_ctzll(p));
                if (st->wide) {
                    st->wide_key(*k[i], masked[m]);
                    kp[m] = &masked[m];
                } else {
                    st->narrow_key(*k[i], narrow[m]);
                    np[m] = &narrow[m];
                }
                idx[m] = static_cast<uint8_t>(i);
                m++;
            }
            // Hashed after all are built: the hash reads 64-bit words that narrow_key()
            // just wrote as 32-bit halves, which the store buffer cannot forward, so
            // hashing each right after building it waited for its stores to commit.
            if (!st->wide)
                for (unsigned j = 0; j < m; j++) nh[j] = narrow_key_hash(narrow[j]);
            uint64_t hit_mask = 0;
            if (st->wide) {
                if (rte_hash_lookup_bulk_data(wide_, kp, m, &hit_mask, data) <= 0) continue;
                // The signature table asks for its hits' hot lines itself (it reads the
                // key there); the wide table's are asked for here, so the caller never
                // prefetches them a second time.
                for (uint64_t h = hit_mask; h != 0; h &= h - 1)
                    megaflow_prefetch(static_cast<const Megaflow*>(data[__builtin_ctzll(h)]));
            } else {
                hit_mask = narrow_->lookup_bulk(np, nh, m, nf);
                if (hit_mask == 0) continue;
                for (uint64_t h = hit_mask; h != 0; h &= h - 1) {
                    const unsigned j = static_cast<unsigned>(__builtin_ctzll(h));
                    data[j] = nf[j];
                }
            }
            for (uint64_t h = hit_mask; h != 0; h &= h - 1) {
                const unsigned j = static_cast<unsigned>(__builtin_ctzll(h));
                o[idx[j]] = static_cast<Megaflow*>(data[j]);
                pending &= ~(uint64_t(1) << idx[j]);
            }
            // One shared-line update per subtable per batch, not per packet.
            st->hits.fetch_add(static_cast<uint64_t>(__builtin_popcountll(hit_mask)),
                               std::memory_order_relaxed);
        }
        found += cnt - static_cast<unsigned>(__builtin_popcountll(pending));
    }
    return found;
}

uint32_t Classifier::n_subtables() const {
    // Only the count is read: a control thread that is not an RCU reader must not
    // dereference an array an insert() may be retiring.
    return n_subtables_.load(std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------- writers

Classifier::Subtable* Classifier::find_subtable(const FlowKey& mask) const {
    const SubtableArray* a = subtables_.load(std::memory_order_relaxed);
    for (uint32_t i = 0; i < a->n; i++)
        if (a->st[i]->mask == mask) return a->st[i];
    return nullptr;
}

void Classifier::publish(SubtableArray* next) {
    SubtableArray* old = subtables_.load(std::memory_order_relaxed);
    subtables_.store(next, std::memory_order_release);
    n_subtables_.store(next->n, std::memory_order_relaxed);
    defer({old, kArray, -1});
}

Megaflow* Classifier::insert(const FlowKey& key, const Translation& t, uint32_t pmd_id,
                             InsertResult& result) {
    FlowKey mask = t.mask;
    mask.reserved0 = 0;   // word 7 carries the subtable tag, never packet bits

    // Build the megaflow before taking the lock: PMDs contend on lock_, and a wasted
    // allocation on the rare Exists/Full path is cheaper than holding it longer.
    auto* f = new Megaflow;
    flow_key_apply_mask(f->key, key, mask);
    f->mask = mask;
    f->first_key = key;
    f->initial_actions = t.actions;
    f->actions.store(&f->initial_actions, std::memory_order_relaxed);
    f->rules = t.rules;
    f->tables = t.tables;
    f->written = t.written;
    f->pmd_id = pmd_id;
    f->created_tsc = rte_rdtsc();

    uint64_t nhash = 0;   // narrow_key_hash(f->nkey), once its subtable (tag) is known
    rte_spinlock_lock(&lock_);
    Subtable* st = find_subtable(mask);
    if (st != nullptr) {
        f->key.reserved0 = st->tag;
        void* data = nullptr;
        if (st->wide) {
            if (rte_hash_lookup_data(wide_, &f->key, &data) < 0) data = nullptr;
        } else {
            st->narrow_key(f->key, f->nkey);
            nhash = narrow_key_hash(f->nkey);
            data = narrow_->lookup(f->nkey, nhash);
        }
        if (data != nullptr) {
            rte_spinlock_unlock(&lock_);
            delete f;
            result = InsertResult::Exists;
            return static_cast<Megaflow*>(data);
        }
    }
    if (n_flows_.load(std::memory_order_relaxed) >= max_flows_) {
        rte_spinlock_unlock(&lock_);
        delete f;
        result = InsertResult::Full;
        return nullptr;
    }
    Subtable* fresh = nullptr;
    if (st == nullptr) {
        fresh = st = new Subtable(mask, next_tag_++);
        f->key.reserved0 = st->tag;
        if (!st->wide) {
            st->narrow_key(f->key, f->nkey);
            nhash = narrow_key_hash(f->nkey);
        }
    }
    f->subtable = static_cast<uint32_t>(st->tag);
    f->id = next_id_++;

    int rc;
    if (!st->wide) {
        // Both buckets full: ~1e-7 per insert at the table's occupancy (sig_table.h).
        rc = narrow_->insert(nhash, f) ? 0 : -ENOSPC;
    } else {
        rc = n_wide_ >= wide_max_ ? -ENOSPC : rte_hash_add_key_data(wide_, &f->key, f);
        if (rc == -ENOSPC && n_wide_ < wide_max_) {
            // Key slots held by flows still in their grace periods: take back what is due.
            reclaim_locked(~0u);
            rc = rte_hash_add_key_data(wide_, &f->key, f);
        }
    }
    if (rc != 0) {
        next_id_--;
        if (fresh != nullptr) next_tag_--;   // never published, safe to reuse
        rte_spinlock_unlock(&lock_);
        delete fresh;
        delete f;
        result = rc == -ENOSPC ? InsertResult::Full : InsertResult::Error;
        return nullptr;
    }
    if (fresh != nullptr) {
        const SubtableArray* cur = subtables_.load(std::memory_order_relaxed);
        SubtableArray* next = SubtableArray::make(cur->n + 1);
        std::copy(cur->st, cur->st + cur->n, next->st);
        next->st[cur->n] = fresh;
        publish(next);
    }
    st->n_flows++;
    n_wide_ += st->wide;
    f->live_idx = static_cast<uint32_t>(live_.size());
    live_.push_back(f);   // never reallocates: reserved for max_flows_
    n_flows_.fetch_add(1, std::memory_order_relaxed);
    rte_spinlock_unlock(&lock_);
    result = InsertResult::Inserted;
    return f;
}

void Classifier::remove(Megaflow* f) {
    rte_spinlock_lock(&lock_);
    if (f->dead.load(std::memory_order_relaxed)) {
        rte_spinlock_unlock(&lock_);
        return;
    }
    f->dead.store(true, std::memory_order_relaxed);   // ordered by the gen release below
    Megaflow* last = live_.back();
    live_[f->live_idx] = last;
    last->live_idx = f->live_idx;
    live_.pop_back();

    int32_t pos = -1;
    bool wide = false;
    const SubtableArray* cur = subtables_.load(std::memory_order_relaxed);
    for (uint32_t i = 0; i < cur->n; i++) {
        Subtable* st = cur->st[i];
        if (st->tag != f->key.reserved0) continue;
        wide = st->wide;
        if (wide) {
            pos = rte_hash_del_key(wide_, &f->key);
            n_wide_--;
        } else {
            narrow_->remove(narrow_key_hash(f->nkey), f);
        }
        if (--st->n_flows == 0) {
            SubtableArray* next = SubtableArray::make(cur->n - 1);
            std::copy(cur->st, cur->st + i, next->st);
            std::copy(cur->st + i + 1, cur->st + cur->n, next->st + i);
            publish(next);
            defer({st, kSubtable, -1});
        }
        break;
    }
    n_flows_.fetch_sub(1, std::memory_order_relaxed);
    // dead + unlink before the bump, the bump before the grace period starts (the
    // token increment in rte_rcu_qsbr_start() is a release).
    removal_gen_.fetch_add(1, std::memory_order_release);
    // No reclaim here: the caller may still look at f (or remove it again) until its
    // next reclaim(), whatever the grace periods say.
    defer_after_sweep({f, wide ? kFlowWide : kFlow, pos});
    rte_spinlock_unlock(&lock_);
}

void Classifier::replace_actions(Megaflow* f, DpActionList&& acts) {
    auto* fresh = new DpActionList(std::move(acts));
    rte_spinlock_lock(&lock_);
    const DpActionList* old = f->actions.exchange(fresh, std::memory_order_acq_rel);
    // The initial list is part of the megaflow and goes with it.
    if (old != nullptr && old != &f->initial_actions)
        defer({const_cast<DpActionList*>(old), kActions, -1});
    rte_spinlock_unlock(&lock_);
}

// The list of live megaflows, not the hash tables, is walked: rte_hash_iterate visits
// every slot, so with 2 megaflows in a table sized for 1.2M the walk read ~12 MB per
// revalidation tick, 4% of the PMD's core at one flow. The lock is taken per chunk, not
// for the whole walk: PMD upcalls insert under it. Chunks are safe because only the
// caller removes (and swap-removal is what moves entries) while inserts only append: every
// megaflow live at the start keeps its index until the walk is over, so it is visited
// once; one inserted meanwhile may or may not be.
void Classifier::collect(std::vector<Megaflow*>& all) const {
    constexpr size_t kChunk = 1024;
    all.clear();
    all.reserve(n_flows_.load(std::memory_order_relaxed) + kChunk);
    for (size_t pos = 0;; pos += kChunk) {
        rte_spinlock_lock(&lock_);
        const size_t end = std::min(pos + kChunk, live_.size());
        if (pos < end) all.insert(all.end(), live_.begin() + static_cast<ptrdiff_t>(pos),
                                  live_.begin() + static_cast<ptrdiff_t>(end));
        const bool more = end < live_.size();
        rte_spinlock_unlock(&lock_);
        if (!more) break;
    }
}

// The callback runs without the lock; the megaflows stay valid because only the control
// thread (the caller) removes them.
void Classifier::for_each(const std::function<void(Megaflow&)>& fn) const {
    std::vector<Megaflow*> all;
    collect(all);
    for (Megaflow* f : all) fn(*f);
}

void Classifier::rank_subtables() {
    rte_spinlock_lock(&lock_);
    const SubtableArray* cur = subtables_.load(std::memory_order_relaxed);
    std::vector<std::pair<uint64_t, Subtable*>> v;
    v.reserve(cur->n);
    for (uint32_t i = 0; i < cur->n; i++)
        v.emplace_back(cur->st[i]->hits.load(std::memory_order_relaxed), cur->st[i]);
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    bool changed = false;
    for (uint32_t i = 0; i < cur->n; i++) changed |= v[i].second != cur->st[i];
    if (changed) {
        SubtableArray* next = SubtableArray::make(cur->n);
        for (uint32_t i = 0; i < cur->n; i++) next->st[i] = v[i].second;
        publish(next);
    }
    // fetch_sub, not store: PMDs keep counting while we decay.
    for (const auto& [hits, st] : v) st->hits.fetch_sub(hits / 2, std::memory_order_relaxed);
    rte_spinlock_unlock(&lock_);
}

std::vector<uint64_t> Classifier::subtable_hits() const {
    std::vector<uint64_t> out;
    rte_spinlock_lock(&lock_);
    const SubtableArray* cur = subtables_.load(std::memory_order_relaxed);
    for (uint32_t i = 0; i < cur->n; i++)
        out.push_back(cur->st[i]->hits.load(std::memory_order_relaxed));
    rte_spinlock_unlock(&lock_);
    return out;
}

// ---------------------------------------------------------------------- reclamation

void Classifier::defer(const Deferred& d) {
    n_pending_.fetch_add(1, std::memory_order_relaxed);
    Deferred copy = d;
    if (rte_rcu_qsbr_dq_enqueue(dq_, &copy) != 0)   // full: wait in limbo_, retried later
        limbo_.push_back({rte_rcu_qsbr_start(qsv_), d});
}

void Classifier::defer_after_sweep(const Deferred& d) {
    n_pending_.fetch_add(1, std::memory_order_relaxed);
    limbo_.push_back({rte_rcu_qsbr_start(qsv_), d});
}

void Classifier::reclaim_locked(unsigned max_free) {
    rte_rcu_qsbr_dq_reclaim(dq_, max_free, nullptr, nullptr, nullptr);
    // Tokens were taken under lock_, so limbo_ is in token order: stop at the first one
    // whose grace period is still running.
    while (!limbo_.empty() && rte_rcu_qsbr_check(qsv_, limbo_.front().token, false) == 1) {
        Deferred d = limbo_.front().d;
        if (rte_rcu_qsbr_dq_enqueue(dq_, &d) != 0) break;
        limbo_.pop_front();
    }
    // Items that just entered dq_ are due at once when no reader is online.
    rte_rcu_qsbr_dq_reclaim(dq_, max_free, nullptr, nullptr, nullptr);
}

void Classifier::reclaim() {
    // In chunks: PMD inserts spin on lock_ while we free.
    for (;;) {
        const uint32_t before = n_pending_.load(std::memory_order_relaxed);
        rte_spinlock_lock(&lock_);
        reclaim_locked(kReclaimChunk);
        rte_spinlock_unlock(&lock_);
        const uint32_t after = n_pending_.load(std::memory_order_relaxed);
        if (after == 0 || after == before) break;
    }
}

void Classifier::dq_free_cb(void* p, void* e, unsigned n) {
    auto* self = static_cast<Classifier*>(p);
    for (unsigned i = 0; i < n; i++) {
        Deferred d;
        std::memcpy(&d, static_cast<char*>(e) + i * sizeof(Deferred), sizeof d);
        self->free_deferred(d);
    }
}

void Classifier::free_deferred(const Deferred& d) {
    switch (d.kind) {
    case kFlow:
    case kFlowWide:
        if (d.kind == kFlowWide && d.pos >= 0) rte_hash_free_key_with_position(wide_, d.pos);
        delete static_cast<Megaflow*>(d.ptr);
        break;
    case kSubtable: delete static_cast<Subtable*>(d.ptr); break;
    case kArray: std::free(d.ptr); break;
    case kActions: delete static_cast<DpActionList*>(d.ptr); break;
    }
    n_pending_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace vswitch
