// The datapath: ports, PMD threads, megaflow cache and the steering map, driven by the
// control thread.
//
// Threading: every public method is for the control thread only (switchd's Asio
// thread). PMD threads see the datapath through RCU-published snapshots (PmdConfig) and
// the port table (atomic pointers); nothing here makes a PMD wait.
//
// Reconfiguration (ports added/removed, guest queue changes, rebalance) is done in two
// publishes: first every PMD gets an empty poll list and the control thread waits a grace
// period (so no rx or tx queue is used by two threads during the hand-over), then the new
// lists are published. The pause is one grace period (microseconds).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "classifier.h"
#include "meters.h"
#include "pmd.h"
#include "port.h"
#include "rule_changes.h"
#include "rxq_load.h"
#include "steering.h"
#include "upcall.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_rcu_qsbr;
struct rte_ring;

namespace vswitch {

struct DatapathConfig {
    std::vector<unsigned> pmd_cores;   // CPU of each PMD; PMD i runs on EAL lcore i+1
    uint32_t max_megaflows = 200000;
    uint32_t n_mbufs = 65535;
    double megaflow_max_idle_s = 10.0;
    // Upcalls per second per input port and PMD (0 = unlimited); burst 0 = rate / 10.
    uint32_t upcall_limit_per_s = 100000;
    uint32_t upcall_limit_burst = 0;
    // EMC insertion: a megaflow hit (or upcall) is cached in the exact-match cache with
    // probability 1/N (OVS's emc-insert-inv-prob, same default). With many flows, inserting
    // every miss only thrashes the EMC; the flows that matter insert soon enough.
    // 1 = always, 0 = EMC off (no lookups either).
    uint32_t emc_insert_inv_prob = 100;
};

// Revalidator counters (cumulative since start unless "last_"). Control thread only.
struct RevalidatorStats {
    uint64_t runs = 0;              // revalidate() calls
    uint64_t flows_checked = 0;     // megaflows visited, all runs
    uint64_t retranslated = 0;      // megaflows re-translated, all runs (revalidate_tables skips some)
    uint64_t evicted_idle = 0;      // removed: idle longer than megaflow_max_idle_s
    uint64_t removed_changed = 0;   // removed: retranslation failed or its mask changed
    uint64_t actions_updated = 0;   // kept with new actions
    uint64_t last_flows = 0;        // megaflows visited by the last run
    uint64_t last_retranslated = 0; // of which re-translated
    uint64_t last_duration_us = 0;  // wall time of the last run
    uint64_t max_duration_us = 0;
    uint32_t last_threads = 0;      // threads available to the last run's retranslation
};

struct RxqStatus {
    uint32_t port_no;
    uint16_t queue;
    uint16_t pmd;
    bool enabled;
    uint64_t cycles;          // busy cycles since the queue exists
    uint64_t recent_cycles;   // within the load window (rxq_load.h)
    std::vector<std::pair<uint32_t, TxSlot>> tx;   // (output port, slot)
};

class Datapath {
public:
    Datapath(const DatapathConfig& cfg, const FlowTranslator& xlate);
    ~Datapath();
    Datapath(const Datapath&) = delete;
    Datapath& operator=(const Datapath&) = delete;

    // Launches the PMD lcores. false + err on failure.
    bool start(std::string& err);
    void stop();

    // Port management. port_no 0 = allocate the lowest free number.
    uint32_t add_port(const std::string& name, const std::string& type, const PortOptions& opts,
                      uint32_t port_no, std::string& err);
    bool del_port(uint32_t port_no, std::string& err);
    Port* port(uint32_t port_no) const;
    std::vector<Port*> ports() const;   // sorted by number
    Port* port_by_name(const std::string& name) const;

    // Re-derives rx assignments (round-robin over (port, queue)) and the tx map, and
    // publishes them. Called on port and guest-queue changes.
    void reconfigure();
    // Reassigns rx queues by their cycles within the load window (rxq_load.h: the last
    // minute); returns how many moved.
    unsigned rebalance();
    // Control thread, periodically: samples the rx queues' cycle totals for the load
    // window (a sample per interval, the rest of the calls return at once).
    void sample_rxq_load();
    // How far back the load window reaches now, in seconds.
    double rxq_load_window_s() const;

    // Brings every megaflow in line with the pipeline: re-translates, fixes actions,
    // removes those whose mask changed or that expired; pushes stats to the rules.
    // Returns the number removed. The re-translations run in parallel (TBB, on the
    // control thread's CPUs); classifier changes are applied afterwards, sequentially.
    // Without force_retranslate: stats and idle expiry only.
    size_t revalidate(bool force_retranslate);
    // Empties the megaflow cache (ovs-appctl dpctl/del-flows): their stats are pushed to
    // the rules first, so no count is lost; the next packets upcall and install them
    // afresh. Returns how many were removed. Control thread.
    size_t flush_megaflows();
    // After a change confined to the rules of some tables: re-translates only the
    // megaflows whose translation looked up one of `tables` (a bloom, bit = table id %
    // 64; Megaflow::tables), or may meet one of `rules` (the rules that came, went or
    // changed in the other changed tables; RuleChangeSet); no stats pass. The others
    // cannot have changed: a translation reads the rules of the tables it looks up and
    // nothing else of the tables, and a lookup cannot find a rule its key disagrees
    // with. Anything else (groups, ports, the overlay, MAC learning) needs
    // revalidate(true).
    size_t revalidate_tables(uint64_t tables, std::vector<RuleChange> rules = {});
    RevalidatorStats revalidator_stats() const { return reval_stats_; }

    // Meters (OpenFlow meter ids 1..0xffff0000, one drop band; see meters.h). A modified
    // meter keeps its counters. Actions reference meters by id; an unknown id passes.
    bool set_meter(uint32_t id, const MeterConfig& cfg, std::string& err);
    bool del_meter(uint32_t id);
    MeterStats meter_stats(uint32_t id) const;   // .found = false if there is no such meter
    const Meters& meters() const { return *meters_; }

    // Upcall rate limit per input port, per PMD: misses beyond it are dropped
    // ("upcall_limit"). upcalls_per_s 0 = unlimited; burst 0 = upcalls_per_s / 10.
    // Takes effect at each PMD's next miss.
    void set_upcall_limit(uint32_t upcalls_per_s, uint32_t burst);
    uint32_t upcall_limit_rate() const { return static_cast<uint32_t>(upcall_limit_.load() >> 32); }
    uint32_t upcall_limit_burst() const { return static_cast<uint32_t>(upcall_limit_.load()); }
    // PMD side: rate << 32 | burst.
    uint64_t upcall_limit_packed() const { return upcall_limit_.load(std::memory_order_relaxed); }

    // Called by drivers from any thread; the control thread must call reconfigure()
    // after it (set by switchd to post onto its io_context).
    std::function<void()> on_port_state_change;

    // Observability.
    const std::vector<std::unique_ptr<Pmd>>& pmds() const { return pmds_; }
    std::vector<RxqStatus> rxq_status() const;
    Classifier& classifier() { return *classifier_; }
    const Classifier& classifier() const { return *classifier_; }
    uint64_t tsc_hz() const { return tsc_hz_; }
    uint64_t revalidations() const { return revalidations_; }

    // Waits an RCU grace period (control or driver threads; never a PMD).
    void synchronize() const;

    // Control-plane packets (ARP requests of the underlay): m is sent out of port_no by
    // the next PMD that polls something to start an iteration, on its steering map's tx
    // queue (no lock: the PMD sends it like any other packet). Not PMD 0 alone: a PMD
    // with no rx queues (all its ports deleted, or fewer queues than PMDs) does not
    // iterate, and the packets would wait forever. Takes ownership; false (m freed) if
    // the port does not exist or the queue of pending packets is full.
    bool inject(uint32_t port_no, rte_mbuf* m);
    rte_mempool* mbuf_pool() const { return pool_; }
    // PMD threads (any number at once).
    bool injected_pending() const;
    unsigned dequeue_injected(rte_mbuf** pkts, unsigned n);

    // PMD-side access.
    Port* port_fast(uint32_t port_no) const {
        return ports_[port_no].load(std::memory_order_acquire);
    }
    const FlowTranslator& translator() const { return xlate_; }
    uint32_t emc_insert_inv_prob() const { return cfg_.emc_insert_inv_prob; }
    rte_rcu_qsbr* rcu() const { return qsv_; }

private:
    void publish_configs(const std::vector<RxqRef>& rxqs);

    DatapathConfig cfg_;
    const FlowTranslator& xlate_;
    rte_rcu_qsbr* qsv_ = nullptr;
    rte_mempool* pool_ = nullptr;
    static constexpr unsigned kInjectRing = 1024;
    rte_ring* inject_ = nullptr;
    std::unique_ptr<Classifier> classifier_;
    std::atomic<Port*> ports_[kMaxPorts];
    std::vector<std::unique_ptr<Port>> owned_;   // index = port_no
    std::vector<std::unique_ptr<Pmd>> pmds_;
    std::vector<RxqRef> rxqs_;                   // current assignment
    uint64_t tsc_hz_ = 0;
    std::unique_ptr<RxqLoad> rxq_load_;          // control thread
    uint64_t revalidations_ = 0;
    RevalidatorStats reval_stats_;
    enum class Retranslate { None, All, Tables };
    size_t revalidate_pass(bool stats, Retranslate which, uint64_t tables, const RuleChangeSet* rules);
    std::vector<Megaflow*> reval_flows_;   // revalidate()'s work arrays, kept between passes
    std::vector<uint8_t> reval_verdict_;
    std::unique_ptr<Meters> meters_;
    std::atomic<uint64_t> upcall_limit_{0};
    bool started_ = false;
};

}  // namespace vswitch
