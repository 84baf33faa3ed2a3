// Read-only requests: show, port-stats, pmd-stats, pmd-rxq-show (and pmd-rebalance,
// which reports what it moved). Counters are read with relaxed loads while the PMDs
// run: each value is exact, a set of values is not one instant.
#include <rte_cycles.h>

#include "controller.h"
#include "switch/drop_reasons.h"

#ifndef VSWITCH_VERSION
#define VSWITCH_VERSION "0.1"
#endif

namespace vswitch {

void Controller::fill_port(const Port& p, api::PortInfo& out) const {
    out.set_name(p.name());
    out.set_port_no(p.port_no());
    out.set_type(p.type_name());
    for (const auto& [k, v] : p.options()) (*out.mutable_options())[k] = v;
    out.set_state(p.state());
    out.set_n_rxq(p.n_rxq());
    out.set_n_txq(p.n_txq());
    out.set_mac(p.mac());
    out.set_mtu(p.mtu());
    uint64_t rxp = 0, rxb = 0, txp = 0, txb = 0, txd = 0;
    std::vector<uint32_t> pmd_of(p.n_rxq(), 0);
    for (const RxqStatus& r : dp_.rxq_status())
        if (r.port_no == p.port_no() && r.queue < pmd_of.size()) pmd_of[r.queue] = r.pmd;
    for (uint16_t q = 0; q < p.n_rxq(); q++) {
        const QueueCounters& c = p.rxq_stats(q);
        auto* qs = out.add_rxq();
        qs->set_queue(q);
        qs->set_pmd(pmd_of[q]);
        qs->set_enabled(p.rxq_enabled(q));
        qs->set_packets(c.packets.load(std::memory_order_relaxed));
        qs->set_bytes(c.bytes.load(std::memory_order_relaxed));
        rxp += qs->packets();
        rxb += qs->bytes();
    }
    std::vector<uint16_t> usable = p.usable_txqs();
    for (uint16_t q = 0; q < p.n_txq(); q++) {
        const QueueCounters& c = p.txq_stats(q);
        auto* qs = out.add_txq();
        qs->set_queue(q);
        qs->set_enabled(std::find(usable.begin(), usable.end(), q) != usable.end());
        qs->set_packets(c.packets.load(std::memory_order_relaxed));
        qs->set_bytes(c.bytes.load(std::memory_order_relaxed));
        qs->set_drops(c.drops.load(std::memory_order_relaxed));
        qs->set_retries(c.retries.load(std::memory_order_relaxed));
        txp += qs->packets();
        txb += qs->bytes();
    }
    uint64_t rx_drop = 0;
    for (size_t r = 0; r < kDropReasonCount; r++) {
        DropReason dr = static_cast<DropReason>(r);
        uint64_t n = p.drops(dr);
        if (n == 0) continue;
        (*out.mutable_drops())[drop_reason_name(dr)] = n;
        (drop_reason_is_tx(dr) ? txd : rx_drop) += n;
    }
    out.set_rx_packets(rxp);
    out.set_rx_bytes(rxb);
    out.set_tx_packets(txp);
    out.set_tx_bytes(txb);
    out.set_rx_dropped(rx_drop);
    out.set_tx_dropped(txd);
}

void Controller::show(api::Response& resp) {
    auto* s = resp.mutable_show();
    s->set_version(VSWITCH_VERSION);
    for (Port* p : dp_.ports()) fill_port(*p, *s->add_ports());
    for (const auto& pmd : dp_.pmds()) s->add_pmd_cores(pmd->core());
    s->set_n_flows(static_cast<uint32_t>(ofp_.n_rules()));
    s->set_n_megaflows(dp_.classifier().size());
    s->set_megaflow_capacity(dp_.classifier().capacity());
    s->set_db(db_desc_);
    s->set_db_snapshot_bytes(store_.snapshot_bytes());
    s->set_db_journal_records(store_.journal_records());
    s->set_db_journal_bytes(store_.journal_bytes());
}

void Controller::port_stats(const api::PortStatsRequest& r, api::Response& resp) {
    auto* out = resp.mutable_port_stats();
    if (!r.name().empty()) {
        Port* p = dp_.port_by_name(r.name());
        if (!p) {
            resp.clear_port_stats();
            resp.mutable_error()->set_message("no port named '" + r.name() + "'");
            resp.mutable_error()->set_field("name");
            return;
        }
        fill_port(*p, *out->add_ports());
        return;
    }
    for (Port* p : dp_.ports()) fill_port(*p, *out->add_ports());
}

namespace {

api::PmdStats read_pmd(const Pmd& pmd, uint64_t hz) {
    const PmdCounters& c = pmd.counters();
    auto ld = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    api::PmdStats s;
    s.set_pmd(pmd.id());
    s.set_core(pmd.core());
    s.set_rx_packets(ld(c.rx_packets));
    s.set_tx_packets(ld(c.tx_packets));
    s.set_emc_hits(ld(c.emc_hits));
    s.set_emc_bypassed(ld(c.emc_bypassed));
    s.set_megaflow_hits(ld(c.megaflow_hits));
    s.set_upcalls(ld(c.upcalls));
    s.set_megaflows_installed(ld(c.megaflows_installed));
    s.set_busy_cycles(ld(c.busy_cycles));
    s.set_idle_cycles(ld(c.idle_cycles));
    s.set_iterations(ld(c.iterations));
    s.set_busy_iterations(ld(c.busy_iterations));
    s.set_tx_shared_locks(ld(c.tx_shared_locks));
    s.set_megaflow_full(ld(c.megaflow_full));
    s.set_recirculated(ld(c.recirculated));
    s.set_affinity_hits(ld(c.affinity_hits));
    s.set_affinity_misses(ld(c.affinity_misses));
    s.set_injected(ld(c.injected));
    s.set_tsc_hz(hz);
    for (size_t r = 0; r < kDropReasonCount; r++)
        (*s.mutable_drops())[drop_reason_name(static_cast<DropReason>(r))] = ld(c.drops[r]);
    return s;
}

// a - b, field by field (pmd-stats --clear keeps a baseline instead of racing the PMD).
void subtract(api::PmdStats& a, const api::PmdStats& b) {
    a.set_rx_packets(a.rx_packets() - b.rx_packets());
    a.set_tx_packets(a.tx_packets() - b.tx_packets());
    a.set_emc_hits(a.emc_hits() - b.emc_hits());
    a.set_emc_bypassed(a.emc_bypassed() - b.emc_bypassed());
    a.set_megaflow_hits(a.megaflow_hits() - b.megaflow_hits());
    a.set_upcalls(a.upcalls() - b.upcalls());
    a.set_megaflows_installed(a.megaflows_installed() - b.megaflows_installed());
    a.set_busy_cycles(a.busy_cycles() - b.busy_cycles());
    a.set_idle_cycles(a.idle_cycles() - b.idle_cycles());
    a.set_iterations(a.iterations() - b.iterations());
    a.set_busy_iterations(a.busy_iterations() - b.busy_iterations());
    a.set_tx_shared_locks(a.tx_shared_locks() - b.tx_shared_locks());
    a.set_megaflow_full(a.megaflow_full() - b.megaflow_full());
    a.set_recirculated(a.recirculated() - b.recirculated());
    a.set_affinity_hits(a.affinity_hits() - b.affinity_hits());
    a.set_affinity_misses(a.affinity_misses() - b.affinity_misses());
    a.set_injected(a.injected() - b.injected());
    for (auto& [k, v] : *a.mutable_drops()) {
        auto it = b.drops().find(k);
        if (it != b.drops().end()) v -= it->second;
    }
}

}  // namespace

void Controller::pmd_stats(const api::PmdStatsRequest& r, api::Response& resp) {
    auto* out = resp.mutable_pmd_stats();
    const auto& pmds = dp_.pmds();
    baseline_.resize(pmds.size());
    std::vector<unsigned> nrxq(pmds.size(), 0);
    for (const RxqStatus& q : dp_.rxq_status())
        if (q.pmd < nrxq.size()) nrxq[q.pmd]++;
    for (size_t i = 0; i < pmds.size(); i++) {
        api::PmdStats s = read_pmd(*pmds[i], dp_.tsc_hz());
        if (r.clear()) {
            baseline_[i] = s;
        }
        subtract(s, baseline_[i]);
        s.set_cycles_per_packet(s.rx_packets() ? double(s.busy_cycles()) / double(s.rx_packets()) : 0.0);
        s.set_n_rxq(nrxq[i]);
        *out->add_pmds() = s;
    }
    const RevalidatorStats rs = dp_.revalidator_stats();
    auto* rv = out->mutable_revalidator();
    rv->set_runs(rs.runs);
    rv->set_flows_checked(rs.flows_checked);
    rv->set_evicted_idle(rs.evicted_idle);
    rv->set_removed_changed(rs.removed_changed);
    rv->set_actions_updated(rs.actions_updated);
    rv->set_last_flows(rs.last_flows);
    rv->set_retranslated(rs.retranslated);
    rv->set_last_retranslated(rs.last_retranslated);
    rv->set_last_duration_us(rs.last_duration_us);
    rv->set_max_duration_us(rs.max_duration_us);
    rv->set_megaflows(dp_.classifier().size());
    rv->set_megaflow_capacity(dp_.classifier().capacity());
}

void Controller::pmd_rxq_show(api::Response& resp) {
    auto* out = resp.mutable_pmd_rxq_show();
    std::vector<RxqStatus> st = dp_.rxq_status();
    // Shares of the recent load (the window), as pmd-rebalance sees it.
    std::vector<uint64_t> total(dp_.pmds().size() + 1, 0);
    for (const RxqStatus& q : st)
        if (q.pmd < total.size()) total[q.pmd] += q.recent_cycles;
    out->set_window_s(dp_.rxq_load_window_s());
    for (const RxqStatus& q : st) {
        auto* r = out->add_rxqs();
        r->set_port(port_name(q.port_no));
        r->set_queue(q.queue);
        r->set_pmd(q.pmd);
        r->set_core(q.pmd < dp_.pmds().size() ? dp_.pmds()[q.pmd]->core() : 0);
        r->set_enabled(q.enabled);
        r->set_cycles(q.cycles);
        r->set_recent_cycles(q.recent_cycles);
        r->set_usage_pct(total[q.pmd] ? 100.0 * double(q.recent_cycles) / double(total[q.pmd]) : 0.0);
        for (const auto& [port, slot] : q.tx) {
            // Tunnel ports have no queues: the pipeline turns an output to one into an
            // encapsulation and an output to the uplink. Listing them as "none" would
            // read as a problem.
            if (Port* p = dp_.port(port); p && p->type() == PortType::Tunnel) continue;
            auto* t = r->add_tx();
            t->set_port(port_name(port));
            if (slot.mode == TxMode::None) {
                t->set_txq(UINT32_MAX);   // no usable tx queue on that port now
            } else {
                t->set_txq(slot.txq);
                t->set_shared(slot.mode == TxMode::Shared);
            }
        }
    }
}

void Controller::pmd_rebalance(api::Response& resp) {
    unsigned moved = dp_.rebalance();
    auto* out = resp.mutable_pmd_rebalance();
    out->set_moved(moved);
    out->set_summary(std::to_string(moved) + " rx queue(s) moved between " +
                     std::to_string(dp_.pmds().size()) + " PMD(s) by measured cycles");
}

}  // namespace vswitch
