#include "pmd.h"

#include <algorithm>

#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include "classifier.h"
#include "datapath.h"
#include "flow_extract.h"
#include "flow_hash.h"
#include "mbuf_free.h"
#include "wire.h"

namespace vswitch {

Pmd::Pmd(Datapath& dp, uint16_t id, unsigned core, unsigned lcore)
    : dp_(dp), id_(id), core_(core), lcore_(lcore), scratch_(new Megaflow[kBurst]),
      scratch_acts_(new DpActionList[kBurst]), out_(new OutBuf[kMaxPorts]) {
    const uint32_t inv = dp.emc_insert_inv_prob();
    emc_on_ = inv != 0;
    emc_threshold_ = inv <= 1 ? UINT32_MAX : static_cast<uint32_t>(UINT32_MAX / inv);
    rng_ = 0x9e3779b9u ^ (uint32_t(id) * 0x85ebca6bu);
    xlate_.actions.reserve(16);
    xlate_.rules.reserve(16);
    for (uint16_t i = 0; i < kBurst; i++) scratch_[i].actions.store(&scratch_acts_[i]);
}

Pmd::~Pmd() {
    delete cfg_.load();
    // The scratch flows point at scratch_acts_, which they must not delete.
    for (uint16_t i = 0; i < kBurst; i++) scratch_[i].actions.store(nullptr);
}

int Pmd::run() {
    rte_rcu_qsbr* qsv = dp_.rcu();
    rte_rcu_qsbr_thread_register(qsv, id_);
    rte_rcu_qsbr_thread_online(qsv, id_);
    seen_removal_gen_ = dp_.classifier().removal_generation();
    emc_.clear();
    GuestNotifyBatch::install(&notify_);

    uint64_t t = rte_rdtsc();
    while (!stop_.load(std::memory_order_relaxed)) {
        const PmdConfig* cfg = cfg_.load(std::memory_order_acquire);
        if (!cfg || cfg->polls.empty()) {
            // Nothing to poll: sleep offline so grace periods do not wait for us and the
            // core is not burnt for nothing.
            rte_rcu_qsbr_thread_offline(qsv, id_);
            usleep(1000);
            rte_rcu_qsbr_thread_online(qsv, id_);
            after_quiescent();
            t = rte_rdtsc();
            continue;
        }
        // One TSC read per iteration: in a VM rdtsc costs tens of cycles, too much to
        // pay per rx queue. The iteration's cycles are shared among the queues that
        // received, in proportion to their packets.
        if (cfg != current_cfg_) n_hints_ = n_hints_next_ = 0;   // queues may have moved
        current_cfg_ = cfg;
        if (dp_.injected_pending()) drain_injected(*cfg);
        uint16_t got[kMaxPollsPerPmd];
        uint32_t total = 0;
        const size_t np = std::min(cfg->polls.size(), kMaxPollsPerPmd);
        for (size_t i = 0; i < np; i++) {
            got[i] = poll(cfg->polls[i], t);
            total += got[i];
        }
        // Inside the iteration's cycles, and before the quiescent report below (the rings
        // it checks stay attached until then).
        notify_.flush();
        std::copy(hints_next_, hints_next_ + n_hints_next_, hints_);
        n_hints_ = n_hints_next_;
        n_hints_next_ = 0;
        const uint64_t now = rte_rdtsc();
        const uint64_t dt = now - t;
        t = now;
        if (total) {
            counter_add(ctr_.busy_cycles, dt);
            counter_add(ctr_.busy_iterations, 1);
            for (size_t i = 0; i < np; i++)
                if (got[i]) counter_add(*cfg->polls[i].cycles, dt * got[i] / total);
        } else {
            counter_add(ctr_.idle_cycles, dt);
        }
        counter_add(ctr_.iterations, 1);
        rte_rcu_qsbr_quiescent(qsv, id_);
        after_quiescent();
    }
    notify_.flush();
    GuestNotifyBatch::install(nullptr);
    rte_rcu_qsbr_thread_offline(qsv, id_);
    rte_rcu_qsbr_thread_unregister(qsv, id_);
    return 0;
}

// Runs right after a quiescent report: the token load inside it ordered any megaflow
// removal before this point, so dead flows are purged from the EMC before their memory
// can be reused (see classifier.h).
void Pmd::after_quiescent() {
    uint64_t g = dp_.classifier().removal_generation();
    if (g != seen_removal_gen_) {
        seen_removal_gen_ = g;
        emc_.sweep_dead();
    }
}

uint16_t Pmd::poll(const PollEntry& pe, uint64_t now) {
    rte_mbuf* pkts[kBurst];
    const uint16_t n = pe.port->rx_burst(pe.rxq, pkts, kBurst);
    if (n == 0) return 0;
    if (n_hints_) give_tx_hints();
    current_pe_ = &pe;
    now_ = now;

    QueueCounters& qc = pe.port->rxq_stats(pe.rxq);
    counter_add(ctr_.rx_packets, n);
    counter_add(qc.packets, n);

    reply_port_ = pe.port_no;
    counter_add(qc.bytes, process(pe, pkts, n, nullptr, nullptr));
    if (n_recirc_) {
        // Second pass for what tunnel pops produced, straight from the recirculation
        // arrays: nothing appends to them during it (a pop in this pass is dropped
        // before it could, see dp_recirculate), and process() reads md[i] and
        // in_ports[i] before it compacts pkts over index i.
        const uint16_t nr = n_recirc_;
        n_recirc_ = 0;
        counter_add(ctr_.recirculated, nr);
        decap_pass_ = true;
        reply_port_ = 0;   // an answer to a decapsulated packet would need re-encapsulation
        process(pe, recirc_pkts_, nr, recirc_port_, recirc_md_);
        decap_pass_ = false;
    }

    // Stage 4: transmit what the actions queued.
    flush(pe);
    return n;
}

uint64_t Pmd::process(const PollEntry& pe, rte_mbuf** pkts, uint16_t n, const uint32_t* in_ports,
                      const encap::TunnelMd* md) {
    n_scratch_ = 0;   // the previous pass's batches are executed: scratch flows are free

    // Stage 1: parse. Bad frames are dropped here; the rest are compacted in place.
    alignas(64) FlowKey keys[kBurst];
    uint32_t hashes[kBurst];
    uint16_t k = 0;
    uint64_t bytes = 0;
    const uint32_t max_frame = pe.port->max_frame();
    for (uint16_t i = 0; i < n; i++) {
        rte_mbuf* m = pkts[i];
        if (i + 2 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 2], void*));
        bytes += m->pkt_len;
        if (!md && m->pkt_len > max_frame) {
            drop(DropReason::RxOversize, pe.port, &m, 1);
            continue;
        }
        ParseResult r = flow_extract(m, md ? in_ports[i] : pe.port_no, keys[k]);
        if (r != ParseResult::Ok) {
            drop(r == ParseResult::Runt ? DropReason::RxRunt : DropReason::RxMalformed, pe.port, &m, 1);
            continue;
        }
        if (md) {
            FlowKey& key = keys[k];
            key.tun_id = md[i].tun_id;
            key.tun_src = md[i].tun_src;
            key.tun_dst = md[i].tun_dst;
            // The inner flow's symmetric hash rides in the mbuf to the output stage,
            // which picks the VM queue by it (steer_queue).
            m->hash.rss = sym_flow_hash(key);
        }
        pkts[k++] = m;
    }
    if (k == 0) return bytes;
    // Hashing in its own pass: the parser writes keys byte- and halfword-wise, and reading
    // them back as 64-bit words right away stalls on store forwarding; one packet later
    // the stores have retired. (Measured: flow_key_hash went from 7.5% of PMD time.)
    // The hash is the EMC's: a bypassed burst does not need it (the classifier hashes
    // its own keys).
    emc_burst_ = emc_probe_burst();
    if (!emc_burst_) {
        counter_add(ctr_.emc_bypassed, k);
    } else {
        for (uint16_t i = 0; i < k; i++) {
            hashes[i] = flow_key_hash(keys[i], 0);
            // The EMC (1 MiB) stays in cache only for a few flows; then prefetching its
            // sets is 4 wasted instructions per packet (~8 cycles in the decap path).
            if (emc_prefetch_) emc_.prefetch(hashes[i]);
        }
    }

    // Stage 2: find each packet's megaflow (EMC, classifier, upcall).
    Megaflow* flows[kBurst];
    lookup(pkts, keys, hashes, flows, k);

    // Stage 3: group by megaflow and execute. Packets of one megaflow stay in arrival
    // order; batches are executed in order of their first packet. Grouping is a counting
    // sort into one array (a batch is a range of it): per-batch arrays of a burst's
    // size would put ~17 KB of stack in play per pass, and the stores into it showed up
    // as the top cost of this function in the decap profile.
    struct Batch {
        Megaflow* flow;
        uint16_t n;
        uint16_t start;
        uint32_t bytes;
    };
    Batch batches[kBurst];
    uint8_t batch_of[kBurst];
    uint16_t nb = 0;
    // Which batch holds a megaflow: a 64-slot open-addressing map valid for this pass
    // only (a slot counts when its generation is this pass's). With many flows every
    // packet of a burst is a batch of its own, and scanning the batches cost a compare
    // per earlier batch, ~500 per burst.
    if (++batch_gen_ == 0) {   // wrapped: old generations must not look current
        std::fill(std::begin(batch_slot_gen_), std::end(batch_slot_gen_), 0u);
        batch_gen_ = 1;
    }
    const uint32_t gen = batch_gen_;
    constexpr uint8_t kNoBatch = 0xff;   // consumed by the upcall path
    // A run of packets of one megaflow is counted in registers and added to its batch
    // when the run ends: adding each packet to the batch in memory made a store-to-load
    // chain through the whole burst (the top cost of this function in the decap profile).
    Megaflow* run_flow = nullptr;
    uint16_t run_b = 0, run_n = 0;
    uint32_t run_bytes = 0;
    for (uint16_t i = 0; i < k; i++) {
        Megaflow* f = flows[i];
        if (f == nullptr) {
            batch_of[i] = kNoBatch;
            continue;
        }
        if (f != run_flow) {
            if (run_n) {
                batches[run_b].n = static_cast<uint16_t>(batches[run_b].n + run_n);
                batches[run_b].bytes += run_bytes;
            }
            run_flow = f;
            run_n = 0;
            run_bytes = 0;
            uint32_t h = static_cast<uint32_t>((reinterpret_cast<uintptr_t>(f) >> 6) * 0x9e3779b1u) >>
                         (32 - kBatchSlotsLog2);
            while (batch_slot_gen_[h] == gen && batch_slot_flow_[h] != f)
                h = (h + 1) & (kBatchSlots - 1);
            if (batch_slot_gen_[h] == gen) {
                run_b = batch_slot_idx_[h];
            } else {
                batch_slot_gen_[h] = gen;
                batch_slot_flow_[h] = f;
                batch_slot_idx_[h] = static_cast<uint8_t>(nb);
                run_b = nb++;
                batches[run_b].flow = f;
                batches[run_b].n = 0;
                batches[run_b].bytes = 0;
            }
        }
        batch_of[i] = static_cast<uint8_t>(run_b);
        run_n++;
        run_bytes += pkts[i]->pkt_len;
    }
    if (run_n) {
        batches[run_b].n = static_cast<uint16_t>(batches[run_b].n + run_n);
        batches[run_b].bytes += run_bytes;
    }
    rte_mbuf* grouped[kBurst];
    const FlowKey* grouped_keys[kBurst];
    if (nb == 1) {
        // One megaflow, the common case: the burst in order. The sort's per-packet
        // increment of a fill counter in memory is a store-to-load chain (~17% of this
        // function in the decap profile); a register counter is not.
        batches[0].start = 0;
        for (uint16_t i = 0, at = 0; i < k; i++) {
            if (batch_of[i] == kNoBatch) continue;
            grouped[at] = pkts[i];
            grouped_keys[at++] = &keys[i];
        }
    } else {
        uint16_t fill[kBurst];
        for (uint16_t b = 0, at = 0; b < nb; b++) {
            batches[b].start = fill[b] = at;
            at = static_cast<uint16_t>(at + batches[b].n);
        }
        for (uint16_t i = 0; i < k; i++) {
            if (batch_of[i] == kNoBatch) continue;
            const uint16_t at = fill[batch_of[i]]++;
            grouped[at] = pkts[i];
            grouped_keys[at] = &keys[i];
        }
    }
    for (uint16_t b = 0; b < nb; b++) {
        Batch& bt = batches[b];
        Megaflow* f = bt.flow;
        f->credit(id_, bt.n, bt.bytes, now_);   // once per batch, not per packet
        execute(*f->actions.load(std::memory_order_acquire), grouped + bt.start,
                grouped_keys + bt.start, bt.n, pe);
    }
    return bytes;
}

// EMC insertion with probability 1/emc_inv_: a cheap xorshift per PMD, compared against a
// precomputed threshold (no division per packet).
bool Pmd::emc_should_insert() {
    if (emc_threshold_ == UINT32_MAX) return true;
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 17;
    rng_ ^= rng_ << 5;
    return rng_ <= emc_threshold_;
}

// The EMC pays only while it hits: probing it costs a miss on its set once flows
// outnumber what stays in cache, and a miss costs the megaflow lookup anyway. At 1M
// flows (1% hits) probing and inserting cost ~40 cycles per packet for nothing. So each
// window of kEmcWindow probed packets measures the hit share; below 1/kEmcMinHitShare
// the PMD stops probing, except one burst in kEmcSampleEvery, which keeps measuring and
// inserting so the EMC comes back when traffic narrows again.
bool Pmd::emc_probe_burst() {
    if (!emc_on_) return false;
    return !emc_bypass_ || (++emc_burst_ctr_ & (kEmcSampleEvery - 1)) == 0;
}

void Pmd::emc_account(uint32_t probed, uint32_t hits) {
    emc_win_probed_ += probed;
    emc_win_hits_ += hits;
    // While bypassed only one burst in kEmcSampleEvery is probed: a window as short in
    // time keeps the way back as quick as the way out.
    if (emc_win_probed_ < (emc_bypass_ ? kEmcWindow / kEmcSampleEvery : kEmcWindow)) return;
    emc_bypass_ = uint64_t(emc_win_hits_) * kEmcMinHitShare < emc_win_probed_;
    emc_prefetch_ = !emc_bypass_ && uint64_t(emc_win_hits_) * 100 < uint64_t(emc_win_probed_) * 99;
    emc_win_probed_ = emc_win_hits_ = 0;
}

void Pmd::lookup(rte_mbuf** pkts, FlowKey* keys, const uint32_t* hashes, Megaflow** flows,
                 uint16_t n) {
    const FlowKey* miss_keys[kBurst];
    uint16_t miss_idx[kBurst];
    uint16_t nm = 0;
    if (emc_burst_) {
        for (uint16_t i = 0; i < n; i++) {
            flows[i] = emc_.lookup(keys[i], hashes[i]);
            if (flows[i]) {
                megaflow_prefetch(flows[i]);
            } else {
                miss_keys[nm] = &keys[i];
                miss_idx[nm++] = i;
            }
        }
        counter_add(ctr_.emc_hits, n - nm);
        emc_account(n, n - nm);
    } else {
        for (uint16_t i = 0; i < n; i++) {
            flows[i] = nullptr;
            miss_keys[nm] = &keys[i];
            miss_idx[nm++] = i;
        }
    }
    if (nm == 0) return;

    Megaflow* found[kBurst];
    Classifier& cls = dp_.classifier();
    unsigned hits = cls.lookup_batch(miss_keys, found, nm);   // hits already prefetched
    counter_add(ctr_.megaflow_hits, hits);
    for (uint16_t j = 0; j < nm; j++) {
        uint16_t i = miss_idx[j];
        Megaflow* f = found[j];
        if (!f) {
            // An earlier upcall in this burst may have installed what this packet needs.
            f = emc_burst_ ? emc_.lookup(keys[i], hashes[i]) : nullptr;
            if (!f) f = cls.lookup(keys[i]);
            if (!f) {
                f = upcall(keys[i], pkts[i], *current_pe_);
                flows[i] = f;   // nullptr: the upcall consumed the packet
                // A scratch flow (cache full) must not outlive this burst in the EMC.
                if (!f || (f >= scratch_.get() && f < scratch_.get() + kBurst)) continue;
            }
        }
        if (emc_burst_ && emc_should_insert()) emc_.insert(keys[i], hashes[i], f);
        flows[i] = f;
    }
}

// Per (PMD, input port) token bucket; the limit is re-read only when the control thread
// changed it (one relaxed load per miss).
bool Pmd::upcall_allowed(uint32_t port_no) {
    const uint64_t lim = dp_.upcall_limit_packed();
    if (__builtin_expect(lim != upcall_limit_seen_, 0)) {
        upcall_limit_seen_ = lim;
        upcall_limiter_.configure(static_cast<uint32_t>(lim >> 32), static_cast<uint32_t>(lim),
                                  dp_.tsc_hz());
    }
    return upcall_limiter_.allow(port_no, now_);
}

Megaflow* Pmd::upcall(const FlowKey& key, rte_mbuf* pkt, const PollEntry& pe) {
    if (!upcall_allowed(pe.port_no)) {
        drop(DropReason::UpcallLimit, pe.port, &pkt, 1);
        return nullptr;
    }
    counter_add(ctr_.upcalls, 1);
    xlate_.reset();
    if (!dp_.translator().translate(key, xlate_)) {
        drop(DropReason::UpcallError, pe.port, &pkt, 1);
        return nullptr;
    }
    // Cache full, or a translation not to cache: this packet still goes by its
    // translation, through a scratch flow private to this burst, so it keeps its place
    // among the burst's batches (executing it here would overtake earlier packets). The
    // next such packet upcalls again. Its rules are not credited. A full cache is
    // counted, so it shows in pmd-stats.
    if (xlate_.cache) {
        Classifier::InsertResult res;
        Megaflow* f = dp_.classifier().insert(key, xlate_, id_, res);
        if (res == Classifier::InsertResult::Inserted) counter_add(ctr_.megaflows_installed, 1);
        if (f) return f;
        counter_add(ctr_.megaflow_full, 1);
    }
    Megaflow& s = scratch_[n_scratch_];
    scratch_acts_[n_scratch_++] = xlate_.actions;   // reuses capacity once warmed up
    return &s;
}

void Pmd::execute(const DpActionList& acts, rte_mbuf** pkts, const FlowKey* const* keys, uint16_t n,
                  const PollEntry& pe) {
    if (acts.empty()) {
        drop(DropReason::FlowDrop, pe.port, pkts, n);
        return;
    }
    if (acts.size() == 1 && acts[0].type == DpActionType::TunnelPop && !decap_pass_ &&
        pop_recirculate(acts[0], pkts, n))
        return;
    if (acts.size() == 2 && acts[0].type == DpActionType::TunnelPush &&
        acts[1].type == DpActionType::Output && acts[0].port < acts.tunnels.size() &&
        encap_output(acts.tunnels[acts[0].port], acts[1].port, acts, pkts, keys, n))
        return;
    size_t n_out = 0;
    for (const DpAction& a : acts) n_out += a.type == DpActionType::Output;
    if (n_out != acts.size()) {
        // Modifications, meters, unsupported types: the general executor.
        dp_execute(acts, pkts, n, DpExecEnv{dp_.meters().table(), now_}, *this);
        return;
    }
    // Outputs only (the benchmark path): every output but the last shares the mbuf
    // (refcount, on every segment): outputs do not modify packets, and vhost copies on
    // enqueue.
    size_t done = 0;
    for (const DpAction& a : acts) {
        bool last = ++done == n_out;
        for (uint16_t i = 0; i < n; i++) {
            if (!last) rte_pktmbuf_refcnt_update(pkts[i], 1);
            enqueue_output(a.port, pkts[i]);
        }
    }
}

// The VPC encap path, [TunnelPush, Output]: the flow keys the PMD already extracted give
// the entropy hash, so the packets are not parsed again as the general executor must
// (dp_execute sees only mbufs). The hash is the one the decapsulating side computes
// from its keys (Pmd::process), so flow affinity agrees. Returns false, having done
// nothing, when a packet is shared or indirect (the general path copies those).
bool Pmd::encap_output(const encap::TunnelHeader& h, uint32_t port_no, const DpActionList& acts,
                       rte_mbuf** pkts, const FlowKey* const* keys, uint16_t n) {
    for (uint16_t i = 0; i < n; i++)
        if (!RTE_MBUF_DIRECT(pkts[i]) || rte_mbuf_refcnt_read(pkts[i]) != 1) return false;
    uint32_t hashes[kBurst];
    uint16_t n_ok = 0;
    for (uint16_t i = 0; i < n; i++) {
        const uint32_t hash = sym_flow_hash(*keys[i]);
        if (encap::push(pkts[i], h, hash) == encap::PushResult::Ok) {
            hashes[n_ok++] = hash;
            enqueue_output(port_no, pkts[i]);
        } else {
            // Too big or no headroom: push left it unchanged, and the general path drops
            // it under its reason (with the ICMP "fragmentation needed" when due).
            dp_execute(acts, &pkts[i], 1, DpExecEnv{dp_.meters().table(), now_}, *this);
        }
    }
    if (n_ok) dp_encapped(hashes, n_ok);
    return true;
}

// The VPC decap path, [TunnelPop]: pop each packet and queue it for the second pass
// directly, without the general executor's plan and per-packet prepare (which has
// nothing to do for a private, direct packet whose headers are in its first segment).
// Returns false, having done nothing, for a batch with any other packet: the general
// path copies or linearizes those first.
bool Pmd::pop_recirculate(const DpAction& a, rte_mbuf** pkts, uint16_t n) {
    // One pop per received packet, so there is room; if not, the general path drops
    // the excess under its reason.
    if (n > kBurst - n_recirc_) return false;
    for (uint16_t i = 0; i < n; i++) {
        const rte_mbuf* m = pkts[i];
        const uint32_t want = std::min<uint32_t>(m->pkt_len, wire::kHdrMax);
        if (!RTE_MBUF_DIRECT(m) || rte_mbuf_refcnt_read(m) != 1 || m->data_len < want)
            return false;
    }
    const encap::TunnelType type = a.pop_type();
    const uint16_t udp_port = a.pop_udp_port();
    for (uint16_t i = 0; i < n; i++) {
        rte_mbuf* m = pkts[i];
        const encap::PopResult r = encap::pop(m, type, udp_port, recirc_md_[n_recirc_]);
        if (r == encap::PopResult::Ok) {
            recirc_pkts_[n_recirc_] = m;
            recirc_port_[n_recirc_++] = a.port;
        } else {
            drop(tunnel_pop_drop_reason(r), current_pe_->port, &m, 1);
        }
    }
    return true;
}

void Pmd::dp_output(uint32_t port_no, rte_mbuf* const* pkts, uint16_t n) {
    for (uint16_t i = 0; i < n; i++) enqueue_output(port_no, pkts[i]);
}

void Pmd::dp_drop(DropReason r, rte_mbuf** pkts, uint16_t n) {
    drop(r, current_pe_->port, pkts, n);
}

void Pmd::dp_recirculate(uint32_t tunnel_port, rte_mbuf* const* pkts, const encap::TunnelMd* md,
                         uint16_t n) {
    rte_mbuf** p = const_cast<rte_mbuf**>(pkts);
    if (decap_pass_) {
        // Tunnel in tunnel: one level of decapsulation per received packet.
        drop(DropReason::RecircDepth, current_pe_->port, p, n);
        return;
    }
    const uint16_t room = static_cast<uint16_t>(kBurst - n_recirc_);
    const uint16_t take = n < room ? n : room;   // never short: one pop per received packet
    for (uint16_t i = 0; i < take; i++) {
        recirc_pkts_[n_recirc_] = p[i];
        recirc_md_[n_recirc_] = md[i];
        recirc_port_[n_recirc_++] = tunnel_port;
    }
    if (take < n) drop(DropReason::ActionFailed, current_pe_->port, p + take, n - take);
}

void Pmd::dp_reply(rte_mbuf* const* pkts, uint16_t n) {
    if (reply_port_ == 0) {
        rte_pktmbuf_free_bulk(const_cast<rte_mbuf**>(pkts), n);
        return;
    }
    for (uint16_t i = 0; i < n; i++) enqueue_output(reply_port_, pkts[i]);
}

void Pmd::dp_encapped(const uint32_t* hashes, uint16_t n) {
    Port* in = current_pe_->port;
    if (decap_pass_) return;   // re-encapsulated transit traffic: no VM queue to remember
    for (uint16_t i = 0; i < n; i++) in->note_flow_queue(hashes[i], current_pe_->rxq);
}

// A decapsulated packet's tx queue on VM port port_no: the queue its flow was last sent
// from if this PMD owns it, else inner hash modulo the queues this PMD owns (which are the
// guest's enabled ones when one PMD serves the port).
uint16_t Pmd::steer_queue(uint32_t port_no, const rte_mbuf* m) {
    if (!current_cfg_ || port_no >= current_cfg_->steer.size()) return kDefaultQ;
    const std::vector<uint16_t>& own = current_cfg_->steer[port_no];
    if (own.empty()) return kDefaultQ;
    Port* port = dp_.port_fast(port_no);
    if (!port) return kDefaultQ;
    const uint32_t h = m->hash.rss;
    const int q = port->flow_queue(h);
    if (q >= 0)
        for (uint16_t o : own)
            if (o == q) {
                counter_add(ctr_.affinity_hits, 1);
                return o;
            }
    counter_add(ctr_.affinity_misses, 1);
    return own[h % own.size()];
}

void Pmd::enqueue_output(uint32_t port_no, rte_mbuf* m) {
    if (port_no >= kMaxPorts) port_no = 0;   // port 0 never exists: counted as gone
    OutBuf& b = out_[port_no];
    if (b.n == 0) dirty_[n_dirty_++] = static_cast<uint16_t>(port_no);
    if (b.n == 2 * kBurst) {
        flush(*current_pe_);
        dirty_[n_dirty_++] = static_cast<uint16_t>(port_no);
    }
    uint16_t q = kDefaultQ;
    if (decap_pass_) {
        q = steer_queue(port_no, m);
        if (q != kDefaultQ) b.steered = true;
    }
    b.q[b.n] = q;
    b.pkts[b.n++] = m;
}

void Pmd::drain_injected(const PmdConfig& cfg) {
    rte_mbuf* pkts[kBurst];
    const unsigned n = dp_.dequeue_injected(pkts, kBurst);
    if (n == 0) return;
    const PollEntry& pe = cfg.polls[0];
    current_pe_ = &pe;
    reply_port_ = 0;
    for (unsigned i = 0; i < n; i++) enqueue_output(pkts[i]->port, pkts[i]);
    counter_add(ctr_.injected, n);
    flush(pe);
}

void Pmd::note_tx_hint(uint32_t port_no, uint16_t txq, uint16_t n) {
    for (uint16_t i = 0; i < n_hints_next_; i++)
        if (hints_next_[i].port == port_no && hints_next_[i].txq == txq) {
            hints_next_[i].n = std::max(hints_next_[i].n, n);
            return;
        }
    if (n_hints_next_ < kMaxTxHints)
        hints_next_[n_hints_next_++] = {static_cast<uint16_t>(port_no), txq, n};
}

void Pmd::give_tx_hints() {
    for (uint16_t i = 0; i < n_hints_; i++)
        if (Port* p = dp_.port_fast(hints_[i].port)) p->prepare_tx(hints_[i].txq, hints_[i].n);
    n_hints_ = 0;
}

// Sends n packets of buffer b to tx queue txq of port under slot mode `mode`.
void Pmd::send(Port* port, uint16_t txq, TxMode mode, rte_mbuf** pkts, uint16_t n) {
    QueueCounters& qc = port->txq_stats(txq);
    // Lengths first: sent mbufs belong to the device once tx_burst returns.
    uint32_t len[2 * kBurst];
    for (uint16_t i = 0; i < n; i++) len[i] = pkts[i]->pkt_len;
    uint16_t sent;
    uint32_t port_drops = 0;   // consumed but dropped by the port itself (port.h)
    if (mode == TxMode::Shared) {
        rte_spinlock_lock(&port->txq_lock(txq));
        sent = port->tx_burst(txq, pkts, n);
        // Under the lock: this queue's counters have several writers.
        port_drops = count_sent(qc, len, sent);
        rte_spinlock_unlock(&port->txq_lock(txq));
        counter_add(ctr_.tx_shared_locks, 1);
    } else {
        sent = port->tx_burst(txq, pkts, n);
        port_drops = count_sent(qc, len, sent);
        note_tx_hint(port->port_no(), txq, n);
    }
    counter_add(ctr_.tx_packets, sent - port_drops);
    if (port_drops) qc.drops.fetch_add(port_drops, std::memory_order_relaxed);
    if (sent < n) {
        qc.drops.fetch_add(n - sent, std::memory_order_relaxed);
        drop(DropReason::TxFull, port, pkts + sent, n - sent);
    }
}

// Counts the first `sent` packets as the queue's output, less those the port consumed but
// dropped under its own reason (a guest buffer too small, a bad descriptor), which
// count as the queue's drops. Returns their number.
uint32_t Pmd::count_sent(QueueCounters& qc, const uint32_t* len, uint16_t sent) {
    uint64_t bytes = 0;
    for (uint16_t i = 0; i < sent; i++) bytes += len[i];
    const uint32_t pd = qc.burst_port_drops;
    if (__builtin_expect(pd != 0, 0)) {
        bytes -= qc.burst_port_drop_bytes;
        qc.burst_port_drops = qc.burst_port_drop_bytes = 0;
    }
    counter_add(qc.packets, sent - pd);
    counter_add(qc.bytes, bytes);
    return pd;
}

void Pmd::flush(const PollEntry& pe) {
    for (uint16_t d = 0; d < n_dirty_; d++) {
        uint16_t p = dirty_[d];
        OutBuf& b = out_[p];
        Port* port = dp_.port_fast(p);
        if (!port) {
            drop(DropReason::OutputPortGone, nullptr, b.pkts, b.n);
            b.n = 0;
            b.steered = false;
            continue;
        }
        const TxSlot& s = pe.tx[p];
        if (!b.steered) {
            if (s.mode == TxMode::None) drop(DropReason::TxQueueDisabled, port, b.pkts, b.n);
            else send(port, s.txq, s.mode, b.pkts, b.n);
            b.n = 0;
            continue;
        }
        // Per-packet queues (decapsulated traffic): one burst per distinct queue, in
        // order of first appearance; steered queues are owned by this PMD (no lock).
        rte_mbuf* grp[2 * kBurst];
        uint16_t left = b.n;
        while (left) {
            const uint16_t q = b.q[0];
            uint16_t ng = 0, rest = 0;
            for (uint16_t i = 0; i < left; i++) {
                if (b.q[i] == q) {
                    grp[ng++] = b.pkts[i];
                } else {
                    b.pkts[rest] = b.pkts[i];
                    b.q[rest++] = b.q[i];
                }
            }
            left = rest;
            if (q != kDefaultQ) send(port, q, TxMode::Owned, grp, ng);
            else if (s.mode == TxMode::None) drop(DropReason::TxQueueDisabled, port, grp, ng);
            else send(port, s.txq, s.mode, grp, ng);
        }
        b.n = 0;
        b.steered = false;
    }
    n_dirty_ = 0;
}

void Pmd::drop(DropReason r, Port* port, rte_mbuf** pkts, uint16_t n) {
    if (n == 0) return;
    counter_add(ctr_.drops[static_cast<size_t>(r)], n);
    if (port) port->count_drop(r, n);
    if (pkts) free_mbufs(pkts, n);
}

}  // namespace vswitch
