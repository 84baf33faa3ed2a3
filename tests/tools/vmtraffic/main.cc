// main.cc - vmtraffic entry point: options -> EAL -> Runner -> report -> cleanup.
//
// Contract:
//   Exit 2 on usage errors (bad options, unreadable replay file) before any DPDK
//   state exists; otherwise exit 0/1 as report.h exit_code() says.  EAL always
//   gets --no-pci --no-huge -m N --file-prefix P --iova-mode=va --no-telemetry and
//   a single lcore (pinned by --lcore-cpu or floating over the process affinity);
//   DPDK logs go to stderr so stdout carries only READY, SUMMARY (and the
//   report with --report -).  SIGINT/SIGTERM end the run gracefully: the report
//   is written and the virtio-user ports are closed so the vhost side sees the
//   disconnect.
#include <dirent.h>
#include <sched.h>
#include <unistd.h>
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "options.h"
#include "pcap_file.h"
#include "report.h"
#include "runner.h"

namespace {

volatile sig_atomic_t g_stop = 0;

void on_stop(int) { g_stop = g_stop + 1; }  // 1: graceful stop, 2+: stop now
void on_alarm(int) {}  // only interrupts a blocking accept() in a server-mode probe

void install_signals() {
  struct sigaction sa {};
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking syscalls return EINTR
  sa.sa_handler = on_stop;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

std::string lcores_arg(int cpu) {
  if (cpu >= 0) return "--lcores=0@" + std::to_string(cpu);
  cpu_set_t set;
  CPU_ZERO(&set);
  std::string list;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; c++)
      if (CPU_ISSET(c, &set)) {
        if (!list.empty()) list += ',';
        list += std::to_string(c);
      }
  if (list.empty()) list = "0";
  return "--lcores=0@(" + list + ")";
}

// 22.11's rte_eal_cleanup() leaves /var/run/dpdk/<prefix>/ behind; it is ours
// alone (the primary holds the config lock), so remove its plain entries.
void remove_runtime_dir(const std::string& dir) {
  if (dir.empty()) return;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_type != DT_DIR) unlink((dir + "/" + e->d_name).c_str());
    closedir(d);
  }
  rmdir(dir.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  vmt::Options o;
  try {
    o = vmt::parse_options(argc, argv);
  } catch (const vmt::UsageError& e) {
    fprintf(stderr, "vmtraffic: %s\n(see vmtraffic --help)\n", e.what());
    return 2;
  }
  if (o.help) {
    fputs(vmt::usage_text(), stdout);
    return 0;
  }
  vmt::RunState st;
  for (auto& r : o.replays) {
    st.replay_frames.emplace_back();
    std::string err;
    if (!vmt::load_pcap(r.file, &st.replay_frames.back(), &err)) {
      fprintf(stderr, "vmtraffic: --replay: %s\n", err.c_str());
      return 2;
    }
  }
  unsigned mem = vmt::plan_memory(o, &st);

  std::vector<std::string> eal = {"vmtraffic",
                                  "--no-pci",
                                  "--no-huge",
                                  "-m",
                                  std::to_string(mem),
                                  "--file-prefix=" + o.prefix,
                                  "--iova-mode=va",
                                  "--no-telemetry",
                                  lcores_arg(o.lcore_cpu)};
  for (auto& a : o.eal_extra) eal.push_back(a);
  std::vector<char*> eal_argv;
  for (auto& a : eal) eal_argv.push_back(a.data());
  eal_argv.push_back(nullptr);

  rte_openlog_stream(stderr);
  install_signals();
  if (rte_eal_init(int(eal.size()), eal_argv.data()) < 0) {
    fprintf(stderr, "vmtraffic: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
    st.errors.push_back(std::string("rte_eal_init: ") + rte_strerror(rte_errno));
    if (!o.report_path.empty()) {
      std::string err;
      vmt::write_report(o, st, o.report_path, &err);
    }
    printf("%s\n", vmt::summary_line(st).c_str());
    return 1;  // EAL is not initialised: nothing to clean up
  }

  vmt::Runner runner(o, &st, &g_stop);
  if (runner.setup()) runner.run();
  runner.evaluate();
  runner.close_ports();
  for (auto& e : st.errors) fprintf(stderr, "vmtraffic: error: %s\n", e.c_str());

  if (!o.report_path.empty()) {
    std::string err;
    if (!vmt::write_report(o, st, o.report_path, &err)) {
      fprintf(stderr, "vmtraffic: report: %s\n", err.c_str());
      st.errors.push_back("report: " + err);
    }
  }
  printf("%s\n", vmt::summary_line(st).c_str());
  fflush(stdout);
  int rc = vmt::exit_code(st);
  std::string rundir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  remove_runtime_dir(rundir);
  return rc;
}
