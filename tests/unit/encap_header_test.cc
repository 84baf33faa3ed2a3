// build_header(): template bytes against scapy's packets, the precomputed checksum base,
// every validation error; TunnelHeader equality; entropy_port() range, determinism and
// spread.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <random>
#include <set>
#include <type_traits>
#include <vector>

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

TunnelHeader built(const TunnelSpec& s) {
    TunnelHeader h;
    std::string err;
    REQUIRE(build_header(s, h, err));
    CHECK(err.empty());
    return h;
}

// The scapy packet's outer headers with the per-packet fields zeroed: what the template
// must hold.
Bytes template_of(Bytes pkt, size_t len, bool vxlan) {
    pkt.resize(len);
    put16(&pkt[16], 0);   // IP total length
    put16(&pkt[24], 0);   // IP checksum
    if (vxlan) {
        put16(&pkt[34], 0);   // UDP source port
        put16(&pkt[38], 0);   // UDP length
    }
    return pkt;
}

}  // namespace

TEST_CASE("TunnelHeader is trivially copyable, fixed size", "[header]") {
    STATIC_REQUIRE(std::is_trivially_copyable_v<TunnelHeader>);
    STATIC_REQUIRE(kVxlanOverhead == 50);
    STATIC_REQUIRE(kGreOverhead == 42);
}

TEST_CASE("build_header lays out the VXLAN template as scapy does", "[header]") {
    TunnelHeader h = built(spec(TunnelType::Vxlan));
    CHECK(h.len == kVxlanOverhead);
    CHECK(h.type == TunnelType::Vxlan);
    CHECK(h.mtu == 0);
    Bytes want = template_of(vec::vxlan(), kVxlanOverhead, true);
    CHECK(Bytes(h.bytes, h.bytes + h.len) == want);
    CHECK(std::all_of(h.bytes + h.len, h.bytes + kHeaderMax, [](uint8_t b) { return b == 0; }));
    // The base sum plus scapy's total length (0x60) gives scapy's checksum (0xb739).
    uint32_t s = h.ip_csum_base + 0x60u;
    s = (s & 0xffff) + (s >> 16);
    CHECK(static_cast<uint16_t>(~s) == 0xb739);
    CHECK(h.ip_csum_base == ref_sum(&want[14], 20));
}

TEST_CASE("build_header lays out the GRE template as scapy does", "[header]") {
    TunnelHeader h = built(spec(TunnelType::Gre));
    CHECK(h.len == kGreOverhead);
    CHECK(h.type == TunnelType::Gre);
    Bytes want = template_of(vec::gre(), kGreOverhead, false);
    CHECK(Bytes(h.bytes, h.bytes + h.len) == want);
    CHECK(std::all_of(h.bytes + h.len, h.bytes + kHeaderMax, [](uint8_t b) { return b == 0; }));
    CHECK(h.ip_csum_base == ref_sum(&want[14], 20));

    TunnelSpec s = spec(TunnelType::Gre);
    s.vni = 0xdeadbeef;   // the GRE key is a full 32 bits
    TunnelHeader k = built(s);
    CHECK(Bytes(k.bytes, k.bytes + k.len) == template_of(vec::gre_key_max(), kGreOverhead, false));
}

TEST_CASE("build_header honours tos, df, ttl, port and the largest VNI", "[header]") {
    TunnelSpec s = spec(TunnelType::Vxlan);
    s.tos = 0xb8;
    s.df = false;
    s.ttl = 17;
    s.dst_port = 8472;
    s.vni = 0xffffff;
    TunnelHeader h = built(s);
    CHECK(Bytes(h.bytes, h.bytes + h.len) == template_of(vec::vxlan_tos_nodf(), kVxlanOverhead, true));
}

TEST_CASE("build_header rejects what cannot be encoded, naming the field", "[header]") {
    struct Case {
        const char* what;
        TunnelType type;
        std::function<void(TunnelSpec&)> change;
        const char* prefix;     // the error starts with this
        const char* contains;   // and says this
    };
    const Case cases[] = {
        {"VNI over 24 bits", TunnelType::Vxlan, [](TunnelSpec& s) { s.vni = 1u << 24; }, "vni: ",
         "16777216 exceeds 24 bits"},
        {"VNI all ones", TunnelType::Vxlan, [](TunnelSpec& s) { s.vni = 0xffffffff; }, "vni: ",
         "exceeds 24 bits"},
        {"zero source", TunnelType::Vxlan, [](TunnelSpec& s) { s.src_ip = 0; }, "src_ip: ", "0.0.0.0"},
        {"multicast source", TunnelType::Gre, [](TunnelSpec& s) { s.src_ip = ipv4(239, 1, 1, 1); },
         "src_ip: ", "239.1.1.1 is a multicast address"},
        {"broadcast source", TunnelType::Vxlan,
         [](TunnelSpec& s) { s.src_ip = ipv4(255, 255, 255, 255); }, "src_ip: ", "broadcast"},
        {"zero destination", TunnelType::Gre, [](TunnelSpec& s) { s.dst_ip = 0; }, "dst_ip: ", "0.0.0.0"},
        {"multicast source MAC", TunnelType::Vxlan, [](TunnelSpec& s) { s.src_mac[0] = 0x01; },
         "src_mac: ", "01:00:00:00:00:01 is a multicast address"},
        {"zero source MAC", TunnelType::Vxlan, [](TunnelSpec& s) { std::memset(s.src_mac, 0, 6); },
         "src_mac: ", "00:00:00:00:00:00"},
        {"unresolved next hop", TunnelType::Gre, [](TunnelSpec& s) { std::memset(s.dst_mac, 0, 6); },
         "dst_mac: ", "not resolved"},
        {"VXLAN port 0", TunnelType::Vxlan, [](TunnelSpec& s) { s.dst_port = 0; }, "dst_port: ", "0"},
        {"TTL 0", TunnelType::Gre, [](TunnelSpec& s) { s.ttl = 0; }, "ttl: ", "0"},
        {"unknown type", TunnelType::Vxlan, [](TunnelSpec& s) { s.type = static_cast<TunnelType>(9); },
         "type: ", "9"},
    };
    for (const Case& c : cases) {
        SECTION(c.what) {
            TunnelSpec s = spec(c.type);
            c.change(s);
            TunnelHeader h = built(spec(TunnelType::Gre));
            const TunnelHeader before = h;
            std::string err;
            CHECK_FALSE(build_header(s, h, err));
            CHECK_THAT(err, Catch::StartsWith(c.prefix) && Catch::Contains(c.contains));
            CHECK(std::memcmp(&h, &before, sizeof h) == 0);   // out untouched
        }
    }
}

TEST_CASE("build_header accepts the edges of what is valid", "[header]") {
    TunnelSpec s = spec(TunnelType::Vxlan);
    s.vni = 0;
    built(s);
    s.vni = 0xffffff;
    built(s);
    s.dst_ip = ipv4(239, 1, 1, 1);   // VXLAN flood group
    built(s);
    TunnelSpec g = spec(TunnelType::Gre);
    g.dst_port = 0;   // not used by GRE
    g.vni = 0xffffffff;
    built(g);
    g.ttl = 255;
    built(g);
}

TEST_CASE("TunnelHeader equality: what the template says, not the unused tail", "[header]") {
    TunnelHeader a = built(spec(TunnelType::Vxlan)), b = built(spec(TunnelType::Vxlan));
    CHECK(a == b);
    b.bytes[kHeaderMax - 1] = 0x55;   // beyond len: not part of the template
    CHECK(a == b);
    b.mtu = 1500;
    CHECK_FALSE(a == b);
    TunnelSpec s = spec(TunnelType::Vxlan);
    s.vni = 5002;
    CHECK_FALSE(a == built(s));
    CHECK_FALSE(a == built(spec(TunnelType::Gre)));
    s = spec(TunnelType::Vxlan);
    s.tos = 4;
    TunnelHeader t = built(s);
    CHECK_FALSE(a == t);
}

TEST_CASE("entropy_port stays in the dynamic range and is deterministic", "[entropy]") {
    std::mt19937 rng(7);
    for (uint32_t h : {0u, 1u, 0x3fffu, 0x4000u, 0xffffffffu, 0x80000000u, 0x12345678u}) {
        CHECK(entropy_port(h) >= 49152);
        CHECK(entropy_port(h) == entropy_port(h));
    }
    for (int i = 0; i < 200000; ++i) {
        uint32_t h = rng();
        uint16_t p = entropy_port(h);
        REQUIRE(p >= 49152);
        REQUIRE(p == entropy_port(h));
    }
}

TEST_CASE("entropy_port spreads flows over the range", "[entropy]") {
    std::mt19937 rng(11);
    SECTION("random hashes") {
        // 10k hashes into 16384 ports: ~7490 distinct expected for a uniform map.
        std::set<uint16_t> ports;
        for (int i = 0; i < 10000; ++i) ports.insert(entropy_port(rng()));
        CHECK(ports.size() > 7000);
        // And evenly: 1.6M hashes, 100 per port on average.
        std::vector<uint32_t> n(65536);
        for (int i = 0; i < 1638400; ++i) ++n[entropy_port(rng())];
        auto [lo, hi] = std::minmax_element(n.begin() + 49152, n.end());
        CHECK(*lo > 50);
        CHECK(*hi < 160);
    }
    SECTION("hashes that differ only in their low bits") {
        std::set<uint16_t> ports;
        for (uint32_t i = 0; i < 16384; ++i) ports.insert(entropy_port(0xabc00000u | i));
        CHECK(ports.size() == 16384);
    }
    SECTION("hashes that differ only in their high bits (weak low bits, e.g. Toeplitz)") {
        std::set<uint16_t> ports;
        for (uint32_t i = 0; i < 16384; ++i) ports.insert(entropy_port(i << 14 | 0x15));
        CHECK(ports.size() == 16384);
        // Even the top nibble alone moves the port.
        std::set<uint16_t> top;
        for (uint32_t i = 0; i < 16; ++i) top.insert(entropy_port(i << 28));
        CHECK(top.size() == 16);
    }
    SECTION("every single input bit changes the port") {
        for (int b = 0; b < 32; ++b) CHECK(entropy_port(0x5a5a5a5a) != entropy_port(0x5a5a5a5a ^ (1u << b)));
    }
}
