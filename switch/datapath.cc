#include "datapath.h"

#include <rte_ring.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

namespace vswitch {
namespace {

constexpr uint32_t kMaxPmds = 64;

int pmd_entry(void* arg) { return static_cast<Pmd*>(arg)->run(); }

bool valid_port_name(const std::string& n) {
    if (n.empty() || n.size() > 32) return false;
    for (char c : n)
        if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
    return !isdigit(static_cast<unsigned char>(n[0]));   // numbers name ports by number
}

}  // namespace

Datapath::Datapath(const DatapathConfig& cfg, const FlowTranslator& xlate)
    : cfg_(cfg), xlate_(xlate), owned_(kMaxPorts) {
    for (auto& p : ports_) p.store(nullptr);
    size_t sz = rte_rcu_qsbr_get_memsize(kMaxPmds);
    qsv_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("vsw_rcu", sz, RTE_CACHE_LINE_SIZE));
    // Failures here throw (switchd prints them and exits 1); what was allocated before
    // is left to the process's exit.
    if (!qsv_ || rte_rcu_qsbr_init(qsv_, kMaxPmds) != 0)
        throw std::runtime_error("cannot allocate the datapath RCU variable");
    int socket = static_cast<int>(rte_socket_id());
    pool_ = rte_pktmbuf_pool_create("vsw_mbufs", cfg.n_mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                    socket == SOCKET_ID_ANY ? 0 : socket);
    if (!pool_)
        throw std::runtime_error("cannot create the mbuf pool (" + std::to_string(cfg.n_mbufs) +
                                 " mbufs): " + rte_strerror(rte_errno));
    // Multi-consumer: every PMD that polls something drains it (pmd.h).
    inject_ = rte_ring_create("vsw_inject", kInjectRing, socket == SOCKET_ID_ANY ? 0 : socket, 0);
    if (!inject_)
        throw std::runtime_error(std::string("cannot create the inject ring: ") + rte_strerror(rte_errno));
    classifier_ = std::make_unique<Classifier>(qsv_, cfg.max_megaflows);
    tsc_hz_ = rte_get_tsc_hz();
    // As OVS's pmd-rxq-show and auto-load-balance: 12 intervals of 5 s.
    rxq_load_ = std::make_unique<RxqLoad>(5 * tsc_hz_, 12);
    meters_ = std::make_unique<Meters>(tsc_hz_, [this] { synchronize(); });
    set_upcall_limit(cfg.upcall_limit_per_s, cfg.upcall_limit_burst);
}

Datapath::~Datapath() {
    stop();
    for (uint32_t p = 0; p < kMaxPorts; p++) ports_[p].store(nullptr);
    owned_.clear();
    pmds_.clear();
    classifier_.reset();
    meters_.reset();
    rte_mbuf* m;
    while (rte_ring_sc_dequeue(inject_, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
    rte_ring_free(inject_);
    rte_mempool_free(pool_);
    rte_free(qsv_);
}

bool Datapath::start(std::string& err) {
    if (cfg_.pmd_cores.empty() || cfg_.pmd_cores.size() > kMaxPmds) {
        err = "pmd-cores: need 1.." + std::to_string(kMaxPmds) + " cores";
        return false;
    }
    for (size_t i = 0; i < cfg_.pmd_cores.size(); i++) {
        unsigned lcore = static_cast<unsigned>(i + 1);
        if (!rte_lcore_is_enabled(lcore)) {
            err = "pmd-cores: EAL lcore " + std::to_string(lcore) + " is not enabled";
            return false;
        }
        pmds_.push_back(std::make_unique<Pmd>(*this, static_cast<uint16_t>(i), cfg_.pmd_cores[i], lcore));
    }
    for (auto& p : pmds_) {
        if (rte_eal_remote_launch(pmd_entry, p.get(), p->lcore()) != 0) {
            err = "cannot launch PMD on lcore " + std::to_string(p->lcore());
            return false;
        }
    }
    started_ = true;
    reconfigure();
    return true;
}

void Datapath::stop() {
    if (!started_) return;
    for (auto& p : pmds_) p->request_stop();
    for (auto& p : pmds_) rte_eal_wait_lcore(p->lcore());
    started_ = false;
}

void Datapath::synchronize() const { rte_rcu_qsbr_synchronize(qsv_, RTE_QSBR_THRID_INVALID); }

uint32_t Datapath::add_port(const std::string& name, const std::string& type,
                            const PortOptions& opts, uint32_t port_no, std::string& err) {
    if (!valid_port_name(name)) {
        err = "name: '" + name + "' is not a valid port name (1-32 of [A-Za-z0-9_.-], not starting with a digit)";
        return 0;
    }
    if (port_by_name(name)) {
        err = "name: port '" + name + "' already exists";
        return 0;
    }
    if (port_no == 0) {
        for (uint32_t p = 1; p < kMaxPorts && port_no == 0; p++)
            if (!owned_[p]) port_no = p;
        if (port_no == 0) {
            err = "name: no free port number (max " + std::to_string(kMaxPorts - 1) + " ports)";
            return 0;
        }
    } else if (port_no >= kMaxPorts || owned_[port_no]) {
        err = "port_no: " + std::to_string(port_no) +
              (port_no >= kMaxPorts ? " is out of range" : " is already in use");
        return 0;
    }
    PortEnv env;
    env.mbuf_pool = pool_;
    env.socket_id = static_cast<int>(rte_socket_id());
    env.n_pmds = static_cast<uint16_t>(std::max<size_t>(1, cfg_.pmd_cores.size()));
    env.rcu_synchronize = [this] { synchronize(); };
    env.notify_state_change = [this] {
        if (on_port_state_change) on_port_state_change();
    };
    std::unique_ptr<Port> port = create_port(name, port_no, type, opts, env, err);
    if (!port) return 0;
    ports_[port_no].store(port.get(), std::memory_order_release);
    owned_[port_no] = std::move(port);
    reconfigure();
    return port_no;
}

bool Datapath::del_port(uint32_t port_no, std::string& err) {
    if (port_no >= kMaxPorts || !owned_[port_no]) {
        err = "name: no such port";
        return false;
    }
    // Unpublish first: after reconfigure()'s grace periods no PMD polls it, sends to it
    // or holds a pointer to it.
    ports_[port_no].store(nullptr, std::memory_order_release);
    reconfigure();
    owned_[port_no].reset();
    return true;
}

Port* Datapath::port(uint32_t port_no) const {
    return port_no < kMaxPorts ? owned_[port_no].get() : nullptr;
}

std::vector<Port*> Datapath::ports() const {
    std::vector<Port*> out;
    for (auto& p : owned_)
        if (p) out.push_back(p.get());
    return out;
}

Port* Datapath::port_by_name(const std::string& name) const {
    for (auto& p : owned_)
        if (p && p->name() == name) return p.get();
    return nullptr;
}

void Datapath::reconfigure() {
    // Keep each known queue on its PMD (a rebalance must survive a guest toggling a
    // vring); new queues go to the PMD with the fewest.
    std::map<std::pair<uint32_t, uint16_t>, uint16_t> prev;
    for (const RxqRef& r : rxqs_) prev[{r.port_no, r.queue}] = r.pmd;
    const uint16_t n_pmds = static_cast<uint16_t>(std::max<size_t>(1, pmds_.size()));
    std::vector<unsigned> count(n_pmds, 0);
    std::vector<RxqRef> rxqs;
    for (uint32_t p = 1; p < kMaxPorts; p++) {
        if (!ports_[p].load()) continue;
        for (uint16_t q = 0; q < owned_[p]->n_rxq(); q++) {
            RxqRef r{p, q, UINT16_MAX, 0};
            auto it = prev.find({p, q});
            if (it != prev.end() && it->second < n_pmds) {
                r.pmd = it->second;
                count[r.pmd]++;
            }
            rxqs.push_back(r);
        }
    }
    for (RxqRef& r : rxqs) {
        if (r.pmd != UINT16_MAX) continue;
        r.pmd = static_cast<uint16_t>(std::min_element(count.begin(), count.end()) - count.begin());
        count[r.pmd]++;
    }
    publish_configs(rxqs);
}

void Datapath::sample_rxq_load() {
    const uint64_t now = rte_rdtsc();
    if (!rxq_load_->due(now)) return;   // most ticks: no totals gathered
    std::vector<RxqTotal> totals;
    totals.reserve(rxqs_.size());
    for (const RxqRef& r : rxqs_)
        if (Port* p = owned_[r.port_no].get())
            totals.push_back({r.port_no, r.queue, p->rxq_stats(r.queue).cycles.load(std::memory_order_relaxed)});
    rxq_load_->sample(now, totals);
}

double Datapath::rxq_load_window_s() const {
    return tsc_hz_ ? static_cast<double>(rxq_load_->window_tsc(rte_rdtsc())) / static_cast<double>(tsc_hz_) : 0.0;
}

unsigned Datapath::rebalance() {
    std::vector<RxqRef> rxqs = rxqs_;
    for (RxqRef& r : rxqs) {
        Port* p = owned_[r.port_no].get();
        r.cycles = p ? rxq_load_->recent(r.port_no, r.queue, p->rxq_stats(r.queue).cycles.load()) : 0;
    }
    unsigned moved = assign_rxqs_by_load(rxqs, static_cast<uint16_t>(std::max<size_t>(1, pmds_.size())));
    publish_configs(rxqs);
    return moved;
}

void Datapath::publish_configs(const std::vector<RxqRef>& rxqs) {
    std::vector<TxPortQueues> outs;
    for (uint32_t p = 1; p < kMaxPorts; p++)
        if (Port* port = ports_[p].load()) outs.push_back({p, port->usable_txqs()});
    const uint16_t n_pmds = static_cast<uint16_t>(std::max<size_t>(1, pmds_.size()));
    auto map = compute_tx_map(rxqs, n_pmds, outs);

    std::vector<std::unique_ptr<PmdConfig>> fresh(pmds_.size());
    for (size_t i = 0; i < pmds_.size(); i++) fresh[i] = std::make_unique<PmdConfig>();
    // Count first so tx_storage never reallocates under the PollEntry pointers.
    std::vector<size_t> n_polls(pmds_.size(), 0);
    for (const RxqRef& r : rxqs)
        if (r.pmd < pmds_.size()) n_polls[r.pmd]++;
    for (size_t i = 0; i < pmds_.size(); i++) fresh[i]->tx_storage.resize(n_polls[i] * kMaxPorts);
    for (size_t i = 0; i < rxqs.size(); i++) {
        const RxqRef& r = rxqs[i];
        if (r.pmd >= pmds_.size()) continue;
        PmdConfig& c = *fresh[r.pmd];
        TxSlot* tx = c.tx_storage.data() + c.polls.size() * kMaxPorts;
        for (size_t j = 0; j < outs.size(); j++) tx[outs[j].port_no] = map[i][j];
        Port* port = ports_[r.port_no].load();
        c.polls.push_back({port, r.port_no, r.queue, &port->rxq_stats(r.queue).cycles, tx});
    }
    // Decapsulated traffic's per-packet queue choice towards VM ports (pmd.h).
    for (size_t i = 0; i < pmds_.size(); i++) {
        PmdConfig& c = *fresh[i];
        c.steer.resize(kMaxPorts);
        for (const TxPortQueues& o : outs) {
            Port* port = ports_[o.port_no].load();
            if (port->type() != PortType::VhostUser) continue;
            c.steer[o.port_no] = owned_txqs(rxqs, n_pmds, static_cast<uint16_t>(i), o.usable);
        }
    }

    // Phase 1: nobody polls, so no queue is ever used by two PMDs during the hand-over.
    std::vector<PmdConfig*> old;
    for (auto& p : pmds_) old.push_back(p->publish(new PmdConfig()));
    synchronize();
    for (PmdConfig* c : old) delete c;
    // Phase 2: the new lists.
    std::vector<PmdConfig*> empties;
    for (size_t i = 0; i < pmds_.size(); i++) empties.push_back(pmds_[i]->publish(fresh[i].release()));
    synchronize();
    for (PmdConfig* c : empties) delete c;
    rxqs_ = rxqs;
}

bool Datapath::inject(uint32_t port_no, rte_mbuf* m) {
    if (port_no == 0 || port_no >= kMaxPorts || !ports_[port_no].load()) {
        rte_pktmbuf_free(m);
        return false;
    }
    m->port = static_cast<uint16_t>(port_no);
    if (rte_ring_mp_enqueue(inject_, m) != 0) {
        rte_pktmbuf_free(m);
        return false;
    }
    return true;
}

bool Datapath::injected_pending() const { return rte_ring_count(inject_) != 0; }

unsigned Datapath::dequeue_injected(rte_mbuf** pkts, unsigned n) {
    return rte_ring_mc_dequeue_burst(inject_, reinterpret_cast<void**>(pkts), n, nullptr);
}

std::vector<RxqStatus> Datapath::rxq_status() const {
    std::vector<RxqStatus> out;
    std::vector<TxPortQueues> outs;
    for (uint32_t p = 1; p < kMaxPorts; p++)
        if (Port* port = ports_[p].load()) outs.push_back({p, port->usable_txqs()});
    auto map = compute_tx_map(rxqs_, static_cast<uint16_t>(std::max<size_t>(1, pmds_.size())), outs);
    for (size_t i = 0; i < rxqs_.size(); i++) {
        const RxqRef& r = rxqs_[i];
        Port* port = owned_[r.port_no].get();
        if (!port) continue;
        const uint64_t total = port->rxq_stats(r.queue).cycles.load();
        RxqStatus s{r.port_no, r.queue, r.pmd, port->rxq_enabled(r.queue), total,
                    rxq_load_->recent(r.port_no, r.queue, total), {}};
        for (size_t j = 0; j < outs.size(); j++) s.tx.push_back({outs[j].port_no, map[i][j]});
        out.push_back(std::move(s));
    }
    return out;
}

// Three phases, so that the expensive part (re-translation) runs in parallel and the
// classifier is still only changed by this thread:
//  1. sequential: collect the megaflows, push their stats to the rules (StatsSink is not
//     required to be thread-safe), decide idle evictions;
//  2. parallel (tbb::parallel_for): re-translate the others (FlowTranslator::translate
//     is thread-safe and the tables cannot change: only this thread publishes them)
//     and record a decision per megaflow - keep, remove, or new actions/rules;
//  3. sequential: apply the decisions (classifier remove/replace_actions).
size_t Datapath::revalidate(bool force_retranslate) {
    return revalidate_pass(true, force_retranslate ? Retranslate::All : Retranslate::None, 0, nullptr);
}

size_t Datapath::flush_megaflows() {
    revalidate(false);   // counts to the rules before the megaflows go
    std::vector<Megaflow*>& flows = reval_flows_;
    classifier_->collect(flows);
    for (Megaflow* f : flows) classifier_->remove(f);
    const size_t n = flows.size();
    flows.clear();
    classifier_->reclaim();
    return n;
}

size_t Datapath::revalidate_tables(uint64_t tables, std::vector<RuleChange> rules) {
    const RuleChangeSet set(std::move(rules));
    return revalidate_pass(false, tables || !set.empty() ? Retranslate::Tables : Retranslate::None, tables, &set);
}

size_t Datapath::revalidate_pass(bool stats, Retranslate which, uint64_t tables,
                                 const RuleChangeSet* rules) {
    const uint64_t t0 = rte_rdtsc();
    revalidations_++;
    // Reused across passes: at 1M megaflows fresh vectors meant faulting in (and
    // clearing) tens of MB of pages on every pass, on the PMD's core in the benchmark
    // layout.
    std::vector<Megaflow*>& flows = reval_flows_;
    classifier_->collect(flows);
    const uint64_t now = rte_rdtsc();
    const uint64_t idle_limit = static_cast<uint64_t>(cfg_.megaflow_max_idle_s * tsc_hz_);

    // One byte per megaflow; the rare changes carry their payload separately (a full
    // decision per megaflow was ~150 bytes: 150 MB per pass at 1M megaflows).
    enum Verdict : uint8_t { kKeep, kEvict, kRemove, kChanged };
    std::vector<uint8_t>& verdict = reval_verdict_;
    verdict.assign(flows.size(), kKeep);
    struct Change {
        size_t i;
        bool new_actions = false;
        bool new_rules = false;
        DpActionList actions;
        std::vector<std::shared_ptr<StatsSink>> rules;
        uint64_t tables = 0;
        uint32_t written = 0;
    };

    // Phase 1. Prefetched ahead in two steps: each megaflow is a cache miss (two lines:
    // the counters, and the control fields), and so is its rule list, whose address is
    // in the second; the loop has nothing else to overlap them with.
    constexpr size_t kAhead = 8;
    for (size_t i = 0; stats && i < flows.size(); i++) {
        if (i + 2 * kAhead < flows.size()) {
            const Megaflow* n = flows[i + 2 * kAhead];
            __builtin_prefetch(n);
            __builtin_prefetch(&n->pushed_packets);
        }
        if (i + kAhead < flows.size()) __builtin_prefetch(flows[i + kAhead]->rules.data());
        Megaflow* f = flows[i];
        uint64_t pk = f->n_packets();
        uint64_t by = f->n_bytes();
        uint64_t used = f->used_tsc.load(std::memory_order_relaxed);
        if (pk != f->pushed_packets) {
            for (auto& r : f->rules) r->credit(pk - f->pushed_packets, by - f->pushed_bytes, used);
            f->pushed_packets = pk;
            f->pushed_bytes = by;
        }
        uint64_t last = used ? used : f->created_tsc;
        if (now > last && now - last > idle_limit) verdict[i] = kEvict;
    }

    // Phase 2.
    unsigned threads = 1;
    tbb::enumerable_thread_specific<std::vector<Change>> changes;
    std::atomic<uint64_t> retranslated{0};
    if (which != Retranslate::None && !flows.empty()) {
        threads = static_cast<unsigned>(tbb::this_task_arena::max_concurrency());
        tbb::enumerable_thread_specific<Translation> tls;
        tbb::parallel_for(
            tbb::blocked_range<size_t>(0, flows.size(), 256),
            [&](const tbb::blocked_range<size_t>& r) {
                Translation& t = tls.local();
                std::vector<Change>* mine = nullptr;
                uint64_t n = 0;
                for (size_t i = r.begin(); i != r.end(); ++i) {
                    if (verdict[i] == kEvict) continue;
                    const Megaflow* f = flows[i];
                    // Looked up none of the changed tables (a translation that looked up
                    // no table at all depends on none), and can meet none of the changed
                    // rules of the tables it did look up.
                    if (which == Retranslate::Tables && !(f->tables & tables) &&
                        !rules->may_meet(f->tables, f->written, f->first_key, f->mask))
                        continue;
                    n++;
                    t.reset();
                    // Not to be cached any more (ARP to a VTEP configured since): removed,
                    // so its packets upcall.
                    if (!xlate_.translate(f->first_key, t) || !(t.mask == f->mask) || !t.cache) {
                        verdict[i] = kRemove;
                        continue;
                    }
                    const bool new_actions = t.actions != *f->actions.load(std::memory_order_acquire);
                    // Compare before copying: copies of shared rule pointers from several
                    // threads would bounce the rules' reference counts.
                    const bool new_rules = t.rules != f->rules || t.tables != f->tables || t.written != f->written;
                    if (!new_actions && !new_rules) continue;
                    if (!mine) mine = &changes.local();
                    Change& c = mine->emplace_back();
                    c.i = i;
                    c.new_actions = new_actions;
                    c.new_rules = new_rules;
                    if (new_actions) c.actions = t.actions;
                    if (new_rules) {
                        c.rules = t.rules;
                        c.tables = t.tables;
                        c.written = t.written;
                    }
                    verdict[i] = kChanged;
                }
                retranslated.fetch_add(n, std::memory_order_relaxed);
            });
    }

    // Phase 3.
    size_t evicted = 0, removed = 0, updated = 0;
    for (size_t i = 0; i < flows.size(); i++) {
        if (verdict[i] == kEvict) {
            classifier_->remove(flows[i]);
            evicted++;
        } else if (verdict[i] == kRemove) {
            classifier_->remove(flows[i]);
            removed++;
        }
    }
    for (std::vector<Change>& list : changes) {
        for (Change& c : list) {
            Megaflow* f = flows[c.i];
            if (c.new_actions) {
                classifier_->replace_actions(f, std::move(c.actions));
                updated++;
            }
            if (c.new_rules) {
                f->rules = std::move(c.rules);
                f->tables = c.tables;
                f->written = c.written;
            }
        }
        list.clear();   // their rule references go before reclaim, outside the hot loop
    }
    const size_t n_flows = flows.size();
    flows.clear();   // capacity kept; the pointers may dangle after reclaim()
    classifier_->reclaim();

    RevalidatorStats& st = reval_stats_;
    st.runs++;
    st.flows_checked += n_flows;
    st.retranslated += retranslated.load();
    st.last_retranslated = retranslated.load();
    st.evicted_idle += evicted;
    st.removed_changed += removed;
    st.actions_updated += updated;
    st.last_flows = n_flows;
    st.last_threads = threads;
    st.last_duration_us = (rte_rdtsc() - t0) * 1000000 / (tsc_hz_ ? tsc_hz_ : 1);
    st.max_duration_us = std::max(st.max_duration_us, st.last_duration_us);
    return evicted + removed;
}

bool Datapath::set_meter(uint32_t id, const MeterConfig& cfg, std::string& err) {
    return meters_->set(id, cfg, err);
}

bool Datapath::del_meter(uint32_t id) { return meters_->del(id); }

MeterStats Datapath::meter_stats(uint32_t id) const { return meters_->stats(id); }

void Datapath::set_upcall_limit(uint32_t upcalls_per_s, uint32_t burst) {
    upcall_limit_.store(uint64_t(upcalls_per_s) << 32 | burst, std::memory_order_relaxed);
}

}  // namespace vswitch
