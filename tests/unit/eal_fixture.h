// Brings up DPDK's EAL once per test binary, with no hugepages and no PCI probing, so
// unit tests can use mbufs, rte_hash and RCU. Call vsw_test_eal() at the start of any
// test that needs DPDK.
#pragma once

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

inline rte_mempool* vsw_test_eal() {
    static rte_mempool* pool = [] {
        std::string prefix = "--file-prefix=vswut" + std::to_string(getpid());
        const char* argv[] = {"unit", "--no-huge", "--no-pci", "-m", "256", "-l", "0",
                              "--log-level=error", prefix.c_str(), "--no-telemetry", nullptr};
        int argc = sizeof(argv) / sizeof(argv[0]) - 1;
        if (rte_eal_init(argc, const_cast<char**>(argv)) < 0) {
            std::fprintf(stderr, "rte_eal_init failed\n");
            std::abort();
        }
        return rte_pktmbuf_pool_create("ut_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    }();
    return pool;
}
