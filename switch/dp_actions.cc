// DpAction equality and the human-readable form of an action list (contract in
// dp_actions.h). Control-path only: string building allocates freely.
//
// Equality compares only the fields an action type uses, so two actions built by
// different code paths compare equal even if unused union bytes differ.
#include "dp_actions.h"

#include <cstdio>
#include <cstring>

#include "drop_reasons.h"

namespace vswitch {

namespace {

enum class ArgKind { None, Port, Mac, U16, U32, U64, PortU32 };

ArgKind arg_kind(DpActionType t) {
    switch (t) {
    case DpActionType::Output: return ArgKind::Port;
    case DpActionType::SetEthSrc:
    case DpActionType::SetEthDst: return ArgKind::Mac;
    case DpActionType::PushVlan:
    case DpActionType::SetTpSrc:
    case DpActionType::SetTpDst: return ArgKind::U16;
    case DpActionType::SetIpv4Src:
    case DpActionType::SetIpv4Dst:
    case DpActionType::SetIpTos:
    case DpActionType::Drop:
    case DpActionType::Recirculate: return ArgKind::U32;
    case DpActionType::ArpReply: return ArgKind::Mac;
    case DpActionType::IcmpError: return ArgKind::U64;
    case DpActionType::PopVlan:
    case DpActionType::DecTtl:
    case DpActionType::IcmpEchoReply:
    case DpActionType::DhcpReply:
    case DpActionType::TunnelPush: return ArgKind::Port;   // the templates compare in the list
    // The struct comment puts the meter id in `port`, the enum comment in arg.u32:
    // compare both so either convention works.
    case DpActionType::TunnelPop:
    case DpActionType::Meter: return ArgKind::PortU32;
    }
    return ArgKind::PortU32;   // unknown type: be strict
}

uint16_t be16_to_host(uint16_t v) { return static_cast<uint16_t>((v >> 8) | (v << 8)); }

std::string ipv4_str(uint32_t be) {
    const auto* b = reinterpret_cast<const uint8_t*>(&be);
    char s[20];
    std::snprintf(s, sizeof s, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    return s;
}

std::string mac_str(const uint8_t* m) {
    char s[24];
    std::snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                  m[5]);
    return s;
}

std::string one_to_string(const DpAction& a,
                          const std::function<std::string(uint32_t)>& port_name) {
    switch (a.type) {
    case DpActionType::Output: {
        if (port_name) {
            std::string n = port_name(a.port);
            if (!n.empty()) return "output:" + n;
        }
        return "output:" + std::to_string(a.port);
    }
    case DpActionType::SetEthSrc: return "set_eth_src(" + mac_str(a.arg.mac) + ")";
    case DpActionType::SetEthDst: return "set_eth_dst(" + mac_str(a.arg.mac) + ")";
    case DpActionType::PushVlan:
        return "push_vlan(vid=" + std::to_string(a.arg.u16 & 0x0fff) +
               ",pcp=" + std::to_string(a.arg.u16 >> 13) + ")";
    case DpActionType::PopVlan: return "pop_vlan";
    case DpActionType::SetIpv4Src: return "set_ipv4_src(" + ipv4_str(a.arg.u32) + ")";
    case DpActionType::SetIpv4Dst: return "set_ipv4_dst(" + ipv4_str(a.arg.u32) + ")";
    case DpActionType::SetIpTos: {
        // Bits 8-15 are the mask of replaced bits; 0 and 0xff both mean the whole byte.
        char s[32];
        const unsigned v = a.arg.u32 & 0xff, mask = (a.arg.u32 >> 8) & 0xff;
        if (mask == 0 || mask == 0xff) std::snprintf(s, sizeof s, "set_tos(0x%02x)", v);
        else std::snprintf(s, sizeof s, "set_tos(0x%02x/0x%02x)", v, mask);
        return s;
    }
    case DpActionType::DecTtl: return "dec_ttl";
    case DpActionType::SetTpSrc: return "set_tp_src(" + std::to_string(be16_to_host(a.arg.u16)) + ")";
    case DpActionType::SetTpDst: return "set_tp_dst(" + std::to_string(be16_to_host(a.arg.u16)) + ")";
    case DpActionType::TunnelPush: return "tunnel_push(" + std::to_string(a.port) + ")";
    case DpActionType::TunnelPop: {
        std::string p = port_name ? port_name(a.port) : "";
        return "tunnel_pop(" + (p.empty() ? std::to_string(a.port) : p) + ")";
    }
    case DpActionType::Drop:
        return std::string("drop(") + drop_reason_name(static_cast<DropReason>(a.arg.u32)) + ")";
    case DpActionType::ArpReply: return "arp_reply(" + mac_str(a.arg.mac) + ")";
    case DpActionType::IcmpEchoReply: return "icmp_echo_reply";
    case DpActionType::DhcpReply: return "dhcp_reply(" + std::to_string(a.port) + ")";
    case DpActionType::IcmpError:
        return "icmp_error(type=" + std::to_string(a.error_type()) + ",code=" + std::to_string(a.error_code()) +
               ",src=" + ipv4_str(__builtin_bswap32(a.error_src())) + ")";
    case DpActionType::Meter: return "meter(" + std::to_string(a.port) + ")";
    case DpActionType::Recirculate: return "recirc(" + std::to_string(a.arg.u32) + ")";
    }
    return "unknown(" + std::to_string(static_cast<unsigned>(a.type)) + ")";
}

// The answer's content, as dump-dpflows shows it.
std::string dhcp_str(const encap::DhcpConfig& c) {
    auto ip = [](uint32_t host) { return ipv4_str(__builtin_bswap32(host)); };
    std::string s = "ip=" + ip(c.client_ip) + ",mask=" + ip(c.netmask) + ",server=" + ip(c.server_ip);
    if (c.router) s += ",router=" + ip(c.router);
    for (unsigned i = 0; i < c.n_dns && i < encap::DhcpConfig::kMaxDns; i++) s += ",dns=" + ip(c.dns[i]);
    if (c.mtu) s += ",mtu=" + std::to_string(c.mtu);
    return s + ",lease=" + std::to_string(c.lease);
}

}  // namespace

bool DpAction::operator==(const DpAction& o) const {
    if (type != o.type) return false;
    switch (arg_kind(type)) {
    case ArgKind::None: return true;
    case ArgKind::Port: return port == o.port;
    case ArgKind::Mac: return std::memcmp(arg.mac, o.arg.mac, sizeof arg.mac) == 0;
    case ArgKind::U16: return arg.u16 == o.arg.u16;
    case ArgKind::U32: return arg.u32 == o.arg.u32;
    case ArgKind::U64: return arg.u64 == o.arg.u64;
    case ArgKind::PortU32: return port == o.port && arg.u32 == o.arg.u32;
    }
    return false;
}

bool DpActionList::operator==(const DpActionList& o) const {
    return static_cast<const Base&>(*this) == static_cast<const Base&>(o) && tunnels == o.tunnels &&
           dhcp == o.dhcp;
}

std::string dp_actions_to_string(const DpActionList& acts,
                                 const std::function<std::string(uint32_t)>& port_name) {
    if (acts.empty()) return "drop";
    std::string out;
    for (const DpAction& a : acts) {
        if (!out.empty()) out += ',';
        if (a.type == DpActionType::TunnelPush && a.port < acts.tunnels.size())
            out += "tunnel_push(" + encap::describe(acts.tunnel(a)) + ")";
        else if (a.type == DpActionType::DhcpReply && a.port < acts.dhcp.size())
            out += "dhcp_reply(" + dhcp_str(acts.dhcp[a.port]) + ")";
        else
            out += one_to_string(a, port_name);
    }
    return out;
}

}  // namespace vswitch
