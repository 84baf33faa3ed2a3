// dp_execute: every action on built packets, byte for byte against a packet built from
// scratch with the modified fields (so incremental checksums are checked against full
// recomputation), copy/share semantics of outputs, drops, and a randomized model check.
#include <rte_mbuf.h>

#include <catch2/catch.hpp>

#include <array>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include "dp_execute.h"
#include "eal_fixture.h"
#include "meters.h"

using namespace vswitch;

namespace {

// ------------------------------------------------------------------ packet builder

struct Spec {
    std::array<uint8_t, 6> dst{0x02, 0, 0, 0, 0, 0x02};
    std::array<uint8_t, 6> src{0x02, 0, 0, 0, 0, 0x01};
    std::vector<std::pair<uint16_t, uint16_t>> tags;   // (TPID, TCI) outermost first
    enum class L3 { Ipv4, Ipv6, Arp } l3 = L3::Ipv4;
    uint32_t v4src = 0x0a000001, v4dst = 0x0a000002;   // host order
    uint8_t tos = 0, ttl = 64;
    uint16_t frag = 0;          // flags + offset, host order
    uint8_t opt_words = 0;      // IPv4 options (NOPs), in 32-bit words
    std::array<uint8_t, 16> v6src{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    std::array<uint8_t, 16> v6dst{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    uint8_t tc = 0, hop = 64;
    uint32_t flow_label = 0x12345;
    uint8_t proto = 6;          // 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, other: opaque
    uint16_t sport = 1234, dport = 80;
    bool udp_nocsum = false;
    uint16_t payload = 32;
    uint8_t seed = 7;
};

void put16(std::vector<uint8_t>& v, uint16_t x) {
    v.push_back(uint8_t(x >> 8));
    v.push_back(uint8_t(x));
}
void put32(std::vector<uint8_t>& v, uint32_t x) {
    put16(v, uint16_t(x >> 16));
    put16(v, uint16_t(x));
}
void set16(std::vector<uint8_t>& v, size_t at, uint16_t x) {
    v[at] = uint8_t(x >> 8);
    v[at + 1] = uint8_t(x);
}

// One's-complement sum of big-endian 16-bit words (odd length padded).
uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc = 0) {
    for (size_t i = 0; i + 1 < n; i += 2) acc += uint32_t(p[i]) << 8 | p[i + 1];
    if (n & 1) acc += uint32_t(p[n - 1]) << 8;
    return acc;
}
uint16_t fold(uint32_t s) {
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return uint16_t(s);
}

uint32_t pseudo_sum(const Spec& s, uint32_t l4len) {
    std::vector<uint8_t> ph;
    if (s.l3 == Spec::L3::Ipv4) {
        put32(ph, s.v4src);
        put32(ph, s.v4dst);
        ph.push_back(0);
        ph.push_back(s.proto);
        put16(ph, uint16_t(l4len));
    } else {
        ph.insert(ph.end(), s.v6src.begin(), s.v6src.end());
        ph.insert(ph.end(), s.v6dst.begin(), s.v6dst.end());
        put32(ph, l4len);
        put32(ph, s.proto);
    }
    return sum16(ph.data(), ph.size());
}

std::vector<uint8_t> build_l4(const Spec& s) {
    std::vector<uint8_t> l4;
    if (s.proto == 6) {
        put16(l4, s.sport);
        put16(l4, s.dport);
        put32(l4, 0x01020304);   // seq
        put32(l4, 0);            // ack
        put16(l4, 0x5018);       // data offset 5, PSH|ACK
        put16(l4, 0xffff);       // window
        put16(l4, 0);            // checksum
        put16(l4, 0);            // urgent
    } else if (s.proto == 17) {
        put16(l4, s.sport);
        put16(l4, s.dport);
        put16(l4, uint16_t(8 + s.payload));
        put16(l4, 0);
    } else if (s.proto == 1 || s.proto == 58) {
        l4.push_back(s.proto == 1 ? 8 : 128);   // echo request
        l4.push_back(0);
        put16(l4, 0);
        put32(l4, 0x00420001);
    }
    for (uint16_t i = 0; i < s.payload; i++) l4.push_back(uint8_t(s.seed + i * 13));
    uint16_t c = 0;
    if (s.proto == 6) c = uint16_t(~fold(sum16(l4.data(), l4.size(), pseudo_sum(s, uint32_t(l4.size())))));
    if (s.proto == 17 && !s.udp_nocsum) {
        c = uint16_t(~fold(sum16(l4.data(), l4.size(), pseudo_sum(s, uint32_t(l4.size())))));
        if (c == 0) c = 0xffff;
    }
    if (s.proto == 1) c = uint16_t(~fold(sum16(l4.data(), l4.size())));
    if (s.proto == 58) c = uint16_t(~fold(sum16(l4.data(), l4.size(), pseudo_sum(s, uint32_t(l4.size())))));
    if (s.proto == 6) set16(l4, 16, c);
    if (s.proto == 17) set16(l4, 6, c);
    if (s.proto == 1 || s.proto == 58) set16(l4, 2, c);
    return l4;
}

std::vector<uint8_t> build(const Spec& s) {
    std::vector<uint8_t> v(s.dst.begin(), s.dst.end());
    v.insert(v.end(), s.src.begin(), s.src.end());
    for (auto [tpid, tci] : s.tags) {
        put16(v, tpid);
        put16(v, tci);
    }
    if (s.l3 == Spec::L3::Arp) {
        put16(v, 0x0806);
        put16(v, 1);
        put16(v, 0x0800);
        v.push_back(6);
        v.push_back(4);
        put16(v, 1);
        for (int i = 0; i < 6; i++) v.push_back(uint8_t(0x50 + i));   // SHA
        put32(v, s.v4src);
        for (int i = 0; i < 6; i++) v.push_back(0);
        put32(v, s.v4dst);
        return v;
    }
    const bool later = (s.frag & 0x1fff) != 0;
    std::vector<uint8_t> l4;
    if (later) {
        for (uint16_t i = 0; i < s.payload; i++) l4.push_back(uint8_t(s.seed + i * 5));
    } else {
        l4 = build_l4(s);
    }
    if (s.l3 == Spec::L3::Ipv4) {
        put16(v, 0x0800);
        const size_t ip = v.size();
        const uint8_t hl = uint8_t(20 + 4 * s.opt_words);
        v.push_back(uint8_t(0x40 | hl / 4));
        v.push_back(s.tos);
        put16(v, uint16_t(hl + l4.size()));
        put16(v, 0x1234);
        put16(v, s.frag);
        v.push_back(s.ttl);
        v.push_back(s.proto);
        put16(v, 0);
        put32(v, s.v4src);
        put32(v, s.v4dst);
        for (int i = 0; i < 4 * s.opt_words; i++) v.push_back(1);
        set16(v, ip + 10, uint16_t(~fold(sum16(&v[ip], hl))));
    } else {
        put16(v, 0x86dd);
        put32(v, 6u << 28 | uint32_t(s.tc) << 20 | (s.flow_label & 0xfffff));
        put16(v, uint16_t(l4.size()));
        v.push_back(s.proto);
        v.push_back(s.hop);
        v.insert(v.end(), s.v6src.begin(), s.v6src.end());
        v.insert(v.end(), s.v6dst.begin(), s.v6dst.end());
    }
    v.insert(v.end(), l4.begin(), l4.end());
    return v;
}

// Independent check: IPv4 header and TCP/UDP checksums verify (sum == 0xffff).
bool checksums_valid(const std::vector<uint8_t>& v) {
    size_t off = 12;
    uint16_t type = uint16_t(v[off] << 8 | v[off + 1]);
    while (type == 0x8100 || type == 0x88a8) {
        off += 4;
        type = uint16_t(v[off] << 8 | v[off + 1]);
    }
    off += 2;
    uint8_t proto;
    size_t l4, l4len;
    uint32_t ph = 0;
    if (type == 0x0800) {
        const size_t hl = (v[off] & 0xf) * 4u;
        if (fold(sum16(&v[off], hl)) != 0xffff) return false;
        if (((v[off + 6] << 8 | v[off + 7]) & 0x1fff) != 0) return true;
        proto = v[off + 9];
        l4 = off + hl;
        l4len = size_t(v[off + 2] << 8 | v[off + 3]) - hl;
        ph = sum16(&v[off + 12], 8);
    } else if (type == 0x86dd) {
        proto = v[off + 6];
        l4 = off + 40;
        l4len = size_t(v[off + 4] << 8 | v[off + 5]);
        ph = sum16(&v[off + 8], 32);
    } else {
        return true;
    }
    if (proto != 6 && proto != 17) return true;
    if (proto == 17 && v[l4 + 6] == 0 && v[l4 + 7] == 0) return true;
    ph += uint32_t(l4len >> 16) + uint32_t(l4len & 0xffff) + proto;
    return fold(sum16(&v[l4], l4len, ph)) == 0xffff;
}

rte_mbuf* to_mbuf(const std::vector<uint8_t>& v) {
    rte_mbuf* m = rte_pktmbuf_alloc(vsw_test_eal());
    REQUIRE(m != nullptr);
    char* d = rte_pktmbuf_append(m, uint16_t(v.size()));
    REQUIRE(d != nullptr);
    std::memcpy(d, v.data(), v.size());
    return m;
}

std::vector<uint8_t> bytes_of(const rte_mbuf* m) {
    std::vector<uint8_t> v(rte_pktmbuf_pkt_len(m));
    const void* p = rte_pktmbuf_read(m, 0, uint32_t(v.size()), v.data());
    if (p != v.data()) std::memcpy(v.data(), p, v.size());
    return v;
}

// Records outputs and drops; frees everything at the end.
struct RecSink final : DpExecSink {
    struct Out {
        uint32_t port;
        rte_mbuf* m;
        std::vector<uint8_t> at_output;   // bytes when it was handed over
    };
    std::vector<Out> outs;
    std::map<DropReason, uint64_t> drops;

    void dp_output(uint32_t port, rte_mbuf* const* pkts, uint16_t n) override {
        for (uint16_t i = 0; i < n; i++) outs.push_back({port, pkts[i], bytes_of(pkts[i])});
    }
    void dp_drop(DropReason r, rte_mbuf** pkts, uint16_t n) override {
        drops[r] += n;
        if (pkts) rte_pktmbuf_free_bulk(pkts, n);
    }
    std::vector<uint8_t> out_bytes(size_t i) const { return bytes_of(outs.at(i).m); }
    uint64_t dropped(DropReason r) const {
        auto it = drops.find(r);
        return it == drops.end() ? 0 : it->second;
    }
    ~RecSink() {
        for (auto& o : outs) rte_pktmbuf_free(o.m);
    }
};

// Runs acts on one packet built from `in`; returns the sink.
void run1(const DpActionList& acts, const Spec& in, RecSink& sink, const DpExecEnv& env = {}) {
    rte_mbuf* m = to_mbuf(build(in));
    dp_execute(acts, &m, 1, env, sink);
}

// acts + output:1 on `in` must give exactly build(out).
void expect_action(const DpActionList& acts_in, const Spec& in, const Spec& out) {
    DpActionList acts = acts_in;
    acts.push_back(DpAction::output(1));
    RecSink sink;
    run1(acts, in, sink);
    REQUIRE(sink.outs.size() == 1);
    CHECK(sink.drops.empty());
    const std::vector<uint8_t> got = sink.out_bytes(0), want = build(out);
    CHECK(got == want);
    CHECK(checksums_valid(got));
}

uint32_t be32(uint32_t host) { return rte_cpu_to_be_32(host); }
uint16_t be16(uint16_t host) { return rte_cpu_to_be_16(host); }

Spec tcp4() { return Spec{}; }
Spec udp4() {
    Spec s;
    s.proto = 17;
    return s;
}
Spec v6(uint8_t proto) {
    Spec s;
    s.l3 = Spec::L3::Ipv6;
    s.proto = proto;
    return s;
}

DpAction raw(DpActionType t) {
    DpAction a{};
    a.type = t;
    return a;
}

}  // namespace

TEST_CASE("execute: checksum helpers match full recomputation", "[switch][execute]") {
    std::mt19937 rng(1);
    for (int iter = 0; iter < 2000; iter++) {
        uint8_t buf[20];
        for (auto& b : buf) b = uint8_t(rng());
        buf[10] = buf[11] = 0;
        const uint16_t c0 = uint16_t(~fold(sum16(buf, 20)));
        buf[10] = uint8_t(c0 >> 8);
        buf[11] = uint8_t(c0);
        uint16_t stored, old16, new16;
        std::memcpy(&stored, buf + 10, 2);
        std::memcpy(&old16, buf + 4, 2);
        new16 = uint16_t(rng());
        std::memcpy(buf + 4, &new16, 2);
        uint16_t inc = csum_replace16(stored, old16, new16);
        uint32_t old32, new32 = uint32_t(rng());
        std::memcpy(&old32, buf + 12, 4);
        std::memcpy(buf + 12, &new32, 4);
        inc = csum_replace32(inc, old32, new32);
        buf[10] = buf[11] = 0;
        const uint16_t full = uint16_t(~fold(sum16(buf, 20)));
        uint16_t inc_host;
        std::memcpy(&inc_host, &inc, 2);
        REQUIRE(rte_be_to_cpu_16(inc_host) == full);
    }
}

TEST_CASE("execute: set_eth_src / set_eth_dst", "[switch][execute]") {
    vsw_test_eal();
    const uint8_t mac[6] = {0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
    Spec in = tcp4(), out = in;
    std::memcpy(out.src.data(), mac, 6);
    expect_action({DpAction::set_eth_src(mac)}, in, out);
    out = in;
    std::memcpy(out.dst.data(), mac, 6);
    expect_action({DpAction::set_eth_dst(mac)}, in, out);
    // On a tagged frame and on ARP too (L2 only).
    in.tags = {{0x8100, 0x0064}};
    out = in;
    std::memcpy(out.dst.data(), mac, 6);
    expect_action({DpAction::set_eth_dst(mac)}, in, out);
    in = Spec{};
    in.l3 = Spec::L3::Arp;
    out = in;
    std::memcpy(out.src.data(), mac, 6);
    expect_action({DpAction::set_eth_src(mac)}, in, out);
}

TEST_CASE("execute: push_vlan / pop_vlan and their round trip", "[switch][execute]") {
    vsw_test_eal();
    // pcp 5, vid 100; the CFI marker in the argument is not written to the wire.
    const DpAction push = DpAction::push_vlan(0xa064);
    CHECK(push.arg.u16 == (0xa064 | 0x1000));
    for (Spec in : {tcp4(), udp4(), v6(6), Spec{}}) {
        Spec out = in;
        out.tags.insert(out.tags.begin(), {0x8100, 0xa064});
        expect_action({push}, in, out);
        expect_action({DpAction::pop_vlan()}, out, in);
        expect_action({push, DpAction::pop_vlan()}, in, in);
    }
    // Push onto a tagged frame: a new outer tag (QinQ with TPID 0x8100).
    Spec tagged = tcp4();
    tagged.tags = {{0x8100, 0x0005}};
    Spec qinq = tagged;
    qinq.tags.insert(qinq.tags.begin(), {0x8100, 0xa064});
    expect_action({push}, tagged, qinq);
    // Pop removes the outer tag only, 802.1ad too; untagged: no-op.
    Spec ad = tcp4();
    ad.tags = {{0x88a8, 0x0007}, {0x8100, 0x0005}};
    expect_action({DpAction::pop_vlan()}, ad, tagged);
    expect_action({DpAction::pop_vlan()}, tcp4(), tcp4());
    // L3 actions after a push/pop find the moved headers.
    Spec in = udp4(), out = in;
    out.tags = {{0x8100, 0xa064}};
    out.v4src = 0xc0a80001;
    expect_action({push, DpAction::set_ipv4_src(be32(0xc0a80001))}, in, out);
    in = out;
    out.tags.clear();
    out.ttl = 63;
    expect_action({DpAction::dec_ttl(), DpAction::pop_vlan(), DpAction::set_ipv4_src(be32(0xc0a80001))},
                  in, out);
}

TEST_CASE("execute: set_ipv4_src / set_ipv4_dst fix IP and L4 checksums", "[switch][execute]") {
    vsw_test_eal();
    const uint32_t a = 0xc0a8010a, b = 0xac100001;
    for (uint8_t proto : {6, 17, 1, 47}) {
        Spec in = tcp4();
        in.proto = proto;
        Spec out = in;
        out.v4src = a;
        expect_action({DpAction::set_ipv4_src(be32(a))}, in, out);
        out.v4dst = b;
        expect_action({DpAction::set_ipv4_src(be32(a)), DpAction::set_ipv4_dst(be32(b))}, in, out);
        // IPv4 options move the L4 header.
        in.opt_words = 3;
        out.opt_words = 3;
        expect_action({DpAction::set_ipv4_src(be32(a)), DpAction::set_ipv4_dst(be32(b))}, in, out);
    }
    // UDP without checksum: stays 0.
    Spec in = udp4();
    in.udp_nocsum = true;
    Spec out = in;
    out.v4dst = b;
    expect_action({DpAction::set_ipv4_dst(be32(b))}, in, out);
    {
        RecSink sink;
        run1({DpAction::set_ipv4_dst(be32(b)), DpAction::output(1)}, in, sink);
        auto got = sink.out_bytes(0);
        CHECK(got[14 + 20 + 6] == 0);
        CHECK(got[14 + 20 + 7] == 0);
    }
    // First fragment: L4 checksum updated; later fragment: IP header only.
    in = tcp4();
    in.frag = 0x2000;   // MF
    out = in;
    out.v4src = a;
    expect_action({DpAction::set_ipv4_src(be32(a))}, in, out);
    in.frag = 0x0010;   // offset 128
    out = in;
    out.v4src = a;
    expect_action({DpAction::set_ipv4_src(be32(a))}, in, out);
    // Not IPv4: no-op.
    expect_action({DpAction::set_ipv4_src(be32(a))}, v6(6), v6(6));
    Spec arp;
    arp.l3 = Spec::L3::Arp;
    expect_action({DpAction::set_ipv4_src(be32(a))}, arp, arp);
}

TEST_CASE("execute: UDP checksum that computes to 0 is sent as 0xffff", "[switch][execute]") {
    vsw_test_eal();
    // Find a source port for which the from-scratch checksum is 0 (-> 0xffff on the wire).
    Spec in = udp4();
    int found = -1;
    for (int p = 0; p < 65536 && found < 0; p++) {
        Spec s = in;
        s.sport = uint16_t(p);
        s.udp_nocsum = true;
        auto v = build(s);
        const size_t l4 = 14 + 20;
        uint32_t ph = sum16(&v[14 + 12], 8) + 17 + uint32_t(8 + s.payload);
        if (uint16_t(~fold(sum16(&v[l4], v.size() - l4, ph))) == 0) found = p;
    }
    REQUIRE(found >= 0);
    Spec out = in;
    out.sport = uint16_t(found);
    expect_action({DpAction::set_tp_src(be16(uint16_t(found)))}, in, out);
    RecSink sink;
    run1({DpAction::set_tp_src(be16(uint16_t(found))), DpAction::output(1)}, in, sink);
    auto got = sink.out_bytes(0);
    CHECK(got[14 + 20 + 6] == 0xff);
    CHECK(got[14 + 20 + 7] == 0xff);
}

TEST_CASE("execute: set_ip_tos (whole byte, DSCP, ECN), IPv4 and IPv6", "[switch][execute]") {
    vsw_test_eal();
    for (Spec in : {tcp4(), udp4(), v6(6), v6(17)}) {
        in.tos = 0x03;   // ECN CE on the way in
        in.tc = 0x03;
        Spec out = in;
        out.tos = out.tc = 0xb8;
        expect_action({DpAction::set_ip_tos(0xb8)}, in, out);
        out.tos = out.tc = 0xb8 | 0x03;   // DSCP 46, ECN kept
        expect_action({DpAction::set_ip_tos(46 << 2, 0xfc)}, in, out);
        out.tos = out.tc = 0x01;          // ECN only
        expect_action({DpAction::set_ip_tos(0x01, 0x03)}, in, out);
    }
}

TEST_CASE("execute: dec_ttl decrements, expiry drops as ttl_exceeded", "[switch][execute]") {
    vsw_test_eal();
    Spec in = tcp4(), out = in;
    out.ttl = 63;
    expect_action({DpAction::dec_ttl()}, in, out);
    in.ttl = 2;
    out.ttl = 1;
    expect_action({DpAction::dec_ttl()}, in, out);
    Spec in6 = v6(17), out6 = in6;
    out6.hop = 63;
    expect_action({DpAction::dec_ttl()}, in6, out6);
    // ARP: no TTL, unchanged.
    Spec arp;
    arp.l3 = Spec::L3::Arp;
    expect_action({DpAction::dec_ttl()}, arp, arp);

    // A batch: TTL 1 and 0 (v4), hop limit 1 (v6) expire; the rest go out in order.
    std::vector<Spec> specs(6, tcp4());
    specs[1].ttl = 1;
    specs[2].ttl = 0;
    specs[3] = v6(6);
    specs[3].hop = 1;
    specs[4].ttl = 2;
    specs[5].sport = 999;
    rte_mbuf* pkts[6];
    for (int i = 0; i < 6; i++) pkts[i] = to_mbuf(build(specs[i]));
    RecSink sink;
    dp_execute({DpAction::dec_ttl(), DpAction::output(4)}, pkts, 6, {}, sink);
    CHECK(sink.dropped(DropReason::TtlExceeded) == 3);
    REQUIRE(sink.outs.size() == 3);
    for (int i : {0, 4, 5}) specs[i].ttl--;
    CHECK(sink.out_bytes(0) == build(specs[0]));
    CHECK(sink.out_bytes(1) == build(specs[4]));
    CHECK(sink.out_bytes(2) == build(specs[5]));
}

TEST_CASE("execute: set_tp_src / set_tp_dst on TCP and UDP, v4 and v6", "[switch][execute]") {
    vsw_test_eal();
    for (Spec in : {tcp4(), udp4(), v6(6), v6(17)}) {
        Spec out = in;
        out.sport = 40000;
        expect_action({DpAction::set_tp_src(be16(40000))}, in, out);
        out.dport = 8080;
        expect_action({DpAction::set_tp_src(be16(40000)), DpAction::set_tp_dst(be16(8080))}, in, out);
    }
    Spec in = udp4();
    in.udp_nocsum = true;
    Spec out = in;
    out.dport = 53;
    expect_action({DpAction::set_tp_dst(be16(53))}, in, out);
    // ICMP and opaque protocols, later fragments: unchanged.
    for (uint8_t proto : {1, 47}) {
        Spec s = tcp4();
        s.proto = proto;
        expect_action({DpAction::set_tp_src(be16(1))}, s, s);
    }
    Spec icmp6 = v6(58);
    expect_action({DpAction::set_tp_dst(be16(1))}, icmp6, icmp6);
    Spec frag = tcp4();
    frag.frag = 0x0020;
    expect_action({DpAction::set_tp_dst(be16(1))}, frag, frag);
}

TEST_CASE("execute: output-modify-output copies, outputs with nothing after share",
          "[switch][execute]") {
    vsw_test_eal();
    const uint8_t mac[6] = {0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
    const Spec in = tcp4();
    Spec mod = in;
    std::memcpy(mod.dst.data(), mac, 6);
    mod.ttl = 63;

    SECTION("output, modify, output: the first output keeps the original bytes") {
        rte_mbuf* m = to_mbuf(build(in));
        rte_mbuf* orig = m;
        RecSink sink;
        dp_execute({DpAction::output(1), DpAction::set_eth_dst(mac), DpAction::dec_ttl(),
                    DpAction::output(2)},
                   &m, 1, {}, sink);
        REQUIRE(sink.outs.size() == 2);
        CHECK(sink.outs[0].port == 1);
        CHECK(sink.outs[1].port == 2);
        CHECK(sink.out_bytes(0) == build(in));    // after the whole list ran
        CHECK(sink.out_bytes(1) == build(mod));
        CHECK(sink.outs[0].m != orig);            // a copy ...
        CHECK(sink.outs[1].m == orig);            // ... and the last output takes the original
        CHECK(sink.outs[0].m->pool == orig->pool);
        CHECK(rte_mbuf_refcnt_read(orig) == 1);
    }
    SECTION("two outputs before a modification both get copies; after it they share") {
        rte_mbuf* m = to_mbuf(build(in));
        rte_mbuf* orig = m;
        RecSink sink;
        dp_execute({DpAction::output(1), DpAction::output(2), DpAction::set_eth_dst(mac),
                    DpAction::dec_ttl(), DpAction::output(3), DpAction::output(4)},
                   &m, 1, {}, sink);
        REQUIRE(sink.outs.size() == 4);
        CHECK(sink.out_bytes(0) == build(in));
        CHECK(sink.out_bytes(1) == build(in));
        CHECK(sink.outs[0].m != sink.outs[1].m);
        CHECK(sink.out_bytes(2) == build(mod));
        CHECK(sink.out_bytes(3) == build(mod));
        CHECK(sink.outs[2].m == orig);
        CHECK(sink.outs[3].m == orig);
        CHECK(rte_mbuf_refcnt_read(orig) == 2);
    }
    SECTION("modify, then outputs: shared by refcount") {
        rte_mbuf* m = to_mbuf(build(in));
        RecSink sink;
        dp_execute({DpAction::set_eth_dst(mac), DpAction::dec_ttl(), DpAction::output(1),
                    DpAction::output(2), DpAction::output(3)},
                   &m, 1, {}, sink);
        REQUIRE(sink.outs.size() == 3);
        for (int i = 0; i < 3; i++) CHECK(sink.out_bytes(i) == build(mod));
        CHECK(sink.outs[0].m == sink.outs[2].m);
        CHECK(rte_mbuf_refcnt_read(sink.outs[0].m) == 3);
    }
    SECTION("actions after the last output are not run") {
        rte_mbuf* m = to_mbuf(build(in));
        rte_mbuf* orig = m;
        RecSink sink;
        dp_execute({DpAction::output(1), DpAction::set_eth_dst(mac)}, &m, 1, {}, sink);
        REQUIRE(sink.outs.size() == 1);
        CHECK(sink.outs[0].m == orig);
        CHECK(sink.out_bytes(0) == build(in));
    }
    SECTION("a batch: every packet copied for the first output, originals for the last") {
        rte_mbuf* pkts[kExecBatchMax];
        std::vector<Spec> specs(kExecBatchMax, in);
        for (int i = 0; i < kExecBatchMax; i++) {
            specs[i].sport = uint16_t(1000 + i);
            pkts[i] = to_mbuf(build(specs[i]));
        }
        RecSink sink;
        dp_execute({DpAction::output(1), DpAction::set_tp_dst(be16(443)), DpAction::output(2)},
                   pkts, kExecBatchMax, {}, sink);
        REQUIRE(sink.outs.size() == 2u * kExecBatchMax);
        for (int i = 0; i < kExecBatchMax; i++) {
            CHECK(sink.outs[i].port == 1);
            CHECK(sink.out_bytes(i) == build(specs[i]));
            Spec o = specs[i];
            o.dport = 443;
            CHECK(sink.outs[kExecBatchMax + i].port == 2);
            CHECK(sink.out_bytes(kExecBatchMax + i) == build(o));
        }
    }
}

TEST_CASE("execute: unsupported types, lists without output, empty lists", "[switch][execute]") {
    vsw_test_eal();
    // TunnelPush without a template in the list, Recirculate (reserved).
    for (DpActionType t : {DpActionType::TunnelPush, DpActionType::Recirculate}) {
        RecSink sink;
        rte_mbuf* pkts[3] = {to_mbuf(build(tcp4())), to_mbuf(build(tcp4())), to_mbuf(build(tcp4()))};
        dp_execute({DpAction::output(1), raw(t), DpAction::output(2)}, pkts, 3, {}, sink);
        CHECK(sink.outs.empty());
        CHECK(sink.dropped(DropReason::UnsupportedAction) == 3);
    }
    RecSink sink;
    run1({DpAction::dec_ttl()}, tcp4(), sink);
    run1({}, tcp4(), sink);
    CHECK(sink.outs.empty());
    CHECK(sink.dropped(DropReason::FlowDrop) == 2);
}

TEST_CASE("execute: meter action polices the batch", "[switch][execute]") {
    vsw_test_eal();
    Meters meters(1000000000, nullptr);
    std::string err;
    REQUIRE(meters.set(7, {MeterUnit::Pps, 10, 3}, err));
    rte_mbuf* pkts[8];
    for (auto& p : pkts) p = to_mbuf(build(tcp4()));
    RecSink sink;
    DpExecEnv env{meters.table(), 5000};
    dp_execute({DpAction::meter(7), DpAction::output(1)}, pkts, 8, env, sink);
    CHECK(sink.outs.size() == 3);
    CHECK(sink.dropped(DropReason::MeterDrop) == 5);
    MeterStats st = meters.stats(7);
    CHECK(st.packets_in == 8);
    CHECK(st.packets_dropped == 5);

    // Output before the meter sees all packets; unknown meters pass.
    RecSink s2;
    for (auto& p : pkts) p = to_mbuf(build(tcp4()));
    env.now += 100000000;   // +100 ms at 10 pps: one token
    dp_execute({DpAction::output(1), DpAction::meter(7), DpAction::meter(99), DpAction::output(2)},
               pkts, 8, env, s2);
    size_t to1 = 0, to2 = 0;
    for (auto& o : s2.outs) (o.port == 1 ? to1 : to2)++;
    CHECK(to1 == 8);
    CHECK(to2 == 1);
    CHECK(s2.dropped(DropReason::MeterDrop) == 7);
}

TEST_CASE("execute: shared and segmented input packets are made writable first",
          "[switch][execute]") {
    rte_mempool* pool = vsw_test_eal();
    const Spec in = udp4();
    Spec out = in;
    out.v4dst = 0x01020304;
    const DpActionList acts{DpAction::set_ipv4_dst(be32(0x01020304)), DpAction::output(1)};

    SECTION("refcount 2: the other reference keeps the original bytes") {
        rte_mbuf* m = to_mbuf(build(in));
        rte_mbuf_refcnt_update(m, 1);
        rte_mbuf* pkt = m;
        RecSink sink;
        dp_execute(acts, &pkt, 1, {}, sink);
        REQUIRE(sink.outs.size() == 1);
        CHECK(sink.outs[0].m != m);
        CHECK(sink.out_bytes(0) == build(out));
        CHECK(bytes_of(m) == build(in));
        CHECK(rte_mbuf_refcnt_read(m) == 1);
        rte_pktmbuf_free(m);
    }
    SECTION("headers split over segments are linearized") {
        const auto v = build(in);
        rte_mbuf* a = rte_pktmbuf_alloc(pool);
        rte_mbuf* b = rte_pktmbuf_alloc(pool);
        std::memcpy(rte_pktmbuf_append(a, 20), v.data(), 20);
        std::memcpy(rte_pktmbuf_append(b, uint16_t(v.size() - 20)), v.data() + 20, v.size() - 20);
        REQUIRE(rte_pktmbuf_chain(a, b) == 0);
        RecSink sink;
        dp_execute(acts, &a, 1, {}, sink);
        REQUIRE(sink.outs.size() == 1);
        CHECK(sink.out_bytes(0) == build(out));
        CHECK(sink.outs[0].m->nb_segs == 1);
    }
    SECTION("no headroom for a VLAN push: action_failed") {
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        const auto v = build(in);
        rte_pktmbuf_prepend(m, rte_pktmbuf_headroom(m));   // data now starts at the buffer
        rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m));
        std::memcpy(rte_pktmbuf_append(m, uint16_t(v.size())), v.data(), v.size());
        REQUIRE(rte_pktmbuf_headroom(m) == 0);
        RecSink sink;
        dp_execute({DpAction::push_vlan(5), DpAction::output(1)}, &m, 1, {}, sink);
        CHECK(sink.outs.empty());
        CHECK(sink.dropped(DropReason::ActionFailed) == 1);
    }
}

// Model check: random action lists over random packets. The model applies each action
// to the Spec and rebuilds the packet from scratch at every output.
TEST_CASE("execute: random lists agree with the from-scratch model", "[switch][execute]") {
    vsw_test_eal();
    std::mt19937 rng(12345);
    auto pick = [&](int n) { return int(rng() % unsigned(n)); };
    const DpActionType kinds[] = {
        DpActionType::SetEthSrc, DpActionType::SetEthDst, DpActionType::PushVlan,
        DpActionType::PopVlan,   DpActionType::SetIpv4Src, DpActionType::SetIpv4Dst,
        DpActionType::SetIpTos,  DpActionType::DecTtl,    DpActionType::SetTpSrc,
        DpActionType::SetTpDst,  DpActionType::Output,    DpActionType::Output};
    for (int iter = 0; iter < 3000; iter++) {
        Spec s;
        const int l3 = pick(5);
        s.l3 = l3 == 4 ? Spec::L3::Arp : l3 >= 2 ? Spec::L3::Ipv6 : Spec::L3::Ipv4;
        const uint8_t protos4[] = {6, 17, 1, 47};
        const uint8_t protos6[] = {6, 17, 58, 47};
        s.proto = s.l3 == Spec::L3::Ipv6 ? protos6[pick(4)] : protos4[pick(4)];
        s.udp_nocsum = pick(4) == 0;
        s.ttl = uint8_t(pick(4));
        s.hop = uint8_t(pick(4));
        s.tos = uint8_t(rng());
        s.tc = uint8_t(rng());
        s.opt_words = uint8_t(pick(3));
        if (s.l3 == Spec::L3::Ipv4 && pick(6) == 0) s.frag = uint16_t(0x2000 | pick(2));
        s.sport = uint16_t(rng());
        s.dport = uint16_t(rng());
        s.v4src = uint32_t(rng());
        s.v4dst = uint32_t(rng());
        s.payload = uint16_t(pick(200));
        s.seed = uint8_t(rng());
        for (int t = pick(3); t > 0; t--)
            s.tags.push_back({pick(2) ? 0x8100 : 0x88a8, uint16_t(rng() & 0xefff)});

        DpActionList acts;
        const int len = 1 + pick(8);
        for (int i = 0; i < len; i++) {
            DpAction a{};
            a.type = kinds[pick(int(std::size(kinds)))];
            switch (a.type) {
            case DpActionType::SetEthSrc:
            case DpActionType::SetEthDst:
                for (auto& b : a.arg.mac) b = uint8_t(rng());
                break;
            case DpActionType::PushVlan: a = DpAction::push_vlan(uint16_t(rng())); break;
            case DpActionType::SetIpv4Src:
            case DpActionType::SetIpv4Dst: a.arg.u32 = uint32_t(rng()); break;
            case DpActionType::SetIpTos: {
                const uint8_t masks[] = {0xff, 0xfc, 0x03};
                a = DpAction::set_ip_tos(uint8_t(rng()), masks[pick(3)]);
                break;
            }
            case DpActionType::SetTpSrc:
            case DpActionType::SetTpDst: a.arg.u16 = uint16_t(rng()); break;
            case DpActionType::Output: a.port = uint32_t(1 + pick(4)); break;
            default: break;
            }
            acts.push_back(a);
        }

        // The model.
        struct Expect {
            uint32_t port;
            std::vector<uint8_t> bytes;
        };
        std::vector<Expect> want;
        bool dropped = false;
        {
            int last_out = -1;
            for (size_t i = 0; i < acts.size(); i++)
                if (acts[i].type == DpActionType::Output) last_out = int(i);
            Spec m = s;
            const bool later = (m.frag & 0x1fff) != 0;
            const bool v4 = m.l3 == Spec::L3::Ipv4, v6 = m.l3 == Spec::L3::Ipv6;
            const bool tpok = (v4 || v6) && !later && (m.proto == 6 || m.proto == 17);
            for (int i = 0; i <= last_out && !dropped; i++) {
                const DpAction& a = acts[size_t(i)];
                switch (a.type) {
                case DpActionType::Output: want.push_back({a.port, build(m)}); break;
                case DpActionType::SetEthSrc: std::memcpy(m.src.data(), a.arg.mac, 6); break;
                case DpActionType::SetEthDst: std::memcpy(m.dst.data(), a.arg.mac, 6); break;
                case DpActionType::PushVlan:
                    m.tags.insert(m.tags.begin(), {0x8100, uint16_t(a.arg.u16 & ~0x1000)});
                    break;
                case DpActionType::PopVlan:
                    if (!m.tags.empty()) m.tags.erase(m.tags.begin());
                    break;
                case DpActionType::SetIpv4Src:
                    if (v4) m.v4src = rte_be_to_cpu_32(a.arg.u32);
                    break;
                case DpActionType::SetIpv4Dst:
                    if (v4) m.v4dst = rte_be_to_cpu_32(a.arg.u32);
                    break;
                case DpActionType::SetIpTos: {
                    const uint8_t mask = uint8_t(a.arg.u32 >> 8), val = uint8_t(a.arg.u32);
                    if (v4) m.tos = uint8_t((m.tos & ~mask) | val);
                    if (v6) m.tc = uint8_t((m.tc & ~mask) | val);
                    break;
                }
                case DpActionType::DecTtl:
                    if (v4 && m.ttl <= 1) dropped = true;
                    else if (v4) m.ttl--;
                    if (v6 && m.hop <= 1) dropped = true;
                    else if (v6) m.hop--;
                    break;
                case DpActionType::SetTpSrc:
                    if (tpok) m.sport = rte_be_to_cpu_16(a.arg.u16);
                    break;
                case DpActionType::SetTpDst:
                    if (tpok) m.dport = rte_be_to_cpu_16(a.arg.u16);
                    break;
                default: break;
                }
            }
        }
        // The executor (like flow_extract) looks through at most two tags; skip lists
        // that would stack more before an L3/L4 action.
        {
            int tags = int(s.tags.size());
            bool deep = false;
            for (const DpAction& a : acts) {
                if (a.type == DpActionType::PushVlan) tags++;
                if (a.type == DpActionType::PopVlan && tags) tags--;
                if (tags > 2 && a.type >= DpActionType::SetIpv4Src && a.type <= DpActionType::SetTpDst)
                    deep = true;
            }
            if (deep) continue;
        }

        rte_mbuf* m = to_mbuf(build(s));
        RecSink sink;
        dp_execute(acts, &m, 1, {}, sink);
        INFO("iter " << iter << " actions " << dp_actions_to_string(acts));
        if (want.empty()) {
            CHECK(sink.outs.empty());
            CHECK(sink.dropped(DropReason::FlowDrop) + sink.dropped(DropReason::TtlExceeded) == 1);
            continue;
        }
        REQUIRE(sink.outs.size() == want.size());
        for (size_t i = 0; i < want.size(); i++) {
            CHECK(sink.outs[i].port == want[i].port);
            CHECK(sink.out_bytes(i) == want[i].bytes);   // after the whole list: no aliasing
            CHECK(checksums_valid(sink.out_bytes(i)));
        }
        CHECK(sink.dropped(DropReason::TtlExceeded) == (dropped ? 1u : 0u));
    }
}

// ------------------------------------------------------------------- revalidation

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include <rte_cycles.h>
#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include "datapath.h"

namespace {

struct CountingSink final : StatsSink {
    std::atomic<uint64_t> packets{0};
    void credit(uint64_t p, uint64_t, uint64_t) override { packets += p; }
};

// Stands in for ofproto: scans an n-rule table (64: about what a small OpenFlow table
// costs per lookup; 0: revalidation overhead alone), then answers
// "in_port + dl_type + nw_dst -> output:out_port".
class RevalTranslator final : public FlowTranslator {
public:
    explicit RevalTranslator(int n_rules) : rule(std::make_shared<CountingSink>()) {
        for (int i = 0; i < n_rules; i++) {
            FlowKey m, k;
            m.clear();
            k.clear();
            m.tp_dst = 0xffff;
            k.tp_dst = rte_cpu_to_be_16(uint16_t(10000 + i));
            table_.push_back({m, k});
        }
    }
    bool translate(const FlowKey& key, Translation& out) const override {
        unsigned hits = 0;
        for (const auto& [m, k] : table_) hits += flow_key_matches(key, m, k);
        out.mask.in_port = ~0u;
        out.mask.dl_type = 0xffff;
        out.mask.nw_dst = ~0u;
        if (odd_wider.load(std::memory_order_relaxed) && (rte_be_to_cpu_32(key.nw_dst) & 1))
            out.mask.nw_src = ~0u;
        out.actions.push_back(DpAction::output(out_port.load(std::memory_order_relaxed) + hits));
        out.rules.push_back(rule);
        return true;
    }
    std::atomic<uint32_t> out_port{1};
    std::atomic<bool> odd_wider{false};
    std::shared_ptr<CountingSink> rule;

private:
    std::vector<std::pair<FlowKey, FlowKey>> table_;
};

FlowKey reval_key(uint32_t i) {
    FlowKey k;
    k.clear();
    k.in_port = 1;
    k.dl_type = rte_cpu_to_be_16(0x0800);
    k.nw_src = rte_cpu_to_be_32(0x01000000 + i);
    k.nw_dst = rte_cpu_to_be_32(0x0a000000 + i);
    k.nw_proto = 17;
    k.tp_dst = rte_cpu_to_be_16(53);
    return k;
}

}  // namespace

// Prints the time to revalidate 100k megaflows with 1 thread and with every CPU (the
// figure in docs/datapath-actions.md); asserts the decisions and counters, not time.
TEST_CASE("revalidate: 100k megaflows, parallel retranslation, counters",
          "[switch][revalidate]") {
    vsw_test_eal();
    constexpr uint32_t kFlows = 100000;
    const int n_rules = GENERATE(0, 64);
    RevalTranslator xl(n_rules);
    DatapathConfig cfg;
    cfg.n_mbufs = 1023;
    cfg.max_megaflows = kFlows + 1000;
    cfg.megaflow_max_idle_s = 30;
    Datapath dp(cfg, xl);
    {
        Translation t;
        for (uint32_t i = 0; i < kFlows; i++) {
            t.reset();
            const FlowKey k = reval_key(i);
            REQUIRE(xl.translate(k, t));
            Classifier::InsertResult res;
            REQUIRE(dp.classifier().insert(k, t, 0, res) != nullptr);
        }
    }
    REQUIRE(dp.classifier().size() == kFlows);

    // Runs in a thread allowed on every CPU (EAL pinned this one to lcore 0), as
    // switchd's control thread is allowed on every non-PMD CPU.
    const unsigned ncpu = unsigned(sysconf(_SC_NPROCESSORS_ONLN));
    struct Run {
        unsigned threads;
        double keep_ms, update_ms;
        RevalidatorStats st;
        size_t removed;
    };
    std::vector<Run> runs;
    std::thread th([&] {
        cpu_set_t all;
        CPU_ZERO(&all);
        for (unsigned c = 0; c < ncpu; c++) CPU_SET(c, &all);
        pthread_setaffinity_np(pthread_self(), sizeof all, &all);
        for (unsigned p : {1u, ncpu}) {
            tbb::global_control gc(tbb::global_control::max_allowed_parallelism, p);
            tbb::task_arena arena{static_cast<int>(p)};
            Run r{p, 0, 0, {}, 0};
            arena.execute([&] {
                auto t0 = std::chrono::steady_clock::now();
                r.removed += dp.revalidate(true);   // nothing changed
                auto t1 = std::chrono::steady_clock::now();
                xl.out_port++;                      // every megaflow gets new actions
                r.removed += dp.revalidate(true);
                auto t2 = std::chrono::steady_clock::now();
                r.keep_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
                r.update_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
            });
            r.st = dp.revalidator_stats();
            runs.push_back(r);
            if (ncpu == 1) break;
        }
    });
    th.join();
    for (const Run& r : runs) {
        std::printf("revalidate %u megaflows, translator scanning %d rules, %u thread(s): "
                    "unchanged %.1f ms, all actions changed %.1f ms\n",
                    kFlows, n_rules, r.threads, r.keep_ms, r.update_ms);
        CHECK(r.removed == 0);
        CHECK(r.st.last_threads == r.threads);
    }
    std::fflush(stdout);
    RevalidatorStats st = dp.revalidator_stats();
    CHECK(st.runs == 2 * runs.size());
    CHECK(st.actions_updated == uint64_t(kFlows) * runs.size());
    CHECK(st.flows_checked == uint64_t(kFlows) * 2 * runs.size());
    CHECK(st.evicted_idle == 0);
    CHECK(st.removed_changed == 0);
    CHECK(st.last_flows == kFlows);
    CHECK(st.max_duration_us > 0);
    Megaflow* f = dp.classifier().lookup(reval_key(7));
    REQUIRE(f != nullptr);
    CHECK(*f->actions.load() == DpActionList{DpAction::output(xl.out_port.load())});

    // Mask change for odd addresses: removed as changed. 10k even ones idle: evicted.
    xl.odd_wider = true;
    const uint64_t hz = rte_get_tsc_hz();
    const uint64_t now = rte_rdtsc();
    uint32_t idle = 0;
    if (now > 60 * hz) {
        for (uint32_t i = 0; i < 20000; i += 2, idle++)
            dp.classifier().lookup(reval_key(i))->used_tsc.store(now - 60 * hz);
    }
    // Stats are pushed to the rules on the way.
    dp.classifier().lookup(reval_key(3))->packets.store(5);
    CHECK(dp.revalidate(true) == kFlows / 2 + idle);
    st = dp.revalidator_stats();
    CHECK(st.removed_changed == kFlows / 2);
    CHECK(st.evicted_idle == idle);
    CHECK(dp.classifier().size() == kFlows / 2 - idle);
    CHECK(xl.rule->packets.load() == 5);
    CHECK(dp.classifier().lookup(reval_key(3)) == nullptr);
    CHECK(dp.classifier().lookup(reval_key(20002)) != nullptr);
    // Without force: only idle eviction and stats.
    CHECK(dp.revalidate(false) == 0);
}

namespace {

// Megaflows with even nw_dst "looked up" table 3, odd ones tables 5 and 69 (69 % 64 = 5:
// the bloom's bit is shared); the answer is output:out_port.
class TablesTranslator final : public FlowTranslator {
public:
    bool translate(const FlowKey& key, Translation& out) const override {
        out.mask.in_port = ~0u;
        out.mask.nw_dst = ~0u;
        out.tables = (rte_be_to_cpu_32(key.nw_dst) & 1) ? uint64_t{1} << 5 : uint64_t{1} << 3;
        if (moved_odd.load() && (rte_be_to_cpu_32(key.nw_dst) & 1)) out.tables |= uint64_t{1} << 9;
        if (odd_rewrites_dst.load() && (rte_be_to_cpu_32(key.nw_dst) & 1)) out.written = 1u << nw_dst_word();
        out.actions.push_back(DpAction::output(out_port.load()));
        out.cache = !(no_cache_odd.load() && (rte_be_to_cpu_32(key.nw_dst) & 1));
        out.rules.push_back(rule);
        return true;
    }
    static unsigned nw_dst_word() {
        FlowKey m;
        m.clear();
        m.nw_dst = ~0u;
        unsigned i = 0;
        while (m.word(i) == 0) i++;
        return i;
    }
    std::atomic<uint32_t> out_port{1};
    std::atomic<bool> moved_odd{false};
    std::atomic<bool> odd_rewrites_dst{false};   // as if an action rewrote nw_dst before a lookup
    std::atomic<bool> no_cache_odd{false};       // odd keys' translations are not to be cached
    std::shared_ptr<CountingSink> rule = std::make_shared<CountingSink>();   // every megaflow's
};

// A datapath holding kFlows megaflows installed through a TablesTranslator.
struct TablesDatapath {
    static constexpr uint32_t kFlows = 1000;
    TablesTranslator xl;
    std::unique_ptr<Datapath> dp;
    explicit TablesDatapath(bool odd_rewrites_dst = false) {
        vsw_test_eal();
        xl.odd_rewrites_dst = odd_rewrites_dst;
        DatapathConfig cfg;
        cfg.n_mbufs = 1023;
        cfg.max_megaflows = 2 * kFlows;
        dp = std::make_unique<Datapath>(cfg, xl);
        Translation t;
        for (uint32_t i = 0; i < kFlows; i++) {
            t.reset();
            REQUIRE(xl.translate(reval_key(i), t));
            Classifier::InsertResult res;
            REQUIRE(dp->classifier().insert(reval_key(i), t, 0, res) != nullptr);
        }
    }
    // The output port of key i's megaflow.
    uint32_t out_of(uint32_t i) { return (*dp->classifier().lookup(reval_key(i))->actions.load())[0].port; }
};

}  // namespace

TEST_CASE("revalidate: a change in some tables re-translates only the megaflows that looked them up",
          "[switch][revalidate]") {
    TablesDatapath env;
    constexpr uint32_t kFlows = TablesDatapath::kFlows;
    TablesTranslator& xl = env.xl;
    Datapath& dp = *env.dp;
    auto out_of = [&](uint32_t i) { return env.out_of(i); };

    // "Table 3 changed": the even half is re-translated (new port), the odd half is not
    // even looked at: its stale answer shows it was skipped.
    xl.out_port = 2;
    CHECK(dp.revalidate_tables(uint64_t{1} << 3) == 0);
    RevalidatorStats st = dp.revalidator_stats();
    CHECK(st.last_retranslated == kFlows / 2);
    CHECK(st.last_flows == kFlows);
    CHECK(out_of(10) == 2);
    CHECK(out_of(11) == 1);

    // Table 69 shares table 5's bit: the odd half. A translation that now also looks up
    // table 9 records it: a later change there finds it.
    xl.out_port = 3;
    xl.moved_odd = true;
    dp.revalidate_tables(uint64_t{1} << (69 % 64));
    CHECK(dp.revalidator_stats().last_retranslated == kFlows / 2);
    CHECK(out_of(11) == 3);
    CHECK(out_of(10) == 2);
    CHECK(dp.classifier().lookup(reval_key(11))->tables == ((uint64_t{1} << 5) | (uint64_t{1} << 9)));
    xl.out_port = 4;
    dp.revalidate_tables(uint64_t{1} << 9);
    CHECK(dp.revalidator_stats().last_retranslated == kFlows / 2);
    CHECK(out_of(11) == 4);

    // No table: nothing re-translated. Full revalidation: everything, including a
    // megaflow whose translation looked up no table at all.
    dp.revalidate_tables(0);
    CHECK(dp.revalidator_stats().last_retranslated == 0);
    Translation t;
    t.reset();
    t.mask.in_port = ~0u;
    t.mask.nw_dst = ~0u;
    t.actions.push_back(DpAction::output(1));   // tables = 0
    Classifier::InsertResult res;
    REQUIRE(dp.classifier().insert(reval_key(5000), t, 0, res) != nullptr);
    dp.revalidate_tables(~uint64_t(0));
    CHECK(out_of(5000) == 1);                   // depends on no table: skipped
    dp.revalidate(true);
    CHECK(dp.revalidator_stats().last_retranslated == kFlows + 1);
    CHECK(out_of(5000) == 4);
    CHECK(out_of(10) == 4);
}

TEST_CASE("revalidate: a changed rule re-translates only the megaflows whose keys can meet it",
          "[switch][revalidate]") {
    TablesDatapath env(true);
    constexpr uint32_t kFlows = TablesDatapath::kFlows;
    TablesTranslator& xl = env.xl;
    Datapath& dp = *env.dp;
    auto out_of = [&](uint32_t i) { return env.out_of(i); };
    // A rule for key 10's destination came into table 3 (the even keys' table).
    RuleChange c;
    c.table_bit = uint64_t{1} << 3;
    c.mask.clear();
    c.mask.nw_dst = ~0u;
    c.value.clear();
    c.value.nw_dst = reval_key(10).nw_dst;
    xl.out_port = 2;
    dp.revalidate_tables(0, {c});
    CHECK(dp.revalidator_stats().last_retranslated == 1);
    CHECK(out_of(10) == 2);
    CHECK(out_of(12) == 1);   // another destination: cannot meet the rule, skipped

    // In table 5 (the odd keys'), whose translations rewrote nw_dst before a lookup: the
    // key's own destination says nothing about the lookup's, so all of them.
    c.table_bit = uint64_t{1} << 5;
    c.value.nw_dst = reval_key(11).nw_dst;
    xl.out_port = 3;
    dp.revalidate_tables(0, {c});
    CHECK(dp.revalidator_stats().last_retranslated == kFlows / 2);
    CHECK(out_of(13) == 3);
    CHECK(out_of(12) == 1);
    // A rule that fixes nothing the megaflows fix (another field): it may meet them all.
    c.table_bit = uint64_t{1} << 3;
    c.mask.clear();
    c.value.clear();
    c.mask.tp_src = 0xffff;
    dp.revalidate_tables(0, {c});
    CHECK(dp.revalidator_stats().last_retranslated == kFlows / 2);
    CHECK(out_of(12) == 3);

    // A batch (a VPC's, say): 3000 rules in table 3 for destinations no megaflow has, and
    // one for key 30's. Only key 30's megaflow is re-translated, as for a single rule.
    std::vector<RuleChange> batch;
    c.mask.clear();
    c.mask.nw_dst = ~0u;
    for (uint32_t i = 0; i < 3000; i++) {
        c.value.clear();
        c.value.nw_dst = reval_key(1000000 + i).nw_dst;
        batch.push_back(c);
    }
    c.value.nw_dst = reval_key(30).nw_dst;
    batch.push_back(c);
    xl.out_port = 4;
    dp.revalidate_tables(0, std::move(batch));
    CHECK(dp.revalidator_stats().last_retranslated == 1);
    CHECK(out_of(30) == 4);
    CHECK(out_of(32) == 3);
}


TEST_CASE("revalidate: a megaflow whose translation is no longer to be cached is removed",
          "[switch][revalidate]") {
    TablesDatapath env;
    env.xl.no_cache_odd = true;   // as ARP to a VTEP configured after the megaflows
    CHECK(env.dp->revalidate(true) == TablesDatapath::kFlows / 2);
    CHECK(env.dp->classifier().size() == TablesDatapath::kFlows / 2);
    CHECK(env.dp->classifier().lookup(reval_key(3)) == nullptr);
    CHECK(env.dp->classifier().lookup(reval_key(4)) != nullptr);
}

TEST_CASE("del-dpflows: every megaflow goes, its counts reach the rules first", "[switch][revalidate]") {
    TablesDatapath env;
    env.dp->classifier().lookup(reval_key(3))->packets.store(5);
    CHECK(env.dp->flush_megaflows() == TablesDatapath::kFlows);
    CHECK(env.xl.rule->packets.load() == 5);
    CHECK(env.dp->classifier().size() == 0);
    CHECK(env.dp->classifier().lookup(reval_key(3)) == nullptr);
    CHECK(env.dp->flush_megaflows() == 0);
}
