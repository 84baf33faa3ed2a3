// switchd: the vswitch daemon. Wires the datapath (switch/), the pipeline (ofproto/),
// the persistent state and the control API together and runs the control thread.
//
// Threads: the main thread is EAL lcore 0 and runs the Asio io_context (API, timers,
// port state events); librte_vhost runs its own event thread; each PMD is an EAL lcore
// pinned to one of --pmd-cores.
#include <getopt.h>
#include <systemd/sd-daemon.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <rte_eal.h>

#include "controller.h"
#include "ctl/api/server.h"
#include "ofproto/neighbors.h"
#include "ofproto/ofproto.h"
#include "port_directory.h"
#include "state_store.h"
#include "switch/datapath.h"
#include "switch/eal.h"

using namespace vswitch;

namespace {

struct Options {
    std::vector<unsigned> pmd_cores{1};
    std::string socket = api::kDefaultSocketPath;
    std::string socket_group;
    std::string eal;
    std::string db = "/var/lib/vswitch/state.db";
    uint64_t journal_max = 0;
    uint32_t max_megaflows = 200000;
    uint32_t mbufs = 65535;
    double max_idle = 10.0;
    uint32_t upcall_rate = 100000;
    uint32_t upcall_burst = 0;
    uint32_t emc_inv_prob = 100;
    double neighbor_aging = ofp::Neighbors::kDefaultAgingS;
};

void usage(FILE* f) {
    fprintf(f,
            "usage: switchd [options]\n"
            "  --pmd-cores LIST       CPUs for PMD threads, e.g. 1 or 2,3 or 2-5 (default 1)\n"
            "  --control-socket PATH  API socket (default %s), mode 0660\n"
            "  --socket-group GROUP   group owning the API socket\n"
            "  --eal \"ARGS\"           extra DPDK EAL arguments, e.g. \"--no-huge -m 1024\";\n"
            "                         --no-pci is added unless ARGS name a PCI device (-a BDF)\n"
            "  --db FILE              persistent state (default /var/lib/vswitch/state.db;\n"
            "                         'none' keeps nothing across restarts)\n"
            "  --db-journal-max BYTES VPC and flow changes are appended to FILE.journal; past this\n"
            "                         size FILE is rewritten and the journal emptied\n"
            "                         (default 0 = the size of FILE, at least 4 MiB)\n"
            "  --max-megaflows N      megaflow cache capacity (default 200000)\n"
            "  --mbufs N              packet buffers (default 65535)\n"
            "  --megaflow-max-idle S  idle megaflows expire after S seconds (default 10)\n"
            "  --upcall-limit R[/B]   upcalls per second per input port and PMD, burst B\n"
            "                         (default 100000/10000; 0 = unlimited)\n"
            "  --emc-insert-inv-prob N  cache a flow in the EMC with probability 1/N\n"
            "                         (default 100; 1 = always; 0 = no EMC)\n"
            "  --neighbor-aging S     a learned underlay neighbor unconfirmed for S seconds is\n"
            "                         asked for again, and removed if it does not answer\n"
            "                         (default 900; 0 = never)\n"
            "  --help\n",
            api::kDefaultSocketPath);
}

bool parse_cores(const std::string& s, std::vector<unsigned>& out) {
    out.clear();
    size_t i = 0;
    while (i < s.size()) {
        size_t j = s.find(',', i);
        std::string part = s.substr(i, j == std::string::npos ? std::string::npos : j - i);
        char* end;
        unsigned long a = strtoul(part.c_str(), &end, 10), b = a;
        if (end == part.c_str()) return false;
        if (*end == '-') {
            char* e2;
            b = strtoul(end + 1, &e2, 10);
            if (*e2 || b < a) return false;
        } else if (*end) {
            return false;
        }
        for (unsigned long c = a; c <= b; c++) out.push_back(static_cast<unsigned>(c));
        if (j == std::string::npos) break;
        i = j + 1;
    }
    return !out.empty() && out.size() <= 64;
}

bool parse_args(int argc, char** argv, Options& o) {
    enum { kCores = 1, kSock, kGroup, kEal, kDb, kJournalMax, kMaxMf, kMbufs, kIdle, kUpcall, kEmc, kAging, kHelp };
    static const option longopts[] = {
        {"pmd-cores", required_argument, nullptr, kCores},
        {"control-socket", required_argument, nullptr, kSock},
        {"socket-group", required_argument, nullptr, kGroup},
        {"eal", required_argument, nullptr, kEal},
        {"db", required_argument, nullptr, kDb},
        {"db-journal-max", required_argument, nullptr, kJournalMax},
        {"max-megaflows", required_argument, nullptr, kMaxMf},
        {"mbufs", required_argument, nullptr, kMbufs},
        {"megaflow-max-idle", required_argument, nullptr, kIdle},
        {"upcall-limit", required_argument, nullptr, kUpcall},
        {"emc-insert-inv-prob", required_argument, nullptr, kEmc},
        {"neighbor-aging", required_argument, nullptr, kAging},
        {"help", no_argument, nullptr, kHelp},
        {nullptr, 0, nullptr, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, nullptr)) != -1) {
        switch (c) {
        case kCores:
            if (!parse_cores(optarg, o.pmd_cores)) {
                fprintf(stderr, "switchd: --pmd-cores: '%s' is not a CPU list\n", optarg);
                return false;
            }
            break;
        case kSock: o.socket = optarg; break;
        case kGroup: o.socket_group = optarg; break;
        case kEal: o.eal = optarg; break;
        case kDb: o.db = std::string(optarg) == "none" ? "" : optarg; break;
        case kJournalMax: {
            char* end = nullptr;
            o.journal_max = strtoull(optarg, &end, 10);
            if (end == optarg || *end) {
                fprintf(stderr, "switchd: --db-journal-max: '%s' is not a number of bytes\n", optarg);
                return false;
            }
            break;
        }
        case kMaxMf: o.max_megaflows = static_cast<uint32_t>(strtoul(optarg, nullptr, 10)); break;
        case kMbufs: o.mbufs = static_cast<uint32_t>(strtoul(optarg, nullptr, 10)); break;
        case kIdle: o.max_idle = strtod(optarg, nullptr); break;
        case kUpcall: {
            char* end = nullptr;
            const unsigned long r = strtoul(optarg, &end, 10);
            unsigned long b = 0;
            if (end != optarg && *end == '/') {
                char* e2 = nullptr;
                b = strtoul(end + 1, &e2, 10);
                if (e2 == end + 1 || *e2) end = nullptr;
                else end = e2;
            }
            if (!end || end == optarg || *end || r > 100000000 || b > 100000000) {
                fprintf(stderr, "switchd: --upcall-limit: '%s' is not RATE or RATE/BURST\n", optarg);
                return false;
            }
            o.upcall_rate = static_cast<uint32_t>(r);
            o.upcall_burst = static_cast<uint32_t>(b);
            break;
        }
        case kEmc: {
            char* end = nullptr;
            const unsigned long v = strtoul(optarg, &end, 10);
            if (end == optarg || *end || v > 1000000) {
                fprintf(stderr, "switchd: --emc-insert-inv-prob: '%s' is not a number in 0..1000000\n", optarg);
                return false;
            }
            o.emc_inv_prob = static_cast<uint32_t>(v);
            break;
        }
        case kAging: {
            char* end = nullptr;
            o.neighbor_aging = strtod(optarg, &end);
            if (end == optarg || *end || !(o.neighbor_aging >= 0) || o.neighbor_aging > 1e7) {
                fprintf(stderr, "switchd: --neighbor-aging: '%s' is not a number of seconds\n", optarg);
                return false;
            }
            break;
        }
        case kHelp: usage(stdout); exit(0);
        default: usage(stderr); return false;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "switchd: unexpected argument '%s'\n", argv[optind]);
        return false;
    }
    if (o.max_megaflows < 16 || o.mbufs < 4096 || o.max_idle <= 0) {
        fprintf(stderr, "switchd: --max-megaflows >= 16, --mbufs >= 4096, --megaflow-max-idle > 0\n");
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    if (!parse_args(argc, argv, opt)) return 2;
    setvbuf(stderr, nullptr, _IOLBF, 0);

    EalOptions eo;
    eo.pmd_cores = opt.pmd_cores;
    eo.extra = opt.eal;
    std::string err;
    if (!eal_init(eo, err)) {
        fprintf(stderr, "switchd: %s\n", err.c_str());
        return 1;
    }

    int rc = 0;
    {
        boost::asio::io_context io;
        const Datapath* dp_view = nullptr;
        Datapath* dp_ptr = nullptr;
        DatapathPortDirectory portdir(dp_view);
        Ofproto ofp(portdir, [&dp_ptr] {
            if (dp_ptr) dp_ptr->synchronize();
        });
        DatapathConfig dc;
        dc.pmd_cores = opt.pmd_cores;
        dc.max_megaflows = opt.max_megaflows;
        dc.n_mbufs = opt.mbufs;
        dc.megaflow_max_idle_s = opt.max_idle;
        dc.upcall_limit_per_s = opt.upcall_rate;
        dc.upcall_limit_burst = opt.upcall_burst;
        dc.emc_insert_inv_prob = opt.emc_inv_prob;
        ofp.neighbors().set_aging(opt.neighbor_aging);
        // What the datapath cannot get at start (memory for --max-megaflows or --mbufs,
        // a table) is an error to print, not an abort with a core dump.
        std::optional<Datapath> dp_holder;
        try {
            dp_holder.emplace(dc, ofp);
        } catch (const std::exception& e) {
            fprintf(stderr, "switchd: cannot start the datapath: %s\n", e.what());
            rc = 1;
        }
        if (rc != 0) {
            rte_eal_cleanup();
            return rc;
        }
        Datapath& dp = *dp_holder;
        dp_ptr = &dp;
        dp_view = &dp;

        // Driver events (vhost thread) -> one coalesced reconfigure on the control thread.
        std::atomic<bool> reconf_pending{false};
        dp.on_port_state_change = [&] {
            if (!reconf_pending.exchange(true))
                boost::asio::post(io, [&] {
                    reconf_pending.store(false);
                    dp.reconfigure();
                });
        };
        if (!dp.start(err)) {
            fprintf(stderr, "switchd: %s\n", err.c_str());
            rte_eal_cleanup();
            return 1;
        }

        StateStore store(opt.db);
        Controller ctl(dp, ofp, store, opt.db.empty() ? "none" : opt.db);
        ctl.set_journal_max(opt.journal_max);
        if (!ctl.restore(err)) {
            fprintf(stderr, "switchd: %s; refusing to start (it would be overwritten)\n", err.c_str());
            dp.stop();
            rc = 1;
        }

        api::ApiServerOptions so;
        so.socket_path = opt.socket;
        so.group = opt.socket_group;
        so.log = [](std::string_view m) { fprintf(stderr, "switchd: api: %.*s\n", int(m.size()), m.data()); };
        api::ApiServer server(io, so);
        server.set_handler([&](const api::Request& req, api::Response& resp) { ctl.handle(req, resp); });
        try {
            if (rc == 0) server.start();
        } catch (const std::exception& e) {
            fprintf(stderr, "switchd: %s\n", e.what());
            rc = 1;
        }

        if (rc == 0) {
            boost::asio::signal_set signals(io, SIGINT, SIGTERM);
            signals.async_wait([&](const boost::system::error_code&, int sig) {
                fprintf(stderr, "switchd: signal %d, shutting down\n", sig);
                server.stop();
                io.stop();
            });
            boost::asio::steady_timer timer(io);
            std::function<void()> arm = [&] {
                // 100 ms: a rule change reaches cached megaflows within that (the
                // revalidation bound), flow timeouts and MAC aging run at that cadence.
                timer.expires_after(std::chrono::milliseconds(100));
                timer.async_wait([&](const boost::system::error_code& ec) {
                    if (ec) return;
                    ctl.tick();
                    arm();
                });
            };
            arm();
            fprintf(stderr, "switchd: ready, %zu PMD(s), API on %s\n", opt.pmd_cores.size(),
                    opt.socket.c_str());
            sd_notifyf(0, "READY=1\nSTATUS=forwarding, API on %s", opt.socket.c_str());
            io.run();
            sd_notify(0, "STOPPING=1");
        }
        server.stop();
        dp.stop();
    }
    rte_eal_cleanup();
    return rc;
}
