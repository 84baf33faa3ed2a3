// Signature table (contract and layout in sig_table.h).
#include "sig_table.h"

#include <rte_lcore.h>
#include <rte_malloc.h>

#include <stdexcept>
#include <string>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "megaflow.h"

namespace vswitch {

namespace {

constexpr uint64_t kAddrBits = ~uint64_t(63);   // a slot's pointer bits, less the flag

inline Megaflow* ptr_of(uint64_t v) {
    return reinterpret_cast<Megaflow*>(v & ((uint64_t(1) << 48) - 1) & kAddrBits);
}

// Bit k set: slot k of bucket b holds a megaflow with signature s (top 16 bits). All
// eight slots at once: which slot matches is random, and a branch per slot mispredicted
// about once per key.
inline unsigned match_mask(const void* b, uint64_t s) {
    constexpr uint64_t kAddr = ((uint64_t(1) << 48) - 1) & kAddrBits;
#if defined(__AVX512F__)
    // One 64-byte load. x86 reads each aligned 8-byte slot of it whole (a slot is written
    // by one 8-byte store), which is all this needs: the matching slot is then re-read
    // and its megaflow checked by key.
    const __m512i w = _mm512_load_si512(b);
    const __m512i sig_bits = _mm512_set1_epi64(static_cast<long long>(~uint64_t(0) << 48));
    return _mm512_cmpeq_epi64_mask(_mm512_and_si512(w, sig_bits),
                                   _mm512_set1_epi64(static_cast<long long>(s))) &
           _mm512_test_epi64_mask(w, _mm512_set1_epi64(static_cast<long long>(kAddr)));
#else
    const auto* slot = static_cast<const std::atomic<uint64_t>*>(b);
    unsigned m = 0;
    for (unsigned k = 0; k < SigTable::kSlots; k++) {
        const uint64_t v = slot[k].load(std::memory_order_acquire);
        m |= (unsigned((v >> 48) == (s >> 48)) & unsigned((v & kAddr) != 0)) << k;
    }
    return m;
#endif
}

}  // namespace

SigTable::SigTable(uint32_t capacity) {
    // >= 4 slots per megaflow: 8 slots per bucket, >= capacity/2 buckets.
    uint64_t n = 2;
    while (n * 2 < capacity) n <<= 1;
    mask_ = static_cast<uint32_t>(n - 1);
    const int socket = static_cast<int>(rte_socket_id());
    buckets_ = static_cast<Bucket*>(rte_zmalloc_socket("vsw_sigtable", n * sizeof(Bucket), 64,
                                                       socket));
    if (buckets_ == nullptr)
        throw std::runtime_error("megaflow signature table: no memory for " +
                                 std::to_string(n * sizeof(Bucket) >> 20) + " MiB (DPDK heap)");
    overflow_.assign(n, 0);
}

SigTable::~SigTable() { rte_free(buckets_); }

Megaflow* SigTable::find_in(const Bucket& b, uint64_t s, const NarrowKey& key) {
    for (unsigned k = 0; k < kSlots; k++) {
        const uint64_t v = b.slot[k].load(std::memory_order_acquire);
        Megaflow* f = ptr_of(v);
        if (f != nullptr && sig(v) == s && f->nkey == key) return f;
    }
    return nullptr;
}

int SigTable::free_slot(const Bucket& b) {
    for (unsigned k = 0; k < kSlots; k++)
        if (ptr_of(b.slot[k].load(std::memory_order_relaxed)) == nullptr) return static_cast<int>(k);
    return -1;
}

Megaflow* SigTable::lookup(const NarrowKey& key, uint64_t h) const {
    const Bucket& b = buckets_[first(h)];
    if (Megaflow* f = find_in(b, sig(h), key)) return f;
    if (b.slot[0].load(std::memory_order_acquire) & kOverflowBit)
        return find_in(buckets_[second(h)], sig(h), key);
    return nullptr;
}

// Three passes over the batch, each starting every miss before waiting on any: the
// buckets; the candidates' hot lines (key, actions, counters, all at once); the compares.
uint64_t SigTable::lookup_bulk(const NarrowKey* const keys[], const uint64_t hashes[],
                               unsigned n, Megaflow* out[]) const {
    const Bucket* b[kBulkMax];
    for (unsigned i = 0; i < n; i++) {
        b[i] = &buckets_[first(hashes[i])];
        __builtin_prefetch(b[i], 0, 3);
    }
    Megaflow* cand[kBulkMax];
    uint8_t more[kBulkMax];   // a second candidate or the overflow flag: take the slow path
    for (unsigned i = 0; i < n; i++) {
        const unsigned m = match_mask(b[i], sig(hashes[i]));
        const uint64_t v = m != 0 ? b[i]->slot[__builtin_ctz(m)].load(std::memory_order_acquire) : 0;
        Megaflow* c = ptr_of(v);
        cand[i] = c;
        more[i] = (m & (m - 1)) != 0 || (m != 0 && c == nullptr) ||
                  (b[i]->slot[0].load(std::memory_order_relaxed) & kOverflowBit) != 0;
        if (c != nullptr) megaflow_prefetch(c);
    }
    uint64_t hits = 0;
    for (unsigned i = 0; i < n; i++) {
        Megaflow* f = cand[i];
        if (f != nullptr && f->nkey == *keys[i]) {
            out[i] = f;
            hits |= uint64_t(1) << i;
            continue;
        }
        f = more[i] ? lookup(*keys[i], hashes[i]) : nullptr;
        out[i] = f;
        if (f != nullptr) hits |= uint64_t(1) << i;
    }
    return hits;
}

bool SigTable::insert(uint64_t h, Megaflow* f) {
    const uint64_t v = sig(h) | reinterpret_cast<uint64_t>(f);
    // Not 64-byte aligned, or above 2^48 (never with 4-level paging): not storable. Refused
    // like a full table, not thrown: PMDs insert on upcall.
    if ((reinterpret_cast<uint64_t>(f) & ~kAddrBits) != 0 || ptr_of(v) != f) return false;
    const uint32_t b1 = first(h);
    Bucket* b = &buckets_[b1];
    int k = free_slot(*b);
    if (k < 0) {
        b = &buckets_[second(h)];
        k = free_slot(*b);
        if (k < 0) return false;
        // The flag before the entry: a reader that finds the entry's first bucket
        // without the flag would not look further and would miss it.
        if (overflow_[b1]++ == 0)
            buckets_[b1].slot[0].fetch_or(kOverflowBit, std::memory_order_release);
        n_second_++;
    }
    const uint64_t keep = k == 0 ? b->slot[0].load(std::memory_order_relaxed) & kOverflowBit : 0;
    b->slot[k].store(v | keep, std::memory_order_release);
    return true;
}

bool SigTable::remove(uint64_t h, const Megaflow* f) {
    const uint32_t b1 = first(h);
    for (const uint32_t bi : {b1, second(h)}) {
        Bucket& b = buckets_[bi];
        for (unsigned k = 0; k < kSlots; k++) {
            const uint64_t v = b.slot[k].load(std::memory_order_relaxed);
            if (ptr_of(v) != f) continue;
            b.slot[k].store(v & kOverflowBit & (k == 0 ? ~uint64_t(0) : 0),
                            std::memory_order_release);
            if (bi != b1) {
                n_second_--;
                if (--overflow_[b1] == 0)
                    buckets_[b1].slot[0].fetch_and(~kOverflowBit, std::memory_order_release);
            }
            return true;
        }
    }
    return false;
}

}  // namespace vswitch
