// Microbenchmark of the pipeline's translation (ofproto::translate_key through
// Ofproto::translate, the upcall and revalidation path): ns per translation and
// translations per second for a few table shapes, plus what one flow-mod costs (the
// snapshot rebuild) on the big tables.
//
//   build-xlate/tests/bench/xlate_bench                 # every case
//   build-xlate/tests/bench/xlate_bench -c 64 -r 5      # cases whose name contains "64"
//   build-xlate/tests/bench/xlate_bench -s 1000000      # no subtables: linear scans only
//   build-xlate/tests/bench/xlate_bench -c revalidate   # Datapath::revalidate() of 100k
//       megaflows through the real pipeline (brings up DPDK's EAL without hugepages)
//   valgrind --tool=callgrind --toggle-collect='vswitch::ofp::translate_key*'
//       build-xlate/tests/bench/xlate_bench -n 20000 -r 1 -c tcp,tp_dst   (one line;
//       instructions per translation = callgrind's Ir total / the "xlates" column;
//       valgrind 3.19 cannot run AVX-512: build with -DVSWITCH_MARCH=x86-64-v3 for it)
//
// Each case cycles through a fixed set of keys (half of them hit a non-default rule, see
// the case) and prints the median of the repetitions. "digest" hashes every key's
// actions, mask and credited rules: it must not change when translation is optimised.
#include <arpa/inet.h>
#include <rte_eal.h>
#include <sched.h>
#include <tbb/global_control.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ofproto/ofproto.h"
#include "switch/datapath.h"
#include "ofproto/rule.h"
#include "ofproto/table_index.h"
#include "tests/unit/ofproto_fake_ports.h"

using namespace vswitch;

namespace {

using Ports = vswitch::testing::FakePorts;   // vm1=1, vm2=2, up0=3, vm3=4
const Ports kPorts;

uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) {
    return htonl(a << 24 | b << 16 | c << 8 | d);
}

FlowKey tcp_key(uint32_t in_port, uint32_t src, uint32_t dst, uint16_t tp_dst, uint8_t proto = 6) {
    FlowKey k;
    k.clear();
    k.in_port = in_port;
    const uint8_t smac[6] = {0x52, 0x54, 0, 0, 0, 1}, dmac[6] = {0x52, 0x54, 0, 0, 0, 0x77};
    std::memcpy(k.dl_src, smac, 6);
    std::memcpy(k.dl_dst, dmac, 6);
    k.dl_type = htons(0x0800);
    k.nw_src = src;
    k.nw_dst = dst;
    k.nw_proto = proto;
    k.nw_ttl = 64;
    k.tp_src = htons(40000);
    k.tp_dst = htons(tp_dst);
    return k;
}

std::string mac(unsigned i) {
    char b[32];
    std::snprintf(b, sizeof b, "52:54:01:%02x:%02x:%02x", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
    return b;
}

struct Case {
    std::string name;
    std::vector<std::string> flows;
    std::vector<FlowKey> keys;
    bool flowmod = false;   // also time one add/delete on the table
};

Case two_rules() {
    Case c{"2 rules: in_port -> output", {"in_port=1,actions=output:2", "in_port=2,actions=output:1"}, {}};
    for (unsigned i = 0; i < 1024; i++) c.keys.push_back(tcp_key(1 + i % 2, ip(10, 0, 0, 1), ip(10, 0, 0, 2 + i % 200), 80));
    return c;
}

// docs/pipeline.md's (and the pipeline issue's) example: table 0 resubmits to table 10,
// which rewrites and outputs, or loads reg0 and goes to table 20 (mod_vlan), or misses.
Case pipeline4() {
    Case c{"4-table pipeline (resubmit/goto/set_field/dec_ttl/load/mod_vlan)",
           {"table=0,priority=200,in_port=vm1,dl_src=52:54:00:00:00:01,actions=resubmit(,10)",
            "table=0,priority=0,actions=drop",
            "table=10,priority=100,ip,nw_dst=10.0.0.0/24,actions=set_field:52:54:00:00:00:02->eth_dst,dec_ttl,output:vm2",
            "table=10,priority=50,tcp,tp_dst=22,actions=load:0x1->NXM_NX_REG0[],goto_table:20",
            "table=20,reg0=1,actions=mod_vlan_vid:100,output:up0",
            "table=30,priority=10,actions=output:vm3"},
           {}};
    for (unsigned i = 0; i < 1024; i++) {
        switch (i % 4) {
        case 0: c.keys.push_back(tcp_key(1, ip(10, 0, 0, 1), ip(10, 0, 0, i % 250), 80)); break;   // rewrite + output
        case 1: c.keys.push_back(tcp_key(1, ip(10, 0, 0, 1), ip(10, 9, 0, i % 250), 22)); break;   // ssh -> table 20
        case 2: c.keys.push_back(tcp_key(1, ip(10, 0, 0, 1), ip(10, 9, 0, i % 250), 80)); break;   // table 10 miss
        default: c.keys.push_back(tcp_key(2, ip(10, 0, 0, 1), ip(10, 0, 0, i % 250), 80)); break;  // other port
        }
    }
    return c;
}

// docs/datapath-actions.md's revalidation figure: 64 rules tcp,tp_dst=N + a catch-all,
// keys differing in in_port / tp_dst (half of them hit one of the 64).
Case rules64() {
    Case c{"64 rules tcp,tp_dst=N + catch-all", {}, {}};
    for (unsigned n = 1; n <= 64; n++) c.flows.push_back("tcp,tp_dst=" + std::to_string(n) + ",actions=output:2");
    c.flows.push_back("priority=0,actions=output:3");
    for (unsigned i = 0; i < 1024; i++) c.keys.push_back(tcp_key(1 + i % 4, ip(10, 0, 0, 1), ip(10, 0, 0, 2), 1 + (i * 7) % 128));
    return c;
}

// The worst shape for grouping rules by mask: 64 rules, 64 different masks (nw_dst and
// nw_src prefixes /1../32), priorities by prefix length.
Case masks64() {
    Case c{"64 rules, 64 masks (nw_src,nw_dst /1../32) + catch-all", {}, {}};
    for (unsigned len = 1; len <= 32; len++) {
        c.flows.push_back("priority=" + std::to_string(100 + len) + ",ip,nw_dst=10.1.2.3/" + std::to_string(len) +
                          ",actions=output:2");
        c.flows.push_back("priority=" + std::to_string(200 + len) + ",ip,nw_src=10.1.2.3/" + std::to_string(len) +
                          ",actions=output:4");
    }
    c.flows.push_back("priority=0,actions=output:3");
    std::mt19937 rng(5);
    for (unsigned i = 0; i < 1024; i++) {
        uint32_t a = ip(10, 1, 2, 3) ^ htonl(1u << (rng() % 32));   // differs from 10.1.2.3 in one bit
        c.keys.push_back(tcp_key(1, i % 2 ? a : ip(11, 0, 0, 1), i % 3 ? a : ip(12, 0, 0, 1), 80));
    }
    return c;
}

// A mixed table of n rules: four kinds (five-tuple-ish ACL, source /24s, L2 by in_port +
// destination MAC, UDP ports), priorities spread so the kinds interleave, and a
// catch-all. Half of the keys are built to hit a random rule, half miss.
Case mixed(unsigned n) {
    Case c{std::to_string(n) + " rules, 4 kinds, interleaved priorities + catch-all", {}, {}, true};
    std::mt19937 rng(n);
    std::vector<FlowKey> hits;
    for (unsigned i = 0; i < n; i++) {
        unsigned prio = 100 + (i * 37) % 50 * 10;
        unsigned a = (i >> 8) & 0xff, b = i & 0xff;
        std::string p = "priority=" + std::to_string(prio) + ",";
        switch (i % 4) {
        case 0:
            c.flows.push_back(p + "tcp,nw_dst=10." + std::to_string(a) + "." + std::to_string(b) + ".1,tp_dst=" +
                              std::to_string(80 + i % 3) + ",actions=output:2");
            hits.push_back(tcp_key(1 + rng() % 4, ip(172, 16, 0, 1), ip(10, a, b, 1), 80 + i % 3));
            break;
        case 1:
            c.flows.push_back(p + "ip,nw_src=20." + std::to_string(a) + "." + std::to_string(b) + ".0/24,actions=output:4");
            hits.push_back(tcp_key(1 + rng() % 4, ip(20, a, b, rng() % 256), ip(10, 0, 0, 9), 443));
            break;
        case 2: {
            c.flows.push_back(p + "in_port=" + std::to_string(1 + i % 4) + ",dl_dst=" + mac(i) + ",actions=output:3");
            FlowKey k = tcp_key(1 + i % 4, ip(172, 16, 0, 1), ip(10, 0, 0, 9), 443);
            k.dl_dst[3] = (i >> 16) & 0xff, k.dl_dst[4] = (i >> 8) & 0xff, k.dl_dst[5] = i & 0xff;
            k.dl_dst[2] = 1;
            hits.push_back(k);
            break;
        }
        default:
            c.flows.push_back(p + "udp,tp_dst=" + std::to_string(1000 + i) + ",actions=output:1");
            hits.push_back(tcp_key(1 + rng() % 4, ip(172, 16, 0, 1), ip(10, 0, 0, 9), 1000 + i, 17));
            break;
        }
    }
    c.flows.push_back("priority=0,actions=output:3");
    for (unsigned i = 0; i < 4096; i++) {
        if (i % 2) {
            c.keys.push_back(hits[rng() % hits.size()]);
        } else {
            FlowKey k = tcp_key(1 + rng() % 4, ip(30, 0, 0, rng() % 256), ip(40, 0, 0, rng() % 256), 2000 + rng() % 60000,
                                rng() % 2 ? 6 : 17);
            c.keys.push_back(k);
        }
    }
    return c;
}

uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

// Actions, mask and credited sinks of every key (sinks by their order of appearance).
uint64_t digest(const Ofproto& ofp, const std::vector<FlowKey>& keys) {
    uint64_t h = 0;
    std::map<const StatsSink*, uint64_t> ids;
    Translation t;
    for (const FlowKey& k : keys) {
        ofp.translate(k, t);
        for (size_t w = 0; w < FlowKey::kWords; w++) h = mix(h, t.mask.word(w));
        h = mix(h, t.actions.size());
        for (const DpAction& a : t.actions) {
            uint64_t v[sizeof(DpAction) / 8 + 1] = {};
            std::memcpy(v, &a, sizeof a);
            for (uint64_t x : v) h = mix(h, x);
        }
        for (const auto& s : t.rules) h = mix(h, ids.emplace(s.get(), ids.size()).first->second);
    }
    return h;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

struct Options {
    std::string filter;
    long iters = 0;       // fixed translations per repetition (0 = time-based)
    int reps = 5;
    double min_ms = 200;  // per repetition when time-based
    int flowmods = 5;     // flow-mods timed per big table
};

void run(const Case& c, const Options& o) {
    if (!o.filter.empty() && c.name.find(o.filter) == std::string::npos) return;
    Ofproto ofp(kPorts, [] {});
    ofp.set_ports({1, 2, 3, 4});
    auto t0 = std::chrono::steady_clock::now();
    if (FlowError err = ofp.add_flows(c.flows)) {
        std::fprintf(stderr, "%s: %s (%s)\n", c.name.c_str(), err.message.c_str(), err.token.c_str());
        std::exit(1);
    }
    double add_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    // Learning off, as when revalidating (no key here reaches NORMAL anyway).
    Ofproto::NoLearningScope no_learning(ofp);

    Translation t;
    std::vector<double> ns;
    long total = 0;
    for (int r = 0; r < o.reps; r++) {
        long n = 0;
        auto start = std::chrono::steady_clock::now();
        double el = 0;
        for (;;) {
            for (size_t i = 0; i < c.keys.size(); i++) ofp.translate(c.keys[i], t);
            n += c.keys.size();
            el = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
            if (o.iters ? n >= o.iters : el >= o.min_ms * 1e6) break;
        }
        ns.push_back(el / n);
        total += n;
    }
    double m = median(ns);
    uint64_t d = digest(ofp, c.keys);
    // xlates: every translation run, the digest's included (for callgrind's Ir total).
    std::printf("%-62s %6zu rules  %9.1f ns/xlate  %11.0f xlate/s  xlates %ld  digest %016llx\n", c.name.c_str(),
                ofp.n_rules(), m, 1e9 / m, total + static_cast<long>(c.keys.size()),
                static_cast<unsigned long long>(d));
    if (c.flowmod) {
        // One flow-mod on the big table: add a rule, then delete it (each publishes a
        // new snapshot); the rule's mask new to the table, or that of a quarter of it.
        for (bool existing : {false, true}) {
            std::vector<double> add, del;
            for (int i = 0; i < o.flowmods; i++) {
                std::string f = existing ? "priority=555,udp,tp_dst=" + std::to_string(60000 - i)
                                         : "priority=555,tcp,nw_dst=99.0." + std::to_string(i / 250) + "." + std::to_string(i % 250);
                auto a = std::chrono::steady_clock::now();
                ofp.add_flows({f + ",actions=output:1"});
                auto b = std::chrono::steady_clock::now();
                size_t nd = 0;
                ofp.del_flows(f, true, &nd);
                if (nd != 1) std::fprintf(stderr, "flow-mod: deleted %zu\n", nd);
                auto e = std::chrono::steady_clock::now();
                add.push_back(std::chrono::duration<double, std::micro>(b - a).count());
                del.push_back(std::chrono::duration<double, std::micro>(e - b).count());
            }
            std::printf("%-62s   flow-mod, %s mask: add one %.0f us, delete one %.0f us\n", "",
                        existing ? "a common" : "a new", median(add), median(del));
        }
        std::printf("%-62s   add_flows of the whole table: %.1f ms\n", "", add_ms);
    }
    std::fflush(stdout);
}

// The revalidation figure of docs/datapath-actions.md, with the real pipeline: 100k
// megaflows (keys differing in in_port / tp_dst) over the 64-rule table, each
// re-translated by Datapath::revalidate(); 1 thread and every CPU.
void revalidation(const Options& o) {
    const std::string name = "revalidate 100k megaflows over the 64-rule table";
    if (!o.filter.empty() && name.find(o.filter) == std::string::npos) return;
    std::string prefix = "--file-prefix=xlatebench" + std::to_string(getpid());
    const char* eal[] = {"xlate_bench", "--no-huge", "--no-pci", "-m", "256", "-l", "0",
                         "--log-level=error", prefix.c_str(), "--no-telemetry", nullptr};
    if (rte_eal_init(static_cast<int>(std::size(eal)) - 1, const_cast<char**>(eal)) < 0) {
        std::fprintf(stderr, "%s: rte_eal_init failed\n", name.c_str());
        return;
    }
    Ofproto ofp(kPorts, [] {});
    ofp.set_ports({1, 2, 3, 4});
    ofp.add_flows(rules64().flows);
    constexpr uint32_t kFlows = 100000;
    DatapathConfig cfg;
    cfg.n_mbufs = 1023;
    cfg.max_megaflows = kFlows + 1000;
    cfg.megaflow_max_idle_s = 300;
    Datapath dp(cfg, ofp);
    Translation t;
    for (uint32_t n = 0; n < kFlows; n++) {
        FlowKey k = tcp_key(1 + n / 1000, ip(10, 0, 0, 1), ip(10, 0, 0, 2), 1 + n % 1000);
        t.reset();
        ofp.translate(k, t);
        Classifier::InsertResult res;
        if (!dp.classifier().insert(k, t, 0, res)) {
            std::fprintf(stderr, "%s: megaflow insert failed\n", name.c_str());
            return;
        }
    }
    Ofproto::NoLearningScope no_learning(ofp);
    // As switchd's control thread: allowed on every CPU (EAL pinned this one).
    const unsigned ncpu = unsigned(sysconf(_SC_NPROCESSORS_ONLN));
    std::string line;
    std::thread th([&] {
        cpu_set_t all;
        CPU_ZERO(&all);
        for (unsigned c = 0; c < ncpu; c++) CPU_SET(c, &all);
        pthread_setaffinity_np(pthread_self(), sizeof all, &all);
        for (unsigned p : {1u, ncpu}) {
            tbb::global_control gc(tbb::global_control::max_allowed_parallelism, p);
            tbb::task_arena arena{static_cast<int>(p)};
            std::vector<double> ms;
            size_t removed = 0;
            for (int r = 0; r < o.reps; r++)
                arena.execute([&] {
                    auto a = std::chrono::steady_clock::now();
                    removed += dp.revalidate(true);
                    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
                });
            char b[128];
            std::snprintf(b, sizeof b, "  %u thread(s) %.1f ms%s", p, median(ms), removed ? " (megaflows removed!)" : "");
            line += b;
            if (ncpu == 1) break;
        }
    });
    th.join();
    std::printf("%-62s %6zu flows %s\n", name.c_str(), static_cast<size_t>(dp.classifier().size()), line.c_str());
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto val = [&] {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(2);
            }
            return std::string(argv[++i]);
        };
        if (a == "-c") o.filter = val();
        else if (a == "-n") o.iters = std::stol(val());
        else if (a == "-r") o.reps = std::stoi(val());
        else if (a == "-t") o.min_ms = std::stod(val());
        else if (a == "-f") o.flowmods = std::max(1, std::stoi(val()));
        else if (a == "-s") ofp::TableIndex::set_subtable_min_rules(std::stoul(val()));
        else {
            std::fprintf(stderr,
                         "usage: %s [-c case-substring] [-n translations-per-rep] [-r reps] [-t min-ms-per-rep]"
                         " [-f flow-mods]\n"
                         "       [-s N: tables of N+ rules use subtables (default %zu; 0 = whenever the masks"
                         " allow, a huge N = never)]\n",
                         argv[0], ofp::TableIndex::kDefaultSubtableMinRules);
            return 2;
        }
    }
    if (o.reps < 1) o.reps = 1;
    run(two_rules(), o);
    run(pipeline4(), o);
    run(rules64(), o);
    run(masks64(), o);
    run(mixed(1000), o);
    run(mixed(10000), o);
    revalidation(o);
    return 0;
}
