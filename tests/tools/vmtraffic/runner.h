// runner.h - the single-lcore traffic engine: VMs, senders, rx/echo/capture, run control.
//
// Contract:
//   plan_memory() sizes the per-VM mbuf pools and the EAL -m value before EAL
//   init.  After rte_eal_init(): setup() creates pools, probes and starts every
//   VM (bounded by --wait-link), waits for all links to be up and then prints
//   "READY" on stdout (flushed).  run() polls every VM queue and every sender on
//   the calling lcore until the run-control rules (docs/traffic-tool.md, "When
//   does it stop") say stop, or *stop_flag becomes non-zero.  close_ports()
//   stops/closes/unplugs all probed ports.  All counters live in RunState,
//   which report.cc reads after run() returned.  Nothing here is thread safe;
//   everything runs on one thread.
#pragma once

#include <csignal>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "options.h"
#include "packet_gen.h"
#include "pcap_file.h"
#include "verifier.h"

namespace vmt {

struct VmState {
  const VmSpec* spec = nullptr;
  unsigned index = 0;
  int port = -1;
  bool started = false, closed = false;
  rte_mempool* pool = nullptr;
  unsigned pool_size = 0, data_room = 0, max_frame = 0;
  std::vector<uint64_t> tx_pkts, tx_bytes, rx_pkts, rx_bytes;  // per queue
  uint64_t tx_full = 0;      // tx_burst calls that could not take the whole burst
  uint64_t echo_dropped = 0; // echoed frames given up after the bounded retries
  uint64_t alloc_fail = 0;
  Verifier verifier;
  std::unique_ptr<PcapWriter> capture;
  const CaptureSpec* capture_spec = nullptr;
  const EchoSpec* echo = nullptr;
  const AnswerSpec* answer = nullptr;
  uint64_t arp_replies = 0, icmp_replies = 0;  // sent by --answer
  const RecvSpec* recv = nullptr;
  bool link_up = false;
  double link_up_s = -1;     // seconds from start of setup to link up
  uint64_t link_down_events = 0;
  bool recv_pass = true;     // evaluated at the end
  std::string recv_reason;
  bool have_eth_stats = false;
  rte_eth_stats eth_stats{};  // snapshot taken by close_ports()
};

struct SenderState {
  bool replay = false;
  unsigned vm = 0;
  uint16_t stream = 0;         // generator only
  std::string label;           // "send#0" / "replay#0 FILE"
  std::vector<uint16_t> queues;
  std::vector<uint32_t> seq;   // next seq per entry of queues
  std::vector<uint64_t> per_queue;
  std::unique_ptr<PacketGen> gen;
  const PcapFrames* frames = nullptr;
  uint64_t replay_idx = 0;
  uint64_t count = 0, rate = 0, corrupt_every = 0, corrupt_ctr = 0;
  unsigned flows = 1, flow_ctr = 0;
  uint64_t sent = 0, bytes = 0, tx_full = 0, corrupted = 0;
  uint64_t start_tsc = 0, end_tsc = 0;
  bool done = false;
};

struct RunState {
  std::vector<VmState> vms;
  std::vector<SenderState> senders;
  std::vector<PcapFrames> replay_frames;  // parallel to Options::replays
  double setup_s = 0;     // setup() start to READY
  double traffic_s = 0;   // traffic start to end of run()
  double gen_s = 0;       // traffic start to end of generation
  bool ready = false, interrupted = false;
  // lcore accounting over the traffic phase: an iteration is busy when it moved
  // at least one packet (rx or tx); its whole duration counts as busy.
  uint64_t loops = 0, busy_loops = 0, busy_cycles = 0, total_cycles = 0;
  std::vector<std::string> errors;  // runtime errors (exit 1)
};

// Fills pool sizes in st->vms (which it creates) and returns the EAL -m value.
unsigned plan_memory(const Options& o, RunState* st);

class Runner {
 public:
  Runner(const Options& o, RunState* st, const volatile sig_atomic_t* stop_flag)
      : o_(o), st_(*st), stop_(stop_flag) {}
  bool setup();
  void run();
  void close_ports();  // snapshots ethdev stats first
  void evaluate();  // sets recv_pass/recv_reason for every VM

 private:
  uint16_t rx_queue(VmState& vm, uint16_t q, uint64_t now);  // returns frames received
  size_t rx_bursts_per_loop_ = 1;  // per rx queue and loop: one per sender (run())
  uint16_t send(SenderState& s, uint64_t now);                // returns frames sent
  uint16_t tx_retry(VmState& vm, uint16_t q, rte_mbuf** pkts, uint16_t n);
  void print_stats(double t);
  bool recv_satisfied(const VmState& vm) const;

  const Options& o_;
  RunState& st_;
  const volatile sig_atomic_t* stop_;
  uint64_t hz_ = 0, t0_tsc_ = 0;
  uint64_t wall0_ns_ = 0;
  std::vector<uint64_t> last_tx_, last_rx_;  // for the live stats rates
};

}  // namespace vmt
