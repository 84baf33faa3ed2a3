// Flow key: the fields a packet is classified on, in one fixed-size, word-addressable
// struct. The same struct is used as a key and as a mask (a set bit in a mask = the
// field bit matters), so masking, hashing and comparing are loops over 64-bit words
// with no per-field branches.
//
// Byte order: every multi-byte protocol field is kept in network byte order exactly as
// it appears in the packet (no byte swaps on the fast path); in_port, recirc_id and
// tun_id are host order. The parser (ofproto) converts when it builds a match.
//
// Conventions borrowed from Open vSwitch so that the pipeline issue can grow into them:
//  - vlan_tci carries the 802.1Q TCI with the CFI/DEI bit (0x1000) forced on when a tag
//    is present, so "no tag" (0) and "tag with VID 0" differ.
//  - ARP: nw_src/nw_dst = SPA/TPA, nw_proto = low byte of the ARP opcode.
//  - ICMP: tp_src = type, tp_dst = code (in the low byte, network order u16).
//  - nw_frag: bit0 = is a fragment, bit1 = later fragment (no L4 ports then).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#if defined(__AVX2__)
#include <immintrin.h>
#endif
#endif

namespace vswitch {

inline constexpr uint16_t kVlanCfi = 0x1000;   // host order; stored as htons in vlan_tci

enum : uint8_t { kFragAny = 1, kFragLater = 2 };

struct alignas(32) FlowKey {
    // word 0
    uint32_t in_port;     // datapath port number (== OpenFlow port number)
    uint32_t recirc_id;   // 0 on first pass; set by recirculation after tunnel pop
    // word 1
    uint64_t tun_id;      // tunnel VNI/key after pop (host order)
    // word 2
    uint32_t tun_src;     // outer IPv4 source after pop (network order)
    uint32_t tun_dst;
    // words 3..4
    uint8_t dl_dst[6];
    uint8_t dl_src[6];
    uint16_t dl_type;     // network order; the inner type after a VLAN tag
    uint16_t vlan_tci;    // network order; 0 = untagged
    // word 5
    uint32_t nw_src;      // IPv4 / ARP SPA (network order)
    uint32_t nw_dst;
    // word 6
    uint8_t nw_proto;
    uint8_t nw_tos;
    uint8_t nw_ttl;
    uint8_t nw_frag;
    uint16_t tp_src;      // network order
    uint16_t tp_dst;
    // word 7
    uint64_t reserved0;   // spare word keeps the IPv6 addresses 16-byte aligned
    // words 8..11
    uint8_t ipv6_src[16];
    uint8_t ipv6_dst[16];

    static constexpr size_t kWords = 12;

    // Word access that is safe under strict aliasing: the fields are written as u8/u16/
    // u32, and reading them back through a uint64_t* is undefined behaviour that GCC 12
    // at -O3 really miscompiles (stores into a freshly built key/mask were dropped;
    // __may_alias__ does not help because of IPA mod-ref). memcpy compiles to plain loads.
    uint64_t word(size_t i) const {
        uint64_t v;
        std::memcpy(&v, reinterpret_cast<const unsigned char*>(this) + 8 * i, sizeof v);
        return v;
    }
    void set_word(size_t i, uint64_t v) {
        std::memcpy(reinterpret_cast<unsigned char*>(this) + 8 * i, &v, sizeof v);
    }
    // Raw word pointers: only safe when every access to the key goes through them (or the
    // build uses -fno-strict-aliasing). Prefer word()/set_word().
    uint64_t* words() { return reinterpret_cast<uint64_t*>(this); }
    const uint64_t* words() const { return reinterpret_cast<const uint64_t*>(this); }

    // Six aligned 16-byte stores, straight-line: GCC tuned for corei7 (DPDK's -march)
    // compiles a 96-byte memset, or a loop of stores, to `rep stos`, whose startup cost
    // was ~5x the rest of flow_extract().
    void clear() {
#if defined(__SSE2__)
        auto* v = reinterpret_cast<__m128i*>(this);
        const __m128i z = _mm_setzero_si128();
        _mm_store_si128(v + 0, z);
        _mm_store_si128(v + 1, z);
        _mm_store_si128(v + 2, z);
        _mm_store_si128(v + 3, z);
        _mm_store_si128(v + 4, z);
        _mm_store_si128(v + 5, z);
#else
        std::memset(this, 0, sizeof(*this));
#endif
    }
    bool operator==(const FlowKey& o) const { return std::memcmp(this, &o, sizeof(*this)) == 0; }
};
static_assert(sizeof(FlowKey) == FlowKey::kWords * 8, "FlowKey must be whole words");

// dst = key & mask, word by word.
inline void flow_key_apply_mask(FlowKey& dst, const FlowKey& key, const FlowKey& mask) {
    for (size_t i = 0; i < FlowKey::kWords; i++) dst.set_word(i, key.word(i) & mask.word(i));
}

// a == b, branch-free: the common case (an EMC hit) checks every byte anyway. With AVX2,
// three 32-byte lanes: the twelve-word loop ran out of registers in the lookup loops and
// spilled through xmm moves (most of Pmd::lookup's cycles in the decap profile).
inline bool flow_key_equal(const FlowKey& a, const FlowKey& b) {
#if defined(__AVX2__)
    static_assert(sizeof(FlowKey) == 3 * sizeof(__m256i));
    const auto* pa = reinterpret_cast<const __m256i*>(&a);
    const auto* pb = reinterpret_cast<const __m256i*>(&b);
    __m256i d = _mm256_setzero_si256();
    for (int i = 0; i < 3; i++)
        d = _mm256_or_si256(d, _mm256_xor_si256(_mm256_loadu_si256(pa + i), _mm256_loadu_si256(pb + i)));
    return _mm256_testz_si256(d, d);
#else
    uint64_t diff = 0;
    for (size_t i = 0; i < FlowKey::kWords; i++) diff |= a.word(i) ^ b.word(i);
    return diff == 0;
#endif
}

// (key & mask) == masked, without materialising the masked key.
inline bool flow_key_matches(const FlowKey& key, const FlowKey& mask, const FlowKey& masked) {
#if defined(__AVX2__)
    // As flow_key_equal, with the mask.
    const auto* k = reinterpret_cast<const __m256i*>(&key);
    const auto* m = reinterpret_cast<const __m256i*>(&mask);
    const auto* v = reinterpret_cast<const __m256i*>(&masked);
    __m256i d = _mm256_setzero_si256();
    for (int i = 0; i < 3; i++)
        d = _mm256_or_si256(d, _mm256_xor_si256(_mm256_and_si256(_mm256_loadu_si256(k + i),
                                                                 _mm256_loadu_si256(m + i)),
                                                _mm256_loadu_si256(v + i)));
    return _mm256_testz_si256(d, d);
#else
    uint64_t diff = 0;
    for (size_t i = 0; i < FlowKey::kWords; i++)
        diff |= (key.word(i) & mask.word(i)) ^ masked.word(i);
    return diff == 0;
#endif
}

// mask |= other (used by translation to accumulate the fields the tables looked at).
inline void flow_key_or(FlowKey& mask, const FlowKey& other) {
    for (size_t i = 0; i < FlowKey::kWords; i++) mask.set_word(i, mask.word(i) | other.word(i));
}

// CRC32-C over the whole key (SSE4.2), seeded. Used by the EMC and the classifier.
uint32_t flow_key_hash(const FlowKey& key, uint32_t seed);
// Same hash over 96 bytes at any alignment (for keys stored inside rte_hash).
uint32_t flow_key_hash_bytes(const void* key, uint32_t seed);

}  // namespace vswitch
