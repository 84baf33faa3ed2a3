// RFC 1624 (eqn. 3) incremental Internet-checksum updates, shared by the packet rewrites
// of the datapath (set_field, dec_ttl) and of overlay/encap (the ICMP echo reply).
#pragma once

#include <cstdint>

namespace vswitch::encap {

// `csum` is a checksum field as stored, old/new the replaced 16- or 32-bit words as
// stored (any byte order, as long as all three use the same one).
inline uint16_t csum_replace16(uint16_t csum, uint16_t old_word, uint16_t new_word) {
    uint32_t s = uint32_t(uint16_t(~csum)) + uint16_t(~old_word) + new_word;
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(~s);
}

inline uint16_t csum_replace32(uint16_t csum, uint32_t old_word, uint32_t new_word) {
    uint32_t s = uint32_t(uint16_t(~csum)) + uint16_t(~old_word) + uint16_t(~(old_word >> 16)) +
                 uint16_t(new_word) + uint16_t(new_word >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(~s);
}

}  // namespace vswitch::encap
