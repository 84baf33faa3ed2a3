// Microbenchmark of the per-packet tunnel cost: encap::push() and encap::pop() on 64-byte
// inner frames, in bursts of 32 mbufs as a PMD thread handles them, for VXLAN and GRE.
// Prints TSC cycles per packet (and ns at the TSC rate); docs/encap.md quotes the figures.
//
//   taskset -c 1 build-encap/tests/bench/encap_bench          # 15 runs of 20000 bursts
//   taskset -c 1 build-encap/tests/bench/encap_bench -b 5000 -r 5
//
// Brings up DPDK's EAL without hugepages or PCI on the first CPU the process may run on.
// A timed burst of push() is followed by a timed burst of pop() on the same 32 mbufs,
// which gives back the inner frames the next push needs: every call sees the same
// packets, hot in cache as they are right after rx and flow extraction, and every call
// succeeds (checked: the refusal paths are not what is measured). The cost of reading
// the TSC itself (measured on an empty region) is subtracted.
#include <arpa/inet.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "overlay/encap/tunnel_header.h"

using namespace vswitch::encap;

namespace {

constexpr unsigned kBurst = 32;
constexpr unsigned kInner = 64;

struct Options {
    unsigned bursts = 20000;
    unsigned runs = 15;
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// 64-byte inner frame: Ethernet + IPv4 + UDP + 22 bytes of payload.
void fill_inner(uint8_t* p, unsigned i) {
    static const uint8_t hdr[] = {0x52, 0x54, 0, 0, 0, 0x02, 0x52, 0x54, 0, 0, 0, 0x01, 0x08, 0x00,
                                  0x45, 0, 0, 50, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
                                  0x04, 0xd2, 0, 80, 0, 30, 0, 0};
    std::memcpy(p, hdr, sizeof hdr);
    std::memset(p + sizeof hdr, static_cast<int>(i), kInner - sizeof hdr);
}

uint64_t tsc_overhead() {
    uint64_t best = ~0ull;
    for (int i = 0; i < 10000; ++i) {
        uint64_t t0 = rte_rdtsc_precise();
        uint64_t t1 = rte_rdtsc_precise();
        best = std::min(best, t1 - t0);
    }
    return best;
}

void bench(TunnelType type, const Options& o, rte_mempool* pool, uint64_t overhead) {
    TunnelSpec s;
    s.type = type;
    const uint8_t smac[6] = {0x02, 0, 0, 0, 0, 0x01}, dmac[6] = {0x02, 0, 0, 0, 0, 0xfe};
    std::memcpy(s.src_mac, smac, 6);
    std::memcpy(s.dst_mac, dmac, 6);
    s.src_ip = htonl(0xc0a80101);
    s.dst_ip = htonl(0xc0a80102);
    s.vni = 5001;
    TunnelHeader h;
    std::string err;
    if (!build_header(s, h, err)) {
        std::fprintf(stderr, "build_header: %s\n", err.c_str());
        std::exit(1);
    }
    h.mtu = 1500;

    rte_mbuf* ms[kBurst];
    uint32_t hashes[kBurst];
    std::mt19937 rng(1);
    for (unsigned i = 0; i < kBurst; ++i) {
        ms[i] = rte_pktmbuf_alloc(pool);
        if (!ms[i]) {
            std::fprintf(stderr, "mbuf allocation failed\n");
            std::exit(1);
        }
        fill_inner(reinterpret_cast<uint8_t*>(rte_pktmbuf_append(ms[i], kInner)), i);
        hashes[i] = rng();
    }

    std::vector<double> push_cpp, pop_cpp;
    uint64_t bad = 0;
    TunnelMd md[kBurst];
    for (unsigned r = 0; r < o.runs; ++r) {
        uint64_t push_cycles = 0, pop_cycles = 0;
        for (unsigned b = 0; b < o.bursts; ++b) {
            uint64_t t0 = rte_rdtsc_precise();
            for (unsigned i = 0; i < kBurst; ++i) bad += push(ms[i], h, hashes[i]) != PushResult::Ok;
            uint64_t t1 = rte_rdtsc_precise();
            push_cycles += t1 - t0 - overhead;

            t0 = rte_rdtsc_precise();
            for (unsigned i = 0; i < kBurst; ++i)
                bad += pop(ms[i], type, kVxlanPort, md[i]) != PopResult::Ok;
            t1 = rte_rdtsc_precise();
            pop_cycles += t1 - t0 - overhead;
            for (unsigned i = 0; i < kBurst; ++i) bad += md[i].tun_id != s.vni;
        }
        if (bad) {
            std::fprintf(stderr, "%s: %lu push/pop calls failed\n", type == TunnelType::Vxlan ? "VXLAN" : "GRE",
                         static_cast<unsigned long>(bad));
            std::exit(1);
        }
        push_cpp.push_back(static_cast<double>(push_cycles) / (o.bursts * kBurst));
        pop_cpp.push_back(static_cast<double>(pop_cycles) / (o.bursts * kBurst));
    }
    const double ghz = static_cast<double>(rte_get_tsc_hz()) / 1e9;
    const char* name = type == TunnelType::Vxlan ? "VXLAN" : "GRE";
    for (auto [what, v] : {std::pair{"push", &push_cpp}, std::pair{"pop", &pop_cpp}}) {
        double med = median(*v), lo = *std::min_element(v->begin(), v->end());
        std::printf("%-5s %-4s  %6.1f cycles/packet (min of runs %5.1f)  %5.2f ns/packet\n", name,
                    what, med, lo, med / ghz);
    }
    for (rte_mbuf* m : ms) rte_pktmbuf_free(m);
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int c; (c = getopt(argc, argv, "b:r:h")) != -1;) {
        switch (c) {
            case 'b': o.bursts = static_cast<unsigned>(std::max(1, std::atoi(optarg))); break;
            case 'r': o.runs = static_cast<unsigned>(std::max(1, std::atoi(optarg))); break;
            default:
                std::fprintf(stderr, "usage: %s [-b bursts per run] [-r runs]\n", argv[0]);
                return 2;
        }
    }
    // The EAL pins its main thread to the lcore it is given: use a CPU we are allowed on
    // (the one taskset chose), not lcore 0.
    cpu_set_t set;
    CPU_ZERO(&set);
    int cpu = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &set)) ++cpu;
    std::string lcore = std::to_string(cpu);
    std::string prefix = "--file-prefix=encapbench" + std::to_string(getpid());
    const char* eal[] = {"encap_bench", "--no-huge", "--no-pci", "-m", "64", "-l", lcore.c_str(),
                         "--log-level=error", prefix.c_str(), "--no-telemetry", nullptr};
    if (rte_eal_init(static_cast<int>(std::size(eal)) - 1, const_cast<char**>(eal)) < 0) {
        std::fprintf(stderr, "rte_eal_init failed\n");
        return 1;
    }
    rte_mempool* pool = rte_pktmbuf_pool_create("encap_bench", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    if (!pool) {
        std::fprintf(stderr, "cannot create the mbuf pool\n");
        return 1;
    }
    const uint64_t overhead = tsc_overhead();
    std::printf("encap_bench: %u-byte inner frames, bursts of %u, %u runs x %u bursts, CPU %d, "
                "TSC %.2f GHz, TSC read overhead %lu cycles subtracted per burst\n",
                kInner, kBurst, o.runs, o.bursts, cpu, rte_get_tsc_hz() / 1e9,
                static_cast<unsigned long>(overhead));
    bench(TunnelType::Vxlan, o, pool, overhead);
    bench(TunnelType::Gre, o, pool, overhead);
    rte_eal_cleanup();
    return 0;
}
