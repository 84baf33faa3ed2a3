// Fields that actions read and write (set_field, load, move, and the mod_* shorthands):
// the union of packet fields (in FlowKey) and pipeline fields (metadata, registers, in
// PipelineKey), each addressed as an unsigned integer of n_bits bits, so that subfields
// (NXM_NX_REG0[0..15]) are plain bit ranges.
//
// Names: `name` is the ovs-ofctl set_field name (printed), `alias` an accepted other
// spelling, `nxm` the NXM/OXM name used by load and move (printed). Integers are
// numeric values: bit 0 of ip_dst is the last bit of the address, as in ovs-ofctl.
//
// Writable packet fields are those the datapath has a set action for (dp_actions.h);
// the others (eth_type, ip_proto, TTL, IPv6, ARP, ICMP) can be read and matched but not
// written. in_port and the tunnel fields are writable although no datapath action sets
// them: in_port only changes what later lookups see, tun_* only what a later output to a
// tunnel port encapsulates with.
#pragma once

#include <cstdint>
#include <string_view>

#include "ofproto/field_syntax.h"
#include "ofproto/fields.h"
#include "ofproto/match.h"

namespace vswitch::ofp {

using u128 = unsigned __int128;

enum class Mf : uint8_t {
    InPort, EthSrc, EthDst, EthType, VlanTci, VlanVid, VlanPcp,
    IpSrc, IpDst, Ipv6Src, Ipv6Dst, IpProto, NwTos, NwTtl,
    TcpSrc, TcpDst, UdpSrc, UdpDst, SctpSrc, SctpDst, IcmpType, IcmpCode,
    ArpOp, ArpSpa, ArpTpa, TunId, TunSrc, TunDst,
    Metadata, Reg0, Reg1, Reg2, Reg3, Reg4, Reg5, Reg6, Reg7,
};
inline constexpr size_t kMfCount = static_cast<size_t>(Mf::Reg7) + 1;

enum class MfFormat : uint8_t { Decimal, Hex, Mac, Ipv4, Ipv6 };

struct MfInfo {
    Mf id;
    std::string_view name;
    std::string_view alias;   // "" if none
    std::string_view nxm;
    uint8_t n_bits;
    Prereq prereq;
    bool writable;
    MfFormat format;
    bool packet;              // in FlowKey (field below), else in PipelineKey
    Field field;              // packet fields: the Field holding it
};

const MfInfo& mf_info(Mf f);
// By set_field name or alias (e.g. "eth_dst", "dl_dst"), or by NXM/OXM name.
const MfInfo* mf_by_name(std::string_view name);
const MfInfo* mf_by_nxm(std::string_view nxm);

// The field's value in the keys, as an integer of n_bits bits.
u128 mf_get(Mf f, const FlowKey& key, const PipelineKey& pkey);
// Replaces the bits of `mask` (within n_bits) by those of value.
void mf_set(Mf f, u128 value, u128 mask, FlowKey& key, PipelineKey& pkey);
// ORs the FlowKey bits that hold `bits` of packet field f into mask (no-op for pipeline
// fields): the mask of a read.
void mf_unwildcard(Mf f, u128 bits, FlowKey& mask);

inline u128 mf_all_bits(unsigned n) { return n >= 128 ? ~u128{0} : (u128{1} << n) - 1; }

// A bit range of a field: NXM_NX_REG0[0..15], NXM_OF_ETH_SRC[], reg0[3].
struct Subfield {
    Mf field = Mf::Reg0;
    uint8_t ofs = 0;
    uint8_t n_bits = 0;
    bool operator==(const Subfield&) const = default;
    u128 mask() const { return mf_all_bits(n_bits) << ofs; }
};

}  // namespace vswitch::ofp
