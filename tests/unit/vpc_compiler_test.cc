// The VPC compiler: the exact rules of every kind of object, cookies, port ranges, rules
// that wait for their port, and two VPCs with the same addresses compiled into disjoint
// rules.
#include <random>
#include <sstream>

#include "vpc_fixture.h"

using namespace vswitch;
using namespace vswitch::vpc;
using namespace vswitch::vpctest;

namespace {

std::vector<std::string> texts(const RecordingSink& s) {
    std::vector<std::string> v;
    for (auto& [c, f] : s.added) v.push_back(f);
    return v;
}

}  // namespace

TEST_CASE("vpc compiler: cookies", "[vpc]") {
    constexpr uint64_t c = make_cookie(0x1234, Kind::Endpoint, 0xdeadbeef);
    STATIC_REQUIRE(c == 0x56123406deadbeefull);
    STATIC_REQUIRE(is_vpc_cookie(c));
    STATIC_REQUIRE(cookie_vpc(c) == 0x1234);
    STATIC_REQUIRE(cookie_kind(c) == Kind::Endpoint);
    STATIC_REQUIRE(cookie_id(c) == 0xdeadbeef);
    STATIC_REQUIRE(!is_vpc_cookie(0x1f));
    CHECK(is_vpc_flow_text("cookie=0x5600010400000003,table=0,priority=40100,ip actions=drop"));
    CHECK_FALSE(is_vpc_flow_text("cookie=0x56,table=0 actions=drop"));
    CHECK_FALSE(is_vpc_flow_text("cookie=0x560001040000000300,table=0 actions=drop"));
    CHECK_FALSE(is_vpc_flow_text("table=0,priority=1 actions=drop"));
}

TEST_CASE("vpc compiler: port ranges as value/mask pairs", "[vpc]") {
    using P = std::vector<std::pair<uint16_t, uint16_t>>;
    CHECK(port_range_masks(22, 22) == P{{22, 0xffff}});
    CHECK(port_range_masks(0, 65535) == P{{0, 0}});
    CHECK(port_range_masks(1024, 2047) == P{{1024, 0xfc00}});
    CHECK(port_range_masks(80, 83) == P{{80, 0xfffc}});
    CHECK(port_range_masks(1, 3) == P{{1, 0xffff}, {2, 0xfffe}});
    CHECK(port_range_masks(65535, 65535) == P{{65535, 0xffff}});
    CHECK(port_range_masks(1, 65535).size() == 16);
    // Exactly [lo, hi], checked by brute force on random ranges.
    std::mt19937 rng(7);
    for (int t = 0; t < 200; t++) {
        uint16_t a = static_cast<uint16_t>(rng()), b = static_cast<uint16_t>(rng());
        if (a > b) std::swap(a, b);
        if (t % 3 == 0) b = static_cast<uint16_t>(std::min<uint32_t>(a + rng() % 50, 65535));
        auto ms = port_range_masks(a, b);
        CHECK(ms.size() <= 30);
        for (uint32_t p = 0; p <= 65535; p += (t % 5 ? 7 : 1)) {
            bool in = false;
            for (auto [v, m] : ms) in |= (p & m) == v;
            if (in != (p >= a && p <= b)) FAIL("port " << p << " range " << a << "-" << b);
        }
    }
}

TEST_CASE("vpc compiler: the VM MTU is what the underlay carries", "[vpc]") {
    CHECK(vm_mtu(1500, Encap::Vxlan) == 1450);
    CHECK(vm_mtu(1500, Encap::Gre) == 1458);
    CHECK(vm_mtu(9000, Encap::Vxlan) == 8950);
    CHECK(vm_mtu(1600, Encap::Gre) == 1558);
    CHECK(vm_mtu(576, Encap::Vxlan) == 526);   // set-uplink's smallest: the truth, not 576
    CHECK(vm_mtu(576, Encap::Gre) == 534);
    CHECK(vm_mtu(100, Encap::Vxlan) == 68);    // option 26's minimum
    CHECK(vm_mtu(0, Encap::Gre) == 68);
}

TEST_CASE("vpc compiler: the rules of each object", "[vpc]") {
    Env env;
    REQUIRE(!env.apply(blue()));
    const Vpc& v = *env.mgr.model().find("blue");
    const Compiler& c = env.mgr.compiler();
    REQUIRE(v.index == 1);

    SECTION("VPC") {
        RecordingSink s;
        c.vpc(v, s);
        CHECK(texts(s) == std::vector<std::string>{
            "table=0,priority=40000,cookie=0x5600010200000000,in_port=vxlan0,tun_id=0x1389 actions=drop:vpc_unknown_host",
            "table=40,priority=1,cookie=0x5600010200000000,metadata=0x1/0xffffffff actions=drop:vpc_no_route",
            "table=42,priority=100,cookie=0x5600010200000000,ip,metadata=0x100000001,dl_dst=0a:56:00:00:13:89 actions=mod_dl_src:0a:56:00:00:13:89,dec_ttl,goto_table:43",
            "table=42,priority=1,cookie=0x5600010200000000,metadata=0x1/0xffffffff actions=goto_table:43",
            "table=43,priority=1,cookie=0x5600010200000000,metadata=0x1/0xffffffff actions=drop:vpc_no_route",
        });
    }
    SECTION("global") {
        RecordingSink s;
        c.global(Encap::Vxlan, s);
        c.global(Encap::Gre, s);
        CHECK(texts(s) == std::vector<std::string>{
            "table=0,priority=1,cookie=0x5600000100000001,in_port=vxlan0 actions=drop:vpc_unknown_vni",
            "table=0,priority=1,cookie=0x5600000100000002,in_port=gre0 actions=drop:vpc_unknown_vni",
        });
    }
    SECTION("subnet: the gateway answers ARP, its VMs' ping, and TTL 1 with time exceeded") {
        RecordingSink s;
        c.subnet(v, v.subnets.begin()->second, s);
        CHECK(texts(s) == std::vector<std::string>{
            "table=40,priority=100,cookie=0x5600010300000001,arp,metadata=0x1/0xffffffff,arp_op=1,arp_tpa=10.1.0.1 actions=arp_reply:0a:56:00:00:13:89",
            "table=42,priority=150,cookie=0x5600010300000001,icmp,metadata=0x100000001,dl_dst=0a:56:00:00:13:89,nw_dst=10.1.0.1,icmp_type=8,icmp_code=0 actions=icmp_echo_reply",
            "table=42,priority=140,cookie=0x5600010300000001,ip,metadata=0x100000001,dl_dst=0a:56:00:00:13:89,nw_src=10.1.0.0/24,nw_ttl=1 actions=icmp_error(type=11,code=0,src=10.1.0.1)",
        });
    }
    SECTION("binding") {
        RecordingSink s;
        const Binding& b = v.bindings.at("vm1");
        REQUIRE(b.id == 3);
        c.binding(v, b, s);
        c.egress_default(v, b, s);
        CHECK(texts(s) == std::vector<std::string>{
            "table=0,priority=40100,cookie=0x5600010400000003,ip,in_port=vm1,dl_src=52:54:00:00:00:01,nw_src=10.1.0.11 actions=load:0x3->NXM_NX_REG6[],write_metadata:0x100000001,goto_table:41",
            "table=0,priority=40100,cookie=0x5600010400000003,arp,in_port=vm1,dl_src=52:54:00:00:00:01,arp_spa=10.1.0.11 actions=write_metadata:0x100000001,goto_table:40",
            "table=40,priority=100,cookie=0x5600010400000003,arp,metadata=0x1/0xffffffff,arp_op=1,arp_tpa=10.1.0.11 actions=arp_reply:52:54:00:00:00:01",
            "table=43,priority=100,cookie=0x5600010400000003,ip,metadata=0x1/0xffffffff,nw_dst=10.1.0.11 actions=mod_dl_dst:52:54:00:00:00:01,load:0x3->NXM_NX_REG7[],goto_table:44",
            "table=0,priority=40000,cookie=0x5600010400000003,in_port=vm1 actions=drop:vpc_spoofed",
            "table=44,priority=100,cookie=0x5600010400000003,reg7=0x3 actions=drop:vpc_security_denied",
            "table=41,priority=100,cookie=0x5600010500000003,reg6=0x3 actions=goto_table:42",
        });
    }
    SECTION("DHCP: the port's first IP, its subnet's mask and gateway, the VM MTU") {
        RecordingSink s;
        c.dhcp(v, v.bindings.at("vm1"), s);
        CHECK(texts(s) == std::vector<std::string>{
            "table=0,priority=40200,cookie=0x5600010900000003,udp,in_port=vm1,dl_src=52:54:00:00:00:01,tp_src=68,tp_dst=67 actions=dhcp_reply(mac=0a:56:00:00:13:89,server=10.1.0.1,ip=10.1.0.11,mask=255.255.255.0,router=10.1.0.1,mtu=1450,lease=86400)",
        });
        // The subnet's DNS servers.
        REQUIRE(!env.apply({add_subnet("blue", "10.1.7.0/24", "", {"10.1.7.2", "8.8.8.8"}),
                            bind("blue", "vm3", "52:54:00:00:00:03", {"10.1.7.5"})}));
        RecordingSink d;
        c.dhcp(v, v.bindings.at("vm3"), d);
        REQUIRE(d.added.size() == 1);
        CHECK(d.added[0].second.find("ip=10.1.7.5,mask=255.255.255.0,router=10.1.7.1,dns=10.1.7.2,dns=8.8.8.8,mtu=1450,") !=
              std::string::npos);
        // No IPs, no server.
        Binding bare = v.bindings.at("vm1");
        bare.ips.clear();
        RecordingSink none;
        c.dhcp(v, bare, none);
        CHECK(none.added.empty());
    }
    SECTION("binding with two IPs: four rules per IP, three per binding") {
        REQUIRE(!env.apply({add_subnet("blue", "10.1.2.0/24"),
                            bind("blue", "vm3", "52:54:00:00:00:03", {"10.1.2.5", "10.1.0.13"})}));
        RecordingSink s;
        c.binding(v, v.bindings.at("vm3"), s);
        CHECK(s.added.size() == 2 * 4 + 2);
    }
    SECTION("endpoint: ARP answer, forward into the tunnel with VNI and host") {
        RecordingSink s;
        const Endpoint& e = v.endpoints.begin()->second;
        c.endpoint(v, e, s);
        c.host(v, e.host, v.hosts.at(e.host), s);
        CHECK(texts(s) == std::vector<std::string>{
            "table=40,priority=100,cookie=0x5600010600000005,arp,metadata=0x1/0xffffffff,arp_op=1,arp_tpa=10.1.0.27 actions=arp_reply:52:54:00:00:01:07",
            "table=43,priority=100,cookie=0x5600010600000005,ip,metadata=0x100000001,nw_dst=10.1.0.27 actions=mod_dl_dst:52:54:00:00:01:07,set_field:0x1389->tun_id,set_field:192.0.2.2->tun_dst,output:vxlan0",
            "table=0,priority=40100,cookie=0x5600010700000006,in_port=vxlan0,tun_id=0x1389,tun_src=192.0.2.2 actions=write_metadata:0x1,goto_table:43",
        });
    }
    SECTION("security rules") {
        REQUIRE(!env.apply({add_rule("blue", "vm1", "ingress", "tcp", "10.1.0.0/16", 22),
                            add_rule("blue", "vm1", "egress", "udp", "10.1.1.0/24", 1000, 1003),
                            add_rule("blue", "vm1", "ingress", "icmp"),
                            add_rule("blue", "vm1", "egress", "any", "0.0.0.0/0")}));
        RecordingSink s;
        for (const auto& [k, r] : v.rules) c.rule(v, v.bindings.at(k.port), r, s);
        std::multiset<std::string> got;
        for (auto& [ck, f] : s.added) got.insert(f.substr(f.find(",cookie=") + 26));   // drop table/prio/cookie
        CHECK(got == std::multiset<std::string>{
            ",reg7=0x3,tcp,nw_src=10.1.0.0/16,tp_dst=22 actions=output:vm1",
            ",reg6=0x3,udp,nw_dst=10.1.1.0/24,tp_dst=0x3e8/0xfffc actions=goto_table:42",
            ",reg7=0x3,icmp actions=output:vm1",
            ",reg6=0x3,ip actions=goto_table:42",
        });
        for (auto& [ck, f] : s.added) {
            CHECK(cookie_kind(ck) == Kind::Rule);
            CHECK(f.find("priority=200,") != std::string::npos);
        }
        // The egress default is now a deny (the port has egress rules).
        RecordingSink d;
        c.egress_default(v, v.bindings.at("vm1"), d);
        CHECK(texts(d) == std::vector<std::string>{
            "table=41,priority=100,cookie=0x5600010500000003,reg6=0x3 actions=drop:vpc_security_denied"});
    }
    SECTION("rules naming a missing port are not emitted") {
        env.ports.by_name.erase("vm1");
        env.ports.by_name.erase("vxlan0");
        RecordingSink s;
        c.binding(v, v.bindings.at("vm1"), s);
        c.egress_default(v, v.bindings.at("vm1"), s);
        CHECK(s.added.empty());
        c.endpoint(v, v.endpoints.begin()->second, s);
        CHECK(s.added.size() == 1);   // the ARP answer only: no tunnel to forward to
        c.global(Encap::Vxlan, s);
        c.host(v, v.endpoints.begin()->second.host, v.hosts.begin()->second, s);
        CHECK(s.added.size() == 1);
    }
    SECTION("everything parses in the pipeline and saves back with its cookie") {
        RecordingSink s;
        c.all(v, s);
        std::vector<std::string> flows = texts(s);
        size_t before = env.ofp.n_rules();
        REQUIRE(!env.ofp.add_flows(flows));
        CHECK(env.ofp.n_rules() == before);   // the same rules: each replaced itself
        for (const std::string& line : env.ofp.serialize()) {
            INFO(line);
            CHECK(is_vpc_flow_text(line));
        }
        RecordingSink d;
        c.del_all(v, d);
        std::set<uint64_t> cookies(d.deleted.begin(), d.deleted.end());
        for (auto& [ck, f] : s.added) CHECK(cookies.count(ck));
    }
    SECTION("GRE VPCs use gre0") {
        REQUIRE(!env.apply({create_vpc("green", 6001, "gre"), add_subnet("green", "10.1.0.0/24"),
                            add_endpoint("green", "52:54:00:00:02:07", "10.1.0.27", "192.0.2.3")}));
        const Vpc& g = *env.mgr.model().find("green");
        RecordingSink s;
        c.all(g, s);
        int n = 0;
        for (auto& [ck, f] : s.added)
            if (f.find("gre0") != std::string::npos) n++;
            else CHECK(f.find("vxlan0") == std::string::npos);
        CHECK(n == 3);   // unknown host, forward, host
    }
}

namespace {

std::map<std::string, std::string> fields(const std::string& flow) {
    std::map<std::string, std::string> f;
    std::string match = flow.substr(0, flow.find(" actions="));
    std::stringstream ss(match);
    std::string kv;
    while (std::getline(ss, kv, ',')) {
        size_t eq = kv.find('=');
        f[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
    }
    return f;
}

}  // namespace

TEST_CASE("vpc compiler: two VPCs with the same addresses compile into disjoint rules", "[vpc]") {
    Env env;
    const std::vector<std::string> fields_that_separate = {"metadata", "reg6", "reg7", "in_port", "tun_id"};
    for (const char* vpc : {"blue", "green"}) {
        bool g = std::string(vpc) == "green";
        REQUIRE(!env.apply({create_vpc(vpc, g ? 6001 : 5001), add_subnet(vpc, "10.1.0.0/24"),
                            bind(vpc, g ? "vm3" : "vm1", "52:54:00:00:00:01", {"10.1.0.11"}),
                            add_endpoint(vpc, "52:54:00:00:01:07", "10.1.0.27", "192.0.2.2"),
                            add_rule(vpc, g ? "vm3" : "vm1", "ingress", "tcp", "10.1.0.0/24", 22)}));
    }
    RecordingSink blue, green;
    env.mgr.compiler().all(*env.mgr.model().find("blue"), blue);
    env.mgr.compiler().all(*env.mgr.model().find("green"), green);
    REQUIRE(blue.added.size() == green.added.size());
    for (auto& [cb, fb] : blue.added) {
        auto b = fields(fb);
        for (auto& [cg, fg] : green.added) {
            auto g = fields(fg);
            if (b["table"] != g["table"] || b["priority"] != g["priority"]) continue;
            bool disjoint = false;
            for (const auto& k : fields_that_separate)
                if (b.count(k) && g.count(k) && b[k] != g[k]) disjoint = true;
            INFO(fb << "\n" << fg);
            CHECK(disjoint);
        }
    }
}
