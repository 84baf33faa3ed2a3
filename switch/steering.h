// Queue-preserving steering: which PMD polls which rx queue, and on which tx queue of
// each output port a packet read from (port P, rx queue q) leaves.
//
// Rules (see docs/architecture.md, "Queue-preserving steering"):
//  - Rx queues are spread over PMDs round-robin in (port, queue) order, or by measured
//    cycles on rebalance (greedy: busiest queue to least loaded PMD).
//  - Each output port's usable tx queues are split between the PMDs that poll anything:
//    PMD j of A active PMDs owns usable[k] for k % A == j. With fewer tx queues than
//    PMDs, PMD j gets usable[j % T] and such a queue is marked shared (the PMDs lock it).
//  - Within one PMD, its rx queues (ordered by port, queue, the output port's own queues
//    last) take that PMD's tx queues in turn, so distinct (P, q) get distinct tx queues
//    while they last. With one PMD, vm1 queue i -> vm2 tx queue i.
// Pure functions: unit-tested without DPDK.
#pragma once

#include <cstdint>
#include <vector>

namespace vswitch {

struct RxqRef {
    uint32_t port_no;
    uint16_t queue;
    uint16_t pmd;       // filled by the assignment functions
    uint64_t cycles;    // measured load (rebalance input)
};

struct TxPortQueues {
    uint32_t port_no;
    std::vector<uint16_t> usable;   // tx queues that may be used now
};

enum class TxMode : uint8_t { None = 0, Owned = 1, Shared = 2 };

struct TxSlot {
    uint16_t txq = 0;
    TxMode mode = TxMode::None;
};

// Round-robin assignment in the order given (callers sort by port, queue).
void assign_rxqs_round_robin(std::vector<RxqRef>& rxqs, uint16_t n_pmds);
// Greedy by cycles; returns how many queues changed PMD.
unsigned assign_rxqs_by_load(std::vector<RxqRef>& rxqs, uint16_t n_pmds);

// result[i][j] = where a packet from rxqs[i] output to outs[j] goes.
std::vector<std::vector<TxSlot>> compute_tx_map(const std::vector<RxqRef>& rxqs,
                                                uint16_t n_pmds,
                                                const std::vector<TxPortQueues>& outs);

// The tx queues of one output port that PMD `pmd` owns outright (no other PMD writes
// them): usable[k] for k % A == its rank among the A active PMDs. Empty when the PMD polls
// nothing or there are fewer usable queues than active PMDs (then queues are shared).
// Decapsulated traffic towards a VM picks its queue per packet among these (flow
// affinity), which stays lock-free because no other thread writes them.
std::vector<uint16_t> owned_txqs(const std::vector<RxqRef>& rxqs, uint16_t n_pmds, uint16_t pmd,
                                 const std::vector<uint16_t>& usable);

}  // namespace vswitch
