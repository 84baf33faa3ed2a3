// Freeing a burst of mbufs the switch is done with (copied into a guest, dropped).
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

namespace vswitch {

// Frees pkts[0..n). When every mbuf is a lone direct segment with refcnt 1 from one pool
// (what the vhost copy and the PMD's drops leave almost always), they go back with one
// rte_mempool_put_bulk, reading only each mbuf's first cache line. rte_pktmbuf_free_bulk
// reads the second line too (next) and gathers the mbufs in a stack array that it reads
// back with 16-byte loads right after 8-byte stores, which store-to-load forwarding
// cannot serve: it was 24% of the decap PMD's cycles. Anything else (chains, clones,
// external buffers, mixed pools) takes rte_pktmbuf_free_bulk.
inline void free_mbufs(rte_mbuf* const* pkts, uint16_t n) {
    if (n == 0) return;
    rte_mempool* const mp = pkts[0]->pool;
    for (uint16_t i = 0; i < n; i++) {
        const rte_mbuf* m = pkts[i];
        // nb_segs == 1 means next == NULL (a chain's length is its nb_segs), which is
        // what rte_pktmbuf_prefree_seg would otherwise reset.
        if (m->pool != mp || m->nb_segs != 1 || !RTE_MBUF_DIRECT(m) ||
            rte_mbuf_refcnt_read(m) != 1) {
            rte_pktmbuf_free_bulk(const_cast<rte_mbuf**>(pkts), n);
            return;
        }
    }
    rte_mempool_put_bulk(mp, reinterpret_cast<void* const*>(pkts), n);
}

}  // namespace vswitch
