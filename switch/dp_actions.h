// Datapath actions: what a megaflow does to the packets it matches. This is the
// contract between the pipeline (ofproto translates OpenFlow actions into a
// DpActionList) and the datapath (which executes it per batch of packets).
//
// A list is immutable once built: the datapath swaps a megaflow's list pointer
// atomically on revalidation and frees the old one after an RCU grace period, so the
// executor never sees a half-written list.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "overlay/encap/dhcp_reply.h"
#include "overlay/encap/tunnel_header.h"

namespace vswitch {

enum class DpActionType : uint8_t {
    Output = 1,      // port: datapath port number
    // Argument conventions (use the factories below rather than filling fields by hand;
    // semantics, checksum handling and copy rules in docs/datapath-actions.md):
    SetEthSrc,       // arg.mac: 6 bytes, wire order
    SetEthDst,
    PushVlan,        // arg.u16: TCI, host order, CFI (0x1000) set = "tag present" marker
                     // as in FlowKey::vlan_tci; the pushed tag has TPID 0x8100, DEI 0
    PopVlan,         // removes the outermost 802.1Q / 802.1ad tag (no-op if untagged)
    SetIpv4Src,      // arg.u32: network order
    SetIpv4Dst,
    SetIpTos,        // arg.u32: bits 0-7 new TOS/traffic-class bits, bits 8-15 the mask
                     // of bits to replace (0 = all 8: DSCP and ECN)
    DecTtl,          // IPv4 TTL / IPv6 hop limit; <= 1 drops ("ttl_exceeded")
    SetTpSrc,        // arg.u16: network order (TCP/UDP only)
    SetTpDst,
    TunnelPush,      // port: index of the outer header in DpActionList::tunnels; the
                     // packet must then be output (to the uplink) by a later Output
    TunnelPop,       // port: the tunnel port the packet is recirculated as coming from;
                     // arg.u32: encap::TunnelType | UDP port (VXLAN) << 16. Ends the list.
    Meter,           // port: meter id (DpAction::meter() mirrors it in arg.u32); an
                     // unknown id passes
    Recirculate,     // reserved (recirculation other than after TunnelPop): unsupported
    Drop,            // arg.u32: DropReason. Ends the list: what is left is dropped and
                     // counted under that reason (the pipeline's named drops)
    ArpReply,        // arg.mac: turns an Ethernet/IPv4 ARP request into the reply
                     // "target IP is at mac" (the sender of the reply); other packets are
                     // dropped ("action_failed"). The translation outputs it to in_port.
    IcmpEchoReply,   // no argument: turns an ICMPv4 echo request into its echo reply
                     // (encap::icmp_make_echo_reply); other packets are dropped
                     // ("action_failed"). The translation outputs it to in_port.
    DhcpReply,       // port: index of the server's answer in DpActionList::dhcp; turns a
                     // DHCPv4 request into its answer (encap::dhcp_make_reply); requests
                     // that get none (release, decline) are dropped as "dhcp_consumed",
                     // other packets as "action_failed". The translation outputs it to
                     // in_port.
    IcmpError,       // arg.u64: source IPv4 (host order) | type << 32 | code << 40: turns
                     // an IPv4 packet into that ICMP error about it (encap::icmp_make_error);
                     // packets the RFCs forbid answering are dropped ("action_failed").
                     // The translation outputs it to in_port.
};

struct DpAction {
    DpActionType type;
    uint8_t pad[3];
    uint32_t port;        // Output: datapath port; TunnelPush: template; Meter: id
    union {
        uint8_t mac[6];
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
    } arg;

    static DpAction output(uint32_t p) {
        DpAction a{};
        a.type = DpActionType::Output;
        a.port = p;
        return a;
    }
    static DpAction set_eth_src(const uint8_t mac[6]) { return with_mac(DpActionType::SetEthSrc, mac); }
    static DpAction set_eth_dst(const uint8_t mac[6]) { return with_mac(DpActionType::SetEthDst, mac); }
    // tci: host order; the CFI marker is added here.
    static DpAction push_vlan(uint16_t tci) {
        DpAction a = of(DpActionType::PushVlan);
        a.arg.u16 = static_cast<uint16_t>(tci | 0x1000);
        return a;
    }
    static DpAction pop_vlan() { return of(DpActionType::PopVlan); }
    static DpAction set_ipv4_src(uint32_t addr_be) { return with_u32(DpActionType::SetIpv4Src, addr_be); }
    static DpAction set_ipv4_dst(uint32_t addr_be) { return with_u32(DpActionType::SetIpv4Dst, addr_be); }
    // Replaces the TOS / traffic-class bits in `mask` with those of `value`:
    // mod_nw_tos = (dscp << 2, 0xfc), mod_nw_ecn = (ecn, 0x03), whole byte = (v, 0xff).
    static DpAction set_ip_tos(uint8_t value, uint8_t mask = 0xff) {
        return with_u32(DpActionType::SetIpTos, uint32_t(value & mask) | uint32_t(mask) << 8);
    }
    static DpAction dec_ttl() { return of(DpActionType::DecTtl); }
    static DpAction set_tp_src(uint16_t port_be) { return with_u16(DpActionType::SetTpSrc, port_be); }
    static DpAction set_tp_dst(uint16_t port_be) { return with_u16(DpActionType::SetTpDst, port_be); }
    static DpAction meter(uint32_t id) {
        DpAction a = with_u32(DpActionType::Meter, id);
        a.port = id;
        return a;
    }
    // reason: a DropReason (drop_reasons.h), as an integer to keep this header free of it.
    static DpAction drop(uint8_t reason) { return with_u32(DpActionType::Drop, reason); }
    static DpAction arp_reply(const uint8_t mac[6]) { return with_mac(DpActionType::ArpReply, mac); }
    static DpAction icmp_echo_reply() { return of(DpActionType::IcmpEchoReply); }
    static DpAction icmp_error(uint8_t type, uint8_t code, uint32_t src_host) {
        DpAction a = of(DpActionType::IcmpError);
        a.arg.u64 = uint64_t{src_host} | uint64_t{type} << 32 | uint64_t{code} << 40;
        return a;
    }
    // IcmpError's arguments, as icmp_error() packed them.
    uint32_t error_src() const { return static_cast<uint32_t>(arg.u64); }
    uint8_t error_type() const { return static_cast<uint8_t>(arg.u64 >> 32); }
    uint8_t error_code() const { return static_cast<uint8_t>(arg.u64 >> 40); }
    static DpAction tunnel_pop(uint32_t tunnel_port, encap::TunnelType t, uint16_t udp_port) {
        DpAction a = with_u32(DpActionType::TunnelPop,
                              static_cast<uint32_t>(t) | uint32_t(udp_port) << 16);
        a.port = tunnel_port;
        return a;
    }
    // TunnelPop's arguments, as tunnel_pop() packed them.
    encap::TunnelType pop_type() const { return static_cast<encap::TunnelType>(arg.u32 & 0xff); }
    uint16_t pop_udp_port() const { return static_cast<uint16_t>(arg.u32 >> 16); }
    bool operator==(const DpAction& o) const;

private:
    static DpAction of(DpActionType t) {
        DpAction a{};
        a.type = t;
        return a;
    }
    static DpAction with_mac(DpActionType t, const uint8_t mac[6]) {
        DpAction a = of(t);
        for (int i = 0; i < 6; i++) a.arg.mac[i] = mac[i];
        return a;
    }
    static DpAction with_u16(DpActionType t, uint16_t v) {
        DpAction a = of(t);
        a.arg.u16 = v;
        return a;
    }
    static DpAction with_u32(DpActionType t, uint32_t v) {
        DpAction a = of(t);
        a.arg.u32 = v;
        return a;
    }
};

// An empty list means drop (counted under "flow_drop").
//
// The actions plus the out-of-line data some of them need: TunnelPush's outer header
// template (64 bytes, too big for a DpAction) lives in `tunnels`, DhcpReply's answer in
// `dhcp`, so they are immutable and freed together with the list (one RCU lifetime, no
// shared table). (`dhcp` sits in the padding before a Megaflow's keys: no bigger.)
//
// Up to kInline actions are stored in the object itself (small_vector): a megaflow holds
// its list inline (megaflow.h), so executing it touches no other allocation.
inline constexpr size_t kDpInlineActions = 4;

struct DpActionList : boost::container::small_vector<DpAction, kDpInlineActions> {
    static constexpr size_t kInline = kDpInlineActions;
    using Base = boost::container::small_vector<DpAction, kInline>;
    using Base::Base;
    DpActionList() = default;
    DpActionList(std::initializer_list<DpAction> il) : Base(il) {}
    std::vector<encap::TunnelHeader> tunnels;

    // Appends TunnelPush for h (its template stored in `tunnels`).
    void push_tunnel(const encap::TunnelHeader& h) {
        DpAction a{};
        a.type = DpActionType::TunnelPush;
        a.port = static_cast<uint32_t>(tunnels.size());
        tunnels.push_back(h);
        push_back(a);
    }
    const encap::TunnelHeader& tunnel(const DpAction& push) const { return tunnels[push.port]; }
    std::vector<encap::DhcpConfig> dhcp;

    // DhcpReply for c (stored in `dhcp`); not appended: the caller places it.
    DpAction dhcp_reply(const encap::DhcpConfig& c) {
        DpAction a{};
        a.type = DpActionType::DhcpReply;
        a.port = static_cast<uint32_t>(dhcp.size());
        dhcp.push_back(c);
        return a;
    }
    void clear() {
        Base::clear();
        tunnels.clear();
        dhcp.clear();
    }
    bool operator==(const DpActionList& o) const;
};

// Human-readable form for dump-dpflows and trace, e.g. "output:2,output:3" or "drop".
// port_name maps a datapath port number to a name (may return "" for unknown).
std::string dp_actions_to_string(const DpActionList& acts,
                                 const std::function<std::string(uint32_t)>& port_name = {});

}  // namespace vswitch
