// report.cc - JSON report and stdout summary (see report.h).
#include "report.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include <rte_cycles.h>

namespace vmt {
namespace {

// Minimal streaming JSON writer: handles commas and string escaping.
class Json {
 public:
  std::string out;

  void obj(const char* key = nullptr) { open(key, '{'); }
  void arr(const char* key = nullptr) { open(key, '['); }
  void end_obj() { close('}'); }
  void end_arr() { close(']'); }
  void kv(const char* key, uint64_t v) { item(key, std::to_string(v)); }
  void kv(const char* key, int64_t v) { item(key, std::to_string(v)); }
  void kv(const char* key, unsigned v) { item(key, std::to_string(v)); }
  void kv(const char* key, int v) { item(key, std::to_string(v)); }
  void kv(const char* key, bool v) { item(key, v ? "true" : "false"); }
  void kv(const char* key, double v) {
    char b[64];
    if (!std::isfinite(v)) v = 0;
    snprintf(b, sizeof b, "%.6g", v);
    item(key, b);
  }
  void kv(const char* key, const std::string& v) { item(key, quote(v)); }
  void kv(const char* key, const char* v) { item(key, quote(v)); }
  void null(const char* key) { item(key, "null"); }
  void u64_array(const char* key, const std::vector<uint64_t>& v) {
    arr(key);
    for (auto x : v) kv(nullptr, x);
    end_arr();
  }

 private:
  std::vector<bool> first_{true};

  static std::string quote(const std::string& s) {
    std::string q = "\"";
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') {
        q += '\\';
        q += char(c);
      } else if (c < 0x20) {
        char b[8];
        snprintf(b, sizeof b, "\\u%04x", c);
        q += b;
      } else {
        q += char(c);
      }
    }
    return q + "\"";
  }
  void sep(const char* key) {
    if (!first_.back()) out += ',';
    first_.back() = false;
    if (key) out += quote(key) + ":";
  }
  void item(const char* key, const std::string& v) {
    sep(key);
    out += v;
  }
  void open(const char* key, char c) {
    sep(key);
    out += c;
    first_.push_back(true);
  }
  void close(char c) {
    first_.pop_back();
    out += c;
  }
};

uint64_t sum(const std::vector<uint64_t>& v) {
  uint64_t t = 0;
  for (auto x : v) t += x;
  return t;
}

double rate(uint64_t n, double secs) { return secs > 0 ? double(n) / secs : 0; }

void vm_json(Json& j, const RunState& st, const VmState& vm) {
  const VmSpec& v = *vm.spec;
  j.obj(v.name.c_str());
  j.kv("port", vm.port);
  j.kv("path", v.path);
  j.kv("mac", mac_to_string(v.mac));
  j.kv("queues", v.queues);
  j.kv("ring", v.ring);
  j.kv("server", v.server);
  j.obj("link");
  j.kv("up", vm.link_up);
  j.kv("up_after_s", vm.link_up_s);
  j.kv("down_events", vm.link_down_events);
  j.end_obj();

  j.obj("tx");
  uint64_t txp = sum(vm.tx_pkts);
  j.kv("packets", txp);
  j.kv("bytes", sum(vm.tx_bytes));
  j.u64_array("per_queue", vm.tx_pkts);
  j.u64_array("bytes_per_queue", vm.tx_bytes);
  j.kv("pps", rate(txp, st.traffic_s));
  j.kv("tx_full", vm.tx_full);
  j.kv("echo_dropped", vm.echo_dropped);
  j.kv("alloc_fail", vm.alloc_fail);
  j.end_obj();

  const VerifyCounters& c = vm.verifier.totals();
  j.obj("rx");
  uint64_t rxp = sum(vm.rx_pkts);
  j.kv("packets", rxp);
  j.kv("bytes", sum(vm.rx_bytes));
  j.u64_array("per_queue", vm.rx_pkts);
  j.u64_array("bytes_per_queue", vm.rx_bytes);
  j.kv("pps", rate(rxp, st.traffic_s));
  j.kv("test_frames", c.test_frames);
  j.kv("valid", c.valid);
  j.kv("bad_payload", c.bad_payload);
  j.kv("bad_length", c.bad_length);
  j.kv("bad_ip_csum", c.bad_ip_csum);
  j.kv("lost", c.lost);
  j.kv("reordered", c.reordered);
  j.kv("dup", c.dup);
  j.kv("foreign", vm.verifier.foreign());
  std::vector<const StreamStats*> ss;
  for (auto& s : vm.verifier.streams()) ss.push_back(&s);
  std::sort(ss.begin(), ss.end(), [](auto* a, auto* b) {
    return a->stream != b->stream ? a->stream < b->stream : a->txq < b->txq;
  });
  j.arr("streams");
  for (auto* s : ss) {
    j.obj();
    j.kv("stream", unsigned(s->stream));
    j.kv("txq", unsigned(s->txq));
    j.kv("received", s->c.test_frames);
    j.kv("valid", s->c.valid);
    j.kv("bad_payload", s->c.bad_payload);
    j.kv("bad_length", s->c.bad_length);
    j.kv("bad_ip_csum", s->c.bad_ip_csum);
    j.kv("lost", s->c.lost);
    j.kv("reordered", s->c.reordered);
    j.kv("dup", s->c.dup);
    j.kv("first_seq", s->first_seq);
    j.kv("next_seq", s->next_seq);
    j.end_obj();
  }
  j.end_arr();
  j.end_obj();

  if (vm.recv) {
    j.obj("recv");
    if (vm.recv->has_expect) j.kv("expect", vm.recv->expect); else j.null("expect");
    if (vm.recv->has_min) j.kv("min", vm.recv->min); else j.null("min");
    j.kv("timeout_s", vm.recv->timeout);
    j.kv("pass", vm.recv_pass);
    j.kv("reason", vm.recv_reason);
    j.end_obj();
  }
  j.kv("echo", vm.echo != nullptr);
  if (vm.answer) {
    j.obj("answer");
    j.kv("ip", ip_to_string(vm.answer->ip));
    j.kv("arp_replies", vm.arp_replies);
    j.kv("icmp_replies", vm.icmp_replies);
    j.end_obj();
  }
  if (vm.capture_spec) {
    j.obj("capture");
    j.kv("file", vm.capture_spec->file);
    j.kv("frames", vm.capture ? vm.capture->frames() : 0);
    j.end_obj();
  }
  if (vm.have_eth_stats) {
    const rte_eth_stats& e = vm.eth_stats;
    j.obj("ethdev");
    j.kv("ipackets", e.ipackets);
    j.kv("opackets", e.opackets);
    j.kv("ibytes", e.ibytes);
    j.kv("obytes", e.obytes);
    j.kv("imissed", e.imissed);
    j.kv("ierrors", e.ierrors);
    j.kv("oerrors", e.oerrors);
    j.kv("rx_nombuf", e.rx_nombuf);
    j.end_obj();
  }
  j.end_obj();
}

}  // namespace

int exit_code(const RunState& st) {
  if (!st.errors.empty() || !st.ready) return 1;
  for (auto& vm : st.vms)
    if (vm.recv && !vm.recv_pass) return 1;
  return 0;
}

bool write_report(const Options& o, const RunState& st, const std::string& path, std::string* err) {
  Json j;
  j.obj();
  j.kv("tool", "vmtraffic");
  j.kv("format", 1);
  int rc = exit_code(st);
  j.kv("result", rc == 0 ? "pass" : "fail");
  j.kv("exit_code", rc);
  j.kv("ready", st.ready);
  j.kv("interrupted", st.interrupted);
  j.arr("errors");
  for (auto& e : st.errors) j.kv(nullptr, e);
  j.end_arr();
  j.kv("setup_s", st.setup_s);
  j.kv("traffic_s", st.traffic_s);
  j.kv("gen_s", st.gen_s);
  j.obj("lcore");
  uint64_t pkts = 0;
  for (auto& vm : st.vms) pkts += sum(vm.tx_pkts) + sum(vm.rx_pkts);
  j.kv("loops", st.loops);
  j.kv("busy_loops", st.busy_loops);
  j.kv("busy_fraction", st.total_cycles ? double(st.busy_cycles) / double(st.total_cycles) : 0.0);
  j.kv("busy_cycles_per_packet", pkts ? double(st.busy_cycles) / double(pkts) : 0.0);
  j.kv("tsc_hz", rte_get_tsc_hz());
  j.end_obj();
  j.obj("vms");
  for (auto& vm : st.vms) vm_json(j, st, vm);
  j.end_obj();
  j.arr("senders");
  for (auto& s : st.senders) {
    j.obj();
    j.kv("id", s.label);
    j.kv("vm", st.vms[s.vm].spec->name);
    j.kv("kind", s.replay ? "replay" : "gen");
    if (s.replay) j.null("stream"); else j.kv("stream", unsigned(s.stream));
    j.arr("queues");
    for (auto q : s.queues) j.kv(nullptr, unsigned(q));
    j.end_arr();
    j.u64_array("per_queue", s.per_queue);
    j.kv("packets", s.sent);
    j.kv("bytes", s.bytes);
    j.kv("count", s.count);
    j.kv("rate", s.rate);
    j.kv("tx_full", s.tx_full);
    j.kv("corrupted", s.corrupted);
    double el = 0;
    if (s.end_tsc > s.start_tsc) el = double(s.end_tsc - s.start_tsc) / double(rte_get_tsc_hz());
    j.kv("elapsed_s", el);
    j.kv("pps", rate(s.sent, el));
    j.kv("done", s.count ? s.sent >= s.count : false);
    j.end_obj();
  }
  j.end_arr();
  j.end_obj();
  j.out += '\n';

  if (path == "-") {
    fwrite(j.out.data(), 1, j.out.size(), stdout);
    fflush(stdout);
    return true;
  }
  std::string tmp = path + ".tmp";
  FILE* f = fopen(tmp.c_str(), "w");
  if (!f) {
    *err = tmp + ": " + strerror(errno);
    return false;
  }
  bool good = fwrite(j.out.data(), 1, j.out.size(), f) == j.out.size();
  good = (fclose(f) == 0) && good;
  if (!good || rename(tmp.c_str(), path.c_str()) != 0) {  // readers never see half a report
    *err = path + ": write failed: " + strerror(errno);
    return false;
  }
  return true;
}

std::string summary_line(const RunState& st) {
  int rc = exit_code(st);
  std::string s = std::string("SUMMARY result=") + (rc == 0 ? "pass" : "fail");
  char b[64];
  snprintf(b, sizeof b, " time=%.3fs", st.traffic_s);
  s += b;
  for (auto& vm : st.vms) {
    const auto& c = vm.verifier.totals();
    s += " " + vm.spec->name + ":tx=" + std::to_string(sum(vm.tx_pkts)) +
         ",rx=" + std::to_string(sum(vm.rx_pkts)) + ",valid=" + std::to_string(c.valid) +
         ",bad=" + std::to_string(c.bad_payload + c.bad_length + c.bad_ip_csum) +
         ",lost=" + std::to_string(c.lost) + ",reord=" + std::to_string(c.reordered) +
         ",dup=" + std::to_string(c.dup) + ",foreign=" + std::to_string(vm.verifier.foreign());
    if (vm.recv) s += std::string(",recv=") + (vm.recv_pass ? "pass" : "FAIL");
  }
  for (auto& vm : st.vms)
    if (vm.recv && !vm.recv_pass) s += " [" + vm.spec->name + ": " + vm.recv_reason + "]";
  for (auto& e : st.errors) s += " [error: " + e + "]";
  return s;
}

}  // namespace vmt
