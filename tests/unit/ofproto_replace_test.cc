// Ofproto::replace_flows (replace-flows, and diff-flows as its dry run): the rules not
// kept become exactly the file's; unchanged rules keep their counters; one snapshot, all
// or nothing; kept (VPC) rules are neither looked at nor replaced.
#include <catch2/catch.hpp>

#include <algorithm>

#include "ofproto/ofproto.h"
#include "ofproto_fake_ports.h"

using namespace vswitch;
using vswitch::testing::FakePorts;

namespace {

constexpr uint64_t kKeep = 0x56ull << 56;
constexpr uint64_t kKeepMask = 0xffull << 56;

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

uint64_t packets_of(const Ofproto& ofp, const std::string& filter) {
    std::vector<FlowDump> d;
    REQUIRE_FALSE(ofp.dump_flows(filter, d));
    REQUIRE(d.size() == 1);
    return d[0].n_packets;
}

}  // namespace

TEST_CASE("replace-flows: adds, replaces, deletes, keeps the rest as it was", "[ofproto][replace]") {
    FakePorts ports;
    Ofproto ofp(ports, nullptr);
    REQUIRE_FALSE(ofp.add_flows({"priority=5,in_port=vm1,actions=output:vm2",            // unchanged
                                 "priority=5,in_port=vm2,actions=output:vm1",            // new actions
                                 "table=3,priority=7,ip,actions=drop",                   // not in the file
                                 "cookie=0x5600000000000001,table=40,arp,actions=drop"}));   // kept
    // Counters of the unchanged rule must survive.
    FlowKey k;
    k.clear();
    k.in_port = 1;
    Translation t;
    REQUIRE(ofp.translate(k, t));
    REQUIRE_FALSE(t.rules.empty());
    for (auto& r : t.rules) r->credit(7, 700, 1);   // the rule, and the tables' counters
    const uint64_t v = ofp.version();

    const std::vector<std::string> file = {
        "priority=5,in_port=vm1,actions=output:vm2",
        "in_port=vm2,priority=5,actions=output:vm3",      // same identity, other actions
        "cookie=0x9,table=2,priority=1,actions=drop",      // new
    };
    Ofproto::ReplaceResult dry;
    REQUIRE_FALSE(ofp.replace_flows(file, kKeep, kKeepMask, true, dry));
    CHECK(ofp.version() == v);   // a dry run changes nothing
    CHECK(dry.added == 1);
    CHECK(dry.modified == 1);
    CHECK(dry.deleted == 1);
    CHECK(dry.unchanged == 1);
    CHECK(dry.diff == std::vector<std::string>{
                          "-table=0,priority=5,in_port=vm2 actions=output:vm1",
                          "+table=0,priority=5,in_port=vm2 actions=output:vm3",
                          "+cookie=0x9,table=2,priority=1 actions=drop",
                          "-table=3,priority=7,ip actions=drop",
                      });

    Ofproto::ReplaceResult res;
    REQUIRE_FALSE(ofp.replace_flows(file, kKeep, kKeepMask, false, res));
    CHECK(ofp.version() == v + 1);   // one snapshot
    CHECK(res.added == 1);
    CHECK(res.modified == 1);
    CHECK(res.deleted == 1);
    CHECK(res.unchanged == 1);
    CHECK(sorted(ofp.serialize()) ==
          sorted({"table=0,priority=5,in_port=vm1 actions=output:vm2",
                  "table=0,priority=5,in_port=vm2 actions=output:vm3",
                  "cookie=0x9,table=2,priority=1 actions=drop",
                  "cookie=0x5600000000000001,table=40,priority=32768,arp actions=drop"}));
    CHECK(packets_of(ofp, "table=0,in_port=vm1") == 7);

    // Again: nothing to do, no snapshot, and the diff is empty.
    REQUIRE_FALSE(ofp.replace_flows(file, kKeep, kKeepMask, false, res));
    CHECK(ofp.version() == v + 1);
    CHECK(res.unchanged == 3);
    CHECK_FALSE(res.changed());
    REQUIRE_FALSE(ofp.replace_flows(file, kKeep, kKeepMask, true, res));
    CHECK(res.diff.empty());

    // Lines with a kept cookie (a dump fed back) are skipped, not compared or added.
    REQUIRE_FALSE(ofp.replace_flows({file[0], file[1], file[2], "cookie=0x5600000000000001,table=40,arp,actions=output:vm1",
                                     "cookie=0x5600000000000009,table=41,actions=drop"},
                                    kKeep, kKeepMask, false, res));
    CHECK(res.skipped == 2);
    CHECK(res.unchanged == 3);
    CHECK_FALSE(res.changed());

    // An empty file deletes every rule but the kept ones.
    REQUIRE_FALSE(ofp.replace_flows({}, kKeep, kKeepMask, false, res));
    CHECK(res.deleted == 3);
    CHECK(ofp.serialize() == std::vector<std::string>{"cookie=0x5600000000000001,table=40,priority=32768,arp actions=drop"});
}

TEST_CASE("replace-flows: a bad line changes nothing", "[ofproto][replace]") {
    FakePorts ports;
    Ofproto ofp(ports, nullptr);
    REQUIRE_FALSE(ofp.add_flows({"priority=5,in_port=vm1,actions=output:vm2"}));
    const auto before = ofp.serialize();
    const uint64_t v = ofp.version();
    Ofproto::ReplaceResult res;
    FlowError e = ofp.replace_flows({"priority=1,actions=drop", "in_port=vm9,actions=drop"}, kKeep, kKeepMask,
                                    false, res);
    CHECK(e.message == "flow 2: in_port: unknown port 'vm9'");
    CHECK(e.token == "in_port=vm9");
    e = ofp.replace_flows({"actions=group:4"}, kKeep, kKeepMask, false, res);
    CHECK(e.message == "flow 1: group 4 does not exist");
    CHECK(ofp.serialize() == before);
    CHECK(ofp.version() == v);
    // Journal replay: what does not parse (a port not restored) is handed back, the rest
    // is applied.
    std::vector<std::string> rejected;
    REQUIRE_FALSE(ofp.replace_flows({"priority=1,actions=drop", "in_port=vm9,actions=drop"}, kKeep, kKeepMask, false,
                                    res, &rejected));
    CHECK(rejected == std::vector<std::string>{"in_port=vm9,actions=drop"});
    CHECK(ofp.serialize() == std::vector<std::string>{"table=0,priority=1 actions=drop"});
}

TEST_CASE("replace-flows: the later of two lines for one rule wins; dump-flows output is accepted",
          "[ofproto][replace]") {
    FakePorts ports;
    Ofproto ofp(ports, nullptr);
    Ofproto::ReplaceResult res;
    // A dump-flows line, statistics and all (ovs-ofctl ignores them too).
    REQUIRE_FALSE(ofp.replace_flows(
        {"priority=5,in_port=vm1,actions=output:vm2",
         "  duration=12.5s, table=0, n_packets=3, n_bytes=180, idle_age=1, priority=5,in_port=vm1 "
         "actions=output:vm3"},
        kKeep, kKeepMask, false, res));
    CHECK(res.added == 1);
    CHECK(ofp.serialize() == std::vector<std::string>{"table=0,priority=5,in_port=vm1 actions=output:vm3"});
    // Timeouts and cookies are part of what must be the same.
    REQUIRE_FALSE(ofp.replace_flows({"idle_timeout=30,priority=5,in_port=vm1,actions=output:vm3"}, kKeep, kKeepMask,
                                    false, res));
    CHECK(res.modified == 1);
    REQUIRE_FALSE(ofp.replace_flows({"cookie=0x3,idle_timeout=30,priority=5,in_port=vm1,actions=output:vm3"}, kKeep,
                                    kKeepMask, false, res));
    CHECK(res.modified == 1);
    CHECK(res.unchanged == 0);
}
