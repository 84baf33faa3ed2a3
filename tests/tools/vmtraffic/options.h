// options.h - vmtraffic command line model and parser.
//
// Contract:
//   parse_options() turns argv into an Options value or throws UsageError with a
//   human readable message (main maps it to exit code 2).  It only validates
//   syntax and cross references (VM names, sizes); it touches no DPDK state and
//   opens no files.  All later stages trust the Options they get.
//   Numbers are host order; MAC addresses are rte_ether_addr; IPs host order.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <rte_ether.h>

namespace vmt {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct VmSpec {
  std::string name;
  std::string path;          // vhost-user unix socket
  unsigned queues = 1;       // queue pairs
  bool server = false;       // virtio-user listens (vhost side is client)
  rte_ether_addr mac{};      // always set (default derived from the name)
  unsigned ring = 1024;      // virtio queue_size
  bool rx = true;            // false: never read its rx queues (a guest that stopped draining)
  std::vector<std::pair<std::string, std::string>> devargs;  // passthrough
};

enum class Proto { UDP, TCP };

struct SendSpec {
  unsigned vm = 0;             // index into Options::vms
  uint16_t stream = 0;         // stream id in the test header
  rte_ether_addr dst{};
  rte_ether_addr src{};        // defaults to the VM's MAC
  uint32_t src_ip = 0x0a000001, dst_ip = 0x0a000002;  // 10.0.0.1 -> 10.0.0.2
  uint16_t sport = 1024, dport = 5001;
  uint64_t count = 0;          // 0 = open ended (until --duration / signal)
  uint64_t rate = 0;           // packets/s over all queues, 0 = as fast as possible
  unsigned size = 0;           // frame length without FCS; 0 = minimum(64, header)
  unsigned flows = 1;          // UDP/TCP source port varies over [sport, sport+flows)
  std::vector<uint16_t> queues;  // empty = all queues of the VM
  int vlan = -1;               // VLAN id to tag with, -1 = untagged
  Proto proto = Proto::UDP;
  uint64_t corrupt_every = 0;  // debug: corrupt every Nth packet after checksumming
};

struct RecvSpec {
  unsigned vm = 0;
  bool has_expect = false;
  uint64_t expect = 0;   // exactly this many valid frames
  bool has_min = false;
  uint64_t min = 0;      // at least this many valid frames
  double timeout = 5.0;  // seconds after local generation ended
};

struct ReplaySpec {
  unsigned vm = 0;
  std::string file;
  uint64_t count = 0;    // 0 = each frame of the file once
  uint64_t rate = 0;
  std::vector<uint16_t> queues;  // empty = queue 0 only
};

struct CaptureSpec {
  unsigned vm = 0;
  std::string file;
};

struct EchoSpec {
  unsigned vm = 0;
  bool keep_macs = false;  // false: dst = received src, src = VM MAC
};

struct AnswerSpec {
  unsigned vm = 0;
  uint32_t ip = 0;         // the VM's IPv4 address: ARP requests for it and ICMP echo
                           // requests to it are answered (responder.h)
};

struct Options {
  std::string prefix;        // EAL --file-prefix (default vmtraffic<pid>)
  int lcore_cpu = -1;        // -1 = float over the process affinity
  unsigned mem_mb = 0;       // 0 = computed
  std::vector<std::string> eal_extra;
  std::vector<VmSpec> vms;
  std::vector<SendSpec> sends;
  std::vector<RecvSpec> recvs;
  std::vector<ReplaySpec> replays;
  std::vector<CaptureSpec> captures;
  std::vector<EchoSpec> echos;
  std::vector<AnswerSpec> answers;
  double duration = 0;       // 0 = none
  double wait_link = 10;
  double settle = 0.1;       // sleep between "all links up" and READY
  double start_delay = 0;
  double drain = 0.2;
  double stats_interval = 0;
  std::string report_path;   // "" = none, "-" = stdout
  uint64_t corrupt_every = 0;
  bool help = false;
};

Options parse_options(int argc, char** argv);
const char* usage_text();
std::string mac_to_string(const rte_ether_addr& m);
std::string ip_to_string(uint32_t ip_host_order);

}  // namespace vmt
