// The native virtio-net split virtqueue: the packet copies between guest memory and mbufs
// that librte_vhost's rte_vhost_dequeue_burst / rte_vhost_enqueue_burst would do, written
// for this switch's one case (no offloads, no indirect descriptors, no packed rings).
//
// Why: the two librte_vhost copies cost ~150 cycles per packet here (testpmd forwarding
// between two net_vhost ports, docs/benchmarks.md), more than the whole switch's own work.
// They handle every feature combination per packet (offload headers, async copies,
// IOTLB, packed rings, locks per call). With the features this switch negotiates fixed,
// a burst is: one acquire load of avail->idx, per packet one descriptor read, one
// address translation and one copy, then one release store of used->idx.
//
// Contract:
//  - librte_vhost still runs the vhost-user protocol (socket, memory table, vring
//    addresses, feature negotiation); VhostPort hands a Vring the addresses it learned
//    (attach) and takes the ring positions back (last_avail/last_used) before any
//    protocol message is handled, so librte_vhost's own view stays right for
//    GET_VRING_BASE, reconnects and live migration.
//  - The guest is not trusted: every descriptor index, chain length and guest address is
//    checked; a bad chain is returned to the guest with length 0 and counted, never
//    followed outside guest memory.
//  - One thread per Vring at a time (the PMD owning the queue, or the one holding the
//    port's tx queue lock).
//  - A guest-tx (dequeue) burst becomes visible to the guest at the next dequeue on the
//    ring or at detach(), so a ring no longer polled must be detached (VhostPort does,
//    before every protocol message and when the guest leaves).
//  - Negotiated features it relies on: VIRTIO_RING_F_INDIRECT_DESC and VIRTIO_F_RING_PACKED
//    off (VhostPort disables them); VIRTIO_NET_F_MRG_RXBUF, VIRTIO_F_VERSION_1,
//    VIRTIO_RING_F_EVENT_IDX and VHOST_F_LOG_ALL (dirty logging during live migration)
//    either way.
#pragma once

#include <cstdint>
#include <vector>

struct rte_mbuf;
struct rte_mempool;

namespace vswitch {

// Split virtqueue layout and bits (virtio 1.1, 2.6; little-endian on x86). Our own:
// linux/virtio_ring.h is not valid C++ (rte_vhost.h leaves it out for C++, and
// rte_vhost_vring's ring pointers point to these layouts).
struct VirtqDesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
struct VirtqAvail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];   // then used_event, with VIRTIO_RING_F_EVENT_IDX
};
struct VirtqUsedElem {
    uint32_t id;
    uint32_t len;
};
struct VirtqUsed {
    uint16_t flags;
    uint16_t idx;
    VirtqUsedElem ring[];
};
inline constexpr uint16_t kDescNext = 1, kDescWrite = 2, kDescIndirect = 4;
inline constexpr uint16_t kAvailNoInterrupt = 1;
// Feature bits.
inline constexpr unsigned kFeatMrgRxbuf = 15, kFeatLogAll = 26, kFeatIndirectDesc = 28,
                          kFeatEventIdx = 29, kFeatVersion1 = 32, kFeatRingPacked = 34;

// Guest physical -> host virtual, for the regions of the vhost-user memory table.
struct GuestMemory {
    static constexpr uint32_t kMaxRegions = 8;   // VHOST_MEMORY_MAX_NREGIONS
    struct Region {
        uint64_t gpa = 0;
        uint64_t size = 0;
        uint64_t hva = 0;
    };
    Region regions[kMaxRegions];
    uint32_t n = 0;

    // The host address of [gpa, gpa + len) when one region holds all of it, else nullptr.
    // hint: the region that answered last (most buffers of a guest sit in one region).
    uint8_t* translate(uint64_t gpa, uint64_t len, uint32_t& hint) const {
        if (hint < n && contains(regions[hint], gpa, len))
            return reinterpret_cast<uint8_t*>(regions[hint].hva + (gpa - regions[hint].gpa));
        for (uint32_t i = 0; i < n; i++)
            if (contains(regions[i], gpa, len)) {
                hint = i;
                return reinterpret_cast<uint8_t*>(regions[i].hva + (gpa - regions[i].gpa));
            }
        return nullptr;
    }

private:
    static bool contains(const Region& r, uint64_t gpa, uint64_t len) {
        // Written so that no sum can wrap: a guest chooses gpa and len.
        return gpa >= r.gpa && gpa - r.gpa < r.size && len <= r.size - (gpa - r.gpa);
    }
};

// What a Vring needs to know about one virtqueue (from rte_vhost_get_vhost_vring and the
// negotiated features).
struct VringConfig {
    VirtqDesc* desc = nullptr;
    VirtqAvail* avail = nullptr;
    VirtqUsed* used = nullptr;
    uint16_t size = 0;              // a power of two (checked by attach)
    uint16_t last_avail = 0;
    uint16_t last_used = 0;
    int callfd = -1;                // eventfd for guest interrupts; -1: never interrupt
    bool mrg_rxbuf = false;         // VIRTIO_NET_F_MRG_RXBUF
    bool version_1 = false;         // VIRTIO_F_VERSION_1 (12-byte header)
    bool event_idx = false;         // VIRTIO_RING_F_EVENT_IDX
    bool log = false;               // VHOST_F_LOG_ALL: log writes for live migration
    int vid = -1;                   // for rte_vhost_log_* only
    uint16_t vring_idx = 0;
    const GuestMemory* mem = nullptr;
};

// Errors of one burst, for the port's drop counters.
struct VringErrors {
    uint32_t bad_chains = 0;        // invalid descriptor chain (returned to the guest, len 0)
    uint32_t too_big = 0;           // guest tx: longer than kMaxPacket; guest rx: the guest
                                    // buffer (no mergeable buffers) cannot hold the packet
    uint32_t no_mbuf = 0;           // guest tx: mbufs for chained segments ran out
    // Guest rx: packets enqueue consumed without delivering them (bad chain, too big).
    uint32_t dropped = 0;
    uint32_t dropped_bytes = 0;
};

class Vring;

// Interrupt checks batched per PMD iteration. Whether the guest wants an interrupt may
// only be read after a full barrier behind the used->idx store (virtio 1.1, 2.6.7.2: else
// both sides can miss each other and a guest waiting for interrupts sleeps on a filled
// ring). Paid per publish, that barrier waited each time for the cross-core ownership
// transfers of the used ring's lines (13% of a PMD's cycles in scenario B). A PMD
// collects the rings it published during an iteration here and checks them all behind
// one barrier at the iteration's end, before its RCU quiescent report (so every ring is
// still attached). A thread with no batch installed (the control thread, unit tests)
// checks at once.
class GuestNotifyBatch {
public:
    static constexpr uint16_t kMax = 32;   // more rings in one iteration: checks early

    // Installs this batch for the calling thread (nullptr uninstalls).
    static void install(GuestNotifyBatch* b);
    static GuestNotifyBatch* installed();

    // used->idx of v went from `from` to `to` (and may move on before the flush).
    void add(Vring& v, uint16_t from, uint16_t to);
    // One full barrier, then every collected ring's check (and kick).
    void flush();
    bool empty() const { return n_ == 0; }

private:
    struct Entry {
        Vring* v;
        uint16_t from;
        uint16_t to;
    };
    Entry e_[kMax];
    uint16_t n_ = 0;
};

class Vring {
public:
    static constexpr uint32_t kMaxPacket = 65535 + 18;
    static constexpr uint16_t kMaxBurst = 64;   // packets per dequeue / enqueue pass

    // Returns false (and stays detached) when the addresses or the size are unusable.
    bool attach(const VringConfig& c);
    // Publishes what dequeue left pending (below), then stops using the ring. Called with
    // no PMD inside a burst on it (after a grace period).
    void detach();
    bool attached() const { return attached_; }
    uint16_t last_avail() const { return c_.last_avail; }
    uint16_t last_used() const { return c_.last_used; }

    // Guest tx: up to n packets from the guest into fresh mbufs of mp. Packets whose chain
    // is bad are consumed (returned to the guest) and counted in err, not returned.
    // The used entries of a burst are written at once but made visible (used->idx, and
    // the interrupt check) at the start of the next dequeue on this ring, or at detach: a
    // PMD polls each of its rings every iteration, so the guest gets its buffers back one
    // iteration later (vring.cc, at the end of dequeue, says why).
    uint16_t dequeue(rte_mempool* mp, rte_mbuf** pkts, uint16_t n, VringErrors& err);

    // Guest rx: copies pkts[0..n) into guest buffers while there are buffers. Returns how
    // many were consumed, including those dropped and counted in err (too big for the
    // guest's buffers, bad chain); the caller frees pkts[0..return).
    uint16_t enqueue(rte_mbuf* const* pkts, uint16_t n, VringErrors& err);

    // Guest rx, a hint between two enqueues: requests the lines the next enqueue of up
    // to n packets will write (the buffers the guest had posted at the last enqueue, and
    // their used entries). Each is a transfer from the guest's core; asked for here, a
    // burst ahead, they arrive while the PMD works on the next burst, instead of holding
    // up the copies and the iteration's barrier, which waits for every store to guest
    // memory. Reads only what the guest has already posted and writes nothing; the
    // same thread rules as enqueue.
    void prefetch_next_enqueue(uint16_t n);

private:
    bool posted(uint16_t want, uint16_t& count, VringErrors& err);
    void prefetch_used_for_write(uint16_t n) const;
    bool copy_from_guest(uint16_t head, rte_mbuf* m, rte_mempool* mp, VringErrors& err);
    uint16_t enqueue_simple(rte_mbuf* const* pkts, uint16_t k);
    int64_t copy_to_chain(uint16_t head, const rte_mbuf*& seg, uint32_t& seg_off,
                          uint32_t& hdr_left, uint8_t** hdr_at);
    void guess_next_chains(uint16_t n);
    void prefetch_guessed_chains() const;
    void prefetch_guessed_data();
    void publish_deferred() {
        if (!publish_pending_) return;
        publish_pending_ = false;
        publish_used(pending_old_used_);
    }
    void publish_used(uint16_t old_used);
    void log_used(uint16_t from, uint16_t n);
    // After a full barrier: kicks the guest if it asked for an interrupt for any of the
    // used entries [from, to).
    void notify_if_wanted(uint16_t from, uint16_t to);
    friend class GuestNotifyBatch;

    VringConfig c_;
    uint16_t mask_ = 0;
    uint8_t hdr_len_ = 10;
    bool attached_ = false;
    uint32_t region_hint_ = 0;
    uint16_t guess_head_ = 0;   // first descriptor of the next burst, guessed
    uint16_t guess_n_ = 0;      // how many to prefetch; 0: no guess
    uint16_t avail_seen_ = 0;   // avail->idx as last read
    // Per descriptor, the low half of the buffer address it held when last consumed or
    // prefetched: a different value means the guest rewrote it for a new packet.
    std::vector<uint32_t> seen_addr_;
    bool publish_pending_ = false;   // dequeue's last burst: used->idx not yet stored
    uint16_t pending_old_used_ = 0;  // used->idx before that burst
};

}  // namespace vswitch
