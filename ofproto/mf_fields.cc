#include "ofproto/mf_fields.h"

#include <cstddef>
#include <cstring>

namespace vswitch::ofp {
namespace {

// Where a field's bits live: `size` bytes at `offset` of FlowKey or PipelineKey, read
// as a big-endian (network order) or host-order integer, then shifted right by `shift`.
struct Loc {
    uint16_t offset;
    uint8_t size;
    bool be;
    uint8_t shift;
};

struct Row {
    MfInfo info;
    Loc loc;
};

#define PK(member) static_cast<uint16_t>(offsetof(FlowKey, member))
#define PP(member) static_cast<uint16_t>(offsetof(PipelineKey, member))
constexpr uint16_t reg_ofs(unsigned i) { return static_cast<uint16_t>(offsetof(PipelineKey, regs) + 4 * i); }

using F = MfFormat;
using P = Prereq;

#define PKT(id, name, alias, nxm, bits, pre, wr, fmt, field, member, be, shift) \
    Row{{Mf::id, name, alias, nxm, bits, pre, wr, fmt, true, Field::field},       \
        {PK(member), sizeof(FlowKey::member), be, shift}}
#define REG(i)                                                                             \
    Row{{Mf::Reg##i, "reg" #i, "", "NXM_NX_REG" #i, 32, P::None, true, F::Hex, false, Field::InPort}, \
        {reg_ofs(i), 4, false, 0}}

constexpr Row kRows[] = {
    PKT(InPort, "in_port", "", "NXM_OF_IN_PORT", 32, P::None, true, F::Decimal, InPort, in_port, false, 0),
    PKT(EthSrc, "eth_src", "dl_src", "NXM_OF_ETH_SRC", 48, P::None, true, F::Mac, DlSrc, dl_src, true, 0),
    PKT(EthDst, "eth_dst", "dl_dst", "NXM_OF_ETH_DST", 48, P::None, true, F::Mac, DlDst, dl_dst, true, 0),
    PKT(EthType, "eth_type", "dl_type", "NXM_OF_ETH_TYPE", 16, P::None, false, F::Hex, DlType, dl_type, true, 0),
    PKT(VlanTci, "vlan_tci", "", "NXM_OF_VLAN_TCI", 16, P::None, true, F::Hex, VlanTci, vlan_tci, true, 0),
    PKT(VlanVid, "vlan_vid", "dl_vlan", "OXM_OF_VLAN_VID", 12, P::None, true, F::Decimal, VlanTci, vlan_tci, true, 0),
    PKT(VlanPcp, "vlan_pcp", "dl_vlan_pcp", "OXM_OF_VLAN_PCP", 3, P::None, true, F::Decimal, VlanTci, vlan_tci, true, 13),
    PKT(IpSrc, "ip_src", "nw_src", "NXM_OF_IP_SRC", 32, P::Ip, true, F::Ipv4, NwSrc, nw_src, true, 0),
    PKT(IpDst, "ip_dst", "nw_dst", "NXM_OF_IP_DST", 32, P::Ip, true, F::Ipv4, NwDst, nw_dst, true, 0),
    PKT(Ipv6Src, "ipv6_src", "", "NXM_NX_IPV6_SRC", 128, P::Ipv6, false, F::Ipv6, Ipv6Src, ipv6_src, true, 0),
    PKT(Ipv6Dst, "ipv6_dst", "", "NXM_NX_IPV6_DST", 128, P::Ipv6, false, F::Ipv6, Ipv6Dst, ipv6_dst, true, 0),
    PKT(IpProto, "nw_proto", "ip_proto", "NXM_OF_IP_PROTO", 8, P::IpAny, false, F::Decimal, NwProto, nw_proto, true, 0),
    PKT(NwTos, "nw_tos", "", "NXM_OF_IP_TOS", 8, P::Ip, true, F::Decimal, NwTos, nw_tos, true, 0),
    PKT(NwTtl, "nw_ttl", "", "NXM_NX_IP_TTL", 8, P::IpAny, false, F::Decimal, NwTtl, nw_ttl, true, 0),
    PKT(TcpSrc, "tcp_src", "tp_src", "NXM_OF_TCP_SRC", 16, P::Tcp, true, F::Decimal, TpSrc, tp_src, true, 0),
    PKT(TcpDst, "tcp_dst", "tp_dst", "NXM_OF_TCP_DST", 16, P::Tcp, true, F::Decimal, TpDst, tp_dst, true, 0),
    PKT(UdpSrc, "udp_src", "", "NXM_OF_UDP_SRC", 16, P::Udp, true, F::Decimal, TpSrc, tp_src, true, 0),
    PKT(UdpDst, "udp_dst", "", "NXM_OF_UDP_DST", 16, P::Udp, true, F::Decimal, TpDst, tp_dst, true, 0),
    PKT(SctpSrc, "sctp_src", "", "OXM_OF_SCTP_SRC", 16, P::Sctp, true, F::Decimal, TpSrc, tp_src, true, 0),
    PKT(SctpDst, "sctp_dst", "", "OXM_OF_SCTP_DST", 16, P::Sctp, true, F::Decimal, TpDst, tp_dst, true, 0),
    PKT(IcmpType, "icmp_type", "", "NXM_OF_ICMP_TYPE", 8, P::Icmp, false, F::Decimal, TpSrc, tp_src, true, 0),
    PKT(IcmpCode, "icmp_code", "", "NXM_OF_ICMP_CODE", 8, P::Icmp, false, F::Decimal, TpDst, tp_dst, true, 0),
    PKT(ArpOp, "arp_op", "", "NXM_OF_ARP_OP", 8, P::Arp, false, F::Decimal, NwProto, nw_proto, true, 0),
    PKT(ArpSpa, "arp_spa", "", "NXM_OF_ARP_SPA", 32, P::Arp, false, F::Ipv4, NwSrc, nw_src, true, 0),
    PKT(ArpTpa, "arp_tpa", "", "NXM_OF_ARP_TPA", 32, P::Arp, false, F::Ipv4, NwDst, nw_dst, true, 0),
    PKT(TunId, "tun_id", "tunnel_id", "NXM_NX_TUN_ID", 64, P::None, true, F::Hex, TunId, tun_id, false, 0),
    PKT(TunSrc, "tun_src", "", "NXM_NX_TUN_IPV4_SRC", 32, P::None, true, F::Ipv4, TunSrc, tun_src, true, 0),
    PKT(TunDst, "tun_dst", "", "NXM_NX_TUN_IPV4_DST", 32, P::None, true, F::Ipv4, TunDst, tun_dst, true, 0),
    Row{{Mf::Metadata, "metadata", "", "OXM_OF_METADATA", 64, P::None, true, F::Hex, false, Field::InPort},
        {PP(metadata), 8, false, 0}},
    REG(0), REG(1), REG(2), REG(3), REG(4), REG(5), REG(6), REG(7),
};
#undef PKT
#undef REG
#undef PK
#undef PP

static_assert(std::size(kRows) == kMfCount);

constexpr bool rows_in_order() {
    for (size_t i = 0; i < kMfCount; i++)
        if (static_cast<size_t>(kRows[i].info.id) != i) return false;
    return true;
}
static_assert(rows_in_order(), "kRows must follow enum Mf");

const Row& row(Mf f) { return kRows[static_cast<size_t>(f)]; }

const uint8_t* base(const Row& r, const FlowKey& k, const PipelineKey& p) {
    return r.info.packet ? reinterpret_cast<const uint8_t*>(&k) : reinterpret_cast<const uint8_t*>(&p);
}

u128 load_raw(const uint8_t* b, const Loc& l) {
    u128 v = 0;
    if (l.be) {
        for (unsigned i = 0; i < l.size; i++) v = (v << 8) | b[l.offset + i];
    } else if (l.size == 4) {
        uint32_t x;
        std::memcpy(&x, b + l.offset, 4);
        v = x;
    } else {
        uint64_t x;
        std::memcpy(&x, b + l.offset, 8);
        v = x;
    }
    return v;
}

void store_raw(uint8_t* b, const Loc& l, u128 v) {
    if (l.be) {
        for (int i = l.size - 1; i >= 0; i--) {
            b[l.offset + i] = static_cast<uint8_t>(v);
            v >>= 8;
        }
    } else if (l.size == 4) {
        uint32_t x = static_cast<uint32_t>(v);
        std::memcpy(b + l.offset, &x, 4);
    } else {
        uint64_t x = static_cast<uint64_t>(v);
        std::memcpy(b + l.offset, &x, 8);
    }
}

}  // namespace

const MfInfo& mf_info(Mf f) { return row(f).info; }

const MfInfo* mf_by_name(std::string_view name) {
    for (const Row& r : kRows)
        if (r.info.name == name || (!r.info.alias.empty() && r.info.alias == name)) return &r.info;
    return nullptr;
}

const MfInfo* mf_by_nxm(std::string_view nxm) {
    for (const Row& r : kRows)
        if (r.info.nxm == nxm) return &r.info;
    return nullptr;
}

u128 mf_get(Mf f, const FlowKey& key, const PipelineKey& pkey) {
    const Row& r = row(f);
    return (load_raw(base(r, key, pkey), r.loc) >> r.loc.shift) & mf_all_bits(r.info.n_bits);
}

void mf_set(Mf f, u128 value, u128 mask, FlowKey& key, PipelineKey& pkey) {
    const Row& r = row(f);
    uint8_t* b = const_cast<uint8_t*>(base(r, key, pkey));
    u128 m = (mask & mf_all_bits(r.info.n_bits)) << r.loc.shift;
    u128 raw = load_raw(b, r.loc);
    raw = (raw & ~m) | ((value << r.loc.shift) & m);
    store_raw(b, r.loc, raw);
}

void mf_unwildcard(Mf f, u128 bits, FlowKey& mask) {
    const Row& r = row(f);
    if (!r.info.packet) return;
    uint8_t* b = reinterpret_cast<uint8_t*>(&mask);
    u128 m = (bits & mf_all_bits(r.info.n_bits)) << r.loc.shift;
    store_raw(b, r.loc, load_raw(b, r.loc) | m);
}

}  // namespace vswitch::ofp
