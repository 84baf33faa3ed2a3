// Catch2 entry point shared by all unit test binaries. Tests that need DPDK (mbufs,
// rte_hash, RCU) bring up a private EAL with --no-huge --no-pci through eal_fixture.h.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
