#include "steering.h"

#include <algorithm>
#include <numeric>

namespace vswitch {

void assign_rxqs_round_robin(std::vector<RxqRef>& rxqs, uint16_t n_pmds) {
    for (size_t i = 0; i < rxqs.size(); i++) rxqs[i].pmd = static_cast<uint16_t>(i % n_pmds);
}

unsigned assign_rxqs_by_load(std::vector<RxqRef>& rxqs, uint16_t n_pmds) {
    std::vector<size_t> order(rxqs.size());
    std::iota(order.begin(), order.end(), 0);
    // Busiest first; ties keep (port, queue) order so the result is deterministic.
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return rxqs[a].cycles > rxqs[b].cycles; });
    std::vector<uint64_t> load(n_pmds, 0);
    std::vector<unsigned> count(n_pmds, 0);
    unsigned moved = 0;
    for (size_t i : order) {
        uint16_t best = 0;
        for (uint16_t p = 1; p < n_pmds; p++)
            if (load[p] < load[best] || (load[p] == load[best] && count[p] < count[best])) best = p;
        if (rxqs[i].pmd != best) moved++;
        rxqs[i].pmd = best;
        load[best] += rxqs[i].cycles;
        count[best]++;
    }
    return moved;
}

std::vector<std::vector<TxSlot>> compute_tx_map(const std::vector<RxqRef>& rxqs,
                                                uint16_t n_pmds,
                                                const std::vector<TxPortQueues>& outs) {
    std::vector<std::vector<TxSlot>> map(rxqs.size(), std::vector<TxSlot>(outs.size()));
    std::vector<uint16_t> active;   // PMDs that poll at least one queue
    for (uint16_t p = 0; p < n_pmds; p++)
        if (std::any_of(rxqs.begin(), rxqs.end(), [&](const RxqRef& r) { return r.pmd == p; }))
            active.push_back(p);
    if (active.empty()) return map;
    const size_t A = active.size();

    for (size_t j = 0; j < outs.size(); j++) {
        const auto& usable = outs[j].usable;
        const size_t T = usable.size();
        if (T == 0) continue;   // TxMode::None: nothing may be sent there now
        for (size_t a = 0; a < A; a++) {
            std::vector<uint16_t> own;
            bool shared = false;
            if (T >= A) {
                for (size_t k = a; k < T; k += A) own.push_back(usable[k]);
            } else {
                own.push_back(usable[a % T]);
                // Another active PMD lands on the same queue iff one more lap fits.
                shared = (a % T) + T < A;
            }
            // This PMD's rx queues, the output port's own queues last (hairpin is rare;
            // keeping them last lets the other ports' queue i map to tx queue i).
            std::vector<size_t> mine;
            for (size_t i = 0; i < rxqs.size(); i++)
                if (rxqs[i].pmd == active[a] && rxqs[i].port_no != outs[j].port_no) mine.push_back(i);
            for (size_t i = 0; i < rxqs.size(); i++)
                if (rxqs[i].pmd == active[a] && rxqs[i].port_no == outs[j].port_no) mine.push_back(i);
            for (size_t k = 0; k < mine.size(); k++) {
                TxSlot& s = map[mine[k]][j];
                s.txq = own[k % own.size()];
                s.mode = shared ? TxMode::Shared : TxMode::Owned;
            }
        }
    }
    return map;
}

std::vector<uint16_t> owned_txqs(const std::vector<RxqRef>& rxqs, uint16_t n_pmds, uint16_t pmd,
                                 const std::vector<uint16_t>& usable) {
    size_t rank = 0, active = 0;
    bool me = false;
    for (uint16_t p = 0; p < n_pmds; p++) {
        if (!std::any_of(rxqs.begin(), rxqs.end(), [&](const RxqRef& r) { return r.pmd == p; }))
            continue;
        if (p == pmd) {
            me = true;
            rank = active;
        }
        active++;
    }
    std::vector<uint16_t> own;
    if (!me || usable.size() < active) return own;
    for (size_t k = rank; k < usable.size(); k += active) own.push_back(usable[k]);
    return own;
}

}  // namespace vswitch
