// Private to overlay/encap: header offsets and the byte/checksum helpers the codecs share.
// Kept here rather than borrowed from switch/wire.h because encap sits below switch/ and
// must not include it (DESIGN.md layering).
#pragma once

#include <cstdint>
#include <cstring>

#include <rte_byteorder.h>

#include "overlay/encap/unaligned.h"

namespace vswitch::encap::detail {

constexpr uint32_t kEthLen = 14;
constexpr uint32_t kVlanLen = 4;
constexpr uint32_t kIpLen = 20;     // IPv4 without options: what push() lays out
constexpr uint32_t kUdpLen = 8;
constexpr uint32_t kVxlanLen = 8;
constexpr uint32_t kGreBaseLen = 4;  // flags/version + protocol
constexpr uint32_t kIpOff = kEthLen;
constexpr uint32_t kL4Off = kEthLen + kIpLen;   // UDP or GRE in a template

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherArp = 0x0806;
constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoGre = 47;
constexpr uint16_t kIpDf = 0x4000;
constexpr uint16_t kIpMf = 0x2000;
constexpr uint16_t kIpOffsetMask = 0x1fff;
constexpr uint8_t kVxlanFlagI = 0x08;

// GRE flags/version word (RFC 2784 bits 0..15, host order).
constexpr uint16_t kGreC = 0x8000;   // checksum present
constexpr uint16_t kGreR = 0x4000;   // RFC 1701 routing present
constexpr uint16_t kGreK = 0x2000;   // RFC 2890 key present
constexpr uint16_t kGreS = 0x1000;   // RFC 2890 sequence number present
constexpr uint16_t kGreSsr = 0x0800; // RFC 1701 strict source route
constexpr uint16_t kGreRecurTop = 0x0400;   // bit 5: last of the bits RFC 2784 says to
                                            // discard on (1..5), beyond K and S
constexpr uint16_t kGreVersion = 0x0007;

// Network-order fields read/written as host-order numbers.
inline uint16_t rd_be16(const uint8_t* p) { return rte_be_to_cpu_16(rd16(p)); }
inline uint32_t rd_be32(const uint8_t* p) { return rte_be_to_cpu_32(rd32(p)); }
inline void wr_be16(uint8_t* p, uint16_t v) { wr16(p, rte_cpu_to_be_16(v)); }
inline void wr_be32(uint8_t* p, uint32_t v) { wr32(p, rte_cpu_to_be_32(v)); }

// Where the EtherType is in a frame whose first segment holds `seg` bytes from `p`:
// after up to two VLAN tags (802.1Q, or 802.1ad + 802.1Q), which the in-place answers
// (ARP, ICMP echo) keep as they are.
inline uint32_t ethertype_offset(const uint8_t* p, uint32_t seg) {
    uint32_t off = 12;
    for (int tags = 0; tags < 2 && seg >= off + 2; ++tags) {
        const uint16_t t = rd_be16(p + off);
        if (t != 0x8100 && t != 0x88a8) break;
        off += kVlanLen;
    }
    return off;
}

// entropy_port()'s formula, here so push() inlines it (it is per packet).
// 16384 ports = 14 bits. The inner hash may be weak in its low bits (an RSS or CRC value
// the NIC or the EMC produced), so the upper bits are folded in rather than masked off:
// every input bit then moves the port, and changes confined to bits 14..27 map
// one-to-one onto ports.
inline uint16_t entropy(uint32_t inner_hash) {
    uint32_t x = inner_hash ^ (inner_hash >> 14) ^ (inner_hash >> 28);
    return static_cast<uint16_t>(0xc000 | (x & 0x3fff));
}

// Ones'-complement sum (RFC 1071) of len bytes, not yet folded. The sum is byte-order
// independent as long as every word is read the same way, so words are read natively
// (32 bits at a time: fewer adds, the 64-bit accumulator absorbs the carries) and the
// caller folds and, if it wants a number, swaps once at the end.
inline uint64_t csum_add(uint64_t sum, const uint8_t* p, uint32_t len) {
    for (; len >= 4; len -= 4, p += 4) sum += rd32(p);
    if (len >= 2) {
        sum += rd16(p);
        p += 2;
        len -= 2;
    }
    if (len) {
        // The odd byte is the high-order byte of a big-endian word padded with zero, i.e.
        // the first byte in memory of a 16-bit word whose second byte is 0.
        uint8_t last[2] = {*p, 0};
        sum += rd16(last);
    }
    return sum;
}
inline uint16_t csum_fold(uint64_t sum) {
    sum = (sum & 0xffffffff) + (sum >> 32);
    sum = (sum & 0xffffffff) + (sum >> 32);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(sum);
}
// The checksum field value, in memory (network) order, for a region whose checksum field
// is zero: write it back with wr16().
inline uint16_t csum_finish(uint64_t sum) { return static_cast<uint16_t>(~csum_fold(sum)); }

// The IPv4 header of an ICMP error the switch sends (frag-needed, time exceeded): no
// options, TOS 0xc0 (precedence 6, RFC 1812 4.3.2.5), ID 0 and no flags (a one-off,
// small datagram), TTL 64, checksum computed. Addresses network order as stored.
inline void write_icmp_error_ip(uint8_t* ip, uint32_t icmp_len, uint32_t src_be, uint32_t dst_be) {
    ip[0] = 0x45;
    ip[1] = 0xc0;
    wr_be16(ip + 2, static_cast<uint16_t>(kIpLen + icmp_len));
    wr32(ip + 4, 0);
    ip[8] = 64;
    ip[9] = kProtoIcmp;
    wr16(ip + 10, 0);
    wr32(ip + 12, src_be);
    wr32(ip + 16, dst_be);
    wr16(ip + 10, csum_finish(csum_add(0, ip, kIpLen)));
}

}  // namespace vswitch::encap::detail
