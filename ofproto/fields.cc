#include "ofproto/fields.h"

#include <array>

namespace vswitch::ofp {
namespace {

constexpr FieldSet kIpPrereq = field_bit(Field::DlType);
constexpr FieldSet kL4Prereq = field_bit(Field::DlType) | field_bit(Field::NwProto);

#define VSW_FIELD(id, name, member, pre) \
    FieldInfo{Field::id, name, offsetof(FlowKey, member), sizeof(FlowKey::member), pre}

constexpr std::array<FieldInfo, kFieldCount> kFields = {
    VSW_FIELD(InPort, "in_port", in_port, 0),
    VSW_FIELD(VlanTci, "vlan_tci", vlan_tci, 0),
    VSW_FIELD(DlSrc, "dl_src", dl_src, 0),
    VSW_FIELD(DlDst, "dl_dst", dl_dst, 0),
    VSW_FIELD(DlType, "dl_type", dl_type, 0),
    VSW_FIELD(NwSrc, "nw_src", nw_src, kIpPrereq),
    VSW_FIELD(NwDst, "nw_dst", nw_dst, kIpPrereq),
    VSW_FIELD(Ipv6Src, "ipv6_src", ipv6_src, kIpPrereq),
    VSW_FIELD(Ipv6Dst, "ipv6_dst", ipv6_dst, kIpPrereq),
    VSW_FIELD(NwProto, "nw_proto", nw_proto, kIpPrereq),
    VSW_FIELD(NwTos, "nw_tos", nw_tos, kIpPrereq),
    VSW_FIELD(NwTtl, "nw_ttl", nw_ttl, kIpPrereq),
    VSW_FIELD(TpSrc, "tp_src", tp_src, kL4Prereq),
    VSW_FIELD(TpDst, "tp_dst", tp_dst, kL4Prereq),
    VSW_FIELD(TunId, "tun_id", tun_id, 0),
    VSW_FIELD(TunSrc, "tun_src", tun_src, 0),
    VSW_FIELD(TunDst, "tun_dst", tun_dst, 0),
};
#undef VSW_FIELD

constexpr bool table_in_enum_order() {
    for (size_t i = 0; i < kFieldCount; i++)
        if (static_cast<size_t>(kFields[i].id) != i) return false;
    return true;
}
static_assert(table_in_enum_order(), "kFields rows must follow enum Field");

}  // namespace

const FieldInfo& field_info(Field f) { return kFields[static_cast<size_t>(f)]; }

bool field_any(const FlowKey& mask, Field f) {
    const uint8_t* m = field_bytes(mask, f);
    for (size_t i = 0; i < field_info(f).size; i++)
        if (m[i]) return true;
    return false;
}

bool field_all(const FlowKey& mask, Field f) {
    const uint8_t* m = field_bytes(mask, f);
    for (size_t i = 0; i < field_info(f).size; i++)
        if (m[i] != 0xff) return false;
    return true;
}

}  // namespace vswitch::ofp
