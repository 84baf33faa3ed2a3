// The VPC compiler: turns model objects into pipeline rules (ovs-ofctl flow text) under
// one cookie per object, so a change to one object adds and deletes exactly that
// object's rules (delete = "every rule with this cookie"). The layout of the tables is
// docs/vpc.md's; in short:
//
//   table 0   classify   VM port: own MAC+IP -> metadata = VPC|from-VM, reg6 = binding,
//                        IP -> 41, ARP -> 40; anything else from the port -> drop
//                        (vpc_spoofed); a DHCP request from the port's MAC -> dhcp_reply
//                        (its first IP, the subnet's mask, gateway and DNS servers,
//                        the VM MTU).
//                        Tunnel port: (VNI, remote host) -> metadata =
//                        VPC, -> 43; known VNI, unknown host -> drop (vpc_unknown_host);
//                        unknown VNI -> drop (vpc_unknown_vni).
//   table 40  ARP        request for a known IP (binding, endpoint, gateway) ->
//                        arp_reply; other ARP -> drop (vpc_no_route). No ARP crosses the
//                        overlay.
//   table 41  egress     per source binding (reg6): its egress rules -> 42; default
//                        allow (no egress rules) or deny (vpc_security_denied).
//   table 42  route      from a VM, ping of a subnet's gateway: icmp_echo_reply; to the
//                        router MAC with TTL 1: icmp_error time exceeded from the
//                        sender's gateway; other IP to the router MAC, from a VM:
//                        mod_dl_src, dec_ttl -> 43; else -> 43
//   table 43  forward    by destination IP: local -> mod_dl_dst, reg7 = binding -> 44;
//                        remote (only from a VM) -> mod_dl_dst, tun_id, tun_dst,
//                        output to the tunnel port; else drop (vpc_no_route).
//   table 44  ingress    per destination binding (reg7): its ingress rules -> output;
//                        default deny (vpc_security_denied).
//
// Rules that name a port (a bound VM port, the tunnel port) are only emitted while the
// port exists (PortExists); the manager recompiles the objects naming a port when it
// comes or goes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "overlay/vpc/vpc_model.h"

namespace vswitch::vpc {

inline constexpr unsigned kTableClassify = 0;
inline constexpr unsigned kTableArp = 40;
inline constexpr unsigned kTableEgress = 41;
inline constexpr unsigned kTableRoute = 42;
inline constexpr unsigned kTableForward = 43;
inline constexpr unsigned kTableIngress = 44;

inline constexpr uint16_t kPrioDhcp = 40200;      // table 0: a VM's DHCP requests (renewals
                                                  // come from its IP: above kPrioAllow)
inline constexpr uint16_t kPrioAllow = 40100;     // table 0: admitted traffic
inline constexpr uint16_t kPrioGuard = 40000;     // table 0: spoof / unknown-host drops
inline constexpr uint16_t kPrioUnknownVni = 1;    // table 0: anything else on a tunnel port
inline constexpr uint16_t kPrioRule = 200;        // tables 41, 44: security rules
inline constexpr uint16_t kPrioService = 150;     // table 42: the gateway's own answers (ping)
inline constexpr uint16_t kPrioTtl = 140;         // table 42: TTL 1 to the router: time exceeded
inline constexpr uint16_t kPrioObject = 100;      // tables 40-44: per-object rules
inline constexpr uint16_t kPrioMiss = 1;          // tables 40, 42, 43: per-VPC defaults

// metadata = VPC index, plus this bit when the packet came from a local VM.
inline constexpr uint64_t kFromVm = uint64_t{1} << 32;

// Cookie: 0x56 | VPC index (16 bits) | kind (8 bits) | object id (32 bits).
enum class Kind : uint8_t {
    Global = 1,          // VPC 0: unknown-VNI drop per tunnel port (id = encap + 1)
    Vpc = 2,             // per VPC: unknown-host drop, routing, table-miss drops
    Subnet = 3,          // gateway ARP, ping, time exceeded
    Binding = 4,         // classify, spoof drop, ARP, forward, ingress default
    EgressDefault = 5,   // id = binding id
    Endpoint = 6,        // ARP, forward to the tunnel
    Host = 7,            // tunnel classify for (VNI, host)
    Rule = 8,            // one security rule
    Dhcp = 9,            // a binding's DHCP answer (id = binding id)
};
inline constexpr uint64_t kCookieTag = 0x56;
inline constexpr uint64_t kCookieTagMask = 0xff00000000000000ull;
inline constexpr uint64_t kCookieVpcMask = 0xffffff0000000000ull;

constexpr uint64_t make_cookie(uint16_t vpc, Kind k, uint32_t id) {
    return kCookieTag << 56 | uint64_t{vpc} << 40 | uint64_t{static_cast<uint8_t>(k)} << 32 | id;
}
constexpr bool is_vpc_cookie(uint64_t c) { return (c >> 56) == kCookieTag; }
constexpr uint16_t cookie_vpc(uint64_t c) { return static_cast<uint16_t>(c >> 40); }
constexpr Kind cookie_kind(uint64_t c) { return static_cast<Kind>(static_cast<uint8_t>(c >> 32)); }
constexpr uint32_t cookie_id(uint64_t c) { return static_cast<uint32_t>(c); }
// A canonical saved flow line ("cookie=0x56...,table=...") made by the compiler: such
// rules are the VPC manager's and are not saved as flows.
bool is_vpc_flow_text(std::string_view line);

class RuleSink {
public:
    virtual ~RuleSink() = default;
    virtual void add(uint64_t cookie, std::string flow) = 0;
    virtual void del(uint64_t cookie) = 0;
};

// A sink that keeps everything (tests, benchmarks).
struct RecordingSink final : RuleSink {
    std::vector<std::pair<uint64_t, std::string>> added;
    std::vector<uint64_t> deleted;
    void add(uint64_t cookie, std::string flow) override { added.emplace_back(cookie, std::move(flow)); }
    void del(uint64_t cookie) override { deleted.push_back(cookie); }
};

struct CompilerOptions {
    std::string vxlan_port = "vxlan0";
    std::string gre_port = "gre0";
    uint16_t underlay_mtu = 1500;   // largest outer IP packet (set-uplink mtu=)
};

// The IP MTU a VM of a VPC with encapsulation e gets by DHCP (option 26): what fits in
// an underlay packet of underlay_mtu bytes, so nothing it sends is refused as too big
// (tunnel_mtu_exceeded): the encapsulation's template length (encap::kVxlanOverhead,
// kGreOverhead: outer headers, and the inner Ethernet header the VM's MTU does not
// count, are the same 14 bytes) less. The truth even when small (set-uplink allows 576, so 526 for
// VXLAN): a bigger value would only turn into drops. At least 68, option 26's minimum.
uint16_t vm_mtu(uint16_t underlay_mtu, Encap e);
inline constexpr uint32_t kDhcpLease = 86400;   // seconds: the binding is the lease

class Compiler {
public:
    using PortExists = std::function<bool(std::string_view)>;
    Compiler(CompilerOptions opts, PortExists exists)
        : opts_(std::move(opts)), exists_(std::move(exists)) {}

    const std::string& tunnel_port(Encap e) const {
        return e == Encap::Gre ? opts_.gre_port : opts_.vxlan_port;
    }
    bool port_exists(std::string_view name) const { return !exists_ || exists_(name); }
    uint16_t underlay_mtu() const { return opts_.underlay_mtu; }
    void set_underlay_mtu(uint16_t mtu) { opts_.underlay_mtu = mtu; }

    static uint64_t global_cookie(Encap e) { return make_cookie(0, Kind::Global, uint32_t(e) + 1); }
    static uint64_t vpc_cookie(const Vpc& v) { return make_cookie(v.index, Kind::Vpc, 0); }
    static uint64_t subnet_cookie(const Vpc& v, const Subnet& s) { return make_cookie(v.index, Kind::Subnet, s.id); }
    static uint64_t binding_cookie(const Vpc& v, const Binding& b) { return make_cookie(v.index, Kind::Binding, b.id); }
    static uint64_t egress_default_cookie(const Vpc& v, const Binding& b) {
        return make_cookie(v.index, Kind::EgressDefault, b.id);
    }
    static uint64_t endpoint_cookie(const Vpc& v, const Endpoint& e) { return make_cookie(v.index, Kind::Endpoint, e.id); }
    static uint64_t host_cookie(const Vpc& v, const HostRef& h) { return make_cookie(v.index, Kind::Host, h.id); }
    static uint64_t rule_cookie(const Vpc& v, const SecurityRule& r) { return make_cookie(v.index, Kind::Rule, r.id); }
    static uint64_t dhcp_cookie(const Vpc& v, const Binding& b) { return make_cookie(v.index, Kind::Dhcp, b.id); }

    // Each emits the rules of one object under its cookie (RuleSink::add only).
    void global(Encap e, RuleSink& out) const;
    void vpc(const Vpc& v, RuleSink& out) const;
    void subnet(const Vpc& v, const Subnet& s, RuleSink& out) const;
    void binding(const Vpc& v, const Binding& b, RuleSink& out) const;
    void egress_default(const Vpc& v, const Binding& b, RuleSink& out) const;
    void endpoint(const Vpc& v, const Endpoint& e, RuleSink& out) const;
    void host(const Vpc& v, uint32_t host_ip, const HostRef& h, RuleSink& out) const;
    void rule(const Vpc& v, const Binding& b, const SecurityRule& r, RuleSink& out) const;
    // The DHCP server of a bound port (none without IPs). Depends on the underlay MTU.
    void dhcp(const Vpc& v, const Binding& b, RuleSink& out) const;

    // Every rule of a VPC (not the global ones), and the cookies they use.
    void all(const Vpc& v, RuleSink& out) const;
    void del_all(const Vpc& v, RuleSink& out) const;

private:
    CompilerOptions opts_;
    PortExists exists_;
};

// (value, mask) pairs whose union is exactly [lo, hi]; {(0, 0)} for 0-65535.
std::vector<std::pair<uint16_t, uint16_t>> port_range_masks(uint16_t lo, uint16_t hi);

}  // namespace vswitch::vpc
