// pop(): scapy's packets decapsulated to the inner frame and metadata, push/pop round
// trips, and for every PopResult the crafted packets that must give it while leaving the
// mbuf (and md) exactly as they were.
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

TunnelHeader built(const TunnelSpec& s) {
    TunnelHeader h;
    std::string err;
    REQUIRE(build_header(s, h, err));
    return h;
}

const TunnelMd kSentinel{0xfeedfacecafebeefull, 0x01020304, 0x05060708};

bool same(const TunnelMd& a, const TunnelMd& b) {
    return a.tun_id == b.tun_id && a.tun_src == b.tun_src && a.tun_dst == b.tun_dst;
}

struct Popped {
    PopResult r;
    TunnelMd md;
    Bytes inner;
};

Popped pop_bytes(const Bytes& pkt, TunnelType t, uint16_t port = kVxlanPort,
                 const std::vector<size_t>& segs = {}) {
    Mbuf m = make(pkt, segs);
    Popped p{PopResult::Ok, kSentinel, {}};
    p.r = pop(m.get(), t, port, p.md);
    p.inner = bytes_of(m.get());
    return p;
}

// pop must give `want` and leave both the mbuf and md as they were.
void expect_refused(const Bytes& pkt, TunnelType t, PopResult want, uint16_t port = kVxlanPort,
                    const std::vector<size_t>& segs = {}) {
    Mbuf m = make(pkt, segs);
    const Snapshot before(m.get());
    TunnelMd md = kSentinel;
    CHECK(pop(m.get(), t, port, md) == want);
    CHECK(Snapshot(m.get()) == before);
    CHECK(same(md, kSentinel));
}

Bytes random_frame(std::mt19937& rng, size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    return b;
}

}  // namespace

TEST_CASE("pop scapy's VXLAN packet", "[pop]") {
    Popped p = pop_bytes(vec::vxlan(), TunnelType::Vxlan);
    REQUIRE(p.r == PopResult::Ok);
    CHECK(p.inner == vec::inner());
    CHECK(p.md.tun_id == 5001);
    CHECK(p.md.tun_src == vec::kLocalIp);
    CHECK(p.md.tun_dst == vec::kRemoteIp);
}

TEST_CASE("pop scapy's GRE packets", "[pop]") {
    Popped p = pop_bytes(vec::gre(), TunnelType::Gre);
    REQUIRE(p.r == PopResult::Ok);
    CHECK(p.inner == vec::inner());
    CHECK(p.md.tun_id == 5001);
    CHECK(p.md.tun_src == vec::kLocalIp);
    CHECK(p.md.tun_dst == vec::kRemoteIp);

    Popped k = pop_bytes(vec::gre_key_max(), TunnelType::Gre);
    REQUIRE(k.r == PopResult::Ok);
    CHECK(k.md.tun_id == 0xdeadbeef);
    CHECK(k.inner == vec::inner());
}

TEST_CASE("pop skips outer IP options and ignores a UDP checksum", "[pop]") {
    Popped p = pop_bytes(vec::vxlan_udpcsum_opts(), TunnelType::Vxlan);
    REQUIRE(p.r == PopResult::Ok);
    CHECK(p.inner == vec::inner());
    CHECK(p.md.tun_id == 42);
    CHECK(p.md.tun_src == vec::kRemoteIp);
    CHECK(p.md.tun_dst == vec::kLocalIp);
}

TEST_CASE("pop GRE with checksum and sequence number skips both", "[pop]") {
    Popped p = pop_bytes(vec::gre_csum_seq(), TunnelType::Gre);
    REQUIRE(p.r == PopResult::Ok);
    CHECK(p.inner == vec::inner());
    CHECK(p.md.tun_id == 7);
}

TEST_CASE("pop GRE without key gives tun_id 0 and trims Ethernet padding", "[pop]") {
    Popped p = pop_bytes(vec::gre_nokey_padded(), TunnelType::Gre);
    REQUIRE(p.r == PopResult::Ok);
    CHECK(p.md.tun_id == 0);
    CHECK(p.inner == hex("525400000002525400000001 88b5"));
}

TEST_CASE("pop trims trailing bytes past the IP total length, in the last segment", "[pop]") {
    Bytes pkt = cat(vec::vxlan(), fill(9, 0xab));
    Popped p = pop_bytes(pkt, TunnelType::Vxlan);
    REQUIRE(p.r == PopResult::Ok);
    CHECK(p.inner == vec::inner());
    Popped s = pop_bytes(pkt, TunnelType::Vxlan, kVxlanPort, {64, 40});   // 3 segments
    REQUIRE(s.r == PopResult::Ok);
    CHECK(s.inner == vec::inner());
}

TEST_CASE("pop VXLAN: a UDP length shorter than the IP payload ends the tunnel payload", "[pop]") {
    Bytes pkt = cat(vec::vxlan(), fill(6, 0xab));
    put16(&pkt[16], static_cast<uint16_t>(be16(&pkt[16]) + 6));   // IP covers the junk
    fix_ip_csum(pkt);
    Popped p = pop_bytes(pkt, TunnelType::Vxlan);
    REQUIRE(p.r == PopResult::Ok);
    CHECK(p.inner == vec::inner());
}

TEST_CASE("pop on another VXLAN port", "[pop]") {
    Popped p = pop_bytes(vec::vxlan_tos_nodf(), TunnelType::Vxlan, 8472);
    REQUIRE(p.r == PopResult::Ok);
    CHECK(p.md.tun_id == 0xffffff);
    CHECK(p.inner == vec::inner());
    expect_refused(vec::vxlan_tos_nodf(), TunnelType::Vxlan, PopResult::NotTunnel);
}

TEST_CASE("pop: the inner frame may span segments, the outer headers may not", "[pop]") {
    Popped p = pop_bytes(vec::vxlan(), TunnelType::Vxlan, kVxlanPort, {50});   // headers exactly
    REQUIRE(p.r == PopResult::Ok);
    CHECK(p.inner == vec::inner());
    for (size_t first = 0; first < 50; ++first)
        expect_refused(vec::vxlan(), TunnelType::Vxlan, PopResult::Malformed, kVxlanPort, {first});
    for (size_t first = 0; first < 42; ++first)
        expect_refused(vec::gre(), TunnelType::Gre, PopResult::Malformed, kVxlanPort, {first});
    // Trailing bytes that reach back beyond the last segment cannot be trimmed.
    expect_refused(cat(vec::gre(), fill(20, 0)), TunnelType::Gre, PopResult::Malformed, kVxlanPort, {110});
}

TEST_CASE("push then pop round-trips every size from 60 to 1500", "[pop][roundtrip]") {
    std::mt19937 rng(17);
    for (TunnelType t : {TunnelType::Vxlan, TunnelType::Gre}) {
        TunnelSpec s = spec(t);
        for (size_t n = 60; n <= 1500; ++n) {
            s.vni = t == TunnelType::Vxlan ? (rng() & 0xffffff) : rng();
            TunnelHeader h = built(s);
            Bytes inner = random_frame(rng, n);
            // A few segment layouts: one buffer, and inner frames split after the header.
            std::vector<size_t> segs;
            if (n % 7 == 0) segs = {n / 3, n / 3};
            Mbuf m = make(inner, segs);
            REQUIRE(push(m.get(), h, static_cast<uint32_t>(rng())) == PushResult::Ok);
            TunnelMd md;
            REQUIRE(pop(m.get(), t, kVxlanPort, md) == PopResult::Ok);
            CHECK(bytes_of(m.get()) == inner);
            CHECK(md.tun_id == s.vni);
            CHECK(md.tun_src == s.src_ip);
            CHECK(md.tun_dst == s.dst_ip);
        }
    }
}

// ------------------------------------------------------------------ refusals

TEST_CASE("pop Malformed: truncated anywhere up to the end of the headers", "[pop][bad]") {
    for (auto [t, full] : {std::pair{TunnelType::Vxlan, vec::vxlan()}, std::pair{TunnelType::Gre, vec::gre()}}) {
        const size_t hdr = t == TunnelType::Vxlan ? kVxlanOverhead : kGreOverhead;
        for (size_t len = 0; len <= hdr + 14; ++len) {
            INFO((t == TunnelType::Vxlan ? "VXLAN" : "GRE") << " cut to " << len << " bytes");
            // As cut off on the wire (the IP total length still says 96/88)...
            Bytes cut(full.begin(), full.begin() + static_cast<long>(len));
            expect_refused(cut, t, PopResult::Malformed);
            // ...and with lengths and checksum made consistent with what is left, so the
            // checks after the IP header's are the ones that must catch it.
            if (len >= 34 && len < hdr + 14) {
                put16(&cut[16], static_cast<uint16_t>(len - 14));
                fix_ip_csum(cut);
                if (t == TunnelType::Vxlan && len >= 42) put16(&cut[38], static_cast<uint16_t>(len - 34));
                expect_refused(cut, t, PopResult::Malformed);
            }
        }
    }
}

TEST_CASE("pop Malformed: IP version, IHL, total length, UDP length", "[pop][bad]") {
    struct Case {
        const char* what;
        void (*change)(Bytes&);
    };
    const Case cases[] = {
        {"version 6", [](Bytes& b) { b[14] = 0x65; }},
        {"version 0", [](Bytes& b) { b[14] = 0x05; }},
        {"IHL 4", [](Bytes& b) { b[14] = 0x44; }},
        {"IHL 0", [](Bytes& b) { b[14] = 0x40; }},
        {"IHL beyond the first segment", [](Bytes& b) { b.resize(70); b[14] = 0x4f; }},
        {"total length below the header", [](Bytes& b) { put16(&b[16], 19); }},
        {"total length beyond the frame", [](Bytes& b) { put16(&b[16], static_cast<uint16_t>(b.size() - 13)); }},
    };
    for (const Case& c : cases) {
        for (auto [t, pkt] : {std::pair{TunnelType::Vxlan, vec::vxlan()}, std::pair{TunnelType::Gre, vec::gre()}}) {
            INFO(c.what << (t == TunnelType::Vxlan ? " (VXLAN)" : " (GRE)"));
            c.change(pkt);
            fix_ip_csum(pkt);
            expect_refused(pkt, t, PopResult::Malformed);
        }
    }
    SECTION("UDP length") {
        for (uint16_t ulen : {0, 7, 8, 15, 0x4c + 1, 0xffff}) {
            INFO("UDP length " << ulen);
            Bytes pkt = vec::vxlan();
            put16(&pkt[38], ulen);
            expect_refused(pkt, TunnelType::Vxlan, PopResult::Malformed);
        }
    }
    SECTION("no room for an inner Ethernet header") {
        const Bytes gre = vec::gre();
        Bytes pkt(gre.begin(), gre.begin() + 42 + 13);
        put16(&pkt[16], 41);
        fix_ip_csum(pkt);
        expect_refused(pkt, TunnelType::Gre, PopResult::Malformed);
        // 14 bytes are enough.
        Bytes ok(gre.begin(), gre.begin() + 42 + 14);
        put16(&ok[16], 42);
        fix_ip_csum(ok);
        CHECK(pop_bytes(ok, TunnelType::Gre).r == PopResult::Ok);
    }
    SECTION("GRE optional words past the end of the packet") {
        Bytes pkt = vec::gre_csum_seq();
        pkt.resize(34 + 12);   // GRE base, checksum, key: no sequence number word
        put16(&pkt[16], 32);
        fix_ip_csum(pkt);
        expect_refused(pkt, TunnelType::Gre, PopResult::Malformed);
    }
}

TEST_CASE("pop BadChecksum: outer IPv4 header checksum wrong", "[pop][bad]") {
    for (auto [t, pkt] : {std::pair{TunnelType::Vxlan, vec::vxlan()}, std::pair{TunnelType::Gre, vec::gre()}}) {
        Bytes a = pkt;
        a[25] ^= 1;   // the checksum itself
        expect_refused(a, t, PopResult::BadChecksum);
        Bytes b = pkt;
        b[22] -= 1;   // TTL decremented without updating the checksum
        expect_refused(b, t, PopResult::BadChecksum);
        Bytes c = pkt;
        put16(&c[24], 0);   // IPv4 has no "checksum absent"
        expect_refused(c, t, PopResult::BadChecksum);
    }
    Bytes o = vec::vxlan_udpcsum_opts();
    o[36] ^= 0x80;   // inside the options: covered too
    expect_refused(o, TunnelType::Vxlan, PopResult::BadChecksum);
}

TEST_CASE("pop Fragment: MF or an offset, DF irrelevant", "[pop][bad]") {
    for (auto [t, pkt] : {std::pair{TunnelType::Vxlan, vec::vxlan()}, std::pair{TunnelType::Gre, vec::gre()}}) {
        for (uint16_t frag : {0x2000, 0x0001, 0x2001, 0x1fff, 0x4001, 0x6000}) {
            INFO("flags/offset " << frag);
            Bytes b = pkt;
            put16(&b[20], frag);
            fix_ip_csum(b);
            expect_refused(b, t, PopResult::Fragment);
        }
        Bytes no_df = pkt;
        put16(&no_df[20], 0);
        fix_ip_csum(no_df);
        CHECK(pop_bytes(no_df, t).r == PopResult::Ok);
    }
}

TEST_CASE("pop NotTunnel: not IPv4, wrong protocol, wrong port", "[pop][bad]") {
    Bytes v6 = vec::vxlan();
    put16(&v6[12], 0x86dd);
    expect_refused(v6, TunnelType::Vxlan, PopResult::NotTunnel);
    Bytes tagged = vec::gre();
    put16(&tagged[12], 0x8100);
    expect_refused(tagged, TunnelType::Gre, PopResult::NotTunnel);

    Bytes tcp = vec::vxlan();
    tcp[23] = 6;
    fix_ip_csum(tcp);
    expect_refused(tcp, TunnelType::Vxlan, PopResult::NotTunnel);
    Bytes udp = vec::gre();
    udp[23] = 17;
    fix_ip_csum(udp);
    expect_refused(udp, TunnelType::Gre, PopResult::NotTunnel);

    // Each protocol's packet offered as the other.
    expect_refused(vec::gre(), TunnelType::Vxlan, PopResult::NotTunnel);
    expect_refused(vec::vxlan(), TunnelType::Gre, PopResult::NotTunnel);

    for (uint16_t port : {4790, 8472, 0, 0xb512}) {
        INFO("expected port " << port);
        expect_refused(vec::vxlan(), TunnelType::Vxlan, PopResult::NotTunnel, port);
    }
    Bytes geneve = vec::vxlan();
    put16(&geneve[36], 6081);
    expect_refused(geneve, TunnelType::Vxlan, PopResult::NotTunnel);
}

TEST_CASE("pop BadTunnelHeader: VXLAN flags and reserved bits", "[pop][bad]") {
    struct Case {
        const char* what;
        size_t at;
        uint8_t value;
    };
    const Case cases[] = {
        {"no I flag", 42, 0x00},      {"G bit (GBP) with I", 42, 0x88},
        {"another flag with I", 42, 0x0c}, {"I in the wrong place", 42, 0x80},
        {"reserved byte 1", 43, 0x01}, {"reserved byte 2", 44, 0x80},
        {"reserved byte 3", 45, 0x10}, {"last reserved byte", 49, 0x01},
    };
    for (const Case& c : cases) {
        INFO(c.what);
        Bytes b = vec::vxlan();
        b[c.at] = c.value;
        expect_refused(b, TunnelType::Vxlan, PopResult::BadTunnelHeader);
    }
}

TEST_CASE("pop BadTunnelHeader: GRE version, routing, RFC 1701 bits, payload type", "[pop][bad]") {
    struct Case {
        const char* what;
        uint16_t flags;   // replaces the K-only 0x2000
        uint16_t proto;
    };
    const Case cases[] = {
        {"version 1 (PPTP)", 0x2001, 0x6558},  {"version 7", 0x2007, 0x6558},
        {"routing bit", 0x6000, 0x6558},       {"strict source route", 0x2800, 0x6558},
        {"recursion bit 5", 0x2400, 0x6558},   {"IPv4 payload", 0x2000, 0x0800},
        {"IPv6 payload", 0x2000, 0x86dd},      {"ERSPAN payload", 0x2000, 0x88be},
    };
    for (const Case& c : cases) {
        INFO(c.what);
        Bytes b = vec::gre();
        put16(&b[34], c.flags);
        put16(&b[36], c.proto);
        expect_refused(b, TunnelType::Gre, PopResult::BadTunnelHeader);
    }
    // Bits 6..12 are reserved for future use and ignored on receipt (RFC 2784).
    Bytes b = vec::gre();
    put16(&b[34], 0x23f8);
    Popped p = pop_bytes(b, TunnelType::Gre);
    CHECK(p.r == PopResult::Ok);
    CHECK(p.md.tun_id == 5001);
}
