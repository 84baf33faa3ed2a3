#include "vring.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include <sys/eventfd.h>

#include <rte_atomic.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>
#include <rte_vhost.h>

namespace vswitch {
namespace {

// Requests a line we are about to write. The guest's core read it last (a buffer's
// header, a used entry), so a plain prefetch would fetch it shared and the store would
// pay a second trip for ownership; with -march=native on x86 this is PREFETCHW.
inline void prefetch_for_write(const void* p) { __builtin_prefetch(p, 1, 3); }

// The virtio-net header the device writes in front of every received packet (virtio
// 1.1, 5.1.6): with offloads off, all zeros (no checksum or GSO to describe) except
// num_buffers (bytes 10-11, present with MRG_RXBUF or VERSION_1), 1 unless a mergeable
// packet spans several buffers.
constexpr uint32_t kNumBuffersOff = 10;
constexpr uint8_t kRxHeader[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0};

// Writes the header only where the buffer does not already hold it. Guests recycle their
// receive buffers (DPDK's virtio PMD, Linux's page pool), so the last packet's header is
// usually still there; a line this core only read stays shared, and the guest's read of
// num_buffers hits its own cache instead of fetching a line left modified on our core (a
// cross-core transfer: ~230 ns on the bench host, 27% of a testpmd guest's cycles).
// Spelled with constant-size loads and stores: a memcpy of a run-time length is a libc
// call through the PLT (once ~9% of the decap path's cycles).
inline void write_rx_header(uint8_t* dst, uint32_t len) {
    uint64_t head;
    memcpy(&head, dst, 8);
    if (len == 12) {
        uint32_t tail;
        memcpy(&tail, dst + 8, 4);
        uint32_t want;
        memcpy(&want, kRxHeader + 8, 4);
        if (head != 0 || tail != want) memcpy(dst, kRxHeader, 12);
    } else {
        uint16_t tail;
        memcpy(&tail, dst + 8, 2);
        if (head != 0 || tail != 0) memcpy(dst, kRxHeader, 10);
    }
}

}  // namespace

bool Vring::attach(const VringConfig& c) {
    attached_ = false;
    if (!c.desc || !c.avail || !c.used || !c.mem || c.size == 0 || (c.size & (c.size - 1)) != 0)
        return false;
    c_ = c;
    mask_ = static_cast<uint16_t>(c.size - 1);
    hdr_len_ = (c.mrg_rxbuf || c.version_1) ? 12 : 10;
    region_hint_ = 0;
    guess_n_ = 0;
    avail_seen_ = c.last_avail;   // nothing known to be posted yet
    seen_addr_.assign(c.size, 0);
    publish_pending_ = false;
    attached_ = true;
    return true;
}

void Vring::detach() {
    if (attached_) publish_deferred();
    attached_ = false;
}

// Each burst pays a chain of cross-core misses: avail->idx, then the avail ring's heads,
// then their descriptors, then the data. Drivers that recycle descriptors in order (the
// DPDK virtio PMD's free list, in steady state) hand out the heads that follow the last
// one, so the next burst's descriptors can be asked for before avail->idx is read: the
// descriptor miss then overlaps the others (C: 2-9% fewer cycles per packet in each of 7
// alternating pairs). A wrong guess costs only the prefetches.
void Vring::guess_next_chains(uint16_t n) {
    if (n == 0) {
        guess_n_ = 0;
        return;
    }
    guess_head_ = static_cast<uint16_t>(c_.used->ring[(c_.last_used - 1) & mask_].id + 1);
    guess_n_ = std::min<uint16_t>(n, kMaxBurst);
}

void Vring::prefetch_guessed_chains() const {
    if (guess_n_ == 0) return;
    for (uint16_t i = 0; i < guess_n_; i += 4)   // 4 descriptors to a line
        rte_prefetch0(&c_.desc[(guess_head_ + i) & mask_]);
    rte_prefetch0(&c_.avail->ring[c_.last_avail & mask_]);
    rte_prefetch0(&c_.avail->ring[(c_.last_avail + guess_n_ - 1) & mask_]);
}

// While nothing new is posted: the guessed descriptors the guest has rewritten since they
// were last consumed (their address changed) already point at the next packets (a
// driver writes a packet before its descriptor, and both before avail->idx), so their
// first data lines are requested now. The busy burst then waits for avail->idx alone,
// not for avail->idx and then the data. Only a hint: a descriptor read here may still
// change; dequeue reads it again after avail->idx. Each rewritten buffer is requested
// once, so the idle loop does not pull lines back and forth while the guest writes them.
void Vring::prefetch_guessed_data() {
    for (uint16_t j = 0; j < guess_n_; j++) {
        const uint16_t idx = (guess_head_ + j) & mask_;
        const uint64_t a = __atomic_load_n(&c_.desc[idx].addr, __ATOMIC_RELAXED);
        if (static_cast<uint32_t>(a) == seen_addr_[idx]) continue;
        seen_addr_[idx] = static_cast<uint32_t>(a);
        if (const uint8_t* p = c_.mem->translate(a + hdr_len_, 1, region_hint_)) rte_prefetch0(p);
    }
}

// The lines of the next n used entries (8 to a line: every 8th and the last).
void Vring::prefetch_used_for_write(uint16_t n) const {
    for (uint16_t i = 0; i < n; i += 8) prefetch_for_write(&c_.used->ring[(c_.last_used + i) & mask_]);
    if (n) prefetch_for_write(&c_.used->ring[(c_.last_used + n - 1) & mask_]);
}

// avail->idx is a line the guest's core writes, a cross-core miss per read (~5% of the
// decap path's cycles). What the guest posted stays posted, so while the last value read
// shows `want` entries past last_avail it is not read again. Sets `count` to the entries
// known posted; false when avail->idx is invalid (counted) or shows none.
bool Vring::posted(uint16_t want, uint16_t& count, VringErrors& err) {
    count = static_cast<uint16_t>(avail_seen_ - c_.last_avail);
    if (count >= want) return true;
    const uint16_t avail_idx = __atomic_load_n(&c_.avail->idx, __ATOMIC_ACQUIRE);
    count = static_cast<uint16_t>(avail_idx - c_.last_avail);
    if (count > c_.size) {   // the guest moved avail->idx by more than the ring holds
        err.bad_chains++;
        count = 0;
        return false;
    }
    avail_seen_ = avail_idx;
    return count != 0;
}

// Copies one driver->device chain, minus the virtio-net header (ignored: no offloads were
// negotiated), into m, chaining more mbufs of mp when m is full. On failure m is left as a
// fresh empty mbuf for the next packet.
bool Vring::copy_from_guest(uint16_t head, rte_mbuf* m, rte_mempool* mp, VringErrors& err) {
    uint32_t skip = hdr_len_;
    uint16_t idx = head;
    rte_mbuf* seg = m;
    uint8_t* dst = rte_pktmbuf_mtod(m, uint8_t*);
    uint32_t room = rte_pktmbuf_tailroom(m);
    uint32_t total = 0;
    bool ok = true;
    for (uint32_t nd = 0; ok; nd++) {
        // Out of the table, or longer than the table: a loop.
        if (idx >= c_.size || nd >= c_.size) {
            err.bad_chains++;
            ok = false;
            break;
        }
        const VirtqDesc d = c_.desc[idx];   // read once: the guest may rewrite it meanwhile
        if (d.flags & (kDescWrite | kDescIndirect)) {
            err.bad_chains++;
            ok = false;
            break;
        }
        uint64_t addr = d.addr;
        uint32_t len = d.len;
        if (skip) {
            const uint32_t s = std::min(skip, len);
            skip -= s;
            addr += s;
            len -= s;
        }
        if (len) {
            if (total + uint64_t(len) > kMaxPacket) {
                err.too_big++;
                ok = false;
                break;
            }
            const uint8_t* src = c_.mem->translate(addr, len, region_hint_);
            if (!src) {
                err.bad_chains++;
                ok = false;
                break;
            }
            while (len) {
                if (room == 0) {
                    rte_mbuf* nx = rte_pktmbuf_alloc(mp);
                    if (!nx) {
                        err.no_mbuf++;
                        ok = false;
                        break;
                    }
                    nx->data_off = 0;   // only the first segment needs headroom (encap)
                    seg->next = nx;
                    m->nb_segs++;
                    seg = nx;
                    dst = rte_pktmbuf_mtod(nx, uint8_t*);
                    room = rte_pktmbuf_tailroom(nx);
                }
                const uint32_t c = std::min(len, room);
                rte_memcpy(dst, src, c);
                dst += c;
                src += c;
                len -= c;
                room -= c;
                seg->data_len = static_cast<uint16_t>(seg->data_len + c);
                total += c;
            }
        }
        if (!ok || !(d.flags & kDescNext)) break;
        idx = d.next;
    }
    if (!ok) {
        if (m->next) rte_pktmbuf_free(m->next);
        rte_pktmbuf_reset(m);
        return false;
    }
    m->pkt_len = total;
    return true;
}

// Three passes over the burst, so that the guest's cache lines (avail ring, descriptors,
// packet data: written by the guest's core, so misses here) are requested a whole burst
// ahead of their use instead of one miss after another: heads (and descriptor
// prefetches), then descriptors (and data prefetches), then copies. A chain that is not
// one plain descriptor fitting an mbuf takes the general copy_from_guest.
uint16_t Vring::dequeue(rte_mempool* mp, rte_mbuf** pkts, uint16_t n, VringErrors& err) {
    prefetch_guessed_chains();
    publish_deferred();
    uint16_t count;
    if (!posted(std::min(n, kMaxBurst), count, err)) {
        prefetch_guessed_data();
        return 0;
    }
    count = std::min<uint16_t>({count, n, kMaxBurst});
    // An empty pool leaves the packets in the guest's ring: the guest sees back-pressure.
    if (rte_pktmbuf_alloc_bulk(mp, pkts, count) != 0) return 0;

    uint16_t heads[kMaxBurst];
    for (uint16_t i = 0; i < count; i++) {
        heads[i] = c_.avail->ring[(c_.last_avail + i) & mask_];
        rte_prefetch0(&c_.desc[heads[i] & mask_]);
    }
    // The used entries this burst returns, 8 to a line: the guest read them last, and a
    // store that still waits for its line holds up every later store (the copies below)
    // in the store buffer, so their lines are asked for now.
    prefetch_used_for_write(count);
    const uint8_t* src[kMaxBurst];
    uint32_t len[kMaxBurst];
    const uint32_t room = rte_pktmbuf_tailroom(pkts[0]);   // the same for every fresh mbuf
    for (uint16_t i = 0; i < count; i++) {
        src[i] = nullptr;
        if (heads[i] >= c_.size) continue;
        const VirtqDesc d = c_.desc[heads[i]];
        seen_addr_[heads[i]] = static_cast<uint32_t>(d.addr);
        if ((d.flags & (kDescNext | kDescWrite | kDescIndirect)) || d.len <= hdr_len_ ||
            d.len - hdr_len_ > room)
            continue;
        len[i] = d.len - hdr_len_;
        src[i] = c_.mem->translate(d.addr + hdr_len_, len[i], region_hint_);
        if (src[i]) {
            rte_prefetch0(src[i]);
            if (len[i] > RTE_CACHE_LINE_SIZE) rte_prefetch0(src[i] + RTE_CACHE_LINE_SIZE);
        }
    }

    const uint16_t old_used = c_.last_used;
    uint16_t got = 0;
    for (uint16_t i = 0; i < count; i++) {
        rte_mbuf* m = pkts[got];
        if (src[i]) {
            rte_memcpy(rte_pktmbuf_mtod(m, uint8_t*), src[i], len[i]);
            m->data_len = static_cast<uint16_t>(len[i]);
            m->pkt_len = len[i];
            got++;
        } else if (copy_from_guest(heads[i], m, mp, err)) {
            got++;
        }
    }
    // After the copies, which then do not queue behind these stores to guest lines.
    for (uint16_t i = 0; i < count; i++) {
        VirtqUsedElem& u = c_.used->ring[(c_.last_used + i) & mask_];
        u.id = heads[i];
        u.len = 0;   // the device wrote nothing into a transmit buffer
    }
    // What failed reused its mbuf for the next packet: the tail is unused.
    if (got < count) rte_pktmbuf_free_bulk(pkts + got, count - got);
    c_.last_avail = static_cast<uint16_t>(c_.last_avail + count);
    c_.last_used = static_cast<uint16_t>(c_.last_used + count);
    // A burst that filled the request leaves more behind, most likely.
    guess_next_chains(count == n ? count : 0);
    // used->idx is stored at the start of the next poll of this ring, not here. The guest
    // read it last (it checks it at every burst it sends), so the store waits for the line
    // (~500 cycles on the bench host); x86 commits stores in order, and the PMD's next
    // stores (the flow keys of this burst) queued behind it until the store buffer was full:
    // 37% of flow_extract's samples sat on its first store. At the next poll the store is
    // issued next to the read of avail->idx, a miss of its own, and the two transfers
    // overlap; an idle poll absorbs it. C and G, same process, alternating: 6-9% fewer busy
    // cycles per packet when the PMD had idle time, none when saturated (benchmarks.md,
    // session 9).
    publish_pending_ = true;
    pending_old_used_ = old_used;
    // The next burst's used entries, a burst ahead: asked for only at the burst that
    // writes them, their lines can still be on their way from the guest's core when the
    // stores are made, and x86 commits stores in order, so every later store of the PMD
    // would wait behind them. The guest reads only entries it was given, and those share
    // at most one line with these.
    prefetch_used_for_write(count);
    return got;
}

// Writes what is left of the header, then of the packet (seg at seg_off), into the
// device-writable chain at head. Returns the bytes written, or -1 for a bad chain. With
// hdr_at, the chain is a packet's first buffer and *hdr_at gets the header's host address
// when the first descriptor holds the whole header (else stays null).
int64_t Vring::copy_to_chain(uint16_t head, const rte_mbuf*& seg, uint32_t& seg_off,
                             uint32_t& hdr_left, uint8_t** hdr_at) {
    uint16_t idx = head;
    uint32_t written = 0;
    for (uint32_t nd = 0;; nd++) {
        if (idx >= c_.size || nd >= c_.size) return -1;
        const VirtqDesc d = c_.desc[idx];
        if (!(d.flags & kDescWrite) || (d.flags & kDescIndirect)) return -1;
        uint8_t* dst = nullptr;
        if (d.len) {
            dst = c_.mem->translate(d.addr, d.len, region_hint_);
            if (!dst) return -1;
        }
        const uint32_t room = d.len;
        uint32_t off = 0;
        if (hdr_left) {
            if (hdr_at && nd == 0 && room >= hdr_len_) *hdr_at = dst;
            const uint32_t c = std::min(hdr_left, room);
            memcpy(dst, kRxHeader + (hdr_len_ - hdr_left), c);
            hdr_left -= c;
            off = c;
        }
        while (seg && off < room) {
            const uint32_t c = std::min(room - off, uint32_t(seg->data_len) - seg_off);
            rte_memcpy(dst + off, rte_pktmbuf_mtod_offset(seg, const uint8_t*, seg_off), c);
            off += c;
            seg_off += c;
            if (seg_off == seg->data_len) {
                seg = seg->next;
                seg_off = 0;
            }
        }
        if (off && c_.log) rte_vhost_log_write(c_.vid, d.addr, off);
        written += off;
        if ((!seg && !hdr_left) || !(d.flags & kDescNext)) break;
        idx = d.next;
    }
    return written;
}

uint16_t Vring::enqueue(rte_mbuf* const* pkts, uint16_t n, VringErrors& err) {
    prefetch_guessed_chains();
    uint16_t free_bufs;
    if (!posted(std::min(n, kMaxBurst), free_bufs, err)) return 0;
    const uint16_t old_used = c_.last_used;
    uint16_t done = enqueue_simple(pkts, std::min<uint16_t>({n, free_bufs, kMaxBurst}));
    free_bufs = static_cast<uint16_t>(free_bufs - done);
    // The general path may need more buffers than the packets (mergeable buffers), or
    // the ring looked short: what the guest posted since then counts too.
    if (done < n && !posted(UINT16_MAX, free_bufs, err)) free_bufs = 0;
    for (; done < n && free_bufs; done++) {
        const rte_mbuf* seg = pkts[done];
        uint32_t seg_off = 0;
        uint32_t hdr_left = hdr_len_;
        uint8_t* hdr = nullptr;
        const uint16_t avail0 = c_.last_avail;
        const uint16_t used0 = c_.last_used;
        uint16_t bufs = 0;
        bool bad = false;
        // A chain per buffer; with mergeable buffers a packet takes buffers until it is
        // written, without them it must fit the one chain.
        while (seg || hdr_left) {
            if (free_bufs == 0) break;   // out of buffers in the middle of a packet
            const uint16_t head = c_.avail->ring[c_.last_avail & mask_];
            int64_t w = copy_to_chain(head, seg, seg_off, hdr_left, bufs == 0 ? &hdr : nullptr);
            c_.last_avail++;
            free_bufs--;
            if (w < 0) {
                bad = true;
                w = 0;
            }
            VirtqUsedElem& u = c_.used->ring[c_.last_used & mask_];
            u.id = head;
            u.len = static_cast<uint32_t>(w);
            c_.last_used++;
            bufs++;
            if (bad || !c_.mrg_rxbuf) break;
        }
        if (bad || (c_.mrg_rxbuf && bufs > 1 && !hdr)) {
            // Every buffer this packet took goes back empty (the guest drops a buffer
            // shorter than the header); a first buffer too short for the header counts
            // as bad too, since num_buffers could not be written.
            for (uint16_t u = used0; u != c_.last_used; u++) c_.used->ring[u & mask_].len = 0;
            err.bad_chains++;
            err.dropped++;
            err.dropped_bytes += pkts[done]->pkt_len;
            continue;
        }
        if (seg || hdr_left) {
            // Not written in full: take back the buffers (unpublished, still the guest's).
            c_.last_avail = avail0;
            c_.last_used = used0;
            free_bufs = static_cast<uint16_t>(free_bufs + bufs);
            if (c_.mrg_rxbuf) break;   // the ring is short: the caller retries or drops
            err.too_big++;             // the guest's buffers are smaller than the packet
            err.dropped++;
            err.dropped_bytes += pkts[done]->pkt_len;
            continue;
        }
        if (bufs > 1) {   // mergeable: tell the guest how many buffers make this packet
            const uint16_t nb = bufs;
            memcpy(hdr + kNumBuffersOff, &nb, sizeof(nb));
        }
    }
    if (c_.last_used != old_used) {
        guess_next_chains(static_cast<uint16_t>(c_.last_used - old_used));
        publish_used(old_used);
        // The first step of prefetch_next_enqueue's chain, which reads these lines: the
        // next burst's avail slots and (guessed) descriptors.
        prefetch_guessed_chains();
    }
    return done;
}

void Vring::prefetch_next_enqueue(uint16_t n) {
    // Only buffers the guest had posted: their slots and descriptors no longer change,
    // so reading them takes no line the guest is still writing.
    const uint16_t known = static_cast<uint16_t>(avail_seen_ - c_.last_avail);
    if (known > c_.size) return;
    n = std::min<uint16_t>({n, known, kMaxBurst});
    for (uint16_t i = 0; i < n; i++) {
        const uint16_t head = c_.avail->ring[(c_.last_avail + i) & mask_];
        if (head >= c_.size) break;   // enqueue will find and count it
        const VirtqDesc d = c_.desc[head];
        if (d.len <= hdr_len_) continue;
        uint8_t* dst = c_.mem->translate(d.addr, hdr_len_ + 1u, region_hint_);
        if (!dst) continue;
        // As enqueue_simple: the header line read (often left unwritten), the packet's
        // first line written.
        rte_prefetch0(dst);
        prefetch_for_write(dst + hdr_len_);
    }
    prefetch_used_for_write(n);
}

// The common case of a burst, in passes like dequeue's: while packets are one segment
// and the guest's next buffer is one writable descriptor that holds header and packet,
// copies them; stops at the first packet that is not so (the general loop goes on from
// there). Does not publish.
uint16_t Vring::enqueue_simple(rte_mbuf* const* pkts, uint16_t k) {
    uint16_t heads[kMaxBurst];
    for (uint16_t i = 0; i < k; i++) {
        heads[i] = c_.avail->ring[(c_.last_avail + i) & mask_];
        rte_prefetch0(&c_.desc[heads[i] & mask_]);
    }
    // The used entries this burst fills.
    prefetch_used_for_write(k);
    uint8_t* dst[kMaxBurst];
    uint16_t fit = 0;
    for (; fit < k; fit++) {
        const rte_mbuf* m = pkts[fit];
        if (heads[fit] >= c_.size || m->nb_segs != 1) break;
        const VirtqDesc d = c_.desc[heads[fit]];
        const uint32_t need = hdr_len_ + m->pkt_len;
        if ((d.flags & (kDescNext | kDescWrite | kDescIndirect)) != kDescWrite || d.len < need) break;
        dst[fit] = c_.mem->translate(d.addr, need, region_hint_);
        if (!dst[fit]) break;
        // The header is read first and often not written (write_rx_header); the packet's
        // lines are written. With a DPDK guest the header ends its line and the packet
        // starts the next, so the header line is never taken from the guest.
        rte_prefetch0(dst[fit]);
        prefetch_for_write(dst[fit] + hdr_len_);
        prefetch_for_write(dst[fit] + need - 1);   // the copy's last line (often the same)
        rte_prefetch0(rte_pktmbuf_mtod(m, const uint8_t*));
    }
    for (uint16_t i = 0; i < fit; i++) {
        const rte_mbuf* m = pkts[i];
        write_rx_header(dst[i], hdr_len_);
        rte_memcpy(dst[i] + hdr_len_, rte_pktmbuf_mtod(m, const uint8_t*), m->pkt_len);
        VirtqUsedElem& u = c_.used->ring[(c_.last_used + i) & mask_];
        u.id = heads[i];
        u.len = hdr_len_ + m->pkt_len;
        if (c_.log) rte_vhost_log_write(c_.vid, c_.desc[heads[i]].addr, u.len);
    }
    c_.last_avail = static_cast<uint16_t>(c_.last_avail + fit);
    c_.last_used = static_cast<uint16_t>(c_.last_used + fit);
    return fit;
}

void Vring::publish_used(uint16_t old_used) {
    const uint16_t new_used = c_.last_used;
    __atomic_store_n(&c_.used->idx, new_used, __ATOMIC_RELEASE);
    if (c_.log) log_used(old_used, static_cast<uint16_t>(new_used - old_used));
    if (c_.callfd < 0) return;
    if (GuestNotifyBatch* b = GuestNotifyBatch::installed()) {
        b->add(*this, old_used, new_used);
        return;
    }
    rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
    notify_if_wanted(old_used, new_used);
}

// The guest publishes its wish for an interrupt (flags or used_event), then re-reads
// used->idx; our store of used->idx, a full barrier, then this read of its wish close the
// race where both sides miss each other.
void Vring::notify_if_wanted(uint16_t from, uint16_t to) {
    bool kick;
    if (c_.event_idx) {
        const uint16_t used_event = __atomic_load_n(&c_.avail->ring[c_.size], __ATOMIC_RELAXED);
        kick = static_cast<uint16_t>(to - used_event - 1) < static_cast<uint16_t>(to - from);
    } else {
        kick = !(__atomic_load_n(&c_.avail->flags, __ATOMIC_RELAXED) & kAvailNoInterrupt);
    }
    if (kick) eventfd_write(c_.callfd, 1);
}

namespace {
// Initial-exec: a plain %fs-relative load on the hot path, never __tls_get_addr.
thread_local GuestNotifyBatch* t_notify_batch __attribute__((tls_model("initial-exec"))) = nullptr;
}  // namespace

void GuestNotifyBatch::install(GuestNotifyBatch* b) { t_notify_batch = b; }
GuestNotifyBatch* GuestNotifyBatch::installed() { return t_notify_batch; }

void GuestNotifyBatch::add(Vring& v, uint16_t from, uint16_t to) {
    // A ring published twice in one iteration (several rx queues feeding one output) is
    // checked once over the whole range.
    for (uint16_t i = 0; i < n_; i++)
        if (e_[i].v == &v) {
            e_[i].to = to;
            return;
        }
    if (n_ == kMax) flush();
    e_[n_++] = {&v, from, to};
}

void GuestNotifyBatch::flush() {
    if (n_ == 0) return;
    rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (uint16_t i = 0; i < n_; i++) e_[i].v->notify_if_wanted(e_[i].from, e_[i].to);
    n_ = 0;
}

void Vring::log_used(uint16_t from, uint16_t n) {
    for (uint16_t i = 0; i < n; i++)
        rte_vhost_log_used_vring(c_.vid, c_.vring_idx,
                                 offsetof(VirtqUsed, ring) +
                                     ((from + i) & mask_) * sizeof(VirtqUsedElem),
                                 sizeof(VirtqUsedElem));
    rte_vhost_log_used_vring(c_.vid, c_.vring_idx, offsetof(VirtqUsed, idx), sizeof(uint16_t));
}

}  // namespace vswitch
