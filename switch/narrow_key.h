// The classifier's packed key for a narrow subtable: the subtable's tag and the masked
// 32-bit words of the FlowKey that its mask does not clear, in 56 bytes, so that the key
// and the megaflow's action pointer share the megaflow's first cache line.
#pragma once

#include <cstdint>
#include <cstring>

#include <rte_hash_crc.h>

namespace vswitch {

struct NarrowKey {
    static constexpr unsigned kWords = 13;   // FlowKey words a narrow mask may keep
    uint32_t tag;
    uint32_t h[kWords];

    bool operator==(const NarrowKey& o) const {
        // 7 64-bit words; memcmp's call and length dispatch cost more than the compare.
        uint64_t a[7], b[7];
        std::memcpy(a, this, sizeof a);
        std::memcpy(b, &o, sizeof b);
        uint64_t d = 0;
        for (unsigned i = 0; i < 7; i++) d |= a[i] ^ b[i];
        return d == 0;
    }
};
static_assert(sizeof(NarrowKey) == 56, "a narrow key and a pointer fill one cache line");

// The signature table's hash of k: the low 32 bits a CRC32-C of the 56 bytes (seven
// hardware CRC steps, as rte_hash computed for this key), the high 32 bits that CRC
// multiplied out, so that the table's bucket (low bits), second bucket (bits 24 up) and
// signature (top 16 bits) all depend on every bit of the CRC. Within one bucket the
// signature then has 32 - log2(buckets) bits of entropy (12 at a million buckets): a
// false candidate costs one key compare in about 4000 lookups.
inline uint64_t narrow_key_hash(const NarrowKey& k) {
    uint64_t w[7];
    std::memcpy(w, &k, sizeof w);
    uint32_t a = 0x5bd1e995u;
    for (unsigned i = 0; i < 7; i++) a = rte_hash_crc_8byte(w[i], a);
    const uint64_t hi = uint64_t(a) * 0x9e3779b97f4a7c15ull;
    return (hi & 0xffffffff00000000ull) | a;
}

}  // namespace vswitch
