// The native split-virtqueue copy path against a fake guest: the test plays the virtio
// driver (it fills descriptors and the avail ring in a buffer that stands for guest
// memory, at a guest-physical base that is not its host address) and checks what the
// device side wrote: packet bytes, used ring entries, virtio-net headers, interrupts,
// and that broken chains are returned and counted, never followed.
#include <catch2/catch.hpp>

#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "eal_fixture.h"
#include "vring.h"

using namespace vswitch;

namespace {

constexpr uint64_t kGpaBase = 0x40000000;   // guest-physical address of mem[0]

struct FakeGuest {
    static constexpr uint16_t kSize = 16;
    std::vector<uint8_t> mem = std::vector<uint8_t>(1 << 20);
    GuestMemory gm;
    VirtqDesc* desc;
    VirtqAvail* avail;
    VirtqUsed* used;
    uint16_t next_desc = 0;
    uint64_t next_buf = 64 * 1024;   // offset of the next data buffer in mem

    FakeGuest() {
        gm.n = 1;
        gm.regions[0] = {kGpaBase, mem.size(), reinterpret_cast<uint64_t>(mem.data())};
        desc = reinterpret_cast<VirtqDesc*>(mem.data());
        avail = reinterpret_cast<VirtqAvail*>(mem.data() + 4096);
        used = reinterpret_cast<VirtqUsed*>(mem.data() + 8192);
    }
    VringConfig config(bool mrg, bool v1) {
        VringConfig c;
        c.desc = desc;
        c.avail = avail;
        c.used = used;
        c.size = kSize;
        c.mrg_rxbuf = mrg;
        c.version_1 = v1;
        c.mem = &gm;
        return c;
    }
    uint64_t alloc(uint32_t len) {
        uint64_t off = next_buf;
        next_buf += (len + 63) & ~63u;
        return off;
    }
    // One chain of descriptors, one per piece (bytes to send; for rx, only the length
    // counts); returns the head. flags is OR-ed into every descriptor.
    uint16_t chain(const std::vector<std::vector<uint8_t>>& pieces, uint16_t flags) {
        uint16_t head = next_desc;
        for (size_t i = 0; i < pieces.size(); i++) {
            uint16_t d = next_desc++ % kSize;
            uint64_t off = alloc(static_cast<uint32_t>(pieces[i].size()));
            std::memcpy(mem.data() + off, pieces[i].data(), pieces[i].size());
            desc[d].addr = kGpaBase + off;
            desc[d].len = static_cast<uint32_t>(pieces[i].size());
            desc[d].flags = flags | (i + 1 < pieces.size() ? kDescNext : 0);
            desc[d].next = static_cast<uint16_t>((d + 1) % kSize);
        }
        return static_cast<uint16_t>(head % kSize);
    }
    void make_available(uint16_t head) {
        avail->ring[avail->idx % kSize] = head;
        avail->idx++;
    }
    uint8_t* host(uint64_t gpa) { return mem.data() + (gpa - kGpaBase); }
};

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; i++) v[i] = static_cast<uint8_t>(seed + i * 7);
    return v;
}

// a + b (std::vector::insert of a range trips GCC 12's -Warray-bounds false positive).
std::vector<uint8_t> concat(const std::vector<uint8_t>& a, const uint8_t* b, size_t nb) {
    std::vector<uint8_t> out(a.size() + nb);
    std::memcpy(out.data(), a.data(), a.size());
    std::memcpy(out.data() + a.size(), b, nb);
    return out;
}

std::vector<uint8_t> mbuf_bytes(const rte_mbuf* m) {
    std::vector<uint8_t> out;
    for (const rte_mbuf* s = m; s; s = s->next) {
        const uint8_t* p = rte_pktmbuf_mtod(s, const uint8_t*);
        out = concat(out, p, s->data_len);
    }
    return out;
}

rte_mbuf* make_mbuf(rte_mempool* mp, const std::vector<uint8_t>& data) {
    rte_mbuf* m = rte_pktmbuf_alloc(mp);
    REQUIRE(m);
    std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(data.size())), data.data(), data.size());
    return m;
}

}  // namespace

TEST_CASE("vring dequeue: a packet's bytes, minus the header, and the used ring", "[vring]") {
    rte_mempool* mp = vsw_test_eal();
    FakeGuest g;
    Vring vr;
    REQUIRE(vr.attach(g.config(true, true)));
    std::vector<uint8_t> frame = pattern(64, 1);
    // The header's content is ignored (no offloads).
    std::vector<uint8_t> with_hdr = concat(std::vector<uint8_t>(12, 0xee), frame.data(), frame.size());
    uint16_t h = g.chain({with_hdr}, 0);
    g.make_available(h);

    rte_mbuf* pkts[4];
    VringErrors e;
    REQUIRE(vr.dequeue(mp, pkts, 4, e) == 1);
    CHECK(mbuf_bytes(pkts[0]) == frame);
    CHECK(pkts[0]->pkt_len == 64);
    CHECK(g.used->ring[0].id == h);
    CHECK(g.used->ring[0].len == 0);
    CHECK(g.used->idx == 0);   // made visible at the next poll
    CHECK(vr.last_avail() == 1);
    CHECK(vr.dequeue(mp, pkts + 1, 3, e) == 0);   // nothing more
    CHECK(g.used->idx == 1);
    rte_pktmbuf_free(pkts[0]);
    CHECK(e.bad_chains == 0);
}

TEST_CASE("vring dequeue: header in its own descriptor, a packet longer than one mbuf", "[vring]") {
    rte_mempool* mp = vsw_test_eal();
    FakeGuest g;
    Vring vr;
    REQUIRE(vr.attach(g.config(false, false)));   // legacy: 10-byte header
    std::vector<uint8_t> a = pattern(1500, 3), b = pattern(3000, 9);
    g.make_available(g.chain({std::vector<uint8_t>(10, 0), a, b}, 0));

    rte_mbuf* pkts[1];
    VringErrors e;
    REQUIRE(vr.dequeue(mp, pkts, 1, e) == 1);
    std::vector<uint8_t> want = concat(a, b.data(), b.size());
    CHECK(pkts[0]->nb_segs > 1);
    CHECK(pkts[0]->pkt_len == 4500);
    CHECK(mbuf_bytes(pkts[0]) == want);
    rte_pktmbuf_free(pkts[0]);
}

TEST_CASE("vring dequeue: bad chains go back to the guest, counted, good ones still flow", "[vring]") {
    rte_mempool* mp = vsw_test_eal();
    FakeGuest g;
    Vring vr;
    REQUIRE(vr.attach(g.config(true, true)));
    std::vector<uint8_t> good = pattern(12 + 60, 5);
    uint16_t h0 = g.chain({good}, 0);
    uint16_t outside = g.chain({good}, 0);
    g.desc[outside].addr = kGpaBase + g.mem.size() - 8;   // runs past the guest's memory
    uint16_t loop = g.chain({good}, kDescNext);
    g.desc[loop].next = loop;                              // a chain that never ends
    uint16_t writable = g.chain({good}, kDescWrite);
    uint16_t h4 = g.chain({good}, 0);
    for (uint16_t h : {h0, outside, loop, writable, h4}) g.make_available(h);
    g.make_available(FakeGuest::kSize + 3);                // head index out of the table

    rte_mbuf* pkts[8];
    VringErrors e;
    REQUIRE(vr.dequeue(mp, pkts, 8, e) == 2);
    CHECK(e.bad_chains == 4);
    CHECK(g.used->idx == 0);   // all six heads returned, visible at the next poll
    CHECK(g.used->ring[1].id == outside);
    CHECK(g.used->ring[4].id == h4);
    std::vector<uint8_t> frame(good.begin() + 12, good.end());
    CHECK(mbuf_bytes(pkts[0]) == frame);
    CHECK(mbuf_bytes(pkts[1]) == frame);
    rte_pktmbuf_free_bulk(pkts, 2);

    // avail->idx moved by more than the ring holds: nothing is read.
    g.avail->idx = static_cast<uint16_t>(g.avail->idx + FakeGuest::kSize + 1);
    VringErrors e2;
    CHECK(vr.dequeue(mp, pkts, 8, e2) == 0);
    CHECK(e2.bad_chains == 1);
    CHECK(g.used->idx == 6);
}

// The used->idx store of a guest-tx burst waits for a line the guest's core holds; made
// at the next poll of the ring it overlaps that poll's read of avail->idx (vring.cc). The
// guest must still get every buffer back: at the next poll, whether or not it finds
// packets, or when the ring is detached (a vhost-user message, the guest leaving), and
// the interrupt check comes with the store, never before it.
TEST_CASE("vring dequeue: a burst is made visible at the next poll or at detach", "[vring]") {
    rte_mempool* mp = vsw_test_eal();
    auto pending = [](int fd) {
        eventfd_t v = 0;
        return eventfd_read(fd, &v) == 0 ? v : 0;
    };
    FakeGuest g;
    const int fd = eventfd(0, EFD_NONBLOCK);
    REQUIRE(fd >= 0);
    VringConfig c = g.config(true, true);
    c.callfd = fd;   // the guest wants interrupts (avail->flags 0)
    Vring vr;
    REQUIRE(vr.attach(c));
    auto post = [&](int n, uint8_t seed) {
        for (int i = 0; i < n; i++) g.make_available(g.chain({pattern(12 + 60, uint8_t(seed + i))}, 0));
    };
    rte_mbuf* pkts[4];
    VringErrors e;
    post(2, 0);
    REQUIRE(vr.dequeue(mp, pkts, 4, e) == 2);
    rte_pktmbuf_free_bulk(pkts, 2);
    CHECK(g.used->idx == 0);
    CHECK(pending(fd) == 0);
    SECTION("the next poll, with packets: the old burst first, the new one pending") {
        post(1, 9);
        REQUIRE(vr.dequeue(mp, pkts, 4, e) == 1);
        rte_pktmbuf_free(pkts[0]);
        CHECK(g.used->idx == 2);
        CHECK(pending(fd) == 1);
        CHECK(vr.dequeue(mp, pkts, 4, e) == 0);
        CHECK(g.used->idx == 3);
        CHECK(pending(fd) == 1);
        CHECK(vr.dequeue(mp, pkts, 4, e) == 0);   // nothing left to publish: no kick
        CHECK(pending(fd) == 0);
    }
    SECTION("the next poll, empty") {
        CHECK(vr.dequeue(mp, pkts, 4, e) == 0);
        CHECK(g.used->idx == 2);
        CHECK(pending(fd) == 1);
    }
    SECTION("detach") {
        vr.detach();
        CHECK(g.used->idx == 2);
        CHECK(pending(fd) == 1);
        vr.detach();   // twice: nothing more
        CHECK(g.used->idx == 2);
        CHECK(pending(fd) == 0);
    }
    CHECK(e.bad_chains == 0);
    close(fd);
}

// Between bursts the ring reads the descriptors it guesses come next and prefetches the
// buffers they point at (vring.cc, prefetch_guessed_data): hints only. Whatever the guest
// left there (an address outside its memory, a half-written descriptor), the idle polls
// change nothing, and the packets then posted arrive intact.
TEST_CASE("vring dequeue: idle polls between bursts only read", "[vring]") {
    rte_mempool* mp = vsw_test_eal();
    FakeGuest g;
    Vring vr;
    REQUIRE(vr.attach(g.config(true, true)));
    rte_mbuf* pkts[4];
    VringErrors e;
    for (int i = 0; i < 4; i++) g.make_available(g.chain({pattern(12 + 60, uint8_t(i))}, 0));
    REQUIRE(vr.dequeue(mp, pkts, 4, e) == 4);   // a full burst: the next four are guessed
    rte_pktmbuf_free_bulk(pkts, 4);
    // The guest rewrites the next descriptors before posting them.
    const uint16_t h0 = g.chain({pattern(12 + 60, 40)}, 0);
    const uint16_t h1 = g.chain({pattern(12 + 60, 41)}, 0);
    g.desc[(h1 + 1) % FakeGuest::kSize].addr = kGpaBase + g.mem.size() + 4096;   // outside
    g.desc[(h1 + 2) % FakeGuest::kSize].addr = ~uint64_t(0);
    const std::vector<uint8_t> before(g.mem.begin(), g.mem.end());
    for (int i = 0; i < 3; i++) CHECK(vr.dequeue(mp, pkts, 4, e) == 0);
    CHECK(g.used->idx == 4);   // the first burst, published by the first idle poll
    std::vector<uint8_t> after(g.mem.begin(), g.mem.end());
    // Only used->idx moved (it was 0 in the snapshot).
    after[8192 + 2] = before[8192 + 2];
    after[8192 + 3] = before[8192 + 3];
    CHECK(after == before);
    g.make_available(h0);
    g.make_available(h1);
    REQUIRE(vr.dequeue(mp, pkts, 4, e) == 2);
    const std::vector<uint8_t> s0 = pattern(72, 40), s1 = pattern(72, 41);
    CHECK(mbuf_bytes(pkts[0]) == std::vector<uint8_t>(s0.begin() + 12, s0.end()));
    CHECK(mbuf_bytes(pkts[1]) == std::vector<uint8_t>(s1.begin() + 12, s1.end()));
    rte_pktmbuf_free_bulk(pkts, 2);
    CHECK(e.bad_chains == 0);
}

TEST_CASE("vring enqueue: mergeable buffers, header and num_buffers", "[vring]") {
    rte_mempool* mp = vsw_test_eal();
    FakeGuest g;
    Vring vr;
    REQUIRE(vr.attach(g.config(true, true)));
    uint16_t heads[4];
    for (uint16_t& h : heads) {
        h = g.chain({std::vector<uint8_t>(1024)}, kDescWrite);
        g.make_available(h);
    }
    std::vector<uint8_t> small = pattern(64, 2), big = pattern(2000, 4);
    rte_mbuf* pkts[2] = {make_mbuf(mp, small), make_mbuf(mp, big)};
    VringErrors e;
    REQUIRE(vr.enqueue(pkts, 2, e) == 2);
    rte_pktmbuf_free_bulk(pkts, 2);
    CHECK(g.used->idx == 3);
    CHECK(g.used->ring[0].len == 12 + 64);
    const uint8_t* b0 = g.host(g.desc[heads[0]].addr);
    CHECK(std::vector<uint8_t>(b0, b0 + 10) == std::vector<uint8_t>(10, 0));
    CHECK((b0[10] | b0[11] << 8) == 1);
    CHECK(std::vector<uint8_t>(b0 + 12, b0 + 76) == small);
    // 12 + 2000 bytes over two 1024-byte buffers, num_buffers = 2 in the first.
    CHECK(g.used->ring[1].len == 1024);
    CHECK(g.used->ring[2].len == 12 + 2000 - 1024);
    const uint8_t* b1 = g.host(g.desc[heads[1]].addr);
    const uint8_t* b2 = g.host(g.desc[heads[2]].addr);
    CHECK((b1[10] | b1[11] << 8) == 2);
    std::vector<uint8_t> got = concat(std::vector<uint8_t>(b1 + 12, b1 + 1024), b2, 2000 - 1012);
    CHECK(got == big);
}

// A DPDK guest posts its buffers so that the header ends one line and the packet starts
// the next. The header a recycled buffer still holds is not rewritten: the line stays
// shared and the guest's read of num_buffers stays in its own cache. Here the header's
// page is read-only, so a write to it faults; a stale header is still rewritten.
TEST_CASE("vring enqueue: an unchanged header is not written", "[vring]") {
    rte_mempool* mp = vsw_test_eal();
    const long page = sysconf(_SC_PAGESIZE);
    auto* bufs = static_cast<uint8_t*>(mmap(nullptr, 4 * page, PROT_READ | PROT_WRITE,
                                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    REQUIRE(bufs != MAP_FAILED);
    constexpr uint64_t kBufGpa = 0x80000000;
    for (bool mrg : {true, false}) {
        const uint32_t hl = mrg ? 12 : 10;
        CAPTURE(mrg);
        FakeGuest g;
        g.gm.n = 2;
        g.gm.regions[1] = {kBufGpa, uint64_t(4 * page), reinterpret_cast<uint64_t>(bufs)};
        Vring vr;
        REQUIRE(vr.attach(g.config(mrg, false)));
        // Buffer 0: header [page - hl, page), as the guest left it; buffer 1: header at
        // [3 * page - hl, 3 * page), stale (a transmit header with a checksum request).
        std::memset(bufs, 0xee, 4 * page);
        std::memset(bufs + page - hl, 0, hl);
        if (mrg) bufs[page - 2] = 1;
        bufs[3 * page - hl] = 1;   // VIRTIO_NET_HDR_F_NEEDS_CSUM
        const uint64_t off[2] = {uint64_t(page - hl), uint64_t(3 * page - hl)};
        for (uint64_t o : off) {
            const uint16_t d = g.next_desc++;
            g.desc[d] = {kBufGpa + o, uint32_t(hl + 1500), kDescWrite, 0};
            g.make_available(d);
        }
        REQUIRE(mprotect(bufs, page, PROT_READ) == 0);
        std::vector<uint8_t> a = pattern(64, 9), b = pattern(200, 3);
        rte_mbuf* pkts[2] = {make_mbuf(mp, a), make_mbuf(mp, b)};
        VringErrors e;
        CHECK(vr.enqueue(pkts, 2, e) == 2);   // a write to buffer 0's header would fault
        rte_pktmbuf_free_bulk(pkts, 2);
        REQUIRE(mprotect(bufs, page, PROT_READ | PROT_WRITE) == 0);
        CHECK(g.used->idx == 2);
        CHECK(g.used->ring[0].len == hl + 64);
        CHECK(std::vector<uint8_t>(bufs + page, bufs + page + 64) == a);
        CHECK(std::vector<uint8_t>(bufs + 3 * page, bufs + 3 * page + 200) == b);
        std::vector<uint8_t> want(hl, 0);
        if (mrg) want[10] = 1;
        CHECK(std::vector<uint8_t>(bufs + 3 * page - hl, bufs + 3 * page) == want);
    }
    munmap(bufs, 4 * page);
}

TEST_CASE("vring enqueue: out of buffers mid-packet takes nothing; too big without mergeable", "[vring]") {
    rte_mempool* mp = vsw_test_eal();
    SECTION("mergeable: one buffer for a two-buffer packet") {
        FakeGuest g;
        Vring vr;
        REQUIRE(vr.attach(g.config(true, true)));
        g.make_available(g.chain({std::vector<uint8_t>(1024)}, kDescWrite));
        rte_mbuf* m = make_mbuf(mp, pattern(2000, 1));
        VringErrors e;
        CHECK(vr.enqueue(&m, 1, e) == 0);   // the caller keeps it (retry or tx_full)
        CHECK(g.used->idx == 0);
        CHECK(vr.last_avail() == 0);
        rte_pktmbuf_free(m);
    }
    SECTION("no mergeable buffers: a packet larger than the chain is dropped, the chain kept") {
        FakeGuest g;
        Vring vr;
        REQUIRE(vr.attach(g.config(false, false)));
        // Legacy layout: the 10-byte header in its own descriptor, then 1500 bytes.
        uint16_t h = g.chain({std::vector<uint8_t>(10), std::vector<uint8_t>(1500)}, kDescWrite);
        g.make_available(h);
        std::vector<uint8_t> ok = pattern(1400, 6);
        rte_mbuf* pkts[2] = {make_mbuf(mp, pattern(1600, 2)), make_mbuf(mp, ok)};
        VringErrors e;
        CHECK(vr.enqueue(pkts, 2, e) == 2);
        rte_pktmbuf_free_bulk(pkts, 2);
        CHECK(e.too_big == 1);
        CHECK(e.dropped == 1);             // consumed, not delivered: not counted as sent
        CHECK(e.dropped_bytes == 1600);
        CHECK(g.used->idx == 1);
        CHECK(g.used->ring[0].id == h);
        CHECK(g.used->ring[0].len == 10 + 1400);
        const uint8_t* d = g.host(g.desc[(h + 1) % FakeGuest::kSize].addr);
        CHECK(std::vector<uint8_t>(d, d + 1400) == ok);
    }
    SECTION("a read-only buffer in the rx ring goes back empty") {
        FakeGuest g;
        Vring vr;
        REQUIRE(vr.attach(g.config(true, true)));
        g.make_available(g.chain({std::vector<uint8_t>(1024)}, 0));
        rte_mbuf* m = make_mbuf(mp, pattern(64, 1));
        VringErrors e;
        CHECK(vr.enqueue(&m, 1, e) == 1);
        rte_pktmbuf_free(m);
        CHECK(e.bad_chains == 1);
        CHECK(e.dropped == 1);
        CHECK(g.used->idx == 1);
        CHECK(g.used->ring[0].len == 0);
    }
}

// avail->idx is a line the guest's core writes: while the last value read shows enough
// posted entries, it is not read again. Here the guest "moves" it to an impossible value
// after the first burst: the buffers known posted are still used, without a read (and so
// without an error); only when they run out is it read, found bad and counted.
TEST_CASE("vring: avail->idx is read again only when what it showed runs out", "[vring]") {
    rte_mempool* mp = vsw_test_eal();
    SECTION("enqueue") {
        FakeGuest g;
        Vring vr;
        REQUIRE(vr.attach(g.config(true, true)));
        for (int i = 0; i < 4; i++) g.make_available(g.chain({std::vector<uint8_t>(256)}, kDescWrite));
        auto send = [&](uint16_t n, VringErrors& e) {
            std::vector<rte_mbuf*> pkts;
            for (uint16_t i = 0; i < n; i++) pkts.push_back(make_mbuf(mp, pattern(64, uint8_t(i))));
            const uint16_t got = vr.enqueue(pkts.data(), n, e);
            rte_pktmbuf_free_bulk(pkts.data(), n);
            return got;
        };
        VringErrors e;
        CHECK(send(1, e) == 1);
        g.avail->idx = static_cast<uint16_t>(g.avail->idx + 100);   // more than the ring holds
        CHECK(send(3, e) == 3);
        CHECK(e.bad_chains == 0);
        CHECK(g.used->idx == 4);
        CHECK(send(1, e) == 0);   // nothing known posted: read, and refused
        CHECK(e.bad_chains == 1);
        CHECK(g.used->idx == 4);
    }
    SECTION("dequeue") {
        FakeGuest g;
        Vring vr;
        REQUIRE(vr.attach(g.config(true, true)));
        for (int i = 0; i < 3; i++) g.make_available(g.chain({pattern(12 + 60, uint8_t(i))}, 0));
        rte_mbuf* pkts[3];
        VringErrors e;
        CHECK(vr.dequeue(mp, pkts, 1, e) == 1);
        g.avail->idx = static_cast<uint16_t>(g.avail->idx + 100);
        CHECK(vr.dequeue(mp, pkts + 1, 2, e) == 2);
        CHECK(e.bad_chains == 0);
        const std::vector<uint8_t> sent = pattern(72, 2);
        CHECK(mbuf_bytes(pkts[2]) == std::vector<uint8_t>(sent.begin() + 12, sent.end()));
        rte_pktmbuf_free_bulk(pkts, 3);
        rte_mbuf* more[1];
        CHECK(vr.dequeue(mp, more, 1, e) == 0);
        CHECK(e.bad_chains == 1);
    }
}

// The hint between two enqueues only reads (and prefetches): whatever the guest posted,
// including a head out of the table and an address outside its memory, guest memory and
// the ring positions are left as they were, and the next enqueue works as without it.
TEST_CASE("vring: the hint before an enqueue changes nothing", "[vring]") {
    rte_mempool* mp = vsw_test_eal();
    FakeGuest g;
    Vring vr;
    REQUIRE(vr.attach(g.config(true, true)));
    vr.prefetch_next_enqueue(32);   // nothing known posted yet
    const uint16_t good = g.chain({std::vector<uint8_t>(256)}, kDescWrite);
    g.make_available(good);
    const uint16_t far = g.chain({std::vector<uint8_t>(256)}, kDescWrite);
    g.desc[far].addr = 0x10;   // not guest memory
    g.make_available(far);
    g.make_available(good);
    g.avail->ring[2] = 999;   // out of the table
    g.make_available(g.chain({std::vector<uint8_t>(256)}, kDescWrite));
    rte_mbuf* first = make_mbuf(mp, pattern(64, 1));
    VringErrors e;
    REQUIRE(vr.enqueue(&first, 1, e) == 1);   // learns what is posted
    rte_pktmbuf_free(first);
    const std::vector<uint8_t> before = g.mem;
    const uint16_t la = vr.last_avail(), lu = vr.last_used();
    for (uint16_t n : {0, 1, 3, 64, 1000}) vr.prefetch_next_enqueue(n);
    CHECK(g.mem == before);
    CHECK(vr.last_avail() == la);
    CHECK(vr.last_used() == lu);
    rte_mbuf* next = make_mbuf(mp, pattern(64, 2));
    CHECK(vr.enqueue(&next, 1, e) == 1);   // the bad address: returned empty, counted
    rte_pktmbuf_free(next);
    CHECK(e.bad_chains == 1);
    CHECK(g.used->ring[1].len == 0);
}

TEST_CASE("vring interrupts follow the guest's wish (flags, or used_event)", "[vring]") {
    rte_mempool* mp = vsw_test_eal();
    auto pending = [](int fd) {
        eventfd_t v = 0;
        return eventfd_read(fd, &v) == 0 ? v : 0;
    };
    for (bool event_idx : {false, true}) {
        FakeGuest g;
        int fd = eventfd(0, EFD_NONBLOCK);
        REQUIRE(fd >= 0);
        VringConfig c = g.config(true, true);
        c.callfd = fd;
        c.event_idx = event_idx;
        Vring vr;
        REQUIRE(vr.attach(c));
        for (int i = 0; i < 4; i++)
            g.make_available(g.chain({std::vector<uint8_t>(256)}, kDescWrite));
        uint16_t& used_event = g.avail->ring[FakeGuest::kSize];
        // Guest does not want an interrupt.
        if (event_idx) used_event = 5;   // only once used->idx passes 5
        else g.avail->flags = kAvailNoInterrupt;
        rte_mbuf* m = make_mbuf(mp, pattern(64, 1));
        VringErrors e;
        REQUIRE(vr.enqueue(&m, 1, e) == 1);
        rte_pktmbuf_free(m);
        CHECK(pending(fd) == 0);
        // Guest wants one for the next buffer.
        if (event_idx) used_event = 1;   // interrupt when used->idx goes past 1
        else g.avail->flags = 0;
        m = make_mbuf(mp, pattern(64, 1));
        REQUIRE(vr.enqueue(&m, 1, e) == 1);
        CHECK(pending(fd) == 1);
        rte_pktmbuf_free(m);
        close(fd);
    }
}

// A PMD checks the guest's wish once per iteration (GuestNotifyBatch::flush), over every
// entry it published to a ring during the iteration; a full batch checks early.
TEST_CASE("vring interrupts: a PMD's batch checks each ring once, at its flush", "[vring]") {
    rte_mempool* mp = vsw_test_eal();
    auto pending = [](int fd) {
        eventfd_t v = 0;
        return eventfd_read(fd, &v) == 0 ? v : 0;
    };
    struct Ring {
        FakeGuest g;
        Vring vr;
        int fd = eventfd(0, EFD_NONBLOCK);
        ~Ring() { close(fd); }
    };
    auto make_ring = [](Ring& r, bool event_idx) {
        REQUIRE(r.fd >= 0);
        VringConfig c = r.g.config(true, true);
        c.callfd = r.fd;
        c.event_idx = event_idx;
        REQUIRE(r.vr.attach(c));
        for (int i = 0; i < 4; i++) r.g.make_available(r.g.chain({std::vector<uint8_t>(256)}, kDescWrite));
    };
    auto send_one = [&](Vring& vr) {
        rte_mbuf* m = make_mbuf(mp, pattern(64, 1));
        VringErrors e;
        REQUIRE(vr.enqueue(&m, 1, e) == 1);
        rte_pktmbuf_free(m);
    };
    GuestNotifyBatch batch;
    struct Installed {   // uninstalled however the section ends
        explicit Installed(GuestNotifyBatch* b) { GuestNotifyBatch::install(b); }
        ~Installed() { GuestNotifyBatch::install(nullptr); }
    } installed(&batch);
    SECTION("event_idx: two publishes, one range, one kick at the flush") {
        Ring a, quiet;
        make_ring(a, true);
        make_ring(quiet, false);
        a.g.avail->ring[FakeGuest::kSize] = 1;   // used_event: wants entry 1 signalled
        quiet.g.avail->flags = kAvailNoInterrupt;
        send_one(a.vr);   // entry 0: not asked for
        send_one(quiet.vr);
        send_one(a.vr);   // entry 1: asked for, but the check waits for the flush
        CHECK(a.g.used->idx == 2);   // published at once all the same
        CHECK(pending(a.fd) == 0);
        CHECK_FALSE(batch.empty());
        batch.flush();
        CHECK(batch.empty());
        CHECK(pending(a.fd) == 1);
        CHECK(pending(quiet.fd) == 0);
    }
    SECTION("flags: the wish is read at the flush, after the publish") {
        Ring a;
        make_ring(a, false);
        a.g.avail->flags = kAvailNoInterrupt;
        send_one(a.vr);
        a.g.avail->flags = 0;   // the guest turns interrupts on, then re-reads used->idx
        batch.flush();
        CHECK(pending(a.fd) == 1);
    }
    SECTION("a full batch checks its rings early") {
        std::vector<std::unique_ptr<Ring>> rings;
        for (int i = 0; i <= GuestNotifyBatch::kMax; i++) {
            rings.push_back(std::make_unique<Ring>());
            make_ring(*rings.back(), false);
            send_one(rings.back()->vr);
        }
        for (int i = 0; i < GuestNotifyBatch::kMax; i++) CHECK(pending(rings[i]->fd) == 1);
        CHECK(pending(rings.back()->fd) == 0);
        batch.flush();
        CHECK(pending(rings.back()->fd) == 1);
    }
}

TEST_CASE("vring attach refuses unusable rings; translation never crosses a region", "[vring]") {
    FakeGuest g;
    Vring vr;
    VringConfig c = g.config(true, true);
    c.size = 12;   // not a power of two
    CHECK_FALSE(vr.attach(c));
    CHECK_FALSE(vr.attached());
    c = g.config(true, true);
    c.desc = nullptr;
    CHECK_FALSE(vr.attach(c));

    GuestMemory m;
    m.n = 2;
    m.regions[0] = {0x1000, 0x1000, 0x10000};
    m.regions[1] = {0x2000, 0x1000, 0x90000};
    uint32_t hint = 0;
    CHECK(m.translate(0x1ff0, 16, hint) == reinterpret_cast<uint8_t*>(0x10ff0));
    CHECK(m.translate(0x1ff0, 17, hint) == nullptr);   // would straddle two regions
    CHECK(m.translate(0x2000, 1, hint) == reinterpret_cast<uint8_t*>(0x90000));
    CHECK(hint == 1);
    CHECK(m.translate(0xfff, 1, hint) == nullptr);
    CHECK(m.translate(0x2fff, 1, hint) != nullptr);
    CHECK(m.translate(0x2fff, UINT64_MAX, hint) == nullptr);   // no wrap-around
}
