// free_mbufs: the fast path (lone direct mbufs of one pool back in one put) and every case
// it must hand to rte_pktmbuf_free_bulk; checked by the pools' in-use counts, which a
// leaked or doubly freed mbuf would change.
#include <catch2/catch.hpp>

#include <vector>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "eal_fixture.h"
#include "mbuf_free.h"

using namespace vswitch;

namespace {

rte_mbuf* alloc_one(rte_mempool* mp, uint16_t len = 60) {
    rte_mbuf* m = rte_pktmbuf_alloc(mp);
    REQUIRE(m);
    REQUIRE(rte_pktmbuf_append(m, len));
    return m;
}

}  // namespace

TEST_CASE("free_mbufs returns every mbuf of a burst, whatever its shape", "[switch][mbuf]") {
    rte_mempool* mp = vsw_test_eal();
    static rte_mempool* other =
        rte_pktmbuf_pool_create("ut_pool_b", 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    REQUIRE(other);
    const unsigned base = rte_mempool_in_use_count(mp), base_other = rte_mempool_in_use_count(other);
    std::vector<rte_mbuf*> v;

    SECTION("lone direct mbufs of one pool") {
        for (int i = 0; i < 32; i++) v.push_back(alloc_one(mp));
    }
    SECTION("a chain in the middle") {
        v.push_back(alloc_one(mp));
        rte_mbuf* head = alloc_one(mp);
        REQUIRE(rte_pktmbuf_chain(head, alloc_one(mp)) == 0);
        v.push_back(head);
        v.push_back(alloc_one(mp));
    }
    SECTION("a clone and its parent (refcnt 2, then an indirect mbuf)") {
        rte_mbuf* m = alloc_one(mp);
        rte_mbuf* c = rte_pktmbuf_clone(m, mp);
        REQUIRE(c);
        v = {m, alloc_one(mp), c};
    }
    SECTION("two pools") {
        v = {alloc_one(mp), alloc_one(other), alloc_one(mp)};
    }
    REQUIRE(rte_mempool_in_use_count(mp) + rte_mempool_in_use_count(other) > base + base_other);
    free_mbufs(v.data(), static_cast<uint16_t>(v.size()));
    CHECK(rte_mempool_in_use_count(mp) == base);
    CHECK(rte_mempool_in_use_count(other) == base_other);
    // What went back is usable as fresh mbufs (refcnt 1, one segment, no next).
    rte_mbuf* again = rte_pktmbuf_alloc(mp);
    REQUIRE(again);
    CHECK(rte_mbuf_refcnt_read(again) == 1);
    CHECK(again->nb_segs == 1);
    CHECK(again->next == nullptr);
    rte_pktmbuf_free(again);
}
