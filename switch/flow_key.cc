// flow_key_hash: CRC32-C over the 12 key words, seeded (contract in flow_key.h).
//
// Three independent CRC chains over words (0,3,6,9), (1,4,7,10), (2,5,8,11), folded by
// one last CRC. The CRC32 instruction has a 3-cycle latency but a 1/cycle throughput, so
// one serial chain is latency bound (~22 cycles/key measured) while three chains overlap
// (~12 cycles/key); batch throughput is the same either way. The EMC lookup consumes
// the hash immediately (set index -> load), so the latency is what the PMD feels.
// The chains get different seeds, and the fold is asymmetric, so that permuting word
// groups does not give the same hash.
#include <nmmintrin.h>

#include <cstring>

#include "flow_key.h"

namespace vswitch {

namespace {

inline uint64_t load64(const unsigned char* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof(v));   // the classifier's rte_hash hands us unaligned keys
    return v;
}

}  // namespace

// Byte-pointer form, shared with the classifier's rte_hash hash function (its stored
// keys are only 8-byte aligned, so they are not FlowKey objects).
uint32_t flow_key_hash_bytes(const void* key, uint32_t seed) {
    const auto* p = static_cast<const unsigned char*>(key);
    uint64_t a = seed;
    uint64_t b = seed ^ 0x9e3779b9u;
    uint64_t c = seed ^ 0x7f4a7c15u;
    for (size_t i = 0; i < FlowKey::kWords; i += 3) {
        a = _mm_crc32_u64(a, load64(p + 8 * i));
        b = _mm_crc32_u64(b, load64(p + 8 * (i + 1)));
        c = _mm_crc32_u64(c, load64(p + 8 * (i + 2)));
    }
    return static_cast<uint32_t>(_mm_crc32_u64(a, (b << 32) | c));
}

uint32_t flow_key_hash(const FlowKey& key, uint32_t seed) {
    return flow_key_hash_bytes(&key, seed);
}

}  // namespace vswitch
