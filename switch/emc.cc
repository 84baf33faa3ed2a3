// Exact-match cache (contract in emc.h): 4096 sets x 2 ways of {hash, flow, key}.
//
// Per-PMD and single-threaded, so no atomics except the `dead` load on a cached flow.
// Entries never own flows: the classifier frees a megaflow only after every PMD has
// swept its EMC (classifier.h), which is why lookup may dereference `flow`.
//
// Eviction, when both ways hold live flows for different keys: the victim way is picked
// by a hash bit that the set index does not use. Without recency state (which would
// cost a store per hit) any fixed way would let one hot way be thrashed while the other
// never changes; a hash bit spreads evictions evenly and stays deterministic.
#include "emc.h"

#include <cstring>
#include <new>

namespace vswitch {

namespace {

constexpr uint32_t kWays = Emc::kWays;
constexpr uint32_t kSets = Emc::kSets;

}  // namespace

Emc::Emc() {
    // Aligned new rather than rte_zmalloc: the EMC is built before (or without) EAL in
    // tests, and it is touched first by the PMD that owns it.
    entries_ = static_cast<Entry*>(
        ::operator new(sizeof(Entry) * kEntries, std::align_val_t{64}));
    clear();
}

Emc::~Emc() { ::operator delete(entries_, std::align_val_t{64}); }

void Emc::insert(const FlowKey& key, uint32_t hash, Megaflow* f) {
    Entry* set = &entries_[(hash & (kSets - 1)) * kWays];
    Entry* victim = nullptr;
    for (uint32_t w = 0; w < kWays; w++) {
        Entry& e = set[w];
        if (e.flow != nullptr && e.hash == hash && flow_key_equal(e.key, key)) {
            e.flow = f;   // refresh: the key is already there
            return;
        }
    }
    for (uint32_t w = 0; w < kWays && victim == nullptr; w++)
        if (set[w].flow == nullptr) victim = &set[w];
    for (uint32_t w = 0; w < kWays && victim == nullptr; w++)
        if (set[w].flow->dead.load(std::memory_order_relaxed)) victim = &set[w];
    if (victim == nullptr) victim = &set[(hash >> 31) & (kWays - 1)];
    victim->hash = hash;
    victim->flow = f;
    victim->key = key;
}

void Emc::sweep_dead() {
    for (uint32_t i = 0; i < kEntries; i++) {
        Entry& e = entries_[i];
        if (e.flow != nullptr && e.flow->dead.load(std::memory_order_relaxed)) {
            e.flow = nullptr;
            e.hash = 0;
        }
    }
}

void Emc::clear() { std::memset(static_cast<void*>(entries_), 0, sizeof(Entry) * kEntries); }

uint32_t Emc::occupancy() const {
    uint32_t n = 0;
    for (uint32_t i = 0; i < kEntries; i++) n += entries_[i].flow != nullptr;
    return n;
}

}  // namespace vswitch
