// options.cc - command line parsing for vmtraffic (see options.h for the contract).
#include "options.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

namespace vmt {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

uint64_t parse_u64(const std::string& v, const std::string& what) {
  if (v.empty() || v[0] == '-') throw UsageError(what + ": expected a non-negative integer, got '" + v + "'");
  errno = 0;
  char* end = nullptr;
  unsigned long long x = strtoull(v.c_str(), &end, 0);
  if (errno || *end) throw UsageError(what + ": expected a non-negative integer, got '" + v + "'");
  return x;
}

double parse_secs(const std::string& v, const std::string& what) {
  errno = 0;
  char* end = nullptr;
  double x = strtod(v.c_str(), &end);
  if (v.empty() || errno || *end || !std::isfinite(x) || x < 0)
    throw UsageError(what + ": expected a non-negative number of seconds, got '" + v + "'");
  return x;
}

bool parse_bool(const std::string& v, const std::string& what) {
  if (v == "1" || v == "yes" || v == "true" || v == "on") return true;
  if (v == "0" || v == "no" || v == "false" || v == "off") return false;
  throw UsageError(what + ": expected 0 or 1, got '" + v + "'");
}

rte_ether_addr parse_mac(const std::string& v, const std::string& what) {
  rte_ether_addr m{};
  if (v == "bcast" || v == "broadcast") {
    for (auto& b : m.addr_bytes) b = 0xff;
    return m;
  }
  unsigned b[6];
  char tail;
  if (sscanf(v.c_str(), "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
    throw UsageError(what + ": bad MAC address '" + v + "'");
  for (int i = 0; i < 6; i++) {
    if (b[i] > 255) throw UsageError(what + ": bad MAC address '" + v + "'");
    m.addr_bytes[i] = uint8_t(b[i]);
  }
  return m;
}

uint32_t parse_ip(const std::string& v, const std::string& what) {
  unsigned a[4];
  char tail;
  if (sscanf(v.c_str(), "%u.%u.%u.%u%c", &a[0], &a[1], &a[2], &a[3], &tail) != 4 || a[0] > 255 ||
      a[1] > 255 || a[2] > 255 || a[3] > 255)
    throw UsageError(what + ": bad IPv4 address '" + v + "'");
  return (a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3];
}

// "all" -> {} (meaning all), "2" -> {2}, "0-3" -> {0,1,2,3}, "1/3" or "1+3" -> {1,3}
std::vector<uint16_t> parse_queues(const std::string& v, const std::string& what) {
  std::vector<uint16_t> q;
  if (v == "all") return q;
  std::string s = v;
  for (auto& c : s)
    if (c == '+') c = '/';
  for (const auto& part : split(s, '/')) {
    auto dash = part.find('-');
    uint64_t lo, hi;
    if (dash == std::string::npos) {
      lo = hi = parse_u64(part, what);
    } else {
      lo = parse_u64(part.substr(0, dash), what);
      hi = parse_u64(part.substr(dash + 1), what);
    }
    if (lo > hi || hi > 1023) throw UsageError(what + ": bad queue list '" + v + "'");
    for (uint64_t i = lo; i <= hi; i++) q.push_back(uint16_t(i));
  }
  return q;
}

// Splits "key=value" items; a bare item is returned with an empty value.
std::vector<std::pair<std::string, std::string>> kv_list(const std::string& s) {
  std::vector<std::pair<std::string, std::string>> out;
  if (s.empty()) return out;
  for (const auto& item : split(s, ',')) {
    auto eq = item.find('=');
    if (eq == std::string::npos)
      out.emplace_back(item, "");
    else
      out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  return out;
}

rte_ether_addr default_mac(const std::string& name) {
  uint32_t h = 2166136261u;  // FNV-1a of the VM name
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  rte_ether_addr m{};
  m.addr_bytes[0] = 0x02;  // locally administered, unicast
  m.addr_bytes[1] = 0x76;
  m.addr_bytes[2] = 0x74;
  m.addr_bytes[3] = uint8_t(h >> 16);
  m.addr_bytes[4] = uint8_t(h >> 8);
  m.addr_bytes[5] = uint8_t(h);
  return m;
}

const std::set<std::string> kDevargPassthrough = {"packed_vq", "mrg_rxbuf", "in_order",
                                                  "vectorized", "speed"};

struct Pending {  // actions are resolved once all --vm are known
  std::string opt, arg;
};

void split_vm_prefix(const std::string& arg, const std::string& opt, std::string* vm,
                     std::string* rest) {
  auto colon = arg.find(':');
  *vm = arg.substr(0, colon);
  *rest = colon == std::string::npos ? "" : arg.substr(colon + 1);
  if (vm->empty()) throw UsageError(opt + ": missing VM name in '" + arg + "'");
}

unsigned find_vm(const Options& o, const std::string& name, const std::string& opt) {
  for (unsigned i = 0; i < o.vms.size(); i++)
    if (o.vms[i].name == name) return i;
  throw UsageError(opt + ": unknown VM '" + name + "' (declare it with --vm)");
}

void check_queues(const Options& o, unsigned vm, const std::vector<uint16_t>& q,
                  const std::string& opt) {
  for (auto x : q)
    if (x >= o.vms[vm].queues)
      throw UsageError(opt + ": queue " + std::to_string(x) + " but VM '" + o.vms[vm].name +
                       "' has " + std::to_string(o.vms[vm].queues) + " queue(s)");
}

VmSpec parse_vm(const std::string& arg) {
  auto items = split(arg, ',');
  VmSpec v;
  v.name = items[0];
  if (v.name.empty() || v.name.find_first_of(":= \"\\") != std::string::npos)
    throw UsageError("--vm: bad or missing VM name in '" + arg + "'");
  bool mac_set = false;
  for (size_t i = 1; i < items.size(); i++) {
    auto eq = items[i].find('=');
    std::string k = items[i].substr(0, eq), val = eq == std::string::npos ? "" : items[i].substr(eq + 1);
    std::string what = "--vm " + v.name + " " + k;
    if (k == "path") {
      v.path = val;
    } else if (k == "queues") {
      uint64_t q = parse_u64(val, what);
      if (q < 1 || q > 128) throw UsageError(what + ": must be 1..128");
      v.queues = unsigned(q);
    } else if (k == "server") {
      v.server = parse_bool(val, what);
    } else if (k == "mac") {
      v.mac = parse_mac(val, what);
      mac_set = true;
    } else if (k == "ring" || k == "queue_size") {
      uint64_t r = parse_u64(val, what);
      if (r < 64 || r > 32768 || (r & (r - 1))) throw UsageError(what + ": must be a power of 2 in 64..32768");
      v.ring = unsigned(r);
    } else if (k == "rx") {
      v.rx = parse_bool(val, what);
    } else if (kDevargPassthrough.count(k)) {
      v.devargs.emplace_back(k, val);
    } else {
      throw UsageError("--vm " + v.name + ": unknown key '" + k + "'");
    }
  }
  if (v.path.empty()) throw UsageError("--vm " + v.name + ": path=SOCKET is required");
  if (v.path.find(',') != std::string::npos) throw UsageError("--vm " + v.name + ": path must not contain ','");
  if (!mac_set) v.mac = default_mac(v.name);
  return v;
}

unsigned min_frame(const SendSpec& s) {
  return 14 + (s.vlan >= 0 ? 4 : 0) + 20 + (s.proto == Proto::TCP ? 20 : 8) + 20;
}

SendSpec parse_send(Options& o, const std::string& arg, unsigned index) {
  std::string vmname, rest;
  split_vm_prefix(arg, "--send", &vmname, &rest);
  SendSpec s;
  s.vm = find_vm(o, vmname, "--send");
  s.src = o.vms[s.vm].mac;
  s.stream = uint16_t(index);
  bool have_dst = false, have_size = false;
  for (auto& [k, v] : kv_list(rest)) {
    std::string what = "--send " + vmname + " " + k;
    if (k == "dst") {
      have_dst = true;
      if (v.find(':') == std::string::npos && v != "bcast" && v != "broadcast") {  // a VM name
        s.dst = o.vms[find_vm(o, v, what)].mac;
      } else {
        s.dst = parse_mac(v, what);
      }
    } else if (k == "src") {
      s.src = parse_mac(v, what);
    } else if (k == "src_ip") {
      s.src_ip = parse_ip(v, what);
    } else if (k == "dst_ip") {
      s.dst_ip = parse_ip(v, what);
    } else if (k == "sport" || k == "dport") {
      uint64_t p = parse_u64(v, what);
      if (p > 65535) throw UsageError(what + ": must be <= 65535");
      (k == "sport" ? s.sport : s.dport) = uint16_t(p);
    } else if (k == "count") {
      s.count = parse_u64(v, what);
    } else if (k == "rate") {
      s.rate = parse_u64(v, what);
    } else if (k == "size") {
      s.size = unsigned(parse_u64(v, what));
      have_size = true;
    } else if (k == "flows") {
      uint64_t f = parse_u64(v, what);
      if (f < 1 || f > 65536) throw UsageError(what + ": must be 1..65536");
      s.flows = unsigned(f);
    } else if (k == "queues") {
      s.queues = parse_queues(v, what);
    } else if (k == "vlan") {
      uint64_t id = parse_u64(v, what);
      if (id > 4095) throw UsageError(what + ": must be 0..4095");
      s.vlan = int(id);
    } else if (k == "proto") {
      if (v == "udp") s.proto = Proto::UDP;
      else if (v == "tcp") s.proto = Proto::TCP;
      else throw UsageError(what + ": must be udp or tcp");
    } else if (k == "stream") {
      uint64_t id = parse_u64(v, what);
      if (id > 65535) throw UsageError(what + ": must be 0..65535");
      s.stream = uint16_t(id);
    } else if (k == "corrupt_every") {
      s.corrupt_every = parse_u64(v, what);
    } else {
      throw UsageError("--send " + vmname + ": unknown key '" + k + "'");
    }
  }
  if (!have_dst) throw UsageError("--send " + vmname + ": dst=MAC (or dst=VMNAME) is required");
  if (uint32_t(s.sport) + s.flows - 1 > 65535) throw UsageError("--send " + vmname + ": sport+flows exceeds 65535");
  check_queues(o, s.vm, s.queues, "--send " + vmname);
  unsigned mn = min_frame(s);
  if (!have_size) {
    s.size = mn > 64 ? mn : 64;
  } else if (s.size < mn || s.size > 9216) {
    throw UsageError("--send " + vmname + ": size must be " + std::to_string(mn) +
                     "..9216 for this header stack (frame length without FCS)");
  }
  return s;
}

}  // namespace

std::string mac_to_string(const rte_ether_addr& m) {
  char b[18];
  snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", m.addr_bytes[0], m.addr_bytes[1],
           m.addr_bytes[2], m.addr_bytes[3], m.addr_bytes[4], m.addr_bytes[5]);
  return b;
}

std::string ip_to_string(uint32_t ip) {
  char b[16];
  snprintf(b, sizeof b, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
  return b;
}

Options parse_options(int argc, char** argv) {
  Options o;
  std::vector<Pending> actions;
  static const std::set<std::string> with_value = {
      "--prefix", "--lcore-cpu", "--mem", "--eal", "--vm", "--send", "--recv", "--replay",
      "--capture", "--echo", "--answer", "--duration", "--wait-link", "--report", "--stats-interval",
      "--start-delay", "--settle", "--drain", "--corrupt-every"};
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i], val;
    if (a == "-h" || a == "--help") {
      o.help = true;
      return o;
    }
    auto eq = a.find('=');
    if (a.rfind("--", 0) == 0 && eq != std::string::npos) {
      val = a.substr(eq + 1);
      a = a.substr(0, eq);
      if (!with_value.count(a)) throw UsageError("unknown option '" + a + "'");
    } else if (with_value.count(a)) {
      if (i + 1 >= argc) throw UsageError(a + " needs a value");
      val = argv[++i];
    } else {
      throw UsageError("unknown argument '" + a + "' (try --help)");
    }
    if (a == "--prefix") {
      if (val.empty() || val.find('/') != std::string::npos) throw UsageError("--prefix: bad name");
      o.prefix = val;
    } else if (a == "--lcore-cpu") {
      o.lcore_cpu = int(parse_u64(val, a));
    } else if (a == "--mem") {
      o.mem_mb = unsigned(parse_u64(val, a));
      if (o.mem_mb < 64) throw UsageError("--mem: at least 64 (MB)");
    } else if (a == "--eal") {
      o.eal_extra.push_back(val);
    } else if (a == "--vm") {
      VmSpec v = parse_vm(val);
      for (auto& x : o.vms)
        if (x.name == v.name) throw UsageError("--vm: duplicate VM name '" + v.name + "'");
      o.vms.push_back(std::move(v));
    } else if (a == "--duration") {
      o.duration = parse_secs(val, a);
    } else if (a == "--wait-link") {
      o.wait_link = parse_secs(val, a);
    } else if (a == "--report") {
      o.report_path = val;
    } else if (a == "--stats-interval") {
      o.stats_interval = parse_secs(val, a);
    } else if (a == "--settle") {
      o.settle = parse_secs(val, a);
    } else if (a == "--start-delay") {
      o.start_delay = parse_secs(val, a);
    } else if (a == "--drain") {
      o.drain = parse_secs(val, a);
    } else if (a == "--corrupt-every") {
      o.corrupt_every = parse_u64(val, a);
    } else {
      actions.push_back({a, val});
    }
  }
  if (o.vms.empty()) throw UsageError("at least one --vm is required");
  if (o.vms.size() > 32) throw UsageError("at most 32 VMs");

  unsigned send_index = 0;
  std::set<unsigned> recv_vms, echo_vms, cap_vms, answer_vms;
  for (auto& p : actions) {
    if (p.opt == "--send") {
      o.sends.push_back(parse_send(o, p.arg, send_index++));
    } else if (p.opt == "--recv") {
      std::string vmname, rest;
      split_vm_prefix(p.arg, p.opt, &vmname, &rest);
      RecvSpec r;
      r.vm = find_vm(o, vmname, p.opt);
      if (!recv_vms.insert(r.vm).second) throw UsageError("--recv: VM '" + vmname + "' given twice");
      for (auto& [k, v] : kv_list(rest)) {
        std::string what = "--recv " + vmname + " " + k;
        if (k == "expect") {
          r.has_expect = true;
          r.expect = parse_u64(v, what);
        } else if (k == "min") {
          r.has_min = true;
          r.min = parse_u64(v, what);
        } else if (k == "timeout") {
          r.timeout = parse_secs(v, what);
        } else {
          throw UsageError("--recv " + vmname + ": unknown key '" + k + "'");
        }
      }
      o.recvs.push_back(r);
    } else if (p.opt == "--replay") {
      std::string vmname, rest;
      split_vm_prefix(p.arg, p.opt, &vmname, &rest);
      ReplaySpec r;
      r.vm = find_vm(o, vmname, p.opt);
      auto comma = rest.find(',');
      r.file = rest.substr(0, comma);
      if (r.file.empty()) throw UsageError("--replay " + vmname + ": expected VM:FILE.pcap[,count=N,rate=PPS]");
      for (auto& [k, v] : kv_list(comma == std::string::npos ? "" : rest.substr(comma + 1))) {
        std::string what = "--replay " + vmname + " " + k;
        if (k == "count") r.count = parse_u64(v, what);
        else if (k == "rate") r.rate = parse_u64(v, what);
        else if (k == "queues") r.queues = parse_queues(v, what);
        else throw UsageError("--replay " + vmname + ": unknown key '" + k + "'");
      }
      check_queues(o, r.vm, r.queues, "--replay " + vmname);
      o.replays.push_back(r);
    } else if (p.opt == "--capture") {
      std::string vmname, rest;
      split_vm_prefix(p.arg, p.opt, &vmname, &rest);
      CaptureSpec c;
      c.vm = find_vm(o, vmname, p.opt);
      if (rest.empty()) throw UsageError("--capture " + vmname + ": expected VM:FILE.pcap");
      if (!cap_vms.insert(c.vm).second) throw UsageError("--capture: VM '" + vmname + "' given twice");
      c.file = rest;
      o.captures.push_back(c);
    } else if (p.opt == "--echo") {
      std::string vmname, rest;
      split_vm_prefix(p.arg, p.opt, &vmname, &rest);
      EchoSpec e;
      e.vm = find_vm(o, vmname, p.opt);
      if (!echo_vms.insert(e.vm).second) throw UsageError("--echo: VM '" + vmname + "' given twice");
      for (auto& [k, v] : kv_list(rest)) {
        if (k == "mac" && (v == "reply" || v == "keep")) e.keep_macs = v == "keep";
        else throw UsageError("--echo " + vmname + ": expected mac=reply|keep, got '" + k + "'");
      }
      o.echos.push_back(e);
    } else if (p.opt == "--answer") {
      std::string vmname, rest;
      split_vm_prefix(p.arg, p.opt, &vmname, &rest);
      AnswerSpec a;
      a.vm = find_vm(o, vmname, p.opt);
      if (!answer_vms.insert(a.vm).second) throw UsageError("--answer: VM '" + vmname + "' given twice");
      for (auto& [k, v] : kv_list(rest)) {
        if (k == "ip") a.ip = parse_ip(v, "--answer " + vmname + " ip");
        else throw UsageError("--answer " + vmname + ": unknown key '" + k + "' (expected ip=A.B.C.D)");
      }
      if (!a.ip) throw UsageError("--answer " + vmname + ": expected VM:ip=A.B.C.D");
      o.answers.push_back(a);
    }
  }
  std::set<uint16_t> streams;
  for (auto& s : o.sends) {
    if (!streams.insert(s.stream).second)
      throw UsageError("--send: stream id " + std::to_string(s.stream) + " used twice (set stream=ID)");
    if (o.corrupt_every && !s.corrupt_every) s.corrupt_every = o.corrupt_every;
  }
  if (o.prefix.empty()) o.prefix = "vmtraffic" + std::to_string(getpid());
  return o;
}

const char* usage_text() {
  return R"(usage: vmtraffic [tool options] --vm NAME,path=SOCK[,...] [--vm ...] ACTIONS...

Plays one or more VMs (DPDK virtio-user ports) against vhost-user sockets.
Prints READY on stdout once every VM's link is up, SUMMARY ... at the end.

Tool / EAL options (the tool always adds --no-pci --no-huge):
  --prefix NAME          EAL --file-prefix (default vmtraffic<pid>)
  --lcore-cpu CPU        pin the single polling thread to CPU
  --mem MB               EAL -m (default: computed from the VMs)
  --eal ARG              extra raw EAL argument (repeatable), e.g. --eal=--log-level=lib.eal:debug
VMs:
  --vm NAME,path=SOCK[,queues=N][,server=0|1][,mac=MAC][,ring=Q]
                         [,packed_vq=..,mrg_rxbuf=..,in_order=..,vectorized=..]
Actions:
  --send VM:dst=MAC|VMNAME|bcast[,src=MAC,src_ip=A,dst_ip=A,sport=P,dport=P,count=N,
         rate=PPS,size=BYTES,flows=K,queues=all|Q|A-B|A/B,vlan=VID,proto=udp|tcp,stream=ID]
  --recv VM[:expect=N][,min=N][,timeout=S]
  --replay VM:FILE.pcap[,count=N][,rate=PPS][,queues=..]
  --capture VM:FILE.pcap
  --echo VM[:mac=reply|keep]
  --answer VM:ip=A.B.C.D  answer ARP requests for the IP and ICMP echo requests to it
Run control:
  --duration S           stop generating after S seconds (open-ended counts)
  --wait-link S          max wait for connect + link up (default 10)
  --settle S             sleep after all links are up, before READY (default 0.1):
                         virtio-user enables queue pairs >0 without waiting for an ack
  --start-delay S        pause between READY and traffic start, rx keeps running (default 0)
  --drain S              keep receiving S seconds after the work is done (default 0.2)
  --report FILE.json     final JSON report ('-' = stdout)
  --stats-interval S     live per-VM per-queue counters on stderr
Exit: 0 all --recv expectations met, 1 otherwise (or runtime error), 2 usage error.
See docs/traffic-tool.md.
)";
}

}  // namespace vmt
