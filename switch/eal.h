// EAL bring-up for switchd.
//
// The argument vector is built here so the rules hold everywhere:
//  - "--no-pci" is added unless the user's EAL arguments name a PCI device (-a/--allow,
//    -b/--block with a PCI address): the host's own NIC must never be probed by accident.
//  - lcore 0 (the control thread: Asio, vhost events) floats over the CPUs that are not
//    PMD cores; PMD i is lcore i+1 pinned to its core.
//  - a --file-prefix is given unless the user chose one, so several switches (and test
//    tools) can share a machine.
#pragma once

#include <string>
#include <vector>

namespace vswitch {

struct EalOptions {
    std::vector<unsigned> pmd_cores;
    std::string extra;            // user EAL arguments, shell-like words
    std::string file_prefix = "vswitch";
};

// Pure: the argv switchd passes to rte_eal_init (argv[0] included). Unit-tested.
std::vector<std::string> build_eal_args(const EalOptions& o, unsigned n_cpus);

// Splits "--no-huge -m 1024" into words (single/double quotes group).
std::vector<std::string> split_words(const std::string& s);

// rte_eal_init with build_eal_args(); false + err on failure.
bool eal_init(const EalOptions& o, std::string& err);

}  // namespace vswitch
