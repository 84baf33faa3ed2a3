// Steering map: rx queue assignment and the (port, rx queue) -> tx queue map.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "switch/steering.h"

using namespace vswitch;

namespace {

std::vector<RxqRef> queues(uint32_t port, uint16_t n) {
    std::vector<RxqRef> v;
    for (uint16_t q = 0; q < n; q++) v.push_back({port, q, 0, 0});
    return v;
}

std::vector<uint16_t> iota(uint16_t n) {
    std::vector<uint16_t> v(n);
    for (uint16_t i = 0; i < n; i++) v[i] = i;
    return v;
}

}  // namespace

TEST_CASE("one PMD: vm queue i maps to tx queue i of the other vm") {
    auto rxqs = queues(1, 4);
    auto vm2 = queues(2, 4);
    rxqs.insert(rxqs.end(), vm2.begin(), vm2.end());
    assign_rxqs_round_robin(rxqs, 1);
    auto map = compute_tx_map(rxqs, 1, {{1, iota(4)}, {2, iota(4)}});
    for (uint16_t q = 0; q < 4; q++) {
        CHECK(map[q][1].txq == q);          // vm1 q -> vm2 txq q
        CHECK(map[q][1].mode == TxMode::Owned);
        CHECK(map[4 + q][0].txq == q);      // vm2 q -> vm1 txq q
    }
}

TEST_CASE("2 VMs x 4 queues onto an 8-queue uplink: all distinct, no sharing") {
    for (uint16_t pmds : {1, 2}) {
        auto rxqs = queues(1, 4);
        auto vm2 = queues(2, 4);
        auto up = queues(3, 8);
        rxqs.insert(rxqs.end(), vm2.begin(), vm2.end());
        rxqs.insert(rxqs.end(), up.begin(), up.end());
        assign_rxqs_round_robin(rxqs, pmds);
        auto map = compute_tx_map(rxqs, pmds, {{1, iota(4)}, {2, iota(4)}, {3, iota(8)}});
        std::set<uint16_t> used;
        for (size_t i = 0; i < 8; i++) {
            CHECK(map[i][2].mode == TxMode::Owned);
            used.insert(map[i][2].txq);
        }
        CHECK(used.size() == 8);
        // Each tx queue is written by exactly one PMD.
        std::map<uint16_t, std::set<uint16_t>> writers;
        for (size_t i = 0; i < rxqs.size(); i++)
            for (size_t j = 0; j < 3; j++) writers[j * 100 + map[i][j].txq].insert(rxqs[i].pmd);
        for (auto& [k, w] : writers) CHECK(w.size() == 1);
    }
}

TEST_CASE("fewer tx queues than PMDs: sharing is marked, and only where it happens") {
    auto rxqs = queues(1, 3);
    auto out = queues(2, 1);
    rxqs.insert(rxqs.end(), out.begin(), out.end());
    assign_rxqs_round_robin(rxqs, 3);   // vm1 q0->pmd0, q1->pmd1, q2->pmd2, port2 q0->pmd0
    auto map = compute_tx_map(rxqs, 3, {{1, iota(1)}, {2, iota(2)}});
    // Output port 2 has 2 tx queues for 3 PMDs: pmd0 and pmd2 share txq 0, pmd1 owns txq 1.
    CHECK(map[0][1].txq == 0);
    CHECK(map[0][1].mode == TxMode::Shared);
    CHECK(map[1][1].txq == 1);
    CHECK(map[1][1].mode == TxMode::Owned);
    CHECK(map[2][1].txq == 0);
    CHECK(map[2][1].mode == TxMode::Shared);
}

TEST_CASE("no usable tx queue (guest enabled none) gives TxMode::None") {
    auto rxqs = queues(1, 2);
    assign_rxqs_round_robin(rxqs, 1);
    auto map = compute_tx_map(rxqs, 1, {{2, {}}});
    CHECK(map[0][0].mode == TxMode::None);
    CHECK(map[1][0].mode == TxMode::None);
}

TEST_CASE("only the enabled tx queues are used") {
    auto rxqs = queues(1, 4);
    assign_rxqs_round_robin(rxqs, 1);
    auto map = compute_tx_map(rxqs, 1, {{2, {0, 1}}});   // guest enabled 2 of 4
    for (size_t i = 0; i < 4; i++) CHECK(map[i][0].txq == i % 2);
}

TEST_CASE("rebalance by load puts the busiest queues on different PMDs") {
    std::vector<RxqRef> rxqs = {{1, 0, 0, 900}, {1, 1, 0, 800}, {2, 0, 0, 100}, {2, 1, 0, 50}};
    unsigned moved = assign_rxqs_by_load(rxqs, 2);
    CHECK(rxqs[0].pmd != rxqs[1].pmd);
    CHECK(moved >= 1);
    uint64_t load[2] = {0, 0};
    for (auto& r : rxqs) load[r.pmd] += r.cycles;
    CHECK(std::max(load[0], load[1]) <= 1000);
}
