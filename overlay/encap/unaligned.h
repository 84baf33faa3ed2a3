// Unaligned loads and stores of header fields: headers sit at any offset inside an mbuf.
// memcpy compiles to a plain load/store and keeps the compiler's aliasing analysis honest.
// The lowest layer defines them; the datapath's switch/wire.h reuses them.
#pragma once

#include <cstdint>
#include <cstring>

namespace vswitch::encap {

inline uint16_t rd16(const uint8_t* p) {
    uint16_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline uint32_t rd32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void wr16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, sizeof v); }
inline void wr32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, sizeof v); }

}  // namespace vswitch::encap
