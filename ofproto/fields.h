// Match fields: every piece of packet state an OpenFlow rule can match, described once
// as a byte range of FlowKey. Matching, megaflow-mask accounting (translate.cc) and
// formatting all work from this table, so a new packet field is one row here plus its
// syntax row in field_syntax.cc.
//
// Pipeline-only state (registers, metadata) is deliberately NOT a Field: it lives in
// PipelineKey (match.h), is produced by actions rather than by the packet, and must
// never reach a datapath mask.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "switch/flow_key.h"

namespace vswitch::ofp {

// Order = ovs-ofctl print order (flow_format.cc walks it; shorthands aside).
enum class Field : uint8_t {
    InPort,
    VlanTci,
    DlSrc,
    DlDst,
    DlType,
    NwSrc,
    NwDst,
    Ipv6Src,
    Ipv6Dst,
    NwProto,
    NwTos,
    NwTtl,
    TpSrc,
    TpDst,
    TunId,
    TunSrc,
    TunDst,
};
inline constexpr size_t kFieldCount = 17;

using FieldSet = uint32_t;   // bit i = Field i
constexpr FieldSet field_bit(Field f) { return FieldSet{1} << static_cast<unsigned>(f); }

struct FieldInfo {
    Field id;
    std::string_view name;   // canonical ovs-ofctl name, for messages
    uint16_t offset;         // bytes into FlowKey
    uint8_t size;            // bytes
    // Fields whose value gives this one its meaning (nw_dst means nothing without
    // dl_type). Translation un-wildcards them together with the field.
    FieldSet prereqs;
};

const FieldInfo& field_info(Field f);

inline const uint8_t* field_bytes(const FlowKey& k, Field f) {
    return reinterpret_cast<const uint8_t*>(&k) + field_info(f).offset;
}
inline uint8_t* field_bytes(FlowKey& k, Field f) {
    return reinterpret_cast<uint8_t*>(&k) + field_info(f).offset;
}

// Any bit of f set in mask.
bool field_any(const FlowKey& mask, Field f);
// Every bit of f set in mask.
bool field_all(const FlowKey& mask, Field f);

}  // namespace vswitch::ofp
