// Emc: hit/miss, refresh, dead flows, sweep, and what happens when a set overflows.
#include <catch2/catch.hpp>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "emc.h"

using namespace vswitch;

namespace {

constexpr uint32_t kSets = Emc::kEntries / 2;

FlowKey key_n(uint32_t n) {
    FlowKey k;
    k.clear();
    k.in_port = 1;
    k.dl_type = 0x0008;
    k.nw_src = n;
    k.nw_dst = ~n;
    k.tp_src = static_cast<uint16_t>(n * 7);
    return k;
}

uint32_t h(const FlowKey& k) { return flow_key_hash(k, 0); }

// n distinct keys whose hashes fall into the same EMC set.
std::vector<FlowKey> same_set_keys(size_t n) {
    std::vector<FlowKey> out{key_n(1)};
    const uint32_t set = h(out[0]) & (kSets - 1);
    for (uint32_t i = 2; out.size() < n; i++) {
        FlowKey k = key_n(i);
        if ((h(k) & (kSets - 1)) == set) out.push_back(k);
    }
    return out;
}

}  // namespace

TEST_CASE("emc: insert then lookup hits; other keys miss", "[switch][emc]") {
    Emc emc;
    Megaflow f;
    const FlowKey a = key_n(10), b = key_n(11);
    CHECK(emc.occupancy() == 0);
    CHECK(emc.lookup(a, h(a)) == nullptr);

    emc.insert(a, h(a), &f);
    CHECK(emc.lookup(a, h(a)) == &f);
    CHECK(emc.occupancy() == 1);
    CHECK(emc.lookup(b, h(b)) == nullptr);

    // Same hash, different key: the full key compare must reject it.
    CHECK(emc.lookup(b, h(a)) == nullptr);
    FlowKey a2 = a;
    a2.ipv6_dst[15] ^= 1;   // last word differs
    CHECK(emc.lookup(a2, h(a)) == nullptr);
}

TEST_CASE("emc: re-insert of a cached key refreshes its flow", "[switch][emc]") {
    Emc emc;
    Megaflow f1, f2;
    const FlowKey a = key_n(1);
    emc.insert(a, h(a), &f1);
    emc.insert(a, h(a), &f2);
    CHECK(emc.lookup(a, h(a)) == &f2);
    CHECK(emc.occupancy() == 1);
}

TEST_CASE("emc: dead flows are not returned and are swept", "[switch][emc]") {
    Emc emc;
    Megaflow live, dead;
    const FlowKey a = key_n(1), b = key_n(2);
    emc.insert(a, h(a), &live);
    emc.insert(b, h(b), &dead);
    REQUIRE(emc.occupancy() == 2);

    dead.dead.store(true);
    CHECK(emc.lookup(b, h(b)) == nullptr);
    CHECK(emc.lookup(a, h(a)) == &live);
    CHECK(emc.occupancy() == 2);   // still cached until the sweep

    emc.sweep_dead();
    CHECK(emc.occupancy() == 1);
    CHECK(emc.lookup(a, h(a)) == &live);

    emc.clear();
    CHECK(emc.occupancy() == 0);
    CHECK(emc.lookup(a, h(a)) == nullptr);
}

TEST_CASE("emc: a set holds two keys; a third evicts exactly one", "[switch][emc]") {
    Emc emc;
    auto keys = same_set_keys(4);
    Megaflow f[4];
    emc.insert(keys[0], h(keys[0]), &f[0]);
    emc.insert(keys[1], h(keys[1]), &f[1]);
    CHECK(emc.lookup(keys[0], h(keys[0])) == &f[0]);
    CHECK(emc.lookup(keys[1], h(keys[1])) == &f[1]);

    emc.insert(keys[2], h(keys[2]), &f[2]);
    CHECK(emc.lookup(keys[2], h(keys[2])) == &f[2]);
    const bool has0 = emc.lookup(keys[0], h(keys[0])) == &f[0];
    const bool has1 = emc.lookup(keys[1], h(keys[1])) == &f[1];
    CHECK(has0 != has1);
    CHECK(emc.occupancy() == 2);

    SECTION("a dead way is reused before a live one") {
        Megaflow* survivor = has0 ? &f[0] : &f[1];
        const FlowKey& sk = has0 ? keys[0] : keys[1];
        f[2].dead.store(true);
        emc.insert(keys[3], h(keys[3]), &f[3]);
        CHECK(emc.lookup(keys[3], h(keys[3])) == &f[3]);
        CHECK(emc.lookup(sk, h(sk)) == survivor);
    }
    SECTION("a swept way is reused before a live one") {
        f[2].dead.store(true);
        emc.sweep_dead();
        f[2].dead.store(false);
        emc.insert(keys[3], h(keys[3]), &f[3]);
        CHECK(emc.lookup(keys[3], h(keys[3])) == &f[3]);
        CHECK(emc.lookup(keys[2], h(keys[2])) == nullptr);
        CHECK((emc.lookup(keys[0], h(keys[0])) == &f[0]) == has0);
        CHECK((emc.lookup(keys[1], h(keys[1])) == &f[1]) == has1);
    }
}

TEST_CASE("emc: overfilled cache never returns a wrong flow", "[switch][emc]") {
    Emc emc;
    constexpr uint32_t n = 3 * Emc::kEntries;
    std::vector<std::unique_ptr<Megaflow>> flows;
    std::vector<FlowKey> keys;
    std::mt19937 rng(42);
    for (uint32_t i = 0; i < n; i++) {
        FlowKey k = key_n(rng());
        k.in_port = i;   // unique
        keys.push_back(k);
        flows.push_back(std::make_unique<Megaflow>());
        emc.insert(k, h(k), flows.back().get());
    }
    CHECK(emc.occupancy() <= Emc::kEntries);
    CHECK(emc.occupancy() > Emc::kEntries / 2);
    uint32_t hits = 0;
    for (uint32_t i = 0; i < n; i++) {
        Megaflow* f = emc.lookup(keys[i], h(keys[i]));
        if (f == nullptr) continue;
        REQUIRE(f == flows[i].get());
        hits++;
    }
    CHECK(hits == emc.occupancy());
    // The most recent insert of each set always survives.
    const FlowKey& last = keys.back();
    CHECK(emc.lookup(last, h(last)) == flows.back().get());
}
