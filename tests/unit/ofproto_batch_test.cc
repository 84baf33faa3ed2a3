// Ofproto::apply_batch and cookie_counters (the VPC manager's way into the pipeline):
// deletes by exact cookie then adds, all or nothing, one snapshot; and that deleting
// rules keeps the overlay configuration of the snapshot.
#include <catch2/catch.hpp>

#include <algorithm>

#include "ofproto/ofproto.h"
#include "ofproto/overlay_config.h"
#include "ofproto_fake_ports.h"

using namespace vswitch;
using vswitch::testing::FakePorts;

namespace {

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

}  // namespace

TEST_CASE("ofproto: apply_batch deletes by exact cookie, then adds, in one snapshot", "[ofproto]") {
    FakePorts ports;
    Ofproto ofp(ports, nullptr);
    REQUIRE(!ofp.add_flows({"cookie=0x10,priority=5,in_port=vm1,actions=output:vm2",
                            "cookie=0x10,table=3,priority=5,ip,actions=drop",
                            "cookie=0x11,priority=5,in_port=vm2,actions=output:vm1",
                            "cookie=0x110,priority=5,in_port=vm3,actions=output:vm1"}));
    uint64_t v = ofp.version();
    size_t n = 99;
    REQUIRE(!ofp.apply_batch({"cookie=0x12,priority=6,in_port=vm1,actions=output:vm3"}, {0x10, 0x99}, &n));
    CHECK(n == 2);
    CHECK(ofp.version() == v + 1);
    CHECK(sorted(ofp.serialize()) ==
          sorted({"cookie=0x11,table=0,priority=5,in_port=vm2 actions=output:vm1",
                  "cookie=0x110,table=0,priority=5,in_port=vm3 actions=output:vm1",
                  "cookie=0x12,table=0,priority=6,in_port=vm1 actions=output:vm3"}));

    SECTION("a bad flow: nothing changes") {
        auto before = ofp.serialize();
        FlowError e = ofp.apply_batch({"cookie=0x13,in_port=vm1,actions=output:vm2", "in_port=vm9,actions=drop"},
                                      {0x11}, &n);
        CHECK(e.message == "flow 2: in_port: unknown port 'vm9'");
        CHECK(e.token == "in_port=vm9");
        CHECK(ofp.serialize() == before);
        CHECK(ofp.version() == v + 1);
    }
    SECTION("a delete and re-add of the same cookie replaces") {
        REQUIRE(!ofp.apply_batch({"cookie=0x11,priority=5,in_port=vm2,actions=output:vm3"}, {0x11}, &n));
        CHECK(n == 1);
        CHECK(ofp.n_rules() == 3);
    }
    SECTION("nothing to do: no new snapshot") {
        REQUIRE(!ofp.apply_batch({}, {0x77}, &n));
        CHECK(n == 0);
        CHECK(ofp.version() == v + 1);
    }
    SECTION("cookie_counters selects by value and mask") {
        std::vector<CookieCounters> c;
        ofp.cookie_counters(0x10, 0xf0, c);
        CHECK(c.size() == 3);
        ofp.cookie_counters(0x110, ~0ull, c);
        REQUIRE(c.size() == 1);
        CHECK(c[0].priority == 5);
        CHECK(c[0].table == 0);
        CHECK(c[0].n_packets == 0);
    }
}

TEST_CASE("ofproto: deleting rules keeps the overlay configuration", "[ofproto]") {
    FakePorts ports;
    Ofproto ofp(ports, nullptr);
    ofp::OverlayConfig cfg;
    cfg.underlay.port = 3;
    cfg.tunnels[4] = TunnelPortConfig{};
    ofp.set_overlay(cfg);
    REQUIRE(!ofp.add_flows({"cookie=0x1,in_port=vm1,actions=drop", "in_port=vm2,actions=drop"}));
    REQUIRE(!ofp.del_flows("cookie=0x1/0xff", false, nullptr));
    CHECK(ofp.overlay().underlay.port == 3);
    CHECK(ofp.overlay().tunnel(4) != nullptr);
    REQUIRE(!ofp.apply_batch({}, {0}, nullptr));
    CHECK(ofp.overlay().tunnel(4) != nullptr);
}
