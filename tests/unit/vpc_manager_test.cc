// VpcManager through a real Ofproto: O(1) rule changes per endpoint, generations and
// idempotent replay, tombstones, full sync (diff, atomicity, errors), ports coming and
// going, reinstall, the commit hook, statistics.
#include "vpc_fixture.h"

using namespace vswitch;
using namespace vswitch::vpc;
using namespace vswitch::vpctest;

namespace {

std::string ep_mac(uint32_t i) {
    char b[18];
    snprintf(b, sizeof b, "52:54:01:%02x:%02x:%02x", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
    return b;
}
std::string ep_ip(uint32_t i) { return format_ip(0x0a000000u + 0x10000u + i + 2); }   // 10.1.0.2+
std::string host_ip(uint32_t i) { return "192.0.2." + std::to_string(2 + i % 8); }

}  // namespace

TEST_CASE("vpc manager: one endpoint change touches O(1) rules, whatever the VPC size", "[vpc]") {
    for (uint32_t n : {10u, 1000u}) {
        Env env;
        REQUIRE(!env.apply({create_vpc("blue", 5001), add_subnet("blue", "10.1.0.0/16"),
                            bind("blue", "vm1", "52:54:00:00:00:01", {"10.1.255.1"})}));
        std::vector<Op> ops;
        for (uint32_t i = 0; i < n; i++) ops.push_back(add_endpoint("blue", ep_mac(i), ep_ip(i), host_ip(i)));
        REQUIRE(!env.apply(ops));
        INFO("VPC with " << n << " endpoints");
        BatchResult r;
        size_t rules = env.ofp.n_rules();
        // On a host already in use: the endpoint's ARP answer and forwarding rule.
        REQUIRE(!env.apply({add_endpoint("blue", ep_mac(n), ep_ip(n), "192.0.2.2")}, 0, &r));
        CHECK(r.rules_added == 2);
        CHECK(r.rules_deleted == 0);
        CHECK(env.ofp.n_rules() == rules + 2);
        REQUIRE(!env.apply({del_endpoint("blue", ep_mac(n))}, 0, &r));
        CHECK(r.rules_added == 0);
        CHECK(r.rules_deleted == 2);
        // On a new host: plus that host's tunnel classification rule, and back.
        REQUIRE(!env.apply({add_endpoint("blue", ep_mac(n), ep_ip(n), "198.51.100.7")}, 0, &r));
        CHECK(r.rules_added == 3);
        REQUIRE(!env.apply({del_endpoint("blue", ep_mac(n))}, 0, &r));
        CHECK(r.rules_deleted == 3);
        CHECK(env.ofp.n_rules() == rules);
        // A move (delete + add in one batch) is 2 + 2, in one pipeline snapshot.
        uint64_t v = env.ofp.version();
        REQUIRE(!env.apply({del_endpoint("blue", ep_mac(0)), add_endpoint("blue", ep_mac(0), ep_ip(0), "192.0.2.5")},
                           0, &r));
        CHECK(r.rules_deleted == 2);
        CHECK(r.rules_added == 2);
        CHECK(env.ofp.version() == v + 1);
        // A security rule: its own rules, plus the egress default flipping for the first
        // egress rule of the port.
        REQUIRE(!env.apply({add_rule("blue", "vm1", "ingress", "tcp", "", 22)}, 0, &r));
        CHECK(r.rules_added == 1);
        REQUIRE(!env.apply({add_rule("blue", "vm1", "egress", "tcp", "", 443)}, 0, &r));
        CHECK(r.rules_added == 2);
        CHECK(r.rules_deleted == 1);
        REQUIRE(!env.apply({add_rule("blue", "vm1", "egress", "tcp", "", 80)}, 0, &r));
        CHECK(r.rules_added == 1);
        CHECK(r.rules_deleted == 0);
    }
}

TEST_CASE("vpc manager: an add and a delete of the same object in one batch cancel out", "[vpc]") {
    Env env;
    REQUIRE(!env.apply(blue()));
    auto rules = env.rules();
    BatchResult r;
    REQUIRE(!env.apply({add_endpoint("blue", "52:54:00:00:09:01", "10.1.0.91", "192.0.2.9"),
                        del_endpoint("blue", "52:54:00:00:09:01")},
                       0, &r));
    CHECK(r.rules_added == 0);
    CHECK(env.rules() == rules);
    // Egress default flipping twice in a batch ends as it started.
    REQUIRE(!env.apply({add_rule("blue", "vm1", "egress", "udp", "", 53), del_rule("blue", "vm1", "egress", "udp", "", 53)},
                       0, &r));
    CHECK(env.rules() == rules);
}

TEST_CASE("vpc manager: generations make replay harmless", "[vpc]") {
    Env env;
    BatchResult r;
    REQUIRE(!env.apply(blue(), 5, &r));
    REQUIRE(r.vpcs.size() == 1);
    CHECK(r.vpcs[0].applied);
    CHECK(r.vpcs[0].generation == 5);
    const auto rules = env.rules();
    const std::string model = env.model_text();
    const uint64_t version = env.ofp.version();

    SECTION("the same batch again: acknowledged, nothing changes") {
        REQUIRE(!env.apply(blue(), 5, &r));
        CHECK_FALSE(r.vpcs[0].applied);
        CHECK(r.vpcs[0].generation == 5);
        CHECK(r.ops_applied == 0);
        CHECK(env.rules() == rules);
        CHECK(env.model_text() == model);
        CHECK(env.ofp.version() == version);
    }
    SECTION("an older batch is skipped, even one that would now be invalid") {
        REQUIRE(!env.apply({add_endpoint("blue", "52:54:00:00:00:01", "10.1.0.11", "192.0.2.2")}, 4, &r));
        CHECK_FALSE(r.vpcs[0].applied);
        CHECK(env.model_text() == model);
    }
    SECTION("a newer batch applies and moves the generation") {
        REQUIRE(!env.apply({add_endpoint("blue", "52:54:00:00:09:01", "10.1.0.91", "192.0.2.2")}, 6, &r));
        CHECK(r.vpcs[0].applied);
        CHECK(env.mgr.model().find("blue")->generation == 6);
        REQUIRE(!env.apply({add_endpoint("blue", "52:54:00:00:09:01", "10.1.0.91", "192.0.2.2")}, 6, &r));
        CHECK_FALSE(r.vpcs[0].applied);
    }
    SECTION("generation 0 applies unconditionally and keeps the generation") {
        REQUIRE(!env.apply({add_endpoint("blue", "52:54:00:00:09:01", "10.1.0.91", "192.0.2.2")}, 0, &r));
        CHECK(r.vpcs[0].applied);
        CHECK(env.mgr.model().find("blue")->generation == 5);
        CHECK(env.apply({add_endpoint("blue", "52:54:00:00:09:01", "10.1.0.91", "192.0.2.2")}, 0));
    }
    SECTION("generations are per VPC: a batch over two VPCs applies where it is new") {
        REQUIRE(!env.apply({create_vpc("red", 7001), add_subnet("red", "10.2.0.0/24")}, 9, &r));
        // Replay of an older two-VPC batch (blue at 5 < 7, red at 9 >= 7).
        REQUIRE(!env.apply({add_endpoint("blue", "52:54:00:00:09:01", "10.1.0.91", "192.0.2.2"),
                            add_subnet("red", "10.2.0.0/24")},
                           7, &r));
        REQUIRE(r.vpcs.size() == 2);
        CHECK(r.vpcs[0].name == "blue");
        CHECK(r.vpcs[0].applied);
        CHECK(r.vpcs[0].generation == 7);
        CHECK(r.vpcs[1].name == "red");
        CHECK_FALSE(r.vpcs[1].applied);
        CHECK(r.vpcs[1].generation == 9);
        CHECK(r.ops_applied == 1);
    }
    SECTION("a deleted VPC is not resurrected by replaying its creation") {
        REQUIRE(!env.apply({delete_vpc("blue")}, 8, &r));
        CHECK(env.mgr.model().tombstones.at("blue") == 8);
        CHECK(env.ofp.n_rules() == 0);   // the global unknown-VNI rules went with the last VPC
        REQUIRE(!env.apply(blue(), 5, &r));
        CHECK_FALSE(r.vpcs[0].applied);
        CHECK(env.mgr.model().find("blue") == nullptr);
        REQUIRE(!env.apply({delete_vpc("blue")}, 8, &r));   // replayed delete: fine
        CHECK_FALSE(r.vpcs[0].applied);
        REQUIRE(!env.apply(blue(), 9, &r));                  // newer: created again
        CHECK(r.vpcs[0].applied);
        CHECK(env.mgr.model().tombstones.count("blue") == 0);
        CHECK(env.rules() == rules);
    }
}

TEST_CASE("vpc manager: unbind and delete take what depends on them", "[vpc]") {
    Env env;
    REQUIRE(!env.apply({create_vpc("red", 7001)}));
    const auto empty = env.rules();
    std::vector<Op> ops = blue();
    ops.push_back(add_rule("blue", "vm1", "ingress", "tcp", "", 22));
    ops.push_back(add_rule("blue", "vm1", "egress", "udp", "", 53));
    REQUIRE(!env.apply(ops));
    REQUIRE(!env.apply({unbind("blue", "vm1")}));
    const Vpc& v = *env.mgr.model().find("blue");
    CHECK(v.rules.empty());
    CHECK(env.mgr.model().port_owner.count("vm1") == 0);
    for (const std::string& f : env.ofp.serialize()) CHECK(f.find("vm1") == std::string::npos);
    REQUIRE(!env.apply({delete_vpc("blue")}));
    CHECK(env.rules() == empty);
    // Its ports, VNI and name are free again.
    REQUIRE(!env.apply({create_vpc("green", 5001), add_subnet("green", "10.1.0.0/24"),
                        bind("green", "vm2", "52:54:00:00:00:02", {"10.1.0.12"})}));
}

TEST_CASE("vpc manager: full sync", "[vpc]") {
    Env env;
    VpcSpec spec;
    spec.name = "blue";
    spec.vni = 5001;
    spec.subnets = {{"10.1.0.0/24", "10.1.0.1", {}}, {"10.1.1.0/24", "", {}}};
    spec.bindings = {{"vm1", "52:54:00:00:00:01", {"10.1.0.11"}}, {"vm2", "52:54:00:00:00:02", {"10.1.1.12"}}};
    spec.endpoints = {{"52:54:00:00:01:07", "10.1.0.27", "192.0.2.2"}, {"52:54:00:00:01:08", "10.1.0.28", "192.0.2.3"}};
    spec.rules = {{"vm1", "ingress", "tcp", "10.1.0.0/16", 22, 0}};
    BatchResult r;
    REQUIRE(!env.mgr.sync(3, spec, r));
    REQUIRE(r.vpcs.size() == 1);
    CHECK(r.vpcs[0].applied);
    const Vpc& v = *env.mgr.model().find("blue");
    CHECK(v.generation == 3);
    CHECK(v.subnets.size() == 2);
    CHECK(v.endpoints.size() == 2);
    CHECK(v.rules.size() == 1);
    // The model's own form round-trips through sync with no change at all.
    VpcSpec same = to_spec(v);
    uint64_t version = env.ofp.version();
    auto rules = env.rules();
    REQUIRE(env.mgr.diff(same).empty());
    REQUIRE(!env.mgr.sync(4, same, r));
    CHECK(r.rules_added == 0);
    CHECK(r.rules_deleted == 0);
    CHECK(env.ofp.version() == version);
    CHECK(v.generation == 4);

    SECTION("replay of an old sync is acknowledged without changes") {
        VpcSpec other = spec;
        other.endpoints.clear();
        REQUIRE(!env.mgr.sync(4, other, r));
        CHECK_FALSE(r.vpcs[0].applied);
        CHECK(v.endpoints.size() == 2);
    }
    SECTION("only what differs changes, in one snapshot") {
        VpcSpec next = same;
        next.endpoints.erase(next.endpoints.begin());                          // -1 endpoint
        next.endpoints.push_back({"52:54:00:00:01:09", "10.1.1.29", "192.0.2.3"});   // +1
        next.endpoints[0].host = "192.0.2.4";                                  // moved
        next.rules.push_back({"vm2", "egress", "udp", "", 53, 0});
        REQUIRE(!env.mgr.sync(5, next, r));
        CHECK(env.ofp.version() == version + 1);
        // Deleted: .27 (2 rules) and its host .2 (last user), .28 (2, moved) and its host
        // .3 (last user until .29 arrives), vm2's egress default (flips to deny).
        // Added: .28 (2) + host .4, .29 (2) + host .3, the rule, vm2's egress default.
        CHECK(r.rules_deleted == 2 + 1 + 2 + 1 + 1);
        CHECK(r.rules_added == 2 + 1 + 2 + 1 + 1 + 1);
        CHECK(env.mgr.diff(next).empty());
    }
    SECTION("a different VNI recreates the VPC") {
        VpcSpec next = same;
        next.vni = 5002;
        REQUIRE(!env.mgr.sync(5, next, r));
        CHECK(env.mgr.model().find("blue")->vni == 5002);
        CHECK(env.mgr.diff(next).empty());
    }
    SECTION("a gateway change re-adds the subnet's users") {
        VpcSpec next = same;
        next.subnets[0].gateway = "10.1.0.254";
        REQUIRE(!env.mgr.sync(5, next, r));
        CHECK(env.mgr.model().find("blue")->subnets.begin()->second.gateway == 0x0a0100fe);
        CHECK(env.mgr.diff(next).empty());
    }
    SECTION("DNS servers given to a subnet reach its VMs' DHCP answers") {
        VpcSpec next = same;
        next.subnets[0].dns = {"10.1.0.2", "8.8.8.8"};
        REQUIRE(!env.mgr.diff(next).empty());
        REQUIRE(!env.mgr.sync(5, next, r));
        CHECK(env.mgr.model().find("blue")->subnets.begin()->second.dns == std::vector<uint32_t>{0x0a010002, 0x08080808});
        CHECK(env.mgr.diff(next).empty());
        bool found = false;
        for (const std::string& f : env.rules())
            found |= f.find("in_port=vm1") != std::string::npos && f.find(",dns=10.1.0.2,dns=8.8.8.8,") != std::string::npos;
        CHECK(found);
        // The order counts (the client tries them in turn).
        next.subnets[0].dns = {"8.8.8.8", "10.1.0.2"};
        CHECK_FALSE(env.mgr.diff(next).empty());
    }
    SECTION("an invalid object: error names it in the sync message, nothing changes") {
        const std::string model = env.model_text();
        VpcSpec bad = same;
        bad.endpoints.push_back({"52:54:00:00:01:09", "10.1.0.29", "192.0.2.3"});
        bad.endpoints.push_back({"52:54:00:00:01:09", "10.1.0.30", "192.0.2.3"});   // same MAC
        VpcError e = env.mgr.sync(5, bad, r);
        REQUIRE(e);
        CHECK(e.field == "vpc.endpoints[3].mac");
        CHECK(e.message.find("already used by an endpoint") != std::string::npos);
        bad = same;
        bad.rules.push_back({"vm9", "ingress", "tcp", "", 0, 0});
        e = env.mgr.sync(5, bad, r);
        CHECK(e.field == "vpc.rules[1].port");
        bad = same;
        bad.vni = 0;
        e = env.mgr.sync(5, bad, r);
        CHECK(e.field == "vpc.vni");
        bad = same;
        bad.subnets.pop_back();   // vm2's subnet goes: vm2 is re-added and fails
        e = env.mgr.sync(5, bad, r);
        CHECK(e.field == "vpc.bindings[1].ips[0]");
        CHECK(env.model_text() == model);
        CHECK(env.rules() == rules);
        CHECK(env.ofp.version() == version);
    }
}

TEST_CASE("vpc manager: rules wait for their ports", "[vpc]") {
    Env env;
    env.ports.by_name.erase("vm1");
    env.ports.by_name.erase("vxlan0");
    REQUIRE(!env.apply(blue()));
    auto has = [&](const std::string& text) {
        for (auto& f : env.ofp.serialize())
            if (f.find(text) != std::string::npos) return true;
        return false;
    };
    CHECK_FALSE(has("vm1"));
    CHECK_FALSE(has("vxlan0"));
    CHECK(has("arp_tpa=10.1.0.27"));   // the remote endpoint is still answered for
    size_t pending = env.ofp.n_rules();

    env.ports.by_name["vm1"] = 1;
    bool changed = false;
    REQUIRE(!env.mgr.port_changed("vm1", &changed));
    CHECK(changed);
    CHECK(env.ofp.n_rules() == pending + 8);   // vm1: 4 per IP + spoof + ingress default + egress default + DHCP
    env.ports.by_name["vxlan0"] = 10;
    REQUIRE(!env.mgr.port_changed("vxlan0", &changed));
    CHECK(has("output:vxlan0"));
    CHECK(has("tun_id=0x1389,tun_src=192.0.2.2,in_port=vxlan0"));
    CHECK(has("drop:vpc_unknown_vni"));
    auto all = env.rules();

    // What a fresh compile with every port present gives.
    Env ref;
    REQUIRE(!ref.apply(blue()));
    CHECK(ref.rules() == all);

    env.ports.by_name.erase("vm1");
    REQUIRE(!env.mgr.port_changed("vm1", &changed));
    CHECK_FALSE(has("vm1"));
    REQUIRE(!env.mgr.port_changed("vm4", &changed));   // not bound: nothing to do
    CHECK_FALSE(changed);
}

TEST_CASE("vpc manager: reinstall after the pipeline was cleared", "[vpc]") {
    Env env;
    REQUIRE(!env.apply(blue()));
    REQUIRE(!env.apply({create_vpc("green", 6001, "gre"), add_subnet("green", "10.1.0.0/24"),
                        add_endpoint("green", "52:54:00:00:01:07", "10.1.0.27", "192.0.2.2")}));
    auto rules = env.rules();
    REQUIRE(!env.ofp.del_flows("", false, nullptr));
    REQUIRE(env.ofp.n_rules() == 0);
    REQUIRE(!env.mgr.reinstall());
    CHECK(env.rules() == rules);
}

TEST_CASE("vpc manager: a failing commit (not saved) undoes the change", "[vpc]") {
    Env env;
    REQUIRE(!env.apply(blue()));
    auto rules = env.rules();
    std::string model = env.model_text();
    int calls = 0;
    BatchResult r;
    VpcError e = env.mgr.apply(0, {add_endpoint("blue", "52:54:00:00:09:01", "10.1.0.91", "192.0.2.2"), delete_vpc("blue")}, r,
                               [&](std::string& err) {
                                   calls++;
                                   err = "disk full";
                                   return false;
                               });
    CHECK(calls == 1);
    CHECK(e.message == "not saved, VPC change not applied: disk full");
    CHECK(env.model_text() == model);
    CHECK(env.rules() == rules);
    // The commit sees the new model.
    size_t seen = 0;
    REQUIRE(!env.mgr.apply(0, {add_endpoint("blue", "52:54:00:00:09:01", "10.1.0.91", "192.0.2.2")}, r,
                           [&](std::string&) {
                               seen = env.mgr.model().find("blue")->endpoints.size();
                               return true;
                           }));
    CHECK(seen == 2);
}

TEST_CASE("vpc manager: statistics by what the rules do", "[vpc]") {
    Env env;
    env.underlay();
    std::vector<Op> ops = blue();
    ops.push_back(add_rule("blue", "vm1", "ingress", "icmp", "10.1.0.0/16"));
    REQUIRE(!env.apply(ops));
    const Vpc& v = *env.mgr.model().find("blue");
    const std::string vm1 = "in_port=vm1,dl_src=52:54:00:00:00:01";
    env.send(vm1 + ",arp,arp_op=1,arp_spa=10.1.0.11,arp_tpa=10.1.0.27", 3);          // answered
    env.send(vm1 + ",icmp,nw_src=10.1.0.11,nw_dst=10.1.0.27", 5);                     // to remote
    env.send(vm1 + ",icmp,nw_src=10.1.0.11,nw_dst=10.1.0.99", 2);                     // no route
    env.send("in_port=vm1,dl_src=52:54:00:00:00:01,icmp,nw_src=10.1.0.66,nw_dst=10.1.0.27", 7);  // spoofed
    env.send("in_port=vxlan0,tun_id=5001,tun_src=192.0.2.2,icmp,nw_src=10.1.0.27,nw_dst=10.1.0.11", 4);  // delivered
    env.send("in_port=vxlan0,tun_id=5001,tun_src=192.0.2.2,tcp,nw_src=10.1.0.27,nw_dst=10.1.0.11,tp_dst=80", 6);  // denied
    env.send("in_port=vxlan0,tun_id=5001,tun_src=192.0.2.7,icmp,nw_src=10.1.0.27,nw_dst=10.1.0.11", 8);  // unknown host
    env.send("in_port=vxlan0,tun_id=5099,tun_src=192.0.2.2,icmp", 9);                // unknown VNI
    env.send("in_port=vm2,dl_src=52:54:00:00:00:02,dl_dst=0a:56:00:00:13:89,icmp,nw_src=10.1.1.12,nw_dst=10.1.0.11", 10);  // routed, denied? no: icmp from 10.1/16 allowed
    env.send(vm1 + ",udp,nw_src=0.0.0.0,nw_dst=255.255.255.255,tp_src=68,tp_dst=67", 11);   // DHCP
    env.send(vm1 + ",dl_dst=0a:56:00:00:13:89,icmp,nw_src=10.1.0.11,nw_dst=10.1.0.1,icmp_type=8,icmp_code=0", 12);  // ping
    env.send(vm1 + ",dl_dst=0a:56:00:00:13:89,udp,nw_src=10.1.0.11,nw_dst=10.1.1.12,nw_ttl=1", 13);  // TTL expired
    VpcStats s = env.mgr.stats(v);
    CHECK(s.arp_answered == 3);
    CHECK(s.dhcp_answered == 11);
    CHECK(s.pings_answered == 12);
    CHECK(s.ttl_expired == 13);
    CHECK(s.from_vm == 3 + 5 + 2 + 10 + 12 + 13);   // IP and ARP admitted (not DHCP: answered in table 0)
    CHECK(s.to_remote == 5);
    CHECK(s.from_tunnel == 4 + 6);
    CHECK(s.routed == 10);
    CHECK(s.to_local == 4 + 10);
    CHECK(s.drops.at("vpc_no_route") == 2);
    CHECK(s.drops.at("vpc_spoofed") == 7);
    CHECK(s.drops.at("vpc_security_denied") == 6);
    CHECK(s.drops.at("vpc_unknown_host") == 8);
    CHECK(s.n_rules == env.ofp.n_rules() - 2);   // all but the global rules
    VpcStats g = env.mgr.global_stats();
    CHECK(g.drops.at("vpc_unknown_vni") == 9);
    CHECK(g.n_rules == 2);   // vxlan0 and gre0
}
