// icmp_frag_needed(): answers byte for byte as scapy builds them (plain, VLAN-tagged with
// IP options, short payload), the same fields checked one by one as a decoder reads
// them, segmented originals, and every packet that must get no answer.
#include <catch2/catch.hpp>

#include "encap_vectors.h"

using namespace vswitch::encap;
using namespace encap_test;

namespace {

Mbuf answer(const Bytes& orig, uint16_t mtu, const std::vector<size_t>& segs = {}) {
    Mbuf o = make(orig, segs);
    const Snapshot before(o.get());
    Mbuf a(icmp_frag_needed(o.get(), mtu, pool()));
    CHECK(Snapshot(o.get()) == before);   // orig is only read
    return a;
}

// A 1500-byte TCP packet with its IPv4 header fields set through `change`.
Bytes tcp_orig(void (*change)(Bytes&)) {
    Bytes b = vec::icmp_orig();
    change(b);
    fix_ip_csum(b);
    return b;
}

}  // namespace

TEST_CASE("icmp_frag_needed: byte for byte what scapy builds", "[icmp]") {
    Mbuf a = answer(vec::icmp_orig(), 1450);
    REQUIRE(a);
    CHECK(bytes_of(a.get()) == vec::icmp_answer());
    CHECK(a->nb_segs == 1);
}

TEST_CASE("icmp_frag_needed: field by field", "[icmp]") {
    const Bytes orig = vec::icmp_orig();
    Mbuf a = answer(orig, 1450);
    REQUIRE(a);
    const Bytes b = bytes_of(a.get());
    REQUIRE(b.size() == 14 + 20 + 8 + 28);
    // Ethernet: back to the sender, from the address it sent to.
    CHECK(Bytes(b.begin(), b.begin() + 6) == Bytes(orig.begin() + 6, orig.begin() + 12));
    CHECK(Bytes(b.begin() + 6, b.begin() + 12) == Bytes(orig.begin(), orig.begin() + 6));
    CHECK(be16(&b[12]) == 0x0800);
    // IP.
    const uint8_t* ip = &b[14];
    CHECK(ip[0] == 0x45);
    CHECK(ip[1] == 0xc0);                 // precedence "internetwork control"
    CHECK(be16(ip + 2) == 20 + 8 + 28);   // total length
    CHECK(be16(ip + 6) == 0);             // no DF, no fragment
    CHECK(ip[8] == 64);
    CHECK(ip[9] == 1);
    CHECK(ref_sum(ip, 20) == 0xffff);
    CHECK(be32(ip + 12) == be32(&orig[14 + 16]));   // from the original destination
    CHECK(be32(ip + 16) == be32(&orig[14 + 12]));   // to the original source
    // ICMP.
    const uint8_t* icmp = ip + 20;
    CHECK(icmp[0] == 3);
    CHECK(icmp[1] == 4);
    CHECK(ref_sum(icmp, 8 + 28) == 0xffff);   // over the whole message
    CHECK(be16(icmp + 4) == 0);               // unused / RFC 4884 length
    CHECK(be16(icmp + 6) == 1450);            // next-hop MTU
    CHECK(Bytes(icmp + 8, icmp + 36) == Bytes(orig.begin() + 14, orig.begin() + 14 + 28));
}

TEST_CASE("icmp_frag_needed: VLAN tag and IP options are carried", "[icmp]") {
    Mbuf a = answer(vec::icmp_vlan_orig(), 1458);
    REQUIRE(a);
    const Bytes b = bytes_of(a.get());
    CHECK(b == vec::icmp_vlan_answer());
    CHECK(be16(&b[12]) == 0x8100);
    CHECK(be16(&b[14]) == 0xa064);          // same priority and VLAN
    CHECK(be16(&b[18 + 2]) == 20 + 8 + 24 + 8);   // the 24-byte header is quoted whole
}

TEST_CASE("icmp_frag_needed: two tags (QinQ) are carried", "[icmp]") {
    const Bytes plain = vec::icmp_orig();
    Bytes orig(plain.begin(), plain.begin() + 12);
    for (uint8_t x : {0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x00, 0x14}) orig.push_back(x);
    orig.insert(orig.end(), plain.begin() + 12, plain.end());
    Mbuf a = answer(orig, 1400);
    REQUIRE(a);
    const Bytes b = bytes_of(a.get());
    CHECK(Bytes(b.begin() + 12, b.begin() + 22) == Bytes(orig.begin() + 12, orig.begin() + 22));
    // The rest is the untagged answer with a different MTU (so a different checksum).
    Bytes want = vec::icmp_answer();
    put16(&want[14 + 20 + 6], 1400);
    put16(&want[14 + 20 + 2], 0);
    put16(&want[14 + 20 + 2], static_cast<uint16_t>(~ref_sum(&want[34], want.size() - 34)));
    CHECK(Bytes(b.begin() + 22, b.end()) == Bytes(want.begin() + 14, want.end()));
}

TEST_CASE("icmp_frag_needed: fewer than 8 payload bytes, padding not quoted", "[icmp]") {
    Mbuf a = answer(vec::icmp_short_orig(), 1000);
    REQUIRE(a);
    CHECK(bytes_of(a.get()) == vec::icmp_short_answer());   // odd-length checksum too
}

TEST_CASE("icmp_frag_needed: a segmented original gives the same answer", "[icmp]") {
    for (size_t first : {1, 13, 14, 20, 33, 34, 40, 47, 60}) {
        INFO("first segment " << first << " bytes");
        Mbuf a = answer(vec::icmp_orig(), 1450, {first, 5});
        REQUIRE(a);
        CHECK(bytes_of(a.get()) == vec::icmp_answer());
    }
}

TEST_CASE("icmp_frag_needed answers ICMP queries and first fragments", "[icmp]") {
    // An echo request too big for the tunnel deserves an answer.
    Bytes echo = tcp_orig([](Bytes& b) { b[23] = 1; b[34] = 8; b[35] = 0; });
    Mbuf a = answer(echo, 1450);
    REQUIRE(a);
    CHECK(bytes_of(a.get())[14 + 20 + 8 + 20] == 8);   // the quoted ICMP type
    Bytes first = tcp_orig([](Bytes& b) { put16(&b[20], 0x2000); });   // MF, offset 0
    CHECK(answer(first, 1450));
    Bytes no_df = tcp_orig([](Bytes& b) { put16(&b[20], 0); });   // DF is the caller's business
    CHECK(answer(no_df, 1450));
}

TEST_CASE("icmp_frag_needed refuses what must not be answered", "[icmp]") {
    struct Case {
        const char* what;
        void (*change)(Bytes&);
    };
    const Case cases[] = {
        {"ARP", [](Bytes& b) { put16(&b[12], 0x0806); }},
        {"IPv6", [](Bytes& b) { put16(&b[12], 0x86dd); }},
        {"IPv4 EtherType, version 6", [](Bytes& b) { b[14] = 0x65; }},
        {"IHL 4", [](Bytes& b) { b[14] = 0x44; }},
        {"total length below the header", [](Bytes& b) { put16(&b[16], 12); }},
        {"non-first fragment", [](Bytes& b) { put16(&b[20], 0x0001); }},
        {"last fragment", [](Bytes& b) { put16(&b[20], 0x00b9); }},
        {"middle fragment", [](Bytes& b) { put16(&b[20], 0x20b9); }},
        {"ICMP dest unreachable", [](Bytes& b) { b[23] = 1; b[34] = 3; }},
        {"ICMP source quench", [](Bytes& b) { b[23] = 1; b[34] = 4; }},
        {"ICMP redirect", [](Bytes& b) { b[23] = 1; b[34] = 5; }},
        {"ICMP time exceeded", [](Bytes& b) { b[23] = 1; b[34] = 11; }},
        {"ICMP parameter problem", [](Bytes& b) { b[23] = 1; b[34] = 12; }},
        {"ICMP without a type byte", [](Bytes& b) { b[23] = 1; put16(&b[16], 20); }},
        {"to an IP multicast group", [](Bytes& b) { b[30] = 239; }},
        {"to the IP broadcast address", [](Bytes& b) { b[30] = b[31] = b[32] = b[33] = 255; }},
        {"from 0.0.0.0", [](Bytes& b) { b[26] = b[27] = b[28] = b[29] = 0; }},
        {"from loopback", [](Bytes& b) { b[26] = 127; }},
        {"from multicast", [](Bytes& b) { b[26] = 224; }},
        {"from 240/4", [](Bytes& b) { b[26] = 250; }},
        {"to Ethernet broadcast", [](Bytes& b) { std::memset(&b[0], 0xff, 6); }},
        {"to an Ethernet multicast", [](Bytes& b) { b[0] = 0x01; b[1] = 0x00; b[2] = 0x5e; }},
        {"from an Ethernet multicast", [](Bytes& b) { b[6] = 0x33; }},
    };
    for (const Case& c : cases) {
        INFO(c.what);
        Bytes orig = vec::icmp_orig();
        c.change(orig);
        if (orig[14] >> 4 == 4 && (orig[14] & 0xf) >= 5) fix_ip_csum(orig);
        CHECK_FALSE(answer(orig, 1450));
    }
    SECTION("truncated before the end of the IP header") {
        const Bytes orig = vec::icmp_orig();
        for (size_t n = 0; n < 34; ++n) CHECK_FALSE(answer(Bytes(orig.begin(), orig.begin() + static_cast<long>(n)), 1450));
        Bytes opts = vec::icmp_vlan_orig();   // 24-byte header after a tag: 42 bytes
        opts.resize(41);
        CHECK_FALSE(answer(opts, 1450));
        // No payload at all is still answerable: the header is quoted alone.
        Bytes bare(orig.begin(), orig.begin() + 34);
        put16(&bare[16], 20);
        fix_ip_csum(bare);
        Mbuf a = answer(bare, 1450);
        REQUIRE(a);
        CHECK(a->pkt_len == 14 + 20 + 8 + 20);
        CHECK(ref_sum(rte_pktmbuf_mtod_offset(a.get(), const uint8_t*, 34), 28) == 0xffff);
    }
}

TEST_CASE("icmp_frag_needed: nullptr when the pool is empty", "[icmp]") {
    pool();   // EAL up
    rte_mempool* tiny = rte_pktmbuf_pool_create("icmp_tiny", 1, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    REQUIRE(tiny);
    rte_mbuf* hold = rte_pktmbuf_alloc(tiny);
    REQUIRE(hold);
    Mbuf o = make(vec::icmp_orig());
    CHECK(icmp_frag_needed(o.get(), 1450, tiny) == nullptr);
    rte_pktmbuf_free(hold);
    Mbuf a(icmp_frag_needed(o.get(), 1450, tiny));
    CHECK(a);
    a.reset();
    rte_mempool_free(tiny);
}
