// Shared by the vpc unit tests: a port directory with VM ports and the tunnel ports, a
// real Ofproto (with an underlay and neighbors, so tunnel outputs translate), a
// VpcManager on it, and shorthands for ops and traces.
#pragma once

#include <arpa/inet.h>

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "ofproto/flow_parser.h"
#include "ofproto/neighbors.h"
#include "ofproto/ofproto.h"
#include "ofproto/overlay_config.h"
#include "overlay/vpc/vpc_manager.h"
#include "switch/dp_actions.h"

namespace vswitch::vpctest {

using namespace vswitch::vpc;

// vm1..vm6 = 1,2,4,5,6,7; up0 = 3 (the uplink); vxlan0 = 10, gre0 = 11. Ports can be
// removed/added by tests (present).
class Ports : public PortDirectory {
public:
    std::map<std::string, uint32_t, std::less<>> by_name{
        {"vm1", 1}, {"vm2", 2}, {"up0", 3}, {"vm3", 4}, {"vm4", 5},
        {"vm5", 6}, {"vm6", 7}, {"vxlan0", 10}, {"gre0", 11}};
    std::optional<uint32_t> port_number(std::string_view name) const override {
        auto it = by_name.find(name);
        if (it == by_name.end()) return std::nullopt;
        return it->second;
    }
    std::string port_name(uint32_t no) const override {
        for (auto& [n, p] : by_name)
            if (p == no) return n;
        return "";
    }
};

inline uint32_t be_ip(const char* s) {
    in_addr a{};
    inet_pton(AF_INET, s, &a);
    return a.s_addr;
}

struct Env {
    Ports ports;
    Ofproto ofp{ports, nullptr};
    VpcManager mgr{ofp, [this](std::string_view n) { return ports.port_number(n).has_value(); }};

    // Underlay 192.0.2.1 on up0; remote hosts 192.0.2.2 .. .9 are neighbors.
    void underlay() {
        ofp::OverlayConfig cfg;
        cfg.underlay.port = 3;
        cfg.underlay.local_ip = be_ip("192.0.2.1");
        cfg.underlay.prefix_len = 24;
        const uint8_t mac[6] = {2, 0, 0, 0, 1, 1};
        std::memcpy(cfg.underlay.mac, mac, 6);
        cfg.underlay.mtu = 1600;
        TunnelPortConfig vx;
        vx.type = encap::TunnelType::Vxlan;
        TunnelPortConfig gre;
        gre.type = encap::TunnelType::Gre;
        cfg.tunnels[10] = vx;
        cfg.tunnels[11] = gre;
        ofp.set_overlay(cfg);
        for (int h = 2; h <= 9; h++) {
            const uint8_t nmac[6] = {2, 0, 0, 0, 2, static_cast<uint8_t>(h)};
            ofp.neighbors().set_static(be_ip(("192.0.2." + std::to_string(h)).c_str()), nmac);
        }
    }

    VpcError apply(std::vector<Op> ops, uint64_t gen = 0, BatchResult* res = nullptr) {
        BatchResult r;
        VpcError e = mgr.apply(gen, ops, r);
        if (res) *res = r;
        return e;
    }

    // Every rule, canonical (order-independent comparison of pipelines).
    std::multiset<std::string> rules() const {
        auto v = ofp.serialize();
        return {v.begin(), v.end()};
    }

    // What the model holds, comparable.
    std::string model_text() const {
        std::string s;
        for (const auto& [name, v] : mgr.model().vpcs) {
            VpcSpec sp = to_spec(*v);
            s += name + " vni=" + std::to_string(sp.vni) + " " + sp.encap + " gen=" +
                 std::to_string(v->generation) + " index=" + std::to_string(v->index) + "\n";
            for (auto& x : sp.subnets) s += "  subnet " + x.cidr + " gw " + x.gateway + "\n";
            for (auto& x : sp.bindings) {
                s += "  bind " + x.port + " " + x.mac;
                for (auto& ip : x.ips) s += " " + ip;
                s += "\n";
            }
            for (auto& x : sp.endpoints) s += "  ep " + x.mac + " " + x.ip + " " + x.host + "\n";
            for (auto& x : sp.rules)
                s += "  rule " + x.port + " " + x.direction + " " + x.protocol + " " + x.cidr + " " +
                     std::to_string(x.port_min) + "-" + std::to_string(x.port_max) + "\n";
            for (auto& [ip, h] : v->hosts) s += "  host " + format_ip(ip) + " refs " + std::to_string(h.refs) + "\n";
        }
        for (auto& [n, g] : mgr.model().tombstones) s += "tomb " + n + " " + std::to_string(g) + "\n";
        for (auto& [p, n] : mgr.model().port_owner) s += "owner " + p + " " + n + "\n";
        return s;
    }

    // Trace lines of a packet.
    std::vector<std::string> trace(const std::string& packet) const {
        std::vector<std::string> lines;
        FlowError e = ofp.trace(packet, lines);
        INFO(packet << ": " << e.message);
        REQUIRE(!e);
        return lines;
    }
    // The "Datapath actions:" of a packet.
    std::string actions(const std::string& packet) const {
        auto lines = trace(packet);
        std::string all;
        for (auto& l : lines) all += l + "\n";
        INFO(all);
        REQUIRE(lines.back().rfind("Datapath actions: ", 0) == 0);
        return lines.back().substr(18);
    }
    // Translates a packet (match syntax, as trace) and credits every rule on its path with
    // n packets, as the datapath's revalidator would. Returns the datapath actions.
    std::string send(const std::string& packet, uint64_t n = 1) {
        ofp::FlowFilter f;
        FlowError e = ofp::parse_filter(packet, ports, f);
        INFO(packet << ": " << e.message);
        REQUIRE(!e);
        FlowKey key = f.match.value();
        if (key.dl_type == htons(0x0800) && !key.nw_ttl) key.nw_ttl = 64;
        Translation t;
        ofp.translate(key, t);
        for (auto& r : t.rules) r->credit(n, 64 * n, 1);
        return dp_actions_to_string(t.actions, [this](uint32_t no) { return ports.port_name(no); });
    }
    bool trace_has(const std::string& packet, const std::string& text) const {
        for (auto& l : trace(packet))
            if (l.find(text) != std::string::npos) return true;
        return false;
    }
};

// ---------------------------------------------------------------- op shorthands

inline Op create_vpc(std::string vpc, uint32_t vni, std::string encap = "vxlan") {
    Op o;
    o.kind = OpKind::CreateVpc;
    o.vpc = std::move(vpc);
    o.vni = vni;
    o.encap = std::move(encap);
    return o;
}
inline Op delete_vpc(std::string vpc) {
    Op o;
    o.kind = OpKind::DeleteVpc;
    o.vpc = std::move(vpc);
    return o;
}
inline Op add_subnet(std::string vpc, std::string cidr, std::string gw = "", std::vector<std::string> dns = {}) {
    Op o;
    o.kind = OpKind::AddSubnet;
    o.vpc = std::move(vpc);
    o.subnet = {std::move(cidr), std::move(gw), std::move(dns)};
    return o;
}
inline Op del_subnet(std::string vpc, std::string cidr) {
    Op o = add_subnet(std::move(vpc), std::move(cidr));
    o.kind = OpKind::DelSubnet;
    return o;
}
inline Op bind(std::string vpc, std::string port, std::string mac, std::vector<std::string> ips) {
    Op o;
    o.kind = OpKind::Bind;
    o.vpc = std::move(vpc);
    o.binding = {std::move(port), std::move(mac), std::move(ips)};
    return o;
}
inline Op unbind(std::string vpc, std::string port) {
    Op o;
    o.kind = OpKind::Unbind;
    o.vpc = std::move(vpc);
    o.binding.port = std::move(port);
    return o;
}
inline Op add_endpoint(std::string vpc, std::string mac, std::string ip, std::string host) {
    Op o;
    o.kind = OpKind::AddEndpoint;
    o.vpc = std::move(vpc);
    o.endpoint = {std::move(mac), std::move(ip), std::move(host)};
    return o;
}
inline Op del_endpoint(std::string vpc, std::string mac) {
    Op o;
    o.kind = OpKind::DelEndpoint;
    o.vpc = std::move(vpc);
    o.endpoint.mac = std::move(mac);
    return o;
}
inline Op add_rule(std::string vpc, std::string port, std::string dir, std::string proto,
                   std::string cidr = "", uint32_t lo = 0, uint32_t hi = 0) {
    Op o;
    o.kind = OpKind::AddRule;
    o.vpc = std::move(vpc);
    o.rule = {std::move(port), std::move(dir), std::move(proto), std::move(cidr), lo, hi};
    return o;
}
inline Op del_rule(std::string vpc, std::string port, std::string dir, std::string proto,
                   std::string cidr = "", uint32_t lo = 0, uint32_t hi = 0) {
    Op o = add_rule(std::move(vpc), std::move(port), std::move(dir), std::move(proto),
                    std::move(cidr), lo, hi);
    o.kind = OpKind::DelRule;
    return o;
}

// The example VPC: blue (VNI 5001), 10.1.0.0/24 and 10.1.1.0/24, vm1 =
// 10.1.0.11, vm2 = 10.1.1.12 (another subnet), a remote endpoint 10.1.0.27 on
// 192.0.2.2.
inline std::vector<Op> blue() {
    return {
        create_vpc("blue", 5001),
        add_subnet("blue", "10.1.0.0/24", "10.1.0.1"),
        add_subnet("blue", "10.1.1.0/24", "10.1.1.1"),
        bind("blue", "vm1", "52:54:00:00:00:01", {"10.1.0.11"}),
        bind("blue", "vm2", "52:54:00:00:00:02", {"10.1.1.12"}),
        add_endpoint("blue", "52:54:00:00:01:07", "10.1.0.27", "192.0.2.2"),
    };
}

}  // namespace vswitch::vpctest
