// Flow tables through the Ofproto API: add/replace/delete semantics, atomic batches,
// dump and serialize, version bumps, RCU publication, counters.
#include <arpa/inet.h>

#include <catch2/catch.hpp>
#include <map>

#include "ofproto/group.h"
#include "ofproto/ofproto.h"
#include "ofproto/overlay_config.h"
#include "ofproto/rule.h"
#include "ofproto_fake_ports.h"

using namespace vswitch;

namespace {

using vswitch::testing::FakePorts;

// The rules among what a translation credits (it also credits per-table counters).
std::vector<StatsSink*> rule_sinks(const Translation& t) {
    std::vector<StatsSink*> v;
    for (const auto& s : t.rules)
        if (dynamic_cast<const ofp::Rule*>(s.get())) v.push_back(s.get());
    return v;
}

struct Fixture {
    FakePorts ports;
    int syncs = 0;
    Ofproto ofp{ports, [this] { syncs++; }};

    void add(std::vector<std::string> flows) {
        FlowError err = ofp.add_flows(flows);
        INFO(err.message << " token: " << err.token);
        REQUIRE_FALSE(err);
    }
    size_t del(std::string_view match, bool strict = false) {
        size_t n = 99;
        FlowError err = ofp.del_flows(match, strict, &n);
        INFO(err.message << " token: " << err.token);
        REQUIRE_FALSE(err);
        return n;
    }
    std::vector<FlowDump> dump(std::string_view filter = "") {
        std::vector<FlowDump> out;
        FlowError err = ofp.dump_flows(filter, out);
        INFO(err.message << " token: " << err.token);
        REQUIRE_FALSE(err);
        return out;
    }
    // "match -> actions" lines of a dump, in order.
    std::vector<std::string> lines(std::string_view filter = "") {
        std::vector<std::string> out;
        for (const FlowDump& d : dump(filter))
            out.push_back("table=" + std::to_string(d.table) + " priority=" +
                          std::to_string(d.priority) + (d.match.empty() ? "" : ",") + d.match +
                          " -> " + d.actions);
        return out;
    }
    // The translation of a packet with only in_port set.
    Translation run(uint32_t in_port) {
        FlowKey k;
        k.clear();
        k.in_port = in_port;
        Translation t;
        REQUIRE(ofp.translate(k, t));
        return t;
    }
    std::vector<uint32_t> outputs(uint32_t in_port) {
        Translation t = run(in_port);
        std::vector<uint32_t> ports_out;
        for (const DpAction& a : t.actions) ports_out.push_back(a.port);
        return ports_out;
    }
};

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("tables: priority order decides, dump is in lookup order", "[ofproto][table]") {
    Fixture f;
    f.add({"priority=10,in_port=vm1,actions=output:vm2",
           "priority=20,in_port=vm1,actions=output:up0", "priority=5,actions=drop"});
    CHECK(f.ofp.n_rules() == 3);
    CHECK(f.outputs(1) == std::vector<uint32_t>{3});
    CHECK(f.outputs(2).empty());
    CHECK(f.lines() == Lines{"table=0 priority=20,in_port=vm1 -> output:up0",
                             "table=0 priority=10,in_port=vm1 -> output:vm2",
                             "table=0 priority=5 -> drop"});
    std::vector<FlowDump> d = f.dump();
    CHECK(d[0].priority == 20);
    CHECK(d[0].table == 0);
    CHECK(d[0].cookie == 0);
    CHECK(d[0].match == "in_port=vm1");   // never the priority: FlowEntry carries it
    CHECK(d[2].match == "");
    CHECK(d[2].actions == "drop");
}

TEST_CASE("tables: equal priorities, the older rule wins", "[ofproto][table]") {
    Fixture f;
    f.add({"priority=10,in_port=vm1,actions=output:vm2"});
    f.add({"priority=10,actions=output:up0"});
    CHECK(f.outputs(1) == std::vector<uint32_t>{2});
    CHECK(f.outputs(2) == std::vector<uint32_t>{3});
}

TEST_CASE("tables: same match and priority replaces, resetting counters", "[ofproto][table]") {
    Fixture f;
    f.add({"priority=10,in_port=vm1,actions=output:vm2", "priority=9,actions=drop"});
    FlowKey k;
    k.clear();
    k.in_port = 1;
    Translation t;
    f.ofp.translate(k, t);
    REQUIRE(rule_sinks(t).size() == 1);
    rule_sinks(t)[0]->credit(3, 300, 0);
    CHECK(f.dump()[0].n_packets == 3);

    uint64_t v = f.ofp.version();
    // Same match written differently is still the same match.
    f.add({"in_port=1,priority=10,cookie=0x7,actions=output:up0"});
    CHECK(f.ofp.version() == v + 1);
    CHECK(f.ofp.n_rules() == 2);
    CHECK(f.outputs(1) == std::vector<uint32_t>{3});
    std::vector<FlowDump> d = f.dump();
    CHECK(d[0].n_packets == 0);
    CHECK(d[0].cookie == 7);
    CHECK(d[0].actions == "output:up0");

    // Different priority or table: a different rule.
    f.add({"priority=11,in_port=vm1,actions=drop", "table=1,priority=10,in_port=vm1,actions=drop"});
    CHECK(f.ofp.n_rules() == 4);

    // Within one batch, the later flow wins.
    f.add({"priority=3,ip,actions=output:1", "priority=3,ip,actions=output:2"});
    CHECK(f.lines("ip") == Lines{"table=0 priority=3,ip -> output:vm2"});
}

TEST_CASE("tables: add_flows is all or nothing", "[ofproto][table]") {
    Fixture f;
    f.add({"priority=1,actions=drop"});
    uint64_t v = f.ofp.version();
    int syncs = f.syncs;
    FlowError err = f.ofp.add_flows({"priority=10,in_port=vm1,actions=output:vm2",
                                     "priority=11,ip,nw_dst=10.0.0.0/33,actions=drop",
                                     "priority=12,actions=drop"});
    REQUIRE(err);
    CHECK(err.token == "nw_dst=10.0.0.0/33");
    CHECK(err.message.rfind("flow 2: ", 0) == 0);
    CHECK(f.ofp.n_rules() == 1);
    CHECK(f.ofp.version() == v);
    CHECK(f.syncs == syncs);
    CHECK(f.lines() == Lines{"table=0 priority=1 -> drop"});

    // A single bad flow: message without the index.
    err = f.ofp.add_flows({"in_port=vm9,actions=drop"});
    CHECK(err.message.rfind("in_port: unknown port 'vm9'", 0) == 0);

    // Nothing to add: nothing changes.
    REQUIRE_FALSE(f.ofp.add_flows({}));
    CHECK(f.ofp.version() == v);
}

TEST_CASE("tables: non-strict delete removes rules at least as specific", "[ofproto][table]") {
    Fixture f;
    f.add({"priority=10,in_port=vm1,actions=output:vm2",
           "priority=20,in_port=vm1,ip,nw_dst=10.0.0.0/24,actions=output:up0",
           "priority=30,in_port=vm2,actions=drop", "priority=40,ip,actions=drop",
           "priority=50,ip,nw_dst=10.0.0.0/8,actions=drop",
           "priority=60,ip,nw_dst=10.0.0.0/25,actions=drop",
           "table=1,in_port=vm1,actions=drop"});
    uint64_t v = f.ofp.version();
    // Priority is ignored by non-strict delete, as in ovs-ofctl.
    CHECK(f.del("priority=99,in_port=vm1") == 3);
    CHECK(f.ofp.version() == v + 1);
    CHECK(f.lines() == Lines{"table=0 priority=60,ip,nw_dst=10.0.0.0/25 -> drop",
                             "table=0 priority=50,ip,nw_dst=10.0.0.0/8 -> drop",
                             "table=0 priority=40,ip -> drop",
                             "table=0 priority=30,in_port=vm2 -> drop"});
    // nw_dst=10.0.0.0/24 covers /25 but not /8 and not the bare ip rule.
    CHECK(f.del("ip,nw_dst=10.0.0.0/24") == 1);
    CHECK(f.del("ip,nw_dst=10.0.0.0/24") == 0);
    CHECK(f.ofp.version() == v + 2);   // deleting nothing is no change
    CHECK(f.del("ip") == 2);
    CHECK(f.del("") == 1);
    CHECK(f.ofp.n_rules() == 0);
}

TEST_CASE("tables: strict delete needs the same match and priority", "[ofproto][table]") {
    Fixture f;
    f.add({"priority=10,in_port=vm1,actions=drop", "priority=10,in_port=vm1,ip,actions=drop",
           "priority=11,in_port=vm1,actions=drop", "in_port=vm1,actions=drop",
           "table=2,priority=10,in_port=vm1,actions=drop"});
    CHECK(f.del("in_port=vm1,priority=10", true) == 2);   // tables 0 and 2
    CHECK(f.del("in_port=vm1", true) == 1);              // default priority 32768
    CHECK(f.lines() == Lines{"table=0 priority=11,in_port=vm1 -> drop",
                             "table=0 priority=10,ip,in_port=vm1 -> drop"});
    CHECK(f.del("table=0,priority=10,in_port=vm1,dl_type=0x0800", true) == 1);
    CHECK(f.del("priority=11", true) == 0);
}

TEST_CASE("tables: delete and dump filters on table and cookie", "[ofproto][table]") {
    Fixture f;
    f.add({"cookie=0x12,in_port=1,actions=drop", "cookie=0x22,in_port=2,actions=drop",
           "table=3,cookie=0x13,actions=drop"});
    CHECK(f.dump("table=3").size() == 1);
    CHECK(f.dump("cookie=0x2/0xf").size() == 2);
    CHECK(f.dump("cookie=0x10/0xf0").size() == 2);
    CHECK(f.dump("in_port=vm2").size() == 1);
    CHECK(f.del("table=0,cookie=0x10/0xf0") == 1);
    CHECK(f.lines() == Lines{"table=0 priority=32768,in_port=vm2 -> drop", "table=3 priority=32768 -> drop"});

    size_t n = 7;
    FlowError err = f.ofp.del_flows("in_port=nope", false, &n);
    CHECK(err.token == "in_port=nope");
    CHECK(n == 0);
    std::vector<FlowDump> out;
    err = f.ofp.dump_flows("frob", out);
    CHECK(err.token == "frob");
    CHECK(f.ofp.n_rules() == 2);
}

TEST_CASE("tables: serialize replays into an identical switch", "[ofproto][table]") {
    Fixture a;
    a.add({"priority=100,in_port=vm1,actions=output:vm2",
           "priority=100,in_port=vm2,dl_type=0x0800,nw_dst=10.0.0.0/24,actions=output:vm1",
           "cookie=0xabc,table=9,tcp,tp_dst=80,actions=in_port", "actions=drop",
           "priority=7,in_port=9,actions=output:9"});
    std::vector<std::string> lines = a.ofp.serialize();
    CHECK(lines == std::vector<std::string>{
                       "table=0,priority=32768 actions=drop",
                       "table=0,priority=100,in_port=vm1 actions=output:vm2",
                       "table=0,priority=100,ip,in_port=vm2,nw_dst=10.0.0.0/24 actions=output:vm1",
                       "table=0,priority=7,in_port=9 actions=output:9",
                       "cookie=0xabc,table=9,priority=32768,tcp,tp_dst=80 actions=IN_PORT"});
    Fixture b;
    b.add(lines);
    CHECK(b.ofp.serialize() == lines);
    CHECK(b.lines() == a.lines());
}

TEST_CASE("tables: every change publishes once and bumps the version", "[ofproto][table]") {
    Fixture f;
    uint64_t v0 = f.ofp.version();
    f.add({"in_port=1,actions=drop", "in_port=2,actions=drop"});
    CHECK(f.ofp.version() == v0 + 1);
    CHECK(f.syncs == 1);
    f.del("in_port=1");
    CHECK(f.ofp.version() == v0 + 2);
    CHECK(f.syncs == 2);
    f.del("in_port=3");
    CHECK(f.ofp.version() == v0 + 2);
    CHECK(f.syncs == 2);
}

TEST_CASE("tables: counters credited via StatsSink show in dump-flows", "[ofproto][table]") {
    Fixture f;
    f.add({"priority=10,in_port=vm1,actions=output:vm2", "priority=5,actions=drop"});
    Translation t = f.run(1);
    REQUIRE(rule_sinks(t).size() == 1);
    rule_sinks(t)[0]->credit(10, 1000, 12345);
    rule_sinks(t)[0]->credit(2, 128, 12399);

    // Unrelated changes keep the rule object, hence its counters.
    f.add({"priority=1,in_port=vm2,actions=drop"});
    std::vector<FlowDump> d = f.dump("in_port=vm1");
    REQUIRE(d.size() == 1);
    CHECK(d[0].n_packets == 12);
    CHECK(d[0].n_bytes == 1128);
    CHECK(d[0].duration_s >= 0);
    CHECK(d[0].duration_s < 60);
    CHECK(d[0].idle_age_s <= d[0].duration_s);
    std::vector<FlowDump> all = f.dump("priority=5");   // non-strict: priority ignored
    REQUIRE(all.size() == 3);
    CHECK(all[1].priority == 5);
    CHECK(all[1].n_packets == 0);
}

TEST_CASE("tables: deleting rules keeps the overlay configuration", "[ofproto][table]") {
    Fixture f;
    ofp::OverlayConfig ov;
    ov.underlay.port = 1;
    ov.underlay.local_ip = htonl(0xc0000201);
    ov.underlay.mac[0] = 2;
    TunnelPortConfig t;
    t.type = encap::TunnelType::Vxlan;
    ov.tunnels[3] = t;
    f.ofp.set_overlay(ov);
    f.add({"in_port=1,actions=output:2", "in_port=2,actions=output:1"});
    REQUIRE(f.del("in_port=1") == 1);
    CHECK(f.ofp.overlay().underlay == ov.underlay);
    CHECK(f.ofp.overlay().tunnels.size() == 1);
    f.add({"idle_timeout=1,in_port=1,actions=output:2"});
    REQUIRE(f.ofp.expire(std::chrono::steady_clock::now() + std::chrono::seconds(5)) == 1);
    CHECK(f.dump().size() == 1);
    CHECK(f.ofp.overlay().underlay == ov.underlay);
    CHECK(f.ofp.overlay().tunnels.size() == 1);
}

TEST_CASE("tables: expire names each removed rule by a strict match that deletes exactly it",
          "[ofproto][table][timeout]") {
    Fixture f;
    f.add({"table=3,priority=9,idle_timeout=1,ip,nw_src=10.0.0.1,actions=drop",
           "table=7,hard_timeout=2,in_port=vm2,actions=output:vm1", "table=7,priority=5,actions=drop",
           "table=3,priority=9,ip,nw_src=10.0.0.2,actions=drop", "priority=1,actions=drop"});
    std::vector<std::string> removed;
    const auto now = std::chrono::steady_clock::now();
    CHECK(f.ofp.expire(now + std::chrono::milliseconds(1500), &removed) == 1);
    CHECK(removed == std::vector<std::string>{"table=3,priority=9,ip,nw_src=10.0.0.1"});
    CHECK(f.ofp.expire(now + std::chrono::seconds(3), &removed) == 1);
    REQUIRE(removed.size() == 2);
    CHECK(removed[1] == "table=7,priority=32768,in_port=vm2");
    // Untimed rules of the tables that had timed ones stay, so do the others.
    CHECK(f.lines() == Lines{"table=0 priority=1 -> drop", "table=3 priority=9,ip,nw_src=10.0.0.2 -> drop",
                             "table=7 priority=5 -> drop"});
    CHECK(f.ofp.expire(now + std::chrono::seconds(60), &removed) == 0);

    // Each match, deleted strictly from a switch that still has the rules, takes that
    // rule alone (what the journal replays after a restart).
    Fixture g;
    g.add({"table=3,priority=9,idle_timeout=1,ip,nw_src=10.0.0.1,actions=drop",
           "table=3,priority=9,ip,nw_src=10.0.0.2,actions=drop", "table=3,priority=8,ip,nw_src=10.0.0.1,actions=drop",
           "table=7,hard_timeout=2,in_port=vm2,actions=output:vm1", "table=7,priority=5,actions=drop"});
    for (const std::string& m : removed) CHECK(g.del(m, true) == 1);
    CHECK(g.lines() == Lines{"table=3 priority=9,ip,nw_src=10.0.0.2 -> drop",
                             "table=3 priority=8,ip,nw_src=10.0.0.1 -> drop", "table=7 priority=5 -> drop"});
}

TEST_CASE("tables: a filter that names its table changes that table only; deletes report cookies",
          "[ofproto][table]") {
    Fixture f;
    f.add({"table=1,cookie=0x5600000000000001,in_port=vm1,actions=drop", "table=2,cookie=0x7,in_port=vm1,actions=drop",
           "table=2,cookie=0x8,actions=drop"});
    size_t n = 0;
    REQUIRE_FALSE(f.ofp.mod_flows("table=2,in_port=vm1,actions=output:vm2", false, &n));
    CHECK(n == 1);
    std::vector<uint64_t> cookies;
    REQUIRE_FALSE(f.ofp.del_flows("table=1,in_port=vm1", false, &n, &cookies));
    CHECK(n == 1);
    CHECK(cookies == std::vector<uint64_t>{0x5600000000000001ull});
    REQUIRE_FALSE(f.ofp.del_flows("table=2", false, &n, &cookies));
    CHECK(n == 2);
    CHECK(cookies == std::vector<uint64_t>{0x5600000000000001ull, 0x7, 0x8});
    CHECK(f.ofp.n_rules() == 0);
}

TEST_CASE("tables: rollback to a checkpoint brings back rules, counters and groups", "[ofproto][table]") {
    Fixture f;
    f.add({"priority=10,in_port=vm1,actions=output:vm2", "table=4,actions=drop"});
    REQUIRE_FALSE(f.ofp.add_group("group_id=1,type=all,bucket=output:vm1", false));
    Translation t = f.run(1);
    REQUIRE(rule_sinks(t).size() == 1);
    rule_sinks(t)[0]->credit(3, 300, 1);
    const Lines before = f.lines();
    const uint64_t v = f.ofp.version();

    Ofproto::Checkpoint cp = f.ofp.checkpoint();
    f.add({"priority=10,in_port=vm1,actions=drop", "table=9,actions=drop"});   // replaces the counted rule
    CHECK(f.del("table=4") == 1);
    REQUIRE_FALSE(f.ofp.del_groups("group_id=1", nullptr, nullptr));
    CHECK(f.lines() != before);

    f.ofp.rollback(cp);
    CHECK(f.lines() == before);
    CHECK(f.ofp.version() > v);   // a change like any other: megaflows revalidate
    std::vector<FlowDump> d = f.dump("in_port=vm1");
    REQUIRE(d.size() == 1);
    CHECK(d[0].n_packets == 3);
    std::vector<GroupDump> groups;
    REQUIRE_FALSE(f.ofp.dump_groups("", groups));
    CHECK(groups.size() == 1);
    // The checkpoint stays usable, and later changes start from the rolled-back tables.
    f.add({"table=5,actions=drop"});
    CHECK(f.lines().size() == before.size() + 1);
    f.ofp.rollback(cp);
    CHECK(f.lines() == before);
}

TEST_CASE("tables: take_changes names the tables whose rules changed, or everything",
          "[ofproto][table][revalidate]") {
    Fixture f;
    uint64_t t = 99;
    CHECK_FALSE(f.ofp.take_changes(t));
    CHECK(t == 0);
    auto bit = [](unsigned id) { return uint64_t{1} << (id % 64); };

    f.add({"table=5,priority=1,ip,actions=drop", "table=70,actions=drop"});
    CHECK_FALSE(f.ofp.take_changes(t));
    CHECK(t == (bit(5) | bit(70)));
    CHECK_FALSE(f.ofp.take_changes(t));   // taken: empty again
    CHECK(t == 0);

    size_t n = 0;
    REQUIRE_FALSE(f.ofp.mod_flows("table=5,actions=output:vm1", false, &n));   // actions only
    CHECK_FALSE(f.ofp.take_changes(t));
    CHECK(t == bit(5));
    CHECK(f.del("table=70") == 1);
    CHECK(f.del("table=9") == 0);          // nothing deleted: nothing changed
    CHECK_FALSE(f.ofp.take_changes(t));
    CHECK(t == bit(70));

    // Rolling back to a checkpoint changes the tables the failed change had changed.
    Ofproto::Checkpoint cp = f.ofp.checkpoint();
    f.add({"table=2,actions=drop"});
    f.ofp.take_changes(t);
    f.ofp.rollback(cp);
    CHECK_FALSE(f.ofp.take_changes(t));
    CHECK(t == bit(2));

    // What a translation reads beyond the rules of its tables: everything.
    REQUIRE_FALSE(f.ofp.add_group("group_id=1,type=all,bucket=output:vm1", false));
    CHECK(f.ofp.take_changes(t));
    f.ofp.set_ports({1, 2, 3, 4});
    CHECK(f.ofp.take_changes(t));
    ofp::MeterSpec m;
    REQUIRE_FALSE(f.ofp.add_meter("meter=1,pktps,band=type=drop,rate=10", false, m));
    CHECK(f.ofp.take_changes(t));
    CHECK_FALSE(f.ofp.take_changes(t));
}

TEST_CASE("tables: a translation records the tables it looked up", "[ofproto][table][revalidate]") {
    Fixture f;
    f.add({"priority=10,in_port=vm1,actions=resubmit(,10)", "table=10,actions=goto_table:75",
           "table=75,actions=output:vm2", "table=20,actions=drop"});
    CHECK(f.run(1).tables == ((uint64_t{1} << 0) | (uint64_t{1} << 10) | (uint64_t{1} << (75 % 64))));
    CHECK(f.run(2).tables == 1);   // table 0 misses: only table 0 looked up
}

TEST_CASE("tables: take_changes lists the changed rules up to a cap", "[ofproto][table][revalidate]") {
    Fixture f;
    uint64_t t = 0;
    std::vector<RuleChange> rules;
    f.add({"table=5,priority=1,ip,nw_dst=10.0.0.1,actions=drop"});
    CHECK_FALSE(f.ofp.take_changes(t, &rules));
    CHECK(t == 0);
    REQUIRE(rules.size() == 1);
    CHECK(rules[0].table_bit == uint64_t{1} << 5);
    CHECK(rules[0].mask.nw_dst == 0xffffffffu);
    CHECK(rules[0].value.nw_dst == htonl(0x0a000001));
    CHECK(rules[0].value.dl_type == htons(0x0800));

    // mod-flows replaces the rule object: the old and the new one, same match.
    size_t n = 0;
    REQUIRE_FALSE(f.ofp.mod_flows("table=5,actions=output:vm1", false, &n));
    CHECK_FALSE(f.ofp.take_changes(t, &rules));
    CHECK(rules.size() == 2);
    CHECK(t == 0);

    // A batch is listed rule by rule, up to the cap.
    auto rules_for = [](int table, size_t n) {
        std::vector<std::string> out;
        for (size_t i = 0; i < n; i++)
            out.push_back("table=" + std::to_string(table) + ",priority=1,ip,nw_dst=10." + std::to_string(i >> 16) + "." +
                          std::to_string(i >> 8 & 255) + "." + std::to_string(i & 255) + ",actions=drop");
        return out;
    };
    f.add(rules_for(7, 2000));
    CHECK_FALSE(f.ofp.take_changes(t, &rules));
    CHECK(t == 0);
    CHECK(rules.size() == 2000);

    // More than the cap: their table is named, the rules are not.
    f.add({"table=2,actions=drop"});
    f.add(rules_for(9, Ofproto::kMaxRuleChanges));
    CHECK_FALSE(f.ofp.take_changes(t, &rules));
    CHECK(t == uint64_t{1} << 9);
    REQUIRE(rules.size() == 1);   // table 2's, listed before the cap
    CHECK(rules[0].table_bit == uint64_t{1} << 2);
}


TEST_CASE("tables: a rule may meet a key its actions rewrote before the lookup", "[ofproto][table][revalidate]") {
    Fixture f;
    f.add({"ip,nw_dst=10.1.9.0/24,actions=mod_nw_dst:10.1.2.3,resubmit(,1)", "table=1,priority=1,actions=output:vm1"});
    FlowKey k;
    k.clear();
    k.in_port = 1;
    k.dl_type = htons(0x0800);
    k.nw_dst = htonl(0x0a010903);   // 10.1.9.3: table 1 looks up 10.1.2.3
    Translation before;
    REQUIRE(f.ofp.translate(k, before));
    CHECK(before.written != 0);
    uint64_t t;
    std::vector<RuleChange> rules;
    f.ofp.take_changes(t, &rules);
    f.add({"table=1,priority=5,ip,nw_dst=10.1.2.3,actions=output:vm2"});
    REQUIRE_FALSE(f.ofp.take_changes(t, &rules));
    REQUIRE(rules.size() == 1);
    // The key's own 10.1.9.3 disagrees with the rule inside the mask (the /24), but the
    // lookup was made with the rewritten address: the rule is met, and the answer changes.
    CHECK(may_meet(before.tables, before.written, k, before.mask, rules[0]));
    CHECK_FALSE(may_meet(before.tables, 0, k, before.mask, rules[0]));
    Translation after;
    REQUIRE(f.ofp.translate(k, after));
    CHECK(after.actions != before.actions);
    // A key the first rule does not rewrite cannot meet it.
    k.nw_dst = htonl(0x0a070203);   // 10.7.2.3
    Translation other;
    REQUIRE(f.ofp.translate(k, other));
    CHECK(other.written == 0);
}
