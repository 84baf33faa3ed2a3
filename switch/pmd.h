// PMD thread: one pinned lcore polling its rx queues and running each burst through
// the datapath stages:
//
//   rx burst -> parse (key + hash, bad frames dropped) -> EMC -> megaflow classifier
//   -> upcall for what is left -> group packets by megaflow -> execute actions into
//   per-output-port buffers -> tx burst on the steering map's tx queue
//
// Configuration (which rx queues, which tx queue per output port) is an immutable
// PmdConfig published by the control thread through an atomic pointer and freed after an
// RCU grace period. The PMD reports a quiescent state once per poll-loop iteration, at a
// point where it holds no pointer into shared state.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "dp_execute.h"
#include "drop_reasons.h"
#include "emc.h"
#include "meters.h"
#include "port.h"
#include "steering.h"
#include "upcall.h"
#include "vring.h"

struct rte_mbuf;

namespace vswitch {

class Datapath;

inline constexpr uint16_t kBurst = 32;
inline constexpr size_t kMaxPollsPerPmd = size_t(kMaxPorts) * kMaxQueues;   // every rx queue

struct PollEntry {
    Port* port;
    uint32_t port_no;
    uint16_t rxq;
    std::atomic<uint64_t>* cycles;   // where this queue's busy cycles accumulate
    const TxSlot* tx;                // indexed by output port number, kMaxPorts entries
};

struct PmdConfig {
    std::vector<PollEntry> polls;
    std::vector<TxSlot> tx_storage;  // polls.size() * kMaxPorts
    // Per output port (VM ports only; index = port number, empty = none): the tx queues
    // this PMD owns outright, which decapsulated packets choose among by flow affinity.
    std::vector<std::vector<uint16_t>> steer;
};

struct alignas(64) PmdCounters {
    std::atomic<uint64_t> rx_packets{0};
    std::atomic<uint64_t> tx_packets{0};
    std::atomic<uint64_t> emc_hits{0};
    std::atomic<uint64_t> emc_bypassed{0};     // packets not looked up in the EMC: its
                                               // hit share was too low (Pmd::emc_probe_burst)
    std::atomic<uint64_t> megaflow_hits{0};
    std::atomic<uint64_t> upcalls{0};
    std::atomic<uint64_t> megaflows_installed{0};
    std::atomic<uint64_t> megaflow_full{0};
    std::atomic<uint64_t> busy_cycles{0};
    std::atomic<uint64_t> idle_cycles{0};
    std::atomic<uint64_t> iterations{0};
    std::atomic<uint64_t> busy_iterations{0};   // iterations that received packets
    std::atomic<uint64_t> tx_shared_locks{0};
    std::atomic<uint64_t> recirculated{0};     // decapsulated packets looked up again
    std::atomic<uint64_t> affinity_hits{0};    // decapsulated packets sent to the VM queue
                                               // their flow was last transmitted from
    std::atomic<uint64_t> affinity_misses{0};  // ... to inner hash % owned queues instead
    std::atomic<uint64_t> injected{0};         // control-plane packets sent (ARP requests)
    std::atomic<uint64_t> drops[kDropReasonCount]{};
};

// Implements DpExecSink privately: dp_execute() outputs into the tx buffers and counts
// drops on the input port, like the outputs-only path.
class Pmd : private DpExecSink {
public:
    Pmd(Datapath& dp, uint16_t id, unsigned core, unsigned lcore);
    ~Pmd();

    uint16_t id() const { return id_; }
    unsigned core() const { return core_; }
    unsigned lcore() const { return lcore_; }
    const PmdCounters& counters() const { return ctr_; }

    // Control thread: swaps the config; returns the previous one, which the caller
    // frees after a grace period.
    PmdConfig* publish(PmdConfig* cfg) { return cfg_.exchange(cfg, std::memory_order_acq_rel); }

    // The lcore entry point; returns when stop is requested.
    int run();
    void request_stop() { stop_.store(true, std::memory_order_release); }

private:
    struct OutBuf {
        uint16_t n = 0;
        bool steered = false;           // some packets carry their own tx queue in q[]
        rte_mbuf* pkts[2 * kBurst];
        uint16_t q[2 * kBurst];         // kDefaultQ: the steering map's slot
    };
    static constexpr uint16_t kDefaultQ = UINT16_MAX;

    // Polls one rx queue and runs the burst through the stages; `now` is the
    // iteration's timestamp (megaflow last-used time). Returns packets received.
    uint16_t poll(const PollEntry& pe, uint64_t now);
    // Stages parse..execute over n packets. md == nullptr: packets as received on pe;
    // else decapsulated packets recirculated from tunnel ports in_ports[i], metadata md[i].
    // Returns the bytes of the n packets (rx byte counter).
    uint64_t process(const PollEntry& pe, rte_mbuf** pkts, uint16_t n, const uint32_t* in_ports,
                     const encap::TunnelMd* md);
    // Sends what the control thread queued (Datapath::inject) using cfg's first poll
    // entry's tx map.
    void drain_injected(const PmdConfig& cfg);
    uint16_t steer_queue(uint32_t port_no, const rte_mbuf* m);
    void lookup(rte_mbuf** pkts, FlowKey* keys, const uint32_t* hashes, Megaflow** flows,
                uint16_t n);
    Megaflow* upcall(const FlowKey& key, rte_mbuf* pkt, const PollEntry& pe);
    // keys[i]: packet i's flow key (as extracted for the lookup).
    void execute(const DpActionList& acts, rte_mbuf** pkts, const FlowKey* const* keys, uint16_t n,
                 const PollEntry& pe);
    bool encap_output(const encap::TunnelHeader& h, uint32_t port_no, const DpActionList& acts,
                      rte_mbuf** pkts, const FlowKey* const* keys, uint16_t n);
    bool pop_recirculate(const DpAction& a, rte_mbuf** pkts, uint16_t n);
    void enqueue_output(uint32_t port_no, rte_mbuf* m);
    void flush(const PollEntry& pe);
    void send(Port* port, uint16_t txq, TxMode mode, rte_mbuf** pkts, uint16_t n);
    void note_tx_hint(uint32_t port_no, uint16_t txq, uint16_t n);
    void give_tx_hints();
    uint32_t count_sent(QueueCounters& qc, const uint32_t* len, uint16_t sent);
    // pkts == nullptr: count only.
    void drop(DropReason r, Port* port, rte_mbuf** pkts, uint16_t n);
    void after_quiescent();
    bool upcall_allowed(uint32_t port_no);
    bool emc_should_insert();
    bool emc_probe_burst();
    void emc_account(uint32_t probed, uint32_t hits);
    // DpExecSink (general action lists).
    void dp_output(uint32_t port_no, rte_mbuf* const* pkts, uint16_t n) override;
    void dp_drop(DropReason r, rte_mbuf** pkts, uint16_t n) override;
    void dp_recirculate(uint32_t tunnel_port, rte_mbuf* const* pkts, const encap::TunnelMd* md,
                        uint16_t n) override;
    void dp_reply(rte_mbuf* const* pkts, uint16_t n) override;
    void dp_encapped(const uint32_t* hashes, uint16_t n) override;

    Datapath& dp_;
    uint16_t id_;
    unsigned core_;
    unsigned lcore_;
    std::atomic<PmdConfig*> cfg_{nullptr};
    std::atomic<bool> stop_{false};
    PmdCounters ctr_;
    Emc emc_;
    GuestNotifyBatch notify_;   // vhost interrupt checks of this iteration (vring.h)
    bool emc_on_ = true;
    uint32_t emc_threshold_ = UINT32_MAX;   // insert when rng_ <= this (UINT32_MAX: always)
    // EMC bypass (emc_probe_burst): decided per window of probed packets.
    static constexpr uint32_t kEmcWindow = 8192;
    static constexpr uint32_t kEmcMinHitShare = 10;   // probe while hits >= 1/10
    static constexpr uint32_t kEmcSampleEvery = 16;   // bursts; power of two
    bool emc_burst_ = false;    // this burst probes the EMC
    bool emc_bypass_ = false;
    bool emc_prefetch_ = false;   // hit share below 99%: its sets are not all in cache
    uint32_t emc_burst_ctr_ = 0;
    uint32_t emc_win_probed_ = 0;
    uint32_t emc_win_hits_ = 0;
    uint32_t rng_ = 1;
    // process()'s megaflow -> batch map (2 x kBurst slots: at most half full).
    static constexpr uint32_t kBatchSlotsLog2 = 6;
    static constexpr uint32_t kBatchSlots = 1u << kBatchSlotsLog2;
    static_assert(kBatchSlots >= 2 * kBurst, "batch map must stay at most half full");
    uint32_t batch_gen_ = 0;
    uint32_t batch_slot_gen_[kBatchSlots] = {};
    Megaflow* batch_slot_flow_[kBatchSlots] = {};
    uint8_t batch_slot_idx_[kBatchSlots] = {};
    uint64_t seen_removal_gen_ = 0;
    Translation xlate_;   // reused by upcalls: no allocation once warmed up
    // Flows for upcalls the full megaflow cache could not take (one per packet, reset
    // each pass over a burst); never in the classifier or the EMC.
    std::unique_ptr<Megaflow[]> scratch_;
    std::unique_ptr<DpActionList[]> scratch_acts_;
    uint16_t n_scratch_ = 0;
    std::unique_ptr<OutBuf[]> out_;          // kMaxPorts
    uint16_t dirty_[kMaxPorts];
    uint16_t n_dirty_ = 0;
    // Port::prepare_tx hints: the queues this PMD owns and sent to in one iteration are
    // hinted after the first burst received in the next (give_tx_hints). A burst later
    // than the send, so the lines the hint reads (asked for by that send) have arrived,
    // and a burst ahead of the next send, so the lines it asks for arrive before it.
    struct TxHint {
        uint16_t port;
        uint16_t txq;
        uint16_t n;
    };
    static constexpr uint16_t kMaxTxHints = 8;   // more queues in one iteration: not hinted
    TxHint hints_[kMaxTxHints];        // to give in this iteration
    TxHint hints_next_[kMaxTxHints];   // noted in this iteration
    uint16_t n_hints_ = 0;
    uint16_t n_hints_next_ = 0;
    const PollEntry* current_pe_ = nullptr;   // the rx queue whose burst is in flight
    const PmdConfig* current_cfg_ = nullptr;
    // Decapsulated packets waiting for their second pass (filled by dp_recirculate during
    // the first pass; at most one per received packet).
    rte_mbuf* recirc_pkts_[kBurst];
    encap::TunnelMd recirc_md_[kBurst];
    uint32_t recirc_port_[kBurst];
    uint16_t n_recirc_ = 0;
    bool decap_pass_ = false;                  // outputs choose VM queues by affinity
    uint32_t reply_port_ = 0;                  // where dp_reply sends (the packet's input)
    uint64_t now_ = 0;                         // TSC of the iteration (meters, upcall limit)
    UpcallLimiter upcall_limiter_{kMaxPorts};  // per input port, consulted on misses only
    uint64_t upcall_limit_seen_ = ~uint64_t(0);   // Datapath::upcall_limit_packed() applied
};

}  // namespace vswitch
