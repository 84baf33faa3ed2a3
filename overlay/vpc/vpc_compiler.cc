#include "overlay/vpc/vpc_compiler.h"

#include <cctype>
#include <cstdio>

#include "overlay/encap/tunnel_header.h"

namespace vswitch::vpc {

namespace {

std::string hex(uint64_t v) {
    char b[20];
    snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
    return b;
}

// One flow under construction: "table=T,priority=P,cookie=C[,MATCH...] actions=A[,A...]".
class Flow {
public:
    Flow(unsigned table, unsigned prio, uint64_t cookie) {
        s_.reserve(192);
        s_ += "table=";
        s_ += std::to_string(table);
        s_ += ",priority=";
        s_ += std::to_string(prio);
        s_ += ",cookie=";
        s_ += hex(cookie);
    }
    Flow& m(std::string_view field, std::string_view value) {
        s_ += ',';
        s_ += field;
        if (!value.empty()) {
            s_ += '=';
            s_ += value;
        }
        return *this;
    }
    Flow& a(std::string_view action) {
        s_ += first_action_ ? " actions=" : ",";
        first_action_ = false;
        s_ += action;
        return *this;
    }
    std::string take() { return std::move(s_); }

private:
    std::string s_;
    bool first_action_ = true;
};

std::string meta_any(const Vpc& v) { return hex(v.index) + "/0xffffffff"; }   // from VM or tunnel
std::string meta_vm(const Vpc& v) { return hex(kFromVm | v.index); }          // from a VM only

const char* proto_match(Proto p) {
    switch (p) {
    case Proto::Tcp: return "tcp";
    case Proto::Udp: return "udp";
    case Proto::Icmp: return "icmp";
    case Proto::Any: break;
    }
    return "ip";
}

}  // namespace

bool is_vpc_flow_text(std::string_view line) {
    // Canonical cookies are 0x%llx: a VPC cookie is "0x56" and 14 more hex digits.
    constexpr std::string_view kPrefix = "cookie=0x56";
    if (line.substr(0, kPrefix.size()) != kPrefix) return false;
    size_t n = 0;
    for (size_t i = kPrefix.size(); i < line.size() && std::isxdigit(static_cast<unsigned char>(line[i])); i++) n++;
    return n == 14;
}

std::vector<std::pair<uint16_t, uint16_t>> port_range_masks(uint16_t lo16, uint16_t hi16) {
    std::vector<std::pair<uint16_t, uint16_t>> out;
    uint32_t lo = lo16, hi = hi16;
    while (lo <= hi) {
        uint32_t size = lo ? (lo & (~lo + 1)) : 0x10000;   // largest aligned block at lo
        while (lo + size - 1 > hi) size >>= 1;
        out.emplace_back(static_cast<uint16_t>(lo), static_cast<uint16_t>(~(size - 1) & 0xffff));
        lo += size;
    }
    return out;
}

uint16_t vm_mtu(uint16_t underlay_mtu, Encap e) {
    const uint32_t overhead = e == Encap::Gre ? encap::kGreOverhead : encap::kVxlanOverhead;
    return underlay_mtu > 68 + overhead ? static_cast<uint16_t>(underlay_mtu - overhead) : 68;
}

void Compiler::global(Encap e, RuleSink& out) const {
    const std::string& tun = tunnel_port(e);
    if (!port_exists(tun)) return;
    out.add(global_cookie(e), Flow(kTableClassify, kPrioUnknownVni, global_cookie(e))
                                  .m("in_port", tun)
                                  .a("drop:vpc_unknown_vni")
                                  .take());
}

void Compiler::vpc(const Vpc& v, RuleSink& out) const {
    const uint64_t c = vpc_cookie(v);
    const std::string any = meta_any(v), rmac = format_mac(v.rmac());
    const std::string& tun = tunnel_port(v.encap);
    if (port_exists(tun))
        out.add(c, Flow(kTableClassify, kPrioGuard, c)
                       .m("in_port", tun)
                       .m("tun_id", hex(v.vni))
                       .a("drop:vpc_unknown_host")
                       .take());
    out.add(c, Flow(kTableArp, kPrioMiss, c).m("metadata", any).a("drop:vpc_no_route").take());
    out.add(c, Flow(kTableRoute, kPrioObject, c)
                   .m("ip", "")
                   .m("metadata", meta_vm(v))
                   .m("dl_dst", rmac)
                   .a("mod_dl_src:" + rmac)
                   .a("dec_ttl")
                   .a("goto_table:" + std::to_string(kTableForward))
                   .take());
    out.add(c, Flow(kTableRoute, kPrioMiss, c)
                   .m("metadata", any)
                   .a("goto_table:" + std::to_string(kTableForward))
                   .take());
    out.add(c, Flow(kTableForward, kPrioMiss, c).m("metadata", any).a("drop:vpc_no_route").take());
}

void Compiler::subnet(const Vpc& v, const Subnet& s, RuleSink& out) const {
    const uint64_t c = subnet_cookie(v, s);
    out.add(c, Flow(kTableArp, kPrioObject, c)
                   .m("arp", "")
                   .m("metadata", meta_any(v))
                   .m("arp_op", "1")
                   .m("arp_tpa", format_ip(s.gateway))
                   .a("arp_reply:" + format_mac(v.rmac()))
                   .take());
    // Ping of the gateway, from the VPC's VMs (after their egress rules, as any packet
    // they send); the answer goes straight back, as ARP answers do.
    out.add(c, Flow(kTableRoute, kPrioService, c)
                   .m("icmp", "")
                   .m("metadata", meta_vm(v))
                   .m("dl_dst", format_mac(v.rmac()))
                   .m("nw_dst", format_ip(s.gateway))
                   .m("icmp_type", "8")
                   .m("icmp_code", "0")
                   .a("icmp_echo_reply")
                   .take());
    // What would be routed with TTL 1 gets "time exceeded" from the sender's gateway
    // (traceroute's first hop). Only TTL 1: dec_ttl drops what a host should never send
    // (TTL 0) as ttl_exceeded. Ping of a gateway (above) is not routed, whatever its TTL.
    out.add(c, Flow(kTableRoute, kPrioTtl, c)
                   .m("ip", "")
                   .m("metadata", meta_vm(v))
                   .m("dl_dst", format_mac(v.rmac()))
                   .m("nw_src", format_cidr(s.cidr))
                   .m("nw_ttl", "1")
                   .a("icmp_error(type=11,code=0,src=" + format_ip(s.gateway) + ")")
                   .take());
}

void Compiler::binding(const Vpc& v, const Binding& b, RuleSink& out) const {
    if (!port_exists(b.port)) return;
    const uint64_t c = binding_cookie(v, b);
    const std::string mac = format_mac(b.mac), id = hex(b.id), vm = hex(kFromVm | v.index),
                      any = meta_any(v);
    for (uint32_t ip : b.ips) {
        const std::string sip = format_ip(ip);
        out.add(c, Flow(kTableClassify, kPrioAllow, c)
                       .m("ip", "")
                       .m("in_port", b.port)
                       .m("dl_src", mac)
                       .m("nw_src", sip)
                       .a("load:" + id + "->NXM_NX_REG6[]")
                       .a("write_metadata:" + vm)
                       .a("goto_table:" + std::to_string(kTableEgress))
                       .take());
        out.add(c, Flow(kTableClassify, kPrioAllow, c)
                       .m("arp", "")
                       .m("in_port", b.port)
                       .m("dl_src", mac)
                       .m("arp_spa", sip)
                       .a("write_metadata:" + vm)
                       .a("goto_table:" + std::to_string(kTableArp))
                       .take());
        out.add(c, Flow(kTableArp, kPrioObject, c)
                       .m("arp", "")
                       .m("metadata", any)
                       .m("arp_op", "1")
                       .m("arp_tpa", sip)
                       .a("arp_reply:" + mac)
                       .take());
        out.add(c, Flow(kTableForward, kPrioObject, c)
                       .m("ip", "")
                       .m("metadata", any)
                       .m("nw_dst", sip)
                       .a("mod_dl_dst:" + mac)
                       .a("load:" + id + "->NXM_NX_REG7[]")
                       .a("goto_table:" + std::to_string(kTableIngress))
                       .take());
    }
    out.add(c, Flow(kTableClassify, kPrioGuard, c).m("in_port", b.port).a("drop:vpc_spoofed").take());
    out.add(c, Flow(kTableIngress, kPrioObject, c).m("reg7", id).a("drop:vpc_security_denied").take());
}

// Renewals come unicast from the bound IP to the gateway, first leases from 0.0.0.0 to
// the broadcast address: the rule matches neither address. It answers only the port's
// MAC (dhcp_reply also wants chaddr to be it), so a VM cannot lease for another.
void Compiler::dhcp(const Vpc& v, const Binding& b, RuleSink& out) const {
    if (!port_exists(b.port) || b.ips.empty()) return;
    const Subnet* s = v.subnet_of(b.ips.front());
    if (!s) return;
    const uint64_t c = dhcp_cookie(v, b);
    const std::string gw = format_ip(s->gateway);
    std::string dns;
    for (uint32_t d : s->dns) dns += ",dns=" + format_ip(d);
    out.add(c, Flow(kTableClassify, kPrioDhcp, c)
                   .m("udp", "")
                   .m("in_port", b.port)
                   .m("dl_src", format_mac(b.mac))
                   .m("tp_src", "68")
                   .m("tp_dst", "67")
                   .a("dhcp_reply(mac=" + format_mac(v.rmac()) + ",server=" + gw + ",ip=" +
                      format_ip(b.ips.front()) + ",mask=" + format_ip(s->cidr.mask()) +
                      ",router=" + gw + dns + ",mtu=" + std::to_string(vm_mtu(opts_.underlay_mtu, v.encap)) +
                      ",lease=" + std::to_string(kDhcpLease) + ")")
                   .take());
}

void Compiler::egress_default(const Vpc& v, const Binding& b, RuleSink& out) const {
    if (!port_exists(b.port)) return;
    const uint64_t c = egress_default_cookie(v, b);
    Flow f(kTableEgress, kPrioObject, c);
    f.m("reg6", hex(b.id));
    if (b.n_egress) f.a("drop:vpc_security_denied");
    else f.a("goto_table:" + std::to_string(kTableRoute));
    out.add(c, f.take());
}

void Compiler::endpoint(const Vpc& v, const Endpoint& e, RuleSink& out) const {
    const uint64_t c = endpoint_cookie(v, e);
    const std::string mac = format_mac(e.mac), sip = format_ip(e.ip);
    out.add(c, Flow(kTableArp, kPrioObject, c)
                   .m("arp", "")
                   .m("metadata", meta_any(v))
                   .m("arp_op", "1")
                   .m("arp_tpa", sip)
                   .a("arp_reply:" + mac)
                   .take());
    const std::string& tun = tunnel_port(v.encap);
    if (!port_exists(tun)) return;
    out.add(c, Flow(kTableForward, kPrioObject, c)
                   .m("ip", "")
                   .m("metadata", meta_vm(v))
                   .m("nw_dst", sip)
                   .a("mod_dl_dst:" + mac)
                   .a("set_field:" + hex(v.vni) + "->tun_id")
                   .a("set_field:" + format_ip(e.host) + "->tun_dst")
                   .a("output:" + tun)
                   .take());
}

void Compiler::host(const Vpc& v, uint32_t host_ip, const HostRef& h, RuleSink& out) const {
    const std::string& tun = tunnel_port(v.encap);
    if (!port_exists(tun)) return;
    const uint64_t c = host_cookie(v, h);
    out.add(c, Flow(kTableClassify, kPrioAllow, c)
                   .m("in_port", tun)
                   .m("tun_id", hex(v.vni))
                   .m("tun_src", format_ip(host_ip))
                   .a("write_metadata:" + hex(v.index))
                   .a("goto_table:" + std::to_string(kTableForward))
                   .take());
}

void Compiler::rule(const Vpc& v, const Binding& b, const SecurityRule& r, RuleSink& out) const {
    if (!port_exists(b.port)) return;
    const uint64_t c = rule_cookie(v, r);
    const RuleKey& k = r.key;
    const bool egress = k.dir == Direction::Egress;
    const std::string id = hex(b.id);
    const std::string cidr = k.cidr.len ? format_cidr(k.cidr) : std::string();
    const bool ports = k.proto == Proto::Tcp || k.proto == Proto::Udp;
    std::vector<std::pair<uint16_t, uint16_t>> ranges =
        ports ? port_range_masks(k.port_min, k.port_max) : std::vector<std::pair<uint16_t, uint16_t>>{{0, 0}};
    for (const auto& [value, mask] : ranges) {
        Flow f(egress ? kTableEgress : kTableIngress, kPrioRule, c);
        f.m(egress ? "reg6" : "reg7", id).m(proto_match(k.proto), "");
        if (!cidr.empty()) f.m(egress ? "nw_dst" : "nw_src", cidr);
        if (mask == 0xffff) f.m("tp_dst", std::to_string(value));
        else if (mask) f.m("tp_dst", hex(value) + "/" + hex(mask));
        if (egress) f.a("goto_table:" + std::to_string(kTableRoute));
        else f.a("output:" + b.port);
        out.add(c, f.take());
    }
}

void Compiler::all(const Vpc& v, RuleSink& out) const {
    vpc(v, out);
    for (const auto& [c, s] : v.subnets) subnet(v, s, out);
    for (const auto& [p, b] : v.bindings) {
        binding(v, b, out);
        egress_default(v, b, out);
        dhcp(v, b, out);
    }
    for (const auto& [m, e] : v.endpoints) endpoint(v, e, out);
    for (const auto& [ip, h] : v.hosts) host(v, ip, h, out);
    for (const auto& [k, r] : v.rules) rule(v, v.bindings.at(k.port), r, out);
}

void Compiler::del_all(const Vpc& v, RuleSink& out) const {
    out.del(vpc_cookie(v));
    for (const auto& [c, s] : v.subnets) out.del(subnet_cookie(v, s));
    for (const auto& [p, b] : v.bindings) {
        out.del(binding_cookie(v, b));
        out.del(egress_default_cookie(v, b));
        out.del(dhcp_cookie(v, b));
    }
    for (const auto& [m, e] : v.endpoints) out.del(endpoint_cookie(v, e));
    for (const auto& [ip, h] : v.hosts) out.del(host_cookie(v, h));
    for (const auto& [k, r] : v.rules) out.del(rule_cookie(v, r));
}

}  // namespace vswitch::vpc
