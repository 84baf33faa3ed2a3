// Microbenchmark of the megaflow classifier's lookup at scale, apart from vhost and the
// generator: N megaflows of one 5-tuple mask (as scenario F installs them), then batches
// of 32 random keys through Classifier::lookup_batch, each hit's hot lines read the way
// the PMD reads them (the action pointer, the counters, the first action). Prints cycles
// per lookup for each flow count, the median of the repetitions.
//
//   taskset -c 1 build/tests/bench/classifier_bench                  # 1, 1000, 100000, 1000000
//   taskset -c 1 build/tests/bench/classifier_bench -n 1000000 -r 9  # one size, 9 repetitions
//
// Pin it to one CPU: it is single-threaded, and a migration mid-run costs its caches.
// On this project's 2-core VM the figures move with the host by up to +-40% between
// minutes, so compare two builds by running them alternately, a few rounds, and compare
// within a round (docs/benchmarks.md, session 13).
#include <arpa/inet.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "switch/classifier.h"

using namespace vswitch;

namespace {

FlowKey key_of(uint32_t i) {
    FlowKey k;
    k.clear();
    k.in_port = 1;
    k.dl_type = htons(0x0800);
    k.nw_src = htonl(0x0a000000u + i / 64);
    k.nw_dst = htonl(0x0a800001u);
    k.nw_proto = 17;
    k.nw_ttl = 64;
    k.tp_src = htons(static_cast<uint16_t>(1024 + i % 64));
    k.tp_dst = htons(9);
    return k;
}

FlowKey mask_5tuple() {
    FlowKey m;
    m.clear();
    m.in_port = ~0u;
    m.dl_type = 0xffff;
    m.nw_src = m.nw_dst = ~0u;
    m.nw_proto = 0xff;
    m.tp_src = m.tp_dst = 0xffff;
    return m;
}

double run(Classifier& c, uint32_t n_flows, uint64_t n_lookups, std::mt19937& rng) {
    constexpr unsigned kBatch = 32;
    std::vector<FlowKey> keys(kBatch);
    const FlowKey* kp[kBatch];
    Megaflow* out[kBatch];
    uint64_t sink = 0, missed = 0;
    const uint64_t t0 = rte_rdtsc();
    for (uint64_t done = 0; done < n_lookups; done += kBatch) {
        for (unsigned j = 0; j < kBatch; j++) {
            keys[j] = key_of(rng() % n_flows);
            kp[j] = &keys[j];
        }
        c.lookup_batch(kp, out, kBatch);
        for (unsigned j = 0; j < kBatch; j++) {
            Megaflow* f = out[j];
            if (f == nullptr) {
                missed++;
                continue;
            }
            const DpActionList* a = f->actions.load(std::memory_order_relaxed);
            sink += (*a)[0].port;
            f->credit(0, 1, 64, t0);
        }
    }
    const uint64_t t1 = rte_rdtsc();
    if (missed != 0) std::fprintf(stderr, "BUG: %lu lookups missed\n", static_cast<unsigned long>(missed));
    if (sink == 42) std::puts("");   // keeps the reads
    return double(t1 - t0) / double(n_lookups);
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<uint32_t> sizes = {1, 1000, 100000, 1000000};
    int reps = 5;
    for (int o; (o = getopt(argc, argv, "n:r:")) != -1;) {
        if (o == 'n') sizes = {static_cast<uint32_t>(std::atoi(optarg))};
        else if (o == 'r') reps = std::atoi(optarg);
        else {
            std::fprintf(stderr, "usage: %s [-n flows] [-r reps]\n", argv[0]);
            return 2;
        }
    }
    std::string prefix = "--file-prefix=vswcls" + std::to_string(getpid());
    const char* eal[] = {"classifier_bench", "--no-huge", "--no-pci", "-m", "2048", "--log-level=error",
                         prefix.c_str(), "--no-telemetry", "-l", "0"};
    if (rte_eal_init(sizeof eal / sizeof eal[0], const_cast<char**>(eal)) < 0) {
        std::fprintf(stderr, "rte_eal_init failed\n");
        return 1;
    }
    const size_t sz = rte_rcu_qsbr_get_memsize(4);
    auto* qsv = static_cast<rte_rcu_qsbr*>(rte_zmalloc(nullptr, sz, RTE_CACHE_LINE_SIZE));
    rte_rcu_qsbr_init(qsv, 4);

    std::printf("%-9s %10s %s\n", "flows", "cyc/lookup", "(each repetition)");
    for (const uint32_t n : sizes) {
        Classifier c(qsv, n + n / 5 + 16);
        Translation t;
        t.mask = mask_5tuple();
        t.actions = {DpAction::output(2)};
        for (uint32_t i = 0; i < n; i++) {
            Classifier::InsertResult r;
            c.insert(key_of(i), t, 0, r);
            if (r != Classifier::InsertResult::Inserted) {
                std::fprintf(stderr, "insert %u failed\n", i);
                return 1;
            }
        }
        std::mt19937 rng(1);
        run(c, n, 1u << 20, rng);   // warm-up
        std::vector<double> v;
        for (int r = 0; r < reps; r++) v.push_back(run(c, n, 4u << 20, rng));
        std::vector<double> s = v;
        std::sort(s.begin(), s.end());
        std::printf("%-9u %10.1f  (", n, s[s.size() / 2]);
        for (double x : v) std::printf(" %.1f", x);
        std::printf(" )\n");
        std::fflush(stdout);
    }
    rte_free(qsv);
    return 0;
}
