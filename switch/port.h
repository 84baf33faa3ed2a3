// Datapath ports: the driver-independent face of a vhost-user or ethdev port.
//
// Contract:
//  - rx_burst(q) is called only by the one PMD that polls rx queue q.
//  - tx_burst(q) is called only by the PMD(s) the steering map gives tx queue q to;
//    when more than one PMD shares q the caller holds txq_lock(q) (the map says so).
//  - tx_burst() consumes (frees or hands to the device) the first `returned` mbufs;
//    the rest stay the caller's, which frees them and counts the drop. A port that
//    drops some consumed packets itself (counted under its own reason) says how many,
//    and their bytes, in the queue's burst_port_drops / burst_port_drop_bytes, so that
//    the caller does not count them as sent.
//  - One virtual call per burst, never per packet.
//  - Per-queue counters are written only by the thread owning that queue (relaxed
//    stores) and read by the control thread; drop reasons use relaxed fetch_add because
//    rx and tx sides may both count into the same port.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <rte_spinlock.h>

#include "drop_reasons.h"

struct rte_mbuf;
struct rte_mempool;

namespace vswitch {

inline constexpr uint32_t kMaxPorts = 256;      // port numbers 1..kMaxPorts-1
inline constexpr uint16_t kMaxQueues = 32;      // per direction, per port

// Single-writer counter: cheaper than fetch_add, safe for concurrent readers.
inline void counter_add(std::atomic<uint64_t>& c, uint64_t v) {
    c.store(c.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
}

struct alignas(64) QueueCounters {
    std::atomic<uint64_t> packets{0};
    std::atomic<uint64_t> bytes{0};
    std::atomic<uint64_t> drops{0};
    std::atomic<uint64_t> cycles{0};   // rx: busy TSC cycles spent on this queue's bursts
    std::atomic<uint64_t> retries{0};  // tx (vhost): extra enqueue attempts (tx-retries)
    // tx: of the last tx_burst's consumed packets, those the port dropped (see above).
    // Written by tx_burst, read and cleared by its caller (the queue's owner).
    uint32_t burst_port_drops = 0;
    uint32_t burst_port_drop_bytes = 0;
};

enum class PortType : uint8_t { VhostUser, Ethdev, Tunnel };

using PortOptions = std::map<std::string, std::string>;

class Port {
public:
    Port(std::string name, uint32_t port_no, PortType type, PortOptions opts)
        : name_(std::move(name)), port_no_(port_no), type_(type), options_(std::move(opts)) {
        for (auto& l : txq_locks_) rte_spinlock_init(&l);
        if (type_ == PortType::VhostUser) affinity_.reset(new std::atomic<uint8_t>[kAffinitySlots]());
    }
    virtual ~Port() = default;
    Port(const Port&) = delete;
    Port& operator=(const Port&) = delete;

    // Fast path.
    virtual uint16_t rx_burst(uint16_t q, rte_mbuf** pkts, uint16_t n) = 0;
    virtual uint16_t tx_burst(uint16_t q, rte_mbuf** pkts, uint16_t n) = 0;
    // A hint from the PMD that owns tx queue q outright (never a shared queue): about n
    // packets will go out on q soon. A port whose tx writes into memory another core
    // owns (a guest's receive buffers) may request those lines now; others ignore it.
    virtual void prepare_tx(uint16_t q, uint16_t n) { (void)q, (void)n; }

    // Control path.
    virtual std::string state() const = 0;          // "up" | "down" | "error"
    virtual bool rxq_enabled(uint16_t q) const = 0;
    // Tx queues that may be used now (vhost: the guest's enabled rx vrings).
    virtual std::vector<uint16_t> usable_txqs() const = 0;
    virtual std::string mac() const { return ""; }

    const std::string& name() const { return name_; }
    uint32_t port_no() const { return port_no_; }
    PortType type() const { return type_; }
    const PortOptions& options() const { return options_; }
    virtual const char* type_name() const {
        return type_ == PortType::VhostUser ? "vhost-user" : "dpdk";
    }
    uint16_t n_rxq() const { return n_rxq_; }
    uint16_t n_txq() const { return n_txq_; }
    uint32_t max_frame() const { return max_frame_; }
    uint32_t mtu() const { return mtu_; }

    // Flow affinity (VM ports): the rx queue a flow (symmetric inner hash, flow_hash.h)
    // was last sent from, so decapsulated replies go back to that queue. A direct-mapped
    // table: a collision only costs a less good queue choice. Written by the PMD that
    // read the packet, read by the PMD that decapsulates: relaxed bytes suffice.
    static constexpr uint32_t kAffinitySlots = 4096;
    void note_flow_queue(uint32_t hash, uint16_t rxq) {
        if (affinity_) {
            std::atomic<uint8_t>& slot = affinity_[hash & (kAffinitySlots - 1)];
            const auto v = static_cast<uint8_t>(rxq + 1);
            if (slot.load(std::memory_order_relaxed) != v) slot.store(v, std::memory_order_relaxed);
        }
    }
    // -1: no record.
    int flow_queue(uint32_t hash) const {
        if (!affinity_) return -1;
        return int(affinity_[hash & (kAffinitySlots - 1)].load(std::memory_order_relaxed)) - 1;
    }

    rte_spinlock_t& txq_lock(uint16_t q) { return txq_locks_[q]; }
    QueueCounters& rxq_stats(uint16_t q) { return rxq_stats_[q]; }
    QueueCounters& txq_stats(uint16_t q) { return txq_stats_[q]; }
    const QueueCounters& rxq_stats(uint16_t q) const { return rxq_stats_[q]; }
    const QueueCounters& txq_stats(uint16_t q) const { return txq_stats_[q]; }
    void count_drop(DropReason r, uint64_t n) {
        drops_[static_cast<size_t>(r)].fetch_add(n, std::memory_order_relaxed);
    }
    uint64_t drops(DropReason r) const {
        return drops_[static_cast<size_t>(r)].load(std::memory_order_relaxed);
    }

protected:
    std::string name_;
    uint32_t port_no_;
    PortType type_;
    PortOptions options_;
    uint16_t n_rxq_ = 1;
    uint16_t n_txq_ = 1;
    uint32_t mtu_ = 1500;
    uint32_t max_frame_ = 1518;

private:
    std::unique_ptr<std::atomic<uint8_t>[]> affinity_;
    std::array<rte_spinlock_t, kMaxQueues> txq_locks_;
    std::array<QueueCounters, kMaxQueues> rxq_stats_;
    std::array<QueueCounters, kMaxQueues> txq_stats_;
    std::array<std::atomic<uint64_t>, kDropReasonCount> drops_{};
};

// What the datapath needs to create ports.
struct PortEnv {
    rte_mempool* mbuf_pool = nullptr;
    int socket_id = 0;
    uint16_t n_pmds = 1;   // tx queues wanted so each PMD can own one
    // Waits until no PMD can still be using what was unpublished before the call
    // (an RCU grace period). Called from driver threads (vhost events).
    std::function<void()> rcu_synchronize;
    // Tells the control thread that a port's state or usable queues changed (it
    // recomputes the steering map). Must be cheap and thread-safe (e.g. asio::post).
    std::function<void()> notify_state_change;
};

// Validates options and creates the port (not yet polled). On error returns nullptr and
// sets err to "<field>: <problem>" with field like "options.queues".
std::unique_ptr<Port> create_port(const std::string& name, uint32_t port_no,
                                  const std::string& type, const PortOptions& opts,
                                  const PortEnv& env, std::string& err);

}  // namespace vswitch
