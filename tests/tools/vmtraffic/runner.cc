// runner.cc - single-lcore traffic engine (see runner.h).
#include "runner.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>

#include "responder.h"
#include "vm_port.h"

namespace vmt {
namespace {

constexpr uint16_t kBurst = 32;
constexpr int kTxRetries = 3;  // extra tx_burst attempts per burst before giving up

uint64_t wall_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

std::string join(const std::vector<uint64_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); i++) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s;
}

uint64_t sum(const std::vector<uint64_t>& v) {
  uint64_t t = 0;
  for (auto x : v) t += x;
  return t;
}

}  // namespace

unsigned plan_memory(const Options& o, RunState* st) {
  st->vms.resize(o.vms.size());
  double total = 0;
  for (unsigned i = 0; i < o.vms.size(); i++) {
    VmState& vm = st->vms[i];
    const VmSpec& v = o.vms[i];
    vm.spec = &v;
    vm.index = i;
    unsigned max_frame = RTE_ETHER_MAX_LEN - RTE_ETHER_CRC_LEN;
    for (auto& s : o.sends)
      if (s.vm == i) max_frame = std::max(max_frame, s.size);
    for (size_t r = 0; r < o.replays.size(); r++)
      if (o.replays[r].vm == i && r < st->replay_frames.size())
        max_frame = std::max(max_frame, st->replay_frames[r].max_len);
    vm.max_frame = max_frame;
    vm.data_room = std::max<unsigned>(RTE_MBUF_DEFAULT_BUF_SIZE, max_frame + RTE_PKTMBUF_HEADROOM);
    // rx rings are kept full by the PMD, tx rings can hold a ring's worth in flight,
    // plus bursts in our hands and the mempool cache.
    vm.pool_size = 2 * v.queues * v.ring + v.queues * 2 * kBurst + 1024;
    // --no-huge memory is 4 KiB pages and mempool objects do not straddle a
    // page, so a default 2 KiB-data-room mbuf costs a whole page.
    const double page = 4096, elt = vm.data_room + sizeof(rte_mbuf) + 64;
    double per_obj = elt <= page ? page / std::floor(page / elt) : std::ceil(elt / page) * page;
    total += double(vm.pool_size) * per_obj;
  }
  if (o.mem_mb) return o.mem_mb;
  return unsigned(48 + total * 1.15 / (1 << 20));
}

bool Runner::setup() {
  double t_start = mono_now();
  double deadline = t_start + o_.wait_link;
  hz_ = rte_get_tsc_hz();
  for (auto& vm : st_.vms) {
    const VmSpec& v = *vm.spec;
    std::string pname = "vmt_pool" + std::to_string(vm.index);
    vm.pool = rte_pktmbuf_pool_create(pname.c_str(), vm.pool_size, 256, 0, uint16_t(vm.data_room),
                                      SOCKET_ID_ANY);
    if (!vm.pool) {
      st_.errors.push_back(v.name + ": mbuf pool of " + std::to_string(vm.pool_size) +
                           " failed: " + rte_strerror(rte_errno) + " (raise --mem)");
      return false;
    }
    vm.tx_pkts.assign(v.queues, 0);
    vm.tx_bytes.assign(v.queues, 0);
    vm.rx_pkts.assign(v.queues, 0);
    vm.rx_bytes.assign(v.queues, 0);
  }
  for (auto& r : o_.recvs) st_.vms[r.vm].recv = &r;
  for (auto& e : o_.echos) st_.vms[e.vm].echo = &e;
  for (auto& a : o_.answers) st_.vms[a.vm].answer = &a;
  for (auto& c : o_.captures) {
    VmState& vm = st_.vms[c.vm];
    vm.capture_spec = &c;
    vm.capture = std::make_unique<PcapWriter>();
    if (!vm.capture->open(c.file)) {
      st_.errors.push_back("--capture: " + vm.capture->error());
      return false;
    }
  }
  for (size_t i = 0; i < o_.sends.size(); i++) {
    const SendSpec& sp = o_.sends[i];
    SenderState s;
    s.vm = sp.vm;
    s.stream = sp.stream;
    s.label = "send#" + std::to_string(i);
    s.queues = sp.queues;
    if (s.queues.empty())
      for (unsigned q = 0; q < o_.vms[sp.vm].queues; q++) s.queues.push_back(uint16_t(q));
    s.gen = std::make_unique<PacketGen>(sp);
    s.count = sp.count;
    s.rate = sp.rate;
    s.flows = sp.flows;
    s.corrupt_every = sp.corrupt_every;
    st_.senders.push_back(std::move(s));
  }
  for (size_t i = 0; i < o_.replays.size(); i++) {
    const ReplaySpec& rp = o_.replays[i];
    SenderState s;
    s.replay = true;
    s.vm = rp.vm;
    s.label = "replay#" + std::to_string(i);
    s.queues = rp.queues;
    if (s.queues.empty()) s.queues.push_back(0);
    s.frames = &st_.replay_frames[i];
    s.count = rp.count ? rp.count : s.frames->size();
    s.rate = rp.rate;
    if (s.frames->size() == 0) s.done = true;
    st_.senders.push_back(std::move(s));
  }
  for (auto& s : st_.senders) {
    s.seq.assign(s.queues.size(), 0);
    s.per_queue.assign(s.queues.size(), 0);
  }

  for (auto& vm : st_.vms) {
    std::string err;
    int port = vm_port_probe(*vm.spec, vm.index, deadline, stop_, &err);
    if (port < 0) {
      st_.errors.push_back(err);
      return false;
    }
    vm.port = port;
    if (!vm_port_start(uint16_t(port), *vm.spec, vm.pool, vm.max_frame, &err)) {
      st_.errors.push_back(err);
      return false;
    }
    vm.started = true;
  }
  for (;;) {
    bool all = true;
    for (auto& vm : st_.vms) {
      if (!vm.link_up && vm_port_link_up(uint16_t(vm.port))) {
        vm.link_up = true;
        vm.link_up_s = mono_now() - t_start;
      }
      all = all && vm.link_up;
    }
    if (all) break;
    if (*stop_) {
      st_.interrupted = true;
      st_.errors.push_back("interrupted while waiting for link up");
      return false;
    }
    if (mono_now() >= deadline) {
      std::string down;
      for (auto& vm : st_.vms)
        if (!vm.link_up) down += " " + vm.spec->name;
      st_.errors.push_back("link not up within --wait-link:" + down);
      return false;
    }
    usleep(2000);
  }
  // virtio-user sends VHOST_USER_SET_VRING_ENABLE for queue pairs > 0 without
  // waiting for an ack, so the link is up before the vhost side has enabled
  // them; give its message thread time (sleeping: it may share our CPU).
  for (double until = mono_now() + o_.settle; !*stop_ && mono_now() < until;) usleep(1000);
  st_.setup_s = mono_now() - t_start;
  st_.ready = true;
  fprintf(stdout, "READY\n");
  fflush(stdout);
  return true;
}

uint16_t Runner::tx_retry(VmState& vm, uint16_t q, rte_mbuf** pkts, uint16_t n) {
  uint16_t sent = rte_eth_tx_burst(uint16_t(vm.port), q, pkts, n);
  for (int i = 0; sent < n && i < kTxRetries; i++) {
    vm.tx_full++;
    sent += rte_eth_tx_burst(uint16_t(vm.port), q, pkts + sent, uint16_t(n - sent));
  }
  return sent;
}

uint16_t Runner::rx_queue(VmState& vm, uint16_t q, uint64_t now) {
  rte_mbuf* pkts[kBurst];
  uint16_t n = rte_eth_rx_burst(uint16_t(vm.port), q, pkts, kBurst);
  if (!n) return 0;
  const uint16_t got = n;
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < n; i++) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  for (uint16_t i = 0; i < n; i++) {
    bytes += pkts[i]->pkt_len;
    vm.verifier.process(pkts[i]);
  }
  vm.rx_pkts[q] += n;
  vm.rx_bytes[q] += bytes;
  if (vm.capture) {
    uint64_t ts = wall0_ns_ + uint64_t(double(now - t0_tsc_) * 1e9 / double(hz_));
    for (uint16_t i = 0; i < n; i++) vm.capture->write(pkts[i], ts);
  }
  if (vm.answer) {
    // Requests to the VM's address are turned into their replies and sent back on this
    // queue; the rest of the burst goes on as usual (compacted in place).
    rte_mbuf* replies[kBurst];
    uint16_t nr = 0, keep = 0;
    uint64_t reply_bytes = 0;
    for (uint16_t i = 0; i < n; i++) {
      const Answer a = answer_in_place(pkts[i], vm.answer->ip, vm.spec->mac);
      if (a == Answer::None) {
        pkts[keep++] = pkts[i];
        continue;
      }
      (a == Answer::Arp ? vm.arp_replies : vm.icmp_replies)++;
      bytes -= pkts[i]->pkt_len;
      reply_bytes += pkts[i]->pkt_len;
      replies[nr++] = pkts[i];
    }
    if (nr) {
      const uint16_t sent = tx_retry(vm, q, replies, nr);
      for (uint16_t i = sent; i < nr; i++) reply_bytes -= replies[i]->pkt_len;
      vm.tx_pkts[q] += sent;
      vm.tx_bytes[q] += reply_bytes;
      if (sent < nr) {
        vm.echo_dropped += nr - sent;
        rte_pktmbuf_free_bulk(replies + sent, nr - sent);
      }
    }
    n = keep;
  }
  if (!vm.echo) {
    rte_pktmbuf_free_bulk(pkts, n);
    return got;
  }
  if (!vm.echo->keep_macs) {
    for (uint16_t i = 0; i < n; i++) {
      auto* eth = rte_pktmbuf_mtod(pkts[i], rte_ether_hdr*);
      if (pkts[i]->data_len < sizeof(rte_ether_hdr)) continue;
      eth->dst_addr = eth->src_addr;
      eth->src_addr = vm.spec->mac;
    }
  }
  uint16_t sent = tx_retry(vm, q, pkts, n);
  if (sent < n) {
    for (uint16_t i = sent; i < n; i++) bytes -= pkts[i]->pkt_len;
    vm.echo_dropped += n - sent;
    rte_pktmbuf_free_bulk(pkts + sent, n - sent);
  }
  vm.tx_pkts[q] += sent;
  vm.tx_bytes[q] += bytes;
  return got;
}

uint16_t Runner::send(SenderState& s, uint64_t now) {
  uint64_t n = kBurst;
  if (s.count) n = std::min<uint64_t>(n, s.count - s.sent);
  if (s.rate) {
    uint64_t due = uint64_t((unsigned __int128)(now - s.start_tsc) * s.rate / hz_);
    if (due <= s.sent) return 0;
    n = std::min<uint64_t>(n, due - s.sent);
  }
  if (!n) return 0;
  VmState& vm = st_.vms[s.vm];
  // Least-loaded queue first; with a count, queue i gets exactly its share
  // count/nq (+1 for the first count%nq queues), so per-queue totals are exact.
  const size_t nq = s.queues.size();
  size_t qi = nq;
  uint64_t share = 0;
  for (size_t i = 0; i < nq; i++) {
    uint64_t sh = s.count ? s.count / nq + (i < s.count % nq) : UINT64_MAX;
    if (s.per_queue[i] >= sh) continue;
    if (qi == nq || s.per_queue[i] < s.per_queue[qi]) {
      qi = i;
      share = sh;
    }
  }
  if (qi == nq) return 0;  // unreachable while sent < count
  n = std::min<uint64_t>(n, share - s.per_queue[qi]);
  uint16_t q = s.queues[qi];
  rte_mbuf* pkts[kBurst];
  if (rte_pktmbuf_alloc_bulk(vm.pool, pkts, unsigned(n)) != 0) {
    vm.alloc_fail++;
    return 0;
  }
  uint64_t bytes = 0;
  uint32_t seq0 = s.seq[qi];
  unsigned flow0 = s.flow_ctr;
  uint64_t corrupt0 = s.corrupt_ctr, corrupted0 = s.corrupted, idx0 = s.replay_idx;
  if (!s.replay) {
    for (uint64_t i = 0; i < n; i++) {
      bool corrupt = false;
      if (s.corrupt_every && ++s.corrupt_ctr == s.corrupt_every) {
        s.corrupt_ctr = 0;
        corrupt = true;
        s.corrupted++;
      }
      s.gen->build(pkts[i], q, uint32_t(seq0 + i), s.flow_ctr, corrupt);
      if (++s.flow_ctr == s.flows) s.flow_ctr = 0;
    }
    bytes = n * s.gen->frame_len();
  } else {
    const PcapFrames& f = *s.frames;
    for (uint64_t i = 0; i < n; i++) {
      size_t k = s.replay_idx++ % f.size();
      uint32_t len = std::min<uint32_t>(f.length[k], vm.data_room - RTE_PKTMBUF_HEADROOM);
      rte_memcpy(rte_pktmbuf_mtod(pkts[i], void*), f.data.data() + f.offset[k], len);
      pkts[i]->data_len = uint16_t(len);
      pkts[i]->pkt_len = len;
      bytes += len;
    }
  }
  uint16_t sent = tx_retry(vm, q, pkts, uint16_t(n));
  if (sent < n) {
    // Roll back so that unsent packets are regenerated later with the same
    // seq/flow/corruption: a full ring causes no sequence gap.
    s.tx_full++;
    uint64_t unsent = n - sent;
    for (uint64_t i = sent; i < n; i++) bytes -= pkts[i]->pkt_len;
    rte_pktmbuf_free_bulk(pkts + sent, unsigned(unsent));
    if (!s.replay) {
      s.flow_ctr = unsigned((flow0 + sent) % s.flows);
      if (s.corrupt_every) {
        s.corrupt_ctr = corrupt0;
        s.corrupted = corrupted0;
        for (uint16_t i = 0; i < sent; i++)
          if (++s.corrupt_ctr == s.corrupt_every) {
            s.corrupt_ctr = 0;
            s.corrupted++;
          }
      }
    } else {
      s.replay_idx = idx0 + sent;
    }
  }
  s.seq[qi] = seq0 + sent;
  s.per_queue[qi] += sent;
  s.sent += sent;
  s.bytes += bytes;
  vm.tx_pkts[q] += sent;
  vm.tx_bytes[q] += bytes;
  if (s.count && s.sent >= s.count) {
    s.done = true;
    s.end_tsc = now;
  }
  return sent;
}

bool Runner::recv_satisfied(const VmState& vm) const {
  const RecvSpec* r = vm.recv;
  if (!r) return true;
  uint64_t valid = vm.verifier.totals().valid;
  // Exact expectation: decided once that many test frames arrived (valid or
  // not); the drain period then catches extras.
  if (r->has_expect && vm.verifier.totals().test_frames < r->expect) return false;
  if (r->has_min && valid < r->min) return false;
  return true;
}

void Runner::print_stats(double t) {
  for (size_t i = 0; i < st_.vms.size(); i++) {
    VmState& vm = st_.vms[i];
    uint64_t tx = sum(vm.tx_pkts), rx = sum(vm.rx_pkts);
    const auto& c = vm.verifier.totals();
    fprintf(stderr,
            "[vmtraffic %7.2fs] %s link=%s tx=%lu [%s] full=%lu | rx=%lu [%s] valid=%lu "
            "bad_payload=%lu bad_length=%lu lost=%lu reord=%lu dup=%lu foreign=%lu\n",
            t, vm.spec->name.c_str(), vm.link_up ? "up" : "DOWN", (unsigned long)tx,
            join(vm.tx_pkts).c_str(), (unsigned long)vm.tx_full, (unsigned long)rx,
            join(vm.rx_pkts).c_str(), (unsigned long)c.valid, (unsigned long)c.bad_payload,
            (unsigned long)c.bad_length, (unsigned long)c.lost, (unsigned long)c.reordered,
            (unsigned long)c.dup, (unsigned long)vm.verifier.foreign());
  }
}

void Runner::run() {
  if (o_.start_delay > 0) {
    double until = mono_now() + o_.start_delay;
    while (!*stop_ && mono_now() < until) {  // keep the rx rings drained meanwhile
      uint64_t now = rte_rdtsc();
      for (auto& vm : st_.vms)
        for (uint16_t q = 0; vm.spec->rx && q < vm.spec->queues; q++) rx_queue(vm, q, now);
      usleep(500);
    }
    if (*stop_) {
      st_.interrupted = true;
      return;
    }
  }
  t0_tsc_ = rte_rdtsc();
  wall0_ns_ = wall_ns();
  rx_bursts_per_loop_ = std::max<size_t>(1, st_.senders.size());
  const uint64_t tick = hz_ / 1000;  // housekeeping every ~1 ms
  const uint64_t dur_tsc = o_.duration > 0 ? uint64_t(o_.duration * double(hz_)) : 0;
  const uint64_t stats_tsc = o_.stats_interval > 0 ? uint64_t(o_.stats_interval * double(hz_)) : 0;
  for (auto& s : st_.senders) s.start_tsc = t0_tsc_;

  bool has_finite = !st_.senders.empty();
  for (auto& vm : st_.vms)
    if (vm.recv && (vm.recv->has_expect || vm.recv->has_min)) has_finite = true;

  bool generating = true;
  uint64_t gen_end = 0, drain_end = 0, next_tick = t0_tsc_ + tick;
  uint64_t next_stats = t0_tsc_ + stats_tsc, next_link = t0_tsc_ + hz_ / 10, next_flush = t0_tsc_ + hz_;
  bool draining = false;

  uint64_t loop_start = rte_rdtsc(), busy_start = 0;
  bool busy = false;
  for (;;) {
    uint64_t now = rte_rdtsc();
    if (busy) st_.busy_cycles += now - busy_start;
    busy_start = now;
    unsigned moved = 0;
    st_.loops++;
    // A loop sends up to one burst per sender, so it drains up to as many bursts per
    // queue: with one rx burst per loop, 16 senders (the 1M-flow benchmark) filled the
    // receiving ring 16x faster than it was read, the switch dropped on tx_full, and the
    // generator, not the switch, set the rate.
    for (auto& vm : st_.vms)
      for (uint16_t q = 0; vm.spec->rx && q < vm.spec->queues; q++)
        for (size_t b = 0; b < rx_bursts_per_loop_; b++) {
          const uint16_t got = rx_queue(vm, q, now);
          moved += got;
          if (got < kBurst) break;
        }
    if (generating)
      for (auto& s : st_.senders)
        if (!s.done) moved += send(s, now);
    busy = moved != 0;
    st_.busy_loops += busy;
    if (now < next_tick) continue;
    next_tick = now + tick;

    if (*stop_) {
      // First signal: stop generating and drain; a second one ends at once.
      if (*stop_ > 1 || (st_.interrupted && !draining)) break;
      if (!st_.interrupted) {
        st_.interrupted = true;
        for (auto& s : st_.senders)
          if (!s.done) {
            s.done = true;
            s.end_tsc = now;
          }
        if (!draining) {
          draining = true;
          drain_end = now + uint64_t(o_.drain * double(hz_));
        }
      }
    }
    if (generating) {
      bool all_done = true;
      for (auto& s : st_.senders) all_done = all_done && s.done;
      if (dur_tsc && now - t0_tsc_ >= dur_tsc) {
        for (auto& s : st_.senders)
          if (!s.done) {
            s.done = true;
            s.end_tsc = now;
          }
        all_done = true;
      }
      if (all_done) {
        generating = false;
        gen_end = now;
        st_.gen_s = double(now - t0_tsc_) / double(hz_);
      }
    }
    if (!generating && !draining) {
      bool waited_out = true;  // all receivers satisfied or timed out
      for (auto& vm : st_.vms)
        if (vm.recv && !recv_satisfied(vm) &&
            now - gen_end < uint64_t(vm.recv->timeout * double(hz_)))
          waited_out = false;
      bool duration_over = dur_tsc && now - t0_tsc_ >= dur_tsc;
      if (waited_out && (has_finite || duration_over)) {
        draining = true;
        drain_end = now + uint64_t(o_.drain * double(hz_));
      }
    }
    if (draining && now >= drain_end) break;
    if (now >= next_link) {
      next_link = now + hz_ / 10;
      for (auto& vm : st_.vms) {
        bool up = vm_port_link_up(uint16_t(vm.port));
        if (vm.link_up && !up) {
          vm.link_down_events++;
          fprintf(stderr, "vmtraffic: %s: link went down\n", vm.spec->name.c_str());
        }
        vm.link_up = up;
      }
    }
    if (now >= next_flush) {
      next_flush = now + hz_;
      for (auto& vm : st_.vms)
        if (vm.capture) vm.capture->flush();
    }
    if (stats_tsc && now >= next_stats) {
      next_stats += stats_tsc;
      print_stats(double(now - t0_tsc_) / double(hz_));
    }
  }
  uint64_t end = rte_rdtsc();
  if (busy) st_.busy_cycles += end - busy_start;
  st_.total_cycles = end - loop_start;
  st_.traffic_s = double(end - t0_tsc_) / double(hz_);
  if (generating) st_.gen_s = st_.traffic_s;
  for (auto& s : st_.senders)
    if (!s.end_tsc) s.end_tsc = end;
  for (auto& vm : st_.vms)
    if (vm.capture) {
      vm.capture->close();
      if (!vm.capture->ok()) st_.errors.push_back("--capture: " + vm.capture->error());
    }
}

void Runner::close_ports() {
  for (auto& vm : st_.vms)
    if (vm.port >= 0 && !vm.closed) {
      vm.have_eth_stats = rte_eth_stats_get(uint16_t(vm.port), &vm.eth_stats) == 0;
      vm_port_close(uint16_t(vm.port));
      vm.closed = true;
    }
}

void Runner::evaluate() {
  for (auto& vm : st_.vms) {
    if (!vm.recv) continue;
    const auto& c = vm.verifier.totals();
    std::string why;
    if (c.bad_payload) why += " bad_payload=" + std::to_string(c.bad_payload);
    if (c.bad_length) why += " bad_length=" + std::to_string(c.bad_length);
    if (c.bad_ip_csum) why += " bad_ip_csum=" + std::to_string(c.bad_ip_csum);
    if (vm.recv->has_expect && c.valid != vm.recv->expect)
      why += " valid=" + std::to_string(c.valid) + "!=expect=" + std::to_string(vm.recv->expect);
    if (vm.recv->has_min && c.valid < vm.recv->min)
      why += " valid=" + std::to_string(c.valid) + "<min=" + std::to_string(vm.recv->min);
    if (!st_.ready) why += " not_ready";
    vm.recv_pass = why.empty();
    vm.recv_reason = why.empty() ? "" : why.substr(1);
  }
}

}  // namespace vmt
