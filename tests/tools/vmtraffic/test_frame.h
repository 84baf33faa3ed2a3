// test_frame.h - wire format of vmtraffic test frames (shared by generator and verifier).
//
// Contract:
//   A test frame is Ethernet [+ up to two 802.1Q/802.1ad tags] / IPv4 (no options,
//   not fragmented) / UDP or TCP (20-byte header, no options) / payload.  The L4
//   payload starts with a 20-byte TestHdr (all fields big-endian) followed by
//   `payload_len - sizeof(TestHdr)` pattern bytes.
//
//   Pattern: little-endian 64-bit words w[i] = seed + i * kPatternStep, where
//   seed = pattern_seed(stream, txq, seq); a trailing partial word contributes its
//   low-order bytes.  The pattern is therefore fully determined by
//   (stream, txq, seq) and the receiver can check it byte for byte.
//
//   csum = CRC32C (rte_hash_crc, init kCrcInit) over the first 16 bytes of the
//   TestHdr (everything before csum) followed by the pattern bytes.  It covers the
//   header fields (seq, stream...) so a corrupted header is detected too.
//
//   seq is 32 bits on the wire, per (stream, txq), starting at 0; the receiver
//   extends it to 64 bits (serial-number arithmetic).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <rte_byteorder.h>
#include <rte_hash_crc.h>

namespace vmt {

constexpr uint32_t kMagic = 0x564d5431;  // "VMT1"
constexpr uint32_t kCrcInit = 0xffffffffu;
constexpr uint64_t kPatternStep = 0x9E3779B97F4A7C15ull;

struct __attribute__((packed)) TestHdr {
  rte_be32_t magic;
  rte_be16_t stream;
  rte_be16_t txq;
  rte_be32_t seq;
  rte_be16_t payload_len;  // L4 payload length: sizeof(TestHdr) + pattern bytes
  rte_be16_t flags;        // reserved, 0
  rte_be32_t csum;         // see file comment
};
static_assert(sizeof(TestHdr) == 20);
constexpr size_t kHdrCsumCovered = offsetof(TestHdr, csum);  // 16

inline uint64_t pattern_seed(uint16_t stream, uint16_t txq, uint32_t seq) {
  uint64_t z = (uint64_t(stream) << 48) ^ (uint64_t(txq) << 32) ^ seq;
  z += 0x9E3779B97F4A7C15ull;  // splitmix64 finaliser
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// CRC over the 16 covered header bytes.
inline uint32_t hdr_crc(const void* hdr) {
  uint64_t a, b;
  std::memcpy(&a, hdr, 8);
  std::memcpy(&b, static_cast<const uint8_t*>(hdr) + 8, 8);
  return rte_hash_crc_8byte(b, rte_hash_crc_8byte(a, kCrcInit));
}

// Writes n pattern bytes at p and returns the CRC continued from `crc`.
inline uint32_t pattern_fill(uint8_t* p, size_t n, uint64_t seed, uint32_t crc) {
  size_t words = n / 8;
  uint64_t w = seed;
  for (size_t i = 0; i < words; i++, w += kPatternStep) {
    std::memcpy(p + i * 8, &w, 8);
    crc = rte_hash_crc_8byte(w, crc);
  }
  for (size_t j = words * 8; j < n; j++) {
    uint8_t b = uint8_t(w >> (8 * (j - words * 8)));
    p[j] = b;
    crc = rte_hash_crc_1byte(b, crc);
  }
  return crc;
}

// Checks n bytes at p against the pattern; returns true if they match, and sets
// *crc_out to the CRC of the bytes actually present (continued from `crc`).
inline bool pattern_check(const uint8_t* p, size_t n, uint64_t seed, uint32_t crc,
                          uint32_t* crc_out) {
  size_t words = n / 8;
  uint64_t w = seed, diff = 0;
  for (size_t i = 0; i < words; i++, w += kPatternStep) {
    uint64_t got;
    std::memcpy(&got, p + i * 8, 8);
    diff |= got ^ w;
    crc = rte_hash_crc_8byte(got, crc);
  }
  for (size_t j = words * 8; j < n; j++) {
    uint8_t b = uint8_t(w >> (8 * (j - words * 8)));
    diff |= uint64_t(p[j] ^ b);
    crc = rte_hash_crc_1byte(p[j], crc);
  }
  *crc_out = crc;
  return diff == 0;
}

}  // namespace vmt
