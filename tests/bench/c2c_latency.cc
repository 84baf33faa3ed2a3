// Cross-core cache-line round trip between two CPUs: how long a line written by one core
// takes to reach the other and come back. Every vhost packet pays this several times
// (ring indexes, descriptors, buffers move between the guest's core and the switch's), so
// on a shared VM host, where the hypervisor may place the two vCPUs on cores that share
// a cache or not and may move them, it explains why the same benchmark gives different
// cycles per packet at different hours. bench.sh prints it before each scenario.
//
//   c2c_latency [-a CPU] [-b CPU] [-n round_trips]      # defaults 0, 1, 200000
//
// Prints "c2c_round_trip_ns=<median of 5 runs> min= max=". Two threads pinned to the two
// CPUs pass a counter back and forth through one 64-byte-aligned atomic: thread A
// writes an odd value and waits for the next even one, B the reverse; one round trip is
// two line transfers.
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

struct alignas(64) Line {
    std::atomic<uint64_t> v{0};
};

bool pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

double run_once(int cpu_a, int cpu_b, uint64_t trips) {
    Line line;
    bool pinned_b = true;
    std::thread b([&] {
        pinned_b = pin(cpu_b);
        for (uint64_t i = 0; i < trips; i++) {
            const uint64_t want = 2 * i + 1;
            while (line.v.load(std::memory_order_acquire) != want) {}
            line.v.store(want + 1, std::memory_order_release);
        }
    });
    if (!pin(cpu_a)) {
        std::fprintf(stderr, "c2c_latency: cannot run on CPU %d\n", cpu_a);
        std::exit(2);
    }
    const auto t0 = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < trips; i++) {
        line.v.store(2 * i + 1, std::memory_order_release);
        while (line.v.load(std::memory_order_acquire) != 2 * i + 2) {}
    }
    const auto t1 = std::chrono::steady_clock::now();
    b.join();
    if (!pinned_b) {
        std::fprintf(stderr, "c2c_latency: cannot run on CPU %d\n", cpu_b);
        std::exit(2);
    }
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / double(trips);
}

}  // namespace

int main(int argc, char** argv) {
    int a = 0, b = 1;
    uint64_t trips = 200000;
    for (int i = 1; i < argc; i++) {
        const bool has_val = i + 1 < argc;
        if (!std::strcmp(argv[i], "-a") && has_val) a = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "-b") && has_val) b = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "-n") && has_val) trips = std::strtoull(argv[++i], nullptr, 0);
        else {
            std::fprintf(stderr, "usage: c2c_latency [-a CPU] [-b CPU] [-n round_trips]\n");
            return 2;
        }
    }
    if (a == b || trips == 0) {
        std::fprintf(stderr, "c2c_latency: two different CPUs and at least one round trip\n");
        return 2;
    }
    std::vector<double> ns;
    for (int r = 0; r < 5; r++) ns.push_back(run_once(a, b, trips));
    std::sort(ns.begin(), ns.end());
    std::printf("c2c_round_trip_ns=%.1f min=%.1f max=%.1f cpus=%d,%d\n", ns[2], ns[0], ns[4], a, b);
    return 0;
}
