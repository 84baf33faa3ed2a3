// The classifier's index of narrow megaflows: a hash table whose bucket is one cache line
// of (16-bit signature, megaflow pointer) words and whose keys live in the megaflows
// themselves (Megaflow::nkey, in their first line).
//
// Why not rte_hash: at 1M megaflows every line a lookup reads misses the cache, and a
// core keeps only so many misses in flight (past that, prefetches stall: measured as
// most of the lookup's samples on a prefetch instruction at 1M megaflows). An
// rte_hash lookup reads its primary and its secondary bucket, then the key slot, and the
// PMD then reads the megaflow: five lines in three dependent steps. Here a lookup reads
// one bucket line, then the megaflow's hot lines (key, action pointer, counters, the
// initial actions) all at once: three or four lines in two steps.
//
// Layout: a power of two of 64-byte buckets, at least four slots per megaflow of
// capacity (occupancy <= 25%). Each slot is one 64-bit word: bits 63..48 the signature,
// 47..0 the Megaflow* (user-space pointers fit in 47 bits; megaflows are 64-byte aligned,
// so bits 5..0 are zero). Bit 0 of a bucket's slot 0 says that some key whose first bucket
// this is lives in its second one. A key goes to its first bucket, else its second; with
// both full insert() fails and the classifier reports Full: at 25% occupancy (a cache
// full to a capacity just above a power of two) about one insert in a million, at 12%
// one in ten billion. Entries never move (no cuckoo displacement), so readers need
// no version counter and a lookup reads the second bucket only when the flag is set.
//
// Concurrency: one writer at a time (the caller serializes: the classifier's lock);
// readers are wait-free. A slot changes with one atomic store, so a reader sees the old
// or the new entry, never half of one. A reader that loaded a slot before its removal may
// still reach the removed megaflow: its owner frees it only after the readers' grace
// periods (classifier.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "narrow_key.h"

namespace vswitch {

struct Megaflow;

class SigTable {
public:
    static constexpr unsigned kSlots = 8;      // per bucket: 8 words = one cache line
    static constexpr unsigned kBulkMax = 64;   // keys per lookup_bulk() call

    // Room for `capacity` megaflows. Memory comes from DPDK's heap (hugepages when the
    // EAL has them; NUMA-local to the calling thread).
    explicit SigTable(uint32_t capacity);
    ~SigTable();
    SigTable(const SigTable&) = delete;
    SigTable& operator=(const SigTable&) = delete;

    // Readers. keys[i] for i in [0, n), n <= kBulkMax; hashes[i] = narrow_key_hash(keys[i]).
    // out[i] = its megaflow or nullptr. Returns the bitmask of hits.
    uint64_t lookup_bulk(const NarrowKey* const keys[], const uint64_t hashes[], unsigned n,
                         Megaflow* out[]) const;
    Megaflow* lookup(const NarrowKey& key, uint64_t hash) const;

    // Writer. f->nkey must already hold the key whose hash this is, and f must be fully
    // built: the store that publishes it is a release. False: both buckets are full, or f
    // is not a pointer a slot can hold (not 64-byte aligned, or at or above 2^48).
    bool insert(uint64_t hash, Megaflow* f);
    // Writer. Unlinks f (found by pointer, not by key). False if it is not there.
    bool remove(uint64_t hash, const Megaflow* f);

    uint32_t n_buckets() const { return mask_ + 1; }
    // Writer: entries living in their second bucket (tests, diagnostics).
    uint32_t n_in_second() const { return n_second_; }

private:
    struct alignas(64) Bucket {
        std::atomic<uint64_t> slot[kSlots];
    };
    static constexpr uint64_t kPtrMask = (uint64_t(1) << 48) - 1;
    static constexpr uint64_t kOverflowBit = 1;

    uint32_t first(uint64_t h) const { return static_cast<uint32_t>(h) & mask_; }
    uint32_t second(uint64_t h) const {
        const uint32_t b = static_cast<uint32_t>(h >> 24) & mask_;
        return b != first(h) ? b : b ^ 1;
    }
    static uint64_t sig(uint64_t h) { return h >> 48 << 48; }
    // The megaflow in bucket b with this signature and key, or nullptr.
    static Megaflow* find_in(const Bucket& b, uint64_t sig, const NarrowKey& key);
    static int free_slot(const Bucket& b);

    Bucket* buckets_ = nullptr;
    uint32_t mask_ = 0;
    std::vector<uint32_t> overflow_;   // writer only: per first bucket, entries in their second
    uint32_t n_second_ = 0;
};

}  // namespace vswitch
