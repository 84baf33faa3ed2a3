// push(): byte-exact against scapy for both protocols, per-packet fields for every inner
// length (checksum checked by full recomputation), TooBig and NoHeadroom leaving the
// mbuf as it was, segmented inner frames, nothing written outside the new header.
#include <catch2/catch.hpp>

#include <random>

#include "encap_vectors.h"

using namespace vswitch::encap;
using namespace encap_test;

namespace {

TunnelSpec spec(TunnelType t) {
    TunnelSpec s;
    s.type = t;
    std::memcpy(s.src_mac, vec::kUplinkMac, 6);
    std::memcpy(s.dst_mac, vec::kNextHopMac, 6);
    s.src_ip = vec::kLocalIp;
    s.dst_ip = vec::kRemoteIp;
    s.vni = vec::kVni;
    return s;
}

TunnelHeader built(const TunnelSpec& s, uint16_t mtu = 0) {
    TunnelHeader h;
    std::string err;
    REQUIRE(build_header(s, h, err));
    h.mtu = mtu;
    return h;
}

Bytes random_frame(std::mt19937& rng, size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    return b;
}

// The outer headers of a pushed packet, checked field by field with independent code.
void check_outer(const Bytes& out, const TunnelHeader& h, size_t inner_len, uint32_t hash) {
    REQUIRE(out.size() == inner_len + h.len);
    const size_t ip_len = inner_len + h.len - 14;
    CHECK(be16(&out[16]) == ip_len);
    CHECK(ref_sum(&out[14], 20) == 0xffff);   // checksum valid
    // And equal to what a from-scratch computation puts there.
    Bytes hdr(out.begin() + 14, out.begin() + 34);
    put16(&hdr[10], 0);
    CHECK(be16(&out[24]) == static_cast<uint16_t>(~ref_sum(hdr.data(), 20)));
    if (h.type == TunnelType::Vxlan) {
        CHECK(be16(&out[34]) == entropy_port(hash));
        CHECK(be16(&out[38]) == ip_len - 20);
        CHECK(be16(&out[40]) == 0);   // UDP checksum
    }
    // Everything else is the template.
    for (size_t i = 0; i < h.len; ++i) {
        bool per_packet = i == 16 || i == 17 || i == 24 || i == 25 ||
                          (h.type == TunnelType::Vxlan && (i == 34 || i == 35 || i == 38 || i == 39));
        if (!per_packet && out[i] != h.bytes[i]) FAIL_CHECK("byte " << i << " differs from the template");
    }
}

}  // namespace

TEST_CASE("push VXLAN: byte for byte what scapy builds", "[push]") {
    TunnelHeader h = built(spec(TunnelType::Vxlan));
    Mbuf m = make(vec::inner());
    const uint16_t headroom = rte_pktmbuf_headroom(m.get());
    REQUIRE(push(m.get(), h, vec::kHash) == PushResult::Ok);
    CHECK(bytes_of(m.get()) == vec::vxlan());
    CHECK(m->data_len == 110);
    CHECK(m->pkt_len == 110);
    CHECK(rte_pktmbuf_headroom(m.get()) == headroom - 50);
}

TEST_CASE("push GRE: byte for byte what scapy builds", "[push]") {
    TunnelHeader h = built(spec(TunnelType::Gre));
    Mbuf m = make(vec::inner());
    REQUIRE(push(m.get(), h, vec::kHash) == PushResult::Ok);
    CHECK(bytes_of(m.get()) == vec::gre());
    CHECK(m->pkt_len == 102);

    TunnelSpec s = spec(TunnelType::Gre);
    s.vni = 0xdeadbeef;
    Mbuf k = make(vec::inner());
    REQUIRE(push(k.get(), built(s), 0) == PushResult::Ok);
    CHECK(bytes_of(k.get()) == vec::gre_key_max());
}

TEST_CASE("push VXLAN with tos, no DF, ttl, port 8472, VNI 2^24-1", "[push]") {
    TunnelSpec s = spec(TunnelType::Vxlan);
    s.tos = 0xb8;
    s.df = false;
    s.ttl = 17;
    s.dst_port = 8472;
    s.vni = 0xffffff;
    Mbuf m = make(vec::inner());
    REQUIRE(push(m.get(), built(s), 0) == PushResult::Ok);
    CHECK(bytes_of(m.get()) == vec::vxlan_tos_nodf());
}

TEST_CASE("push fills length and checksum right for every inner length", "[push]") {
    std::mt19937 rng(3);
    for (TunnelType t : {TunnelType::Vxlan, TunnelType::Gre}) {
        TunnelHeader h = built(spec(t));
        for (size_t n = 14; n <= 1998; ++n) {
            uint32_t hash = rng();
            Mbuf m = make(random_frame(rng, n));
            REQUIRE(push(m.get(), h, hash) == PushResult::Ok);
            check_outer(bytes_of(m.get()), h, n, hash);
        }
    }
}

TEST_CASE("push checksum: random templates and lengths against full recomputation", "[push]") {
    // Different addresses, TOS and TTL move the base sum around, including next to the
    // fold boundary, which a fixed template would never reach.
    std::mt19937 rng(5);
    for (int i = 0; i < 3000; ++i) {
        TunnelSpec s = spec(i % 2 ? TunnelType::Vxlan : TunnelType::Gre);
        s.src_ip = htonl((rng() % 0xdfffffff) + 1);   // below 224/4: unicast
        s.dst_ip = rng() | 1;
        s.tos = static_cast<uint8_t>(rng());
        s.ttl = static_cast<uint8_t>(rng() % 255 + 1);
        s.df = rng() & 1;
        if (s.type == TunnelType::Vxlan) s.vni = rng() & 0xffffff;
        TunnelHeader h = built(s);
        size_t n = 14 + rng() % 1987;
        uint32_t hash = rng();
        Mbuf m = make(random_frame(rng, n));
        REQUIRE(push(m.get(), h, hash) == PushResult::Ok);
        check_outer(bytes_of(m.get()), h, n, hash);
    }
}

TEST_CASE("push onto a segmented inner frame", "[push]") {
    std::mt19937 rng(9);
    for (TunnelType t : {TunnelType::Vxlan, TunnelType::Gre}) {
        TunnelHeader h = built(spec(t));
        Bytes inner = random_frame(rng, 5000);
        Mbuf m = make(inner, {100, 2000, 2000});
        REQUIRE(m->nb_segs == 4);
        REQUIRE(push(m.get(), h, 77) == PushResult::Ok);
        CHECK(m->nb_segs == 4);
        CHECK(m->data_len == 100 + h.len);
        Bytes out = bytes_of(m.get());
        check_outer(out, h, inner.size(), 77);
        CHECK(Bytes(out.begin() + h.len, out.end()) == inner);
    }
}

TEST_CASE("push writes nothing but the new header", "[push]") {
    for (TunnelType t : {TunnelType::Vxlan, TunnelType::Gre}) {
        TunnelHeader h = built(spec(t));
        Mbuf m = make(vec::inner());
        auto* buf = static_cast<uint8_t*>(m->buf_addr);
        std::memset(buf, 0xee, m->data_off);   // headroom: must stay 0xee outside the header
        const Snapshot before(m.get());
        REQUIRE(push(m.get(), h, 1) == PushResult::Ok);
        const Snapshot after(m.get());
        const size_t start = m->data_off;
        for (size_t i = 0; i < before.segs[0].buf.size(); ++i) {
            if (i >= start && i < start + h.len) continue;
            if (after.segs[0].buf[i] != before.segs[0].buf[i]) FAIL_CHECK("byte " << i << " of the buffer changed");
        }
    }
}

TEST_CASE("push TooBig: over the underlay MTU, mbuf unchanged", "[push]") {
    std::mt19937 rng(1);
    // VXLAN adds 36 bytes to the inner frame's length at the IP layer, GRE 28: a 1500 MTU
    // fits inner frames of 1464 and 1472 bytes.
    for (auto [t, fits] : {std::pair{TunnelType::Vxlan, 1464}, std::pair{TunnelType::Gre, 1472}}) {
        TunnelHeader h = built(spec(t), 1500);
        Mbuf ok = make(random_frame(rng, fits));
        CHECK(push(ok.get(), h, 0) == PushResult::Ok);
        CHECK(be16(rte_pktmbuf_mtod_offset(ok.get(), const uint8_t*, 16)) == 1500);

        Mbuf big = make(random_frame(rng, fits + 1));
        const Snapshot before(big.get());
        CHECK(push(big.get(), h, 0) == PushResult::TooBig);
        CHECK(Snapshot(big.get()) == before);
    }
}

TEST_CASE("push TooBig without an MTU: no outer packet over 65535 bytes", "[push]") {
    TunnelHeader h = built(spec(TunnelType::Vxlan));
    std::mt19937 rng(2);
    // 65535 - 36 = 65499 is the largest inner frame an IPv4 total length can carry.
    const std::vector<size_t> segs(33, 2000);
    Mbuf fits = make(random_frame(rng, 65499), segs);
    CHECK(push(fits.get(), h, 0) == PushResult::Ok);
    CHECK(be16(rte_pktmbuf_mtod_offset(fits.get(), const uint8_t*, 16)) == 65535);
    Mbuf big = make(random_frame(rng, 65500), segs);
    const Snapshot before(big.get());
    CHECK(push(big.get(), h, 0) == PushResult::TooBig);
    CHECK(Snapshot(big.get()) == before);
}

TEST_CASE("push NoHeadroom leaves the mbuf unchanged, an exact fit works", "[push]") {
    for (TunnelType t : {TunnelType::Vxlan, TunnelType::Gre}) {
        TunnelHeader h = built(spec(t));
        Mbuf tight = make(vec::inner(), {}, static_cast<uint16_t>(h.len - 1));
        const Snapshot before(tight.get());
        CHECK(push(tight.get(), h, vec::kHash) == PushResult::NoHeadroom);
        CHECK(Snapshot(tight.get()) == before);

        Mbuf exact = make(vec::inner(), {}, h.len);
        REQUIRE(push(exact.get(), h, vec::kHash) == PushResult::Ok);
        CHECK(rte_pktmbuf_headroom(exact.get()) == 0);
        CHECK(bytes_of(exact.get()) == (t == TunnelType::Vxlan ? vec::vxlan() : vec::gre()));
    }
}

TEST_CASE("push checks the MTU before the headroom", "[push]") {
    TunnelHeader h = built(spec(TunnelType::Gre), 100);
    Mbuf m = make(fill(100, 1), {}, 0);
    CHECK(push(m.get(), h, 0) == PushResult::TooBig);
}
