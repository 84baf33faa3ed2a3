// Exact-match cache: per-PMD, single-threaded, 2-way set associative, keyed by the full
// FlowKey. Holds raw Megaflow pointers; never owns them (see classifier.h for the sweep
// protocol that keeps it free of dead flows before they are freed).
#pragma once

#include <cstdint>

#include "flow_key.h"
#include "megaflow.h"

namespace vswitch {

class Emc {
public:
    static constexpr uint32_t kEntries = 8192;   // power of two
    static constexpr uint32_t kWays = 2;
    static constexpr uint32_t kSets = kEntries / kWays;
    static_assert((kSets & (kSets - 1)) == 0, "set count must be a power of two");

    Emc();
    ~Emc();
    Emc(const Emc&) = delete;
    Emc& operator=(const Emc&) = delete;
    // hash = flow_key_hash(key, 0). Returns nullptr on miss or if the cached megaflow is dead.
    // Inline: it runs once or twice per packet (a call was ~5% of the decap path).
    Megaflow* lookup(const FlowKey& key, uint32_t hash) const {
        const Entry* set = &entries_[(hash & (kSets - 1)) * kWays];
        for (uint32_t w = 0; w < kWays; w++) {
            const Entry& e = set[w];
            if (e.hash == hash && e.flow != nullptr && flow_key_equal(e.key, key)) {
                Megaflow* f = e.flow;
                return f->dead.load(std::memory_order_relaxed) ? nullptr : f;
            }
        }
        return nullptr;
    }
    // Inserts or refreshes. Same key cached: its flow is replaced. Otherwise the new entry
    // takes an empty way, else a way whose flow is dead, else the way picked by hash bit 31.
    void insert(const FlowKey& key, uint32_t hash, Megaflow* f);
    // Drops every entry whose megaflow is dead.
    void sweep_dead();
    void clear();
    uint32_t occupancy() const;
    // Pulls the set for `hash` toward L1 so a batch can hash all keys, prefetch, then
    // look up without stalling on each set in turn.
    void prefetch(uint32_t hash) const {
        const char* set = reinterpret_cast<const char*>(&entries_[(hash & (kSets - 1)) * kWays]);
        for (size_t off = 0; off < sizeof(Entry) * kWays; off += 64) __builtin_prefetch(set + off);
    }

private:
    // hash first: a probe that misses on the hash touches only the entry's first line.
    struct Entry {
        uint32_t hash;
        Megaflow* flow;   // nullptr = empty
        FlowKey key;
    };
    Entry* entries_;   // kEntries, cache-line aligned (rte_zmalloc or aligned new)
};

}  // namespace vswitch
