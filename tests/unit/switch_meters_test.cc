// Meters (token buckets with injected time: exact pass/drop counts), the meter table and
// its Datapath API, the per-port upcall limiter, and one PMD run end to end (upcall limit
// and a modify-between-outputs list through Pmd::execute, tx through a net_ring port).
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "datapath.h"
#include "eal_fixture.h"
#include "meters.h"
#include "pmd.h"

using namespace vswitch;

namespace {

constexpr uint64_t kNs = 1000000000;   // injected clock: 1 tick = 1 ns
constexpr uint64_t kMs = 1000000;

unsigned passed(uint64_t drops, unsigned n) {
    return n - static_cast<unsigned>(__builtin_popcountll(drops));
}

std::unique_ptr<Meter> make_meter(MeterUnit u, uint64_t rate, uint64_t burst) {
    TokenRate tr;
    const bool kbps = u == MeterUnit::Kbps;
    REQUIRE(tr.init(kbps ? rate * 1000 : rate, kbps ? burst * 1000 : burst, kNs));
    return std::make_unique<Meter>(MeterConfig{u, rate, burst}, tr);
}

}  // namespace

TEST_CASE("meters: pps bucket, exact counts with injected time", "[switch][meters]") {
    auto m = make_meter(MeterUnit::Pps, 1000, 10);   // 1 packet per ms, burst 10
    std::vector<uint32_t> lens(64, 100);
    uint64_t t = 5 * kNs;
    CHECK(passed(m->police(lens.data(), 15, t), 15) == 10);   // starts full
    CHECK(passed(m->police(lens.data(), 5, t), 5) == 0);
    t += 1 * kMs;
    CHECK(passed(m->police(lens.data(), 3, t), 3) == 1);
    // 5.5 tokens: 5 pass, the half token is kept ...
    t += 5 * kMs + kMs / 2;
    CHECK(passed(m->police(lens.data(), 6, t), 6) == 5);
    // ... and completed by the next half millisecond.
    t += kMs / 2;
    CHECK(passed(m->police(lens.data(), 2, t), 2) == 1);
    // A long pause refills to the burst, not beyond.
    t += 3600 * kNs;
    CHECK(passed(m->police(lens.data(), 64, t), 64) == 10);
    // A clock from the past (another PMD's older timestamp) refills nothing.
    CHECK(passed(m->police(lens.data(), 1, t - kMs), 1) == 0);
    // Drop mask marks exactly the packets over the limit, in order.
    t += 2 * kMs;
    CHECK(m->police(lens.data(), 4, t) == 0b1100);

    MeterStats s = m->stats();
    CHECK(s.packets_in == 15 + 5 + 3 + 6 + 2 + 64 + 1 + 4);
    CHECK(s.packets_dropped == 5 + 5 + 2 + 1 + 1 + 54 + 1 + 2);
    CHECK(s.bytes_in == 100 * s.packets_in);
    CHECK(s.bytes_dropped == 100 * s.packets_dropped);
}

TEST_CASE("meters: kbps bucket charges 8 bits per byte, in order", "[switch][meters]") {
    // 1000 kbit/s = 1 bit per us; burst 100 kbit = 12500 bytes.
    auto m = make_meter(MeterUnit::Kbps, 1000, 100);
    std::vector<uint32_t> lens(13, 1000);
    lens.push_back(500);
    uint64_t t = kNs;
    // 12 x 8000 bits pass (96000), the 13th does not fit (4000 left), the 500-byte
    // packet (4000 bits) does: a dropped packet takes no tokens.
    CHECK(m->police(lens.data(), 14, t) == uint64_t(1) << 12);
    t += 7999 * 1000;   // 7999 bits
    uint32_t one = 1000;
    CHECK(m->police(&one, 1, t) == 1);
    t += 1000;          // the 8000th
    CHECK(m->police(&one, 1, t) == 0);
    MeterStats s = m->stats();
    CHECK(s.bytes_in == 13 * 1000 + 500 + 2000);
    CHECK(s.bytes_dropped == 2000);
}

TEST_CASE("meters: concurrent policing is exact (one shared bucket)", "[switch][meters]") {
    auto m = make_meter(MeterUnit::Pps, 1000, 5000);
    constexpr int kThreads = 4, kBatches = 500;
    std::atomic<uint64_t> total{0};
    std::vector<std::thread> th;
    for (int i = 0; i < kThreads; i++)
        th.emplace_back([&] {
            std::vector<uint32_t> lens(32, 64);
            uint64_t mine = 0;
            for (int b = 0; b < kBatches; b++) mine += passed(m->police(lens.data(), 32, kNs), 32);
            total += mine;
        });
    for (auto& t : th) t.join();
    CHECK(total == 5000);   // the burst, exactly, however the batches interleaved
    MeterStats s = m->stats();
    CHECK(s.packets_in == uint64_t(kThreads) * kBatches * 32);
    CHECK(s.packets_in - s.packets_dropped == 5000);

    // With time advancing: passes = burst + rate * elapsed, whatever the interleaving.
    auto m2 = make_meter(MeterUnit::Pps, 1000000, 64);   // 1 packet per us
    std::atomic<uint64_t> total2{0};
    std::atomic<uint64_t> clock{kNs};
    th.clear();
    for (int i = 0; i < kThreads; i++)
        th.emplace_back([&] {
            std::vector<uint32_t> lens(32, 64);
            uint64_t mine = 0;
            for (int b = 0; b < kBatches; b++) {
                uint64_t now = clock.fetch_add(100) + 100;   // +100 ns per batch
                mine += passed(m2->police(lens.data(), 32, now), 32);
            }
            total2 += mine;
        });
    for (auto& t : th) t.join();
    // The demand (32 per 100 ns) always exceeds the rate (0.1 per 100 ns), so every
    // token is used; the last refill point is at most the final clock value.
    const uint64_t elapsed_us = (clock.load() - kNs) / 1000;
    CHECK(total2 <= 64 + elapsed_us);
    CHECK(total2 >= 64 + elapsed_us - 1);
}

TEST_CASE("meters: table set/modify/delete, validation, lookup", "[switch][meters]") {
    int syncs = 0;
    Meters ms(kNs, [&] { syncs++; });
    std::string err;
    CHECK_FALSE(ms.set(0, {MeterUnit::Pps, 10, 1}, err));
    CHECK(err.rfind("id:", 0) == 0);
    CHECK_FALSE(ms.set(0xffff0001, {MeterUnit::Pps, 10, 1}, err));
    CHECK_FALSE(ms.set(1, {MeterUnit::Pps, 0, 1}, err));
    CHECK(err.rfind("rate:", 0) == 0);
    CHECK_FALSE(ms.set(1, {MeterUnit::Kbps, Meters::kMaxRate + 1, 0}, err));
    CHECK_FALSE(ms.set(1, {MeterUnit::Kbps, 1000, uint64_t(1) << 40}, err));
    CHECK(err.rfind("burst:", 0) == 0);
    CHECK(ms.size() == 0);
    CHECK(syncs == 0);

    REQUIRE(ms.set(1, {MeterUnit::Pps, 1000, 0}, err));
    MeterConfig c;
    REQUIRE(ms.config(1, c));
    CHECK(c.burst == 100);   // default: 100 ms worth
    REQUIRE(ms.set(2, {MeterUnit::Kbps, 64, 0}, err));
    REQUIRE(ms.config(2, c));
    CHECK(c.burst == 80);    // default floor: one jumbo frame
    CHECK(syncs == 2);

    // Police through the table, then modify: counters survive, bucket starts full.
    Meter* m1 = ms.table()->find(1);
    REQUIRE(m1 != nullptr);
    std::vector<uint32_t> lens(64, 60);
    CHECK(passed(m1->police(lens.data(), 64, kNs), 64) == 64);
    CHECK(passed(m1->police(lens.data(), 64, kNs), 64) == 36);
    REQUIRE(ms.set(1, {MeterUnit::Pps, 1000, 10}, err));
    Meter* m1b = ms.table()->find(1);
    REQUIRE(m1b != nullptr);
    CHECK(m1b != m1);
    CHECK(passed(m1b->police(lens.data(), 20, kNs), 20) == 10);
    MeterStats s = ms.stats(1);
    CHECK(s.found);
    CHECK(s.packets_in == 148);
    CHECK(s.packets_dropped == 28 + 10);

    CHECK(ms.del(2));
    CHECK_FALSE(ms.del(2));
    CHECK_FALSE(ms.stats(2).found);
    CHECK(ms.table()->find(2) == nullptr);
    CHECK(ms.table()->find(0) == nullptr);

    // Many ids: all found, others not.
    std::mt19937 rng(3);
    std::vector<uint32_t> ids;
    for (int i = 0; i < 300; i++) {
        uint32_t id = 1 + rng() % Meters::kMaxId;
        if (ms.set(id, {MeterUnit::Pps, 100, 0}, err)) ids.push_back(id);
    }
    const MeterTable* t = ms.table();
    for (uint32_t id : ids) CHECK(t->find(id) != nullptr);
    CHECK(ms.list().size() == ms.size());
    CHECK(ms.list().front().first == 1);
    int false_hits = 0;
    for (int i = 0; i < 10000; i++) {
        uint32_t id = 1 + rng() % Meters::kMaxId;
        if (t->find(id) && std::find(ids.begin(), ids.end(), id) == ids.end() && id != 1) false_hits++;
    }
    CHECK(false_hits == 0);
}

TEST_CASE("meters: upcall limiter, per port, exact counts", "[switch][meters][upcall_limit]") {
    UpcallLimiter lim(kMaxPorts);
    lim.configure(100, 10, kNs);   // 100/s, burst 10
    uint64_t t = 7 * kNs;
    int ok = 0;
    for (int i = 0; i < 15; i++) ok += lim.allow(3, t);
    CHECK(ok == 10);
    ok = 0;
    for (int i = 0; i < 15; i++) ok += lim.allow(4, t);   // another port: its own bucket
    CHECK(ok == 10);
    t += 10 * kMs;   // one token
    CHECK(lim.allow(3, t));
    CHECK_FALSE(lim.allow(3, t));
    t += 25 * kMs;   // 2.5 tokens
    CHECK(lim.allow(3, t));
    CHECK(lim.allow(3, t));
    CHECK_FALSE(lim.allow(3, t));
    t += 5 * kMs;    // + 0.5
    CHECK(lim.allow(3, t));
    lim.configure(100, 0, kNs);   // default burst: rate / 10
    ok = 0;
    for (int i = 0; i < 50; i++) ok += lim.allow(3, t);
    CHECK(ok == 10);
    lim.configure(0, 0, kNs);     // unlimited
    for (int i = 0; i < 1000; i++) REQUIRE(lim.allow(3, t));
}

// ------------------------------------------------------------- through a datapath

namespace {

// Every key: mask in_port + nw_dst. nw_dst ending in .238: output, modify, output.
class TestTranslator final : public FlowTranslator {
public:
    bool translate(const FlowKey& key, Translation& out) const override {
        out.mask.in_port = ~0u;
        out.mask.nw_dst = ~0u;
        out.mask.dl_type = 0xffff;
        out.actions.push_back(DpAction::output(1));
        if ((rte_be_to_cpu_32(key.nw_dst) & 0xff) == 238) {
            const uint8_t mac[6] = {0x0a, 0, 0, 0, 0, 0x01};
            out.actions.push_back(DpAction::set_eth_dst(mac));
            out.actions.push_back(DpAction::dec_ttl());
            out.actions.push_back(DpAction::output(1));
        }
        return true;
    }
};

class FeedPort final : public Port {
public:
    FeedPort() : Port("feed", 9, PortType::Ethdev, {}) { q_.resize(4096); }
    uint16_t rx_burst(uint16_t, rte_mbuf** pkts, uint16_t n) override {
        const size_t avail = avail_.load(std::memory_order_acquire);
        uint16_t k = 0;
        while (k < n && pos_ < avail) pkts[k++] = q_[pos_++];
        return k;
    }
    uint16_t tx_burst(uint16_t, rte_mbuf**, uint16_t) override { return 0; }
    std::string state() const override { return "up"; }
    bool rxq_enabled(uint16_t) const override { return true; }
    std::vector<uint16_t> usable_txqs() const override { return {0}; }
    // Test thread: all of them visible at once (one rx burst if <= 32).
    void feed(const std::vector<rte_mbuf*>& ms) {
        size_t a = avail_.load(std::memory_order_relaxed);
        for (rte_mbuf* m : ms) q_[a++] = m;
        avail_.store(a, std::memory_order_release);
    }

private:
    std::vector<rte_mbuf*> q_;
    std::atomic<size_t> avail_{0};
    size_t pos_ = 0;   // PMD thread
};

rte_mbuf* udp_packet(rte_mempool* pool, uint32_t dst_host, uint8_t ttl) {
    uint8_t f[60] = {};
    const uint8_t hdr[] = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
                           0x45, 0, 0, 46, 0, 0, 0, 0, ttl, 17, 0, 0, 10, 0, 0, 1};
    std::memcpy(f, hdr, sizeof hdr);
    const uint32_t d = rte_cpu_to_be_32(dst_host);
    std::memcpy(f + 30, &d, 4);
    f[34] = 0x30;   // sport 12345
    f[35] = 0x39;
    f[37] = 53;
    f[39] = 26;     // udp length, checksum 0
    uint32_t s = 0;
    for (int i = 14; i < 34; i += 2) s += uint32_t(f[i]) << 8 | f[i + 1];
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    f[24] = uint8_t(~s >> 8);
    f[25] = uint8_t(~s);
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    REQUIRE(m != nullptr);
    std::memcpy(rte_pktmbuf_append(m, sizeof f), f, sizeof f);
    return m;
}

}  // namespace

TEST_CASE("meters: datapath meter API", "[switch][meters]") {
    vsw_test_eal();
    TestTranslator xl;
    DatapathConfig cfg;
    cfg.n_mbufs = 1023;
    cfg.max_megaflows = 1024;
    Datapath dp(cfg, xl);
    std::string err;
    CHECK(dp.upcall_limit_rate() == 100000);
    CHECK(dp.set_meter(5, {MeterUnit::Kbps, 10000, 0}, err));
    CHECK_FALSE(dp.set_meter(6, {MeterUnit::Kbps, 0, 0}, err));
    CHECK(dp.meter_stats(5).found);
    CHECK(dp.meters().table()->find(5) != nullptr);
    CHECK(dp.del_meter(5));
    CHECK_FALSE(dp.del_meter(5));
    CHECK_FALSE(dp.meter_stats(5).found);
    dp.set_upcall_limit(7, 3);
    CHECK(dp.upcall_limit_rate() == 7);
    CHECK(dp.upcall_limit_burst() == 3);
}

TEST_CASE("meters: a PMD drops misses over the upcall limit, executes modify lists",
          "[switch][meters][upcall_limit][pmd]") {
    rte_mempool* pool = vsw_test_eal();
    TestTranslator xl;
    DatapathConfig cfg;
    cfg.n_mbufs = 2047;
    cfg.max_megaflows = 1024;
    Datapath dp(cfg, xl);
    std::string err;
    const uint32_t up = dp.add_port("up0", "dpdk", {{"devargs", "net_ring_vswut0"}}, 1, err);
    REQUIRE(up == 1);
    Port* upp = dp.port(1);
    dp.set_upcall_limit(1, 5);   // 1 per second, burst 5: exactly 5 within this test

    FeedPort feed;
    auto* pc = new PmdConfig;
    pc->tx_storage.resize(kMaxPorts);
    pc->tx_storage[1] = TxSlot{0, TxMode::Owned};
    pc->polls.push_back({&feed, 9, 0, &feed.rxq_stats(0).cycles, pc->tx_storage.data()});
    Pmd pmd(dp, 0, 0, 0);
    pmd.publish(pc);
    std::thread th([&] { pmd.run(); });

    std::vector<std::vector<uint8_t>> got;
    auto drain_until = [&](size_t want) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
            rte_mbuf* b[32];
            uint16_t n = upp->rx_burst(0, b, 32);
            for (uint16_t i = 0; i < n; i++) {
                std::vector<uint8_t> v(rte_pktmbuf_pkt_len(b[i]));
                std::memcpy(v.data(), rte_pktmbuf_mtod(b[i], void*), v.size());
                got.push_back(std::move(v));
                rte_pktmbuf_free(b[i]);
            }
            if (n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        // Nothing more than expected.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        rte_mbuf* b[32];
        uint16_t n = upp->rx_burst(0, b, 32);
        for (uint16_t i = 0; i < n; i++) rte_pktmbuf_free(b[i]);
        return got.size() + n;
    };

    // 20 new flows at once: 5 upcalls, 15 dropped.
    std::vector<rte_mbuf*> burst;
    for (uint32_t i = 1; i <= 20; i++) burst.push_back(udp_packet(pool, 0x0a000100 + i, 64));
    feed.feed(burst);
    CHECK(drain_until(5) == 5);
    const PmdCounters& c = pmd.counters();
    CHECK(c.upcalls.load() == 5);
    CHECK(c.drops[size_t(DropReason::UpcallLimit)].load() == 15);
    CHECK(feed.drops(DropReason::UpcallLimit) == 15);
    // The installed flows hit without upcalls.
    burst.clear();
    for (uint32_t i = 1; i <= 5; i++) burst.push_back(udp_packet(pool, 0x0a000100 + i, 64));
    feed.feed(burst);
    CHECK(drain_until(10) == 10);
    CHECK(c.upcalls.load() == 5);

    // Unlimited again; output, modify, output through the PMD's tx buffers.
    dp.set_upcall_limit(0, 0);
    // One burst: the TTL-1 packet expires after the first output.
    feed.feed({udp_packet(pool, 0x0a0001ee, 64), udp_packet(pool, 0x0a0001ee, 1)});
    CHECK(drain_until(13) == 13);
    CHECK(c.drops[size_t(DropReason::TtlExceeded)].load() == 1);
    pmd.request_stop();
    th.join();

    REQUIRE(got.size() == 13);
    // Order on the port: both packets' first outputs (copies), then the modified one.
    CHECK(got[10][0] == 0x02);
    CHECK(got[10][22] == 64);
    CHECK(got[11][0] == 0x02);
    CHECK(got[11][22] == 1);
    CHECK(got[12][0] == 0x0a);
    CHECK(got[12][5] == 0x01);
    CHECK(got[12][22] == 63);
    uint32_t s = 0;
    for (int i = 14; i < 34; i += 2) s += uint32_t(got[12][i]) << 8 | got[12][i + 1];
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    CHECK(s == 0xffff);
}
