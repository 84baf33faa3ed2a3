// EAL argument building: --no-pci unless a PCI device is named, lcore layout.
#include <catch2/catch.hpp>

#include <algorithm>

#include "switch/eal.h"

using namespace vswitch;

namespace {
bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}
}  // namespace

TEST_CASE("no-pci is added by default") {
    auto a = build_eal_args({{1}, "--no-huge -m 1024", "vswitch"}, 2);
    CHECK(has(a, "--no-pci"));
    CHECK(has(a, "--no-huge"));
    CHECK(has(a, "--file-prefix=vswitch"));
}

TEST_CASE("naming a PCI device keeps the PCI bus") {
    for (const char* e : {"-a 0000:03:00.1", "--allow=0000:03:00.1", "-a0000:03:00.1,foo=1", "-a 03:00.1"}) {
        auto a = build_eal_args({{1}, e, "vswitch"}, 2);
        CHECK_FALSE(has(a, "--no-pci"));
    }
    auto a = build_eal_args({{1}, "-a net_ring0", "vswitch"}, 2);
    CHECK(has(a, "--no-pci"));
}

TEST_CASE("lcore 0 floats off the PMD cores, PMD i is lcore i+1") {
    auto a = build_eal_args({{1}, "", "vswitch"}, 2);
    auto it = std::find(a.begin(), a.end(), "--lcores");
    REQUIRE(it != a.end());
    CHECK(*(it + 1) == "0@(0),1@1");
    a = build_eal_args({{2, 3}, "", "p"}, 4);
    it = std::find(a.begin(), a.end(), "--lcores");
    CHECK(*(it + 1) == "0@(0,1),1@2,2@3");
    CHECK(has(a, "--file-prefix=p"));
}

TEST_CASE("user file prefix wins; quoted words split correctly") {
    auto a = build_eal_args({{1}, "--file-prefix=mine --vdev 'net_null0,size=64'", "vswitch"}, 2);
    CHECK_FALSE(has(a, "--file-prefix=vswitch"));
    CHECK(has(a, "net_null0,size=64"));
    CHECK(split_words("  a 'b c'  \"d\" ") == std::vector<std::string>{"a", "b c", "d"});
}
