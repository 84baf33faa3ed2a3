// NORMAL translation: flooding, unicast, no hairpin, multicast sources, VLANs, the exact
// megaflow mask (and that it does not depend on the table), and the refresh sink.
#include <arpa/inet.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <vector>

#include "ofproto/normal.h"

using namespace vswitch;
using namespace vswitch::ofp;

namespace {

constexpr uint64_t kSec = 1'000'000'000ull;

const uint8_t kA[6] = {0x02, 0, 0, 0, 0, 0xa};
const uint8_t kB[6] = {0x02, 0, 0, 0, 0, 0xb};
const uint8_t kC[6] = {0x02, 0, 0, 0, 0, 0xc};
const uint8_t kBcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const uint8_t kMcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};

const std::vector<uint32_t> kPorts = {1, 2, 3, 4};

struct Fixture {
    uint64_t now = 1000 * kSec;
    MacLearning ml{[this] {
        MacLearning::Config c;
        c.clock = [this] { return now; };
        return c;
    }()};
};

// vlan < 0: untagged; else tagged with that VID (CFI set, PCP 5 to show it is ignored).
FlowKey key(uint32_t in_port, const uint8_t src[6], const uint8_t dst[6], int vlan = -1) {
    FlowKey k;
    k.clear();
    k.in_port = in_port;
    std::memcpy(k.dl_src, src, 6);
    std::memcpy(k.dl_dst, dst, 6);
    k.dl_type = htons(0x0800);
    if (vlan >= 0) k.vlan_tci = htons(uint16_t(0xa000 | 0x1000 | vlan));
    k.nw_src = htonl(0x0a000001);
    k.tp_dst = htons(80);
    return k;
}

Translation run(MacLearning& ml, const FlowKey& k, NormalVerdict* v = nullptr, bool learn = true,
                const std::vector<uint32_t>& ports = kPorts) {
    Translation t;
    t.reset();
    NormalVerdict r = xlate_normal(ml, ports, k, t, learn);
    if (v) *v = r;
    return t;
}

DpActionList outputs(std::initializer_list<uint32_t> ps) {
    DpActionList l;
    for (uint32_t p : ps) l.push_back(DpAction::output(p));
    return l;
}

// The mask of a learning decision: in_port, dl_src, VID+CFI, and dl_dst (all of it, or
// only its group bit).
FlowKey learning_mask(bool dst_group_bit_only) {
    FlowKey m;
    m.clear();
    m.in_port = ~0u;
    std::memset(m.dl_src, 0xff, 6);
    m.vlan_tci = htons(0x1fff);
    if (dst_group_bit_only) m.dl_dst[0] = 0x01;
    else std::memset(m.dl_dst, 0xff, 6);
    return m;
}

}  // namespace

TEST_CASE("normal: unknown unicast floods to every port but the ingress, and learns") {
    Fixture f;
    NormalVerdict v;
    Translation t = run(f.ml, key(2, kA, kB), &v);
    CHECK(v == NormalVerdict::Flood);
    CHECK(t.actions == outputs({1, 3, 4}));
    CHECK(t.mask == learning_mask(false));
    CHECK(t.rules.size() == 1);   // the refresh sink
    CHECK(f.ml.lookup(0, kA) == 2u);
}

TEST_CASE("normal: a known destination gets one output") {
    Fixture f;
    run(f.ml, key(2, kA, kB));                    // learns A on 2
    NormalVerdict v;
    Translation t = run(f.ml, key(4, kB, kA), &v);   // reply: learns B on 4
    CHECK(v == NormalVerdict::Unicast);
    CHECK(t.actions == outputs({2}));
    CHECK(t.mask == learning_mask(false));
    t = run(f.ml, key(2, kA, kB), &v);
    CHECK(v == NormalVerdict::Unicast);
    CHECK(t.actions == outputs({4}));
}

TEST_CASE("normal: no hairpin, a destination on the ingress port is dropped") {
    Fixture f;
    run(f.ml, key(3, kB, kC));   // B on 3
    NormalVerdict v;
    Translation t = run(f.ml, key(3, kA, kB), &v);
    CHECK(v == NormalVerdict::DropHairpin);
    CHECK(t.actions.empty());
    CHECK(t.mask == learning_mask(false));
    // A frame to itself: learned first, then it is on the ingress port.
    t = run(f.ml, key(1, kC, kC), &v);
    CHECK(v == NormalVerdict::DropHairpin);
}

TEST_CASE("normal: broadcast and multicast destinations flood; only the group bit is masked") {
    Fixture f;
    run(f.ml, key(3, kB, kC));
    for (const uint8_t* dst : {kBcast, kMcast}) {
        NormalVerdict v;
        Translation t = run(f.ml, key(1, kA, dst), &v);
        CHECK(v == NormalVerdict::Flood);
        CHECK(t.actions == outputs({2, 3, 4}));
        CHECK(t.mask == learning_mask(true));
    }
    CHECK(f.ml.lookup(0, kA) == 1u);
}

TEST_CASE("normal: a multicast source is dropped, not learned, and only its group bit masked") {
    Fixture f;
    uint64_t v0 = f.ml.version();
    for (const uint8_t* src : {kMcast, kBcast}) {
        NormalVerdict v;
        Translation t = run(f.ml, key(1, src, kB), &v);
        CHECK(v == NormalVerdict::DropMulticastSrc);
        CHECK(t.actions.empty());
        CHECK(t.rules.empty());
        FlowKey m;
        m.clear();
        m.dl_src[0] = 0x01;
        CHECK(t.mask == m);
    }
    CHECK(f.ml.stats().entries == 0);
    CHECK(f.ml.version() == v0);
}

TEST_CASE("normal: VLANs are separate; the frame keeps its tag; PCP is not in the mask") {
    Fixture f;
    run(f.ml, key(1, kA, kB, 10));                 // A on 1 in VLAN 10
    CHECK(f.ml.lookup(10, kA) == 1u);
    CHECK_FALSE(f.ml.lookup(0, kA));
    NormalVerdict v;
    Translation t = run(f.ml, key(2, kB, kA, 20), &v);   // A unknown in VLAN 20
    CHECK(v == NormalVerdict::Flood);
    CHECK(t.actions == outputs({1, 3, 4}));
    t = run(f.ml, key(2, kB, kA, 10), &v);
    CHECK(v == NormalVerdict::Unicast);
    CHECK(t.actions == outputs({1}));
    CHECK(t.mask == learning_mask(false));
    // Untagged traffic is VLAN 0, separate from VLAN 10.
    t = run(f.ml, key(3, kC, kA), &v);
    CHECK(v == NormalVerdict::Flood);
    CHECK(normal_vlan(key(3, kC, kA)) == 0);
    CHECK(normal_vlan(key(3, kC, kA, 4095)) == 4095);
}

TEST_CASE("normal: a destination learned on a port outside the port set floods") {
    Fixture f;
    run(f.ml, key(9, kB, kC));   // B learned on 9, which NORMAL may not output to
    NormalVerdict v;
    Translation t = run(f.ml, key(1, kA, kB), &v);
    CHECK(v == NormalVerdict::Flood);
    CHECK(t.actions == outputs({2, 3, 4}));
    // The ingress port need not be in the set; it still gets nothing.
    t = run(f.ml, key(9, kB, kA), &v, true, {1, 2});
    CHECK(v == NormalVerdict::Unicast);
    CHECK(t.actions == outputs({1}));
    t = run(f.ml, key(9, kB, kBcast), &v, true, {1, 2, 9});
    CHECK(t.actions == outputs({1, 2}));
    // An empty port set: flooding outputs nothing (drop).
    t = run(f.ml, key(1, kA, kBcast), &v, true, {});
    CHECK(v == NormalVerdict::Flood);
    CHECK(t.actions.empty());
}

TEST_CASE("normal: appends to what the pipeline already produced") {
    Fixture f;
    Translation t;
    t.reset();
    t.mask.dl_type = 0xffff;
    t.actions.push_back(DpAction::output(7));
    xlate_normal(f.ml, kPorts, key(1, kA, kBcast), t, true);
    CHECK(t.actions == outputs({7, 2, 3, 4}));
    FlowKey m = learning_mask(true);
    m.dl_type = 0xffff;
    CHECK(t.mask == m);
}

TEST_CASE("normal: may_learn=false only looks up, and the sink learns when credited") {
    Fixture f;
    NormalVerdict v;
    Translation t = run(f.ml, key(2, kA, kB), &v, false);
    CHECK(v == NormalVerdict::Flood);
    CHECK_FALSE(f.ml.lookup(0, kA));
    REQUIRE(t.rules.size() == 1);
    // The revalidator credits only megaflows that carried packets; zero learns nothing.
    t.rules[0]->credit(0, 0, 0);
    CHECK_FALSE(f.ml.lookup(0, kA));
    uint64_t v0 = f.ml.version();
    t.rules[0]->credit(3, 180, 0);
    CHECK(f.ml.lookup(0, kA) == 2u);
    CHECK(f.ml.version() > v0);
}

TEST_CASE("normal: a used megaflow keeps its source alive and brings a moved MAC back") {
    Fixture f;
    Translation on2 = run(f.ml, key(2, kA, kB));   // A on 2, megaflow M2
    // Aging: credits (the megaflow is in use) keep A although no upcall happens.
    for (int i = 0; i < 10; i++) {
        f.now += 100 * kSec;
        on2.rules[0]->credit(1, 64, 0);
        CHECK(f.ml.age() == 0);
    }
    f.now += 301 * kSec;   // idle megaflow: no credit, A ages out
    CHECK(f.ml.age() == 1);
    CHECK_FALSE(f.ml.lookup(0, kA));
    // ...and is learned again as soon as the megaflow carries packets.
    on2.rules[0]->credit(1, 64, 0);
    CHECK(f.ml.lookup(0, kA) == 2u);

    // A moves to 3 (upcall on 3), then comes back to 2, where megaflow M2 still exists
    // and carries its frames without upcalls: the credit moves it back.
    run(f.ml, key(3, kA, kB));
    CHECK(f.ml.lookup(0, kA) == 3u);
    uint64_t v0 = f.ml.version();
    on2.rules[0]->credit(5, 320, 0);
    CHECK(f.ml.lookup(0, kA) == 2u);
    CHECK(f.ml.version() > v0);
    CHECK(f.ml.stats().moved == 2);
}

TEST_CASE("normal: re-translating a stale key does not move the MAC back") {
    Fixture f;
    Translation first = run(f.ml, key(2, kA, kB));   // megaflow created on 2
    run(f.ml, key(3, kA, kB));                        // A moved to 3
    uint64_t v0 = f.ml.version();
    // The revalidator re-translates the old megaflow's first key with may_learn=false.
    NormalVerdict v;
    Translation again = run(f.ml, key(2, kA, kB), &v, false);
    CHECK(f.ml.lookup(0, kA) == 3u);
    CHECK(f.ml.version() == v0);
    CHECK(again.mask == first.mask);
    CHECK(again.actions == first.actions);
}

// The mask contract, as a property: with the table fixed, every key that agrees with a
// translated key on the mask bits translates to the same actions and the same mask,
// whatever the table says about it (the mask never depends on table contents).
TEST_CASE("normal: keys agreeing on the mask translate the same (property)") {
    Fixture f;
    std::mt19937 rng(42);
    const uint8_t macs[][6] = {{0x02, 0, 0, 0, 0, 1}, {0x02, 0, 0, 0, 0, 2}, {0x02, 0, 0, 0, 0, 3},
                               {0x02, 0, 0, 0, 0, 4}, {0x03, 0, 0, 0, 0, 5}, {0x01, 0, 0x5e, 0, 0, 6},
                               {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    constexpr size_t kMacs = std::size(macs);
    auto random_key = [&] {
        int vlan = int(rng() % 3) - 1;   // untagged, VID 0, VID 1
        FlowKey k = key(1 + rng() % 5, macs[rng() % kMacs], macs[rng() % kMacs], vlan);
        k.vlan_tci |= htons(uint16_t((rng() % 8) << 13));   // PCP noise
        k.nw_src = rng();
        k.tp_dst = uint16_t(rng());
        return k;
    };
    // Populate the table with upcalls, then freeze it.
    for (int i = 0; i < 200; i++) run(f.ml, random_key());
    REQUIRE(f.ml.stats().entries > 4);

    size_t compared = 0;
    for (int i = 0; i < 3000; i++) {
        FlowKey a = random_key(), b = random_key();
        Translation ta = run(f.ml, a, nullptr, false);
        Translation tb = run(f.ml, b, nullptr, false);
        FlowKey am, bm;
        flow_key_apply_mask(am, a, ta.mask);
        flow_key_apply_mask(bm, b, ta.mask);
        if (!(am == bm)) continue;
        compared++;
        INFO("pair " << i);
        CHECK(tb.mask == ta.mask);
        CHECK(tb.actions == ta.actions);
    }
    CHECK(compared > 100);
}
