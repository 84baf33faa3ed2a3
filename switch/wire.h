// Packet header constants and unaligned accessors shared by the parser (flow_extract.cc)
// and the action executor (dp_execute.cc), so both agree on what a header is.
// memcpy-based: headers sit at any alignment, and this compiles to plain loads/stores.
#pragma once

#include <cstdint>
#include <cstring>

#include <rte_byteorder.h>

#include "overlay/encap/unaligned.h"

namespace vswitch::wire {

constexpr uint32_t kHdrMax = 128;   // header bytes the parser reads at most
constexpr uint32_t kEthLen = 14;
constexpr uint32_t kVlanLen = 4;
constexpr uint32_t kIpv4MinLen = 20;
constexpr uint32_t kIpv6Len = 40;
constexpr uint32_t kArpEthIpv4Len = 28;

constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIcmpv6 = 58;
constexpr uint8_t kProtoSctp = 132;

// Unaligned header access (overlay/encap/unaligned.h, the layer below).
using encap::rd16;
using encap::rd32;
using encap::wr16;
using encap::wr32;

// 802.1Q and 802.1ad tag protocol identifiers (network order).
inline bool is_vlan_tpid(uint16_t be_type) {
    return be_type == RTE_BE16(0x8100) || be_type == RTE_BE16(0x88a8);
}

}  // namespace vswitch::wire
