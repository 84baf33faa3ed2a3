// icmp_make_echo_reply(): the reply byte for byte as built from scratch (checksums
// computed over the whole packet, so the incremental updates are checked), VLAN tags and
// IP options kept, payloads spanning segments, and every request that gets no answer.
#include <catch2/catch.hpp>

#include <cstring>

#include "encap_util.h"
#include "overlay/encap/icmp_echo.h"

using namespace vswitch::encap;
using namespace encap_test;

namespace {

struct Echo {
    Bytes dst_mac = hex("0a5600001389");
    Bytes src_mac = hex("525400000001");
    Bytes tags;               // VLAN tags, as on the wire
    Bytes ip_options;         // a multiple of 4 bytes
    uint32_t src = ipv4(10, 1, 0, 11), dst = ipv4(10, 1, 0, 1);
    uint8_t ttl = 61, type = 8, code = 0;
    uint16_t frag = 0x4000;   // DF
    size_t payload = 56;

    // The packet as a sender builds it, checksums computed from scratch.
    Bytes build() const {
        Bytes b = cat(cat(cat(dst_mac, src_mac), tags), hex("0800"));
        const size_t ip_off = b.size();
        const size_t ihl = 20 + ip_options.size();
        b.resize(ip_off + ihl + 8 + payload);
        uint8_t* ip = &b[ip_off];
        ip[0] = static_cast<uint8_t>(0x40 | ihl / 4);
        put16(ip + 2, static_cast<uint16_t>(ihl + 8 + payload));
        put16(ip + 4, 0x1234);
        put16(ip + 6, frag);
        ip[8] = ttl;
        ip[9] = 1;
        std::memcpy(ip + 12, &src, 4);   // network order already (ipv4())
        std::memcpy(ip + 16, &dst, 4);
        std::copy(ip_options.begin(), ip_options.end(), ip + 20);
        fix_ip_csum(b, ip_off);
        uint8_t* icmp = ip + ihl;
        icmp[0] = type;
        icmp[1] = code;
        put16(icmp + 4, 0x0077);   // identifier
        put16(icmp + 6, 0x0001);   // sequence
        for (size_t i = 0; i < payload; i++) icmp[8 + i] = static_cast<uint8_t>(i * 7 + 3);
        put16(icmp + 2, static_cast<uint16_t>(~ref_sum(icmp, 8 + payload)));
        return b;
    }
    // What the answer must be: the same, from the other side, TTL 64, type 0.
    Echo reply() const {
        Echo r = *this;
        std::swap(r.dst_mac, r.src_mac);
        std::swap(r.src, r.dst);
        r.ttl = 64;
        r.type = 0;
        return r;
    }
};

// Applies the action; returns the packet after it (unchanged when refused).
Bytes answer(const Bytes& req, bool expect, const std::vector<size_t>& segs = {}) {
    Mbuf m = make(req, segs);
    const Snapshot before(m.get());
    CHECK(icmp_make_echo_reply(m.get()) == expect);
    if (!expect) CHECK(Snapshot(m.get()) == before);
    return bytes_of(m.get());
}

}  // namespace

TEST_CASE("icmp echo reply: byte for byte the reply built from scratch", "[icmp][echo]") {
    Echo e;
    CHECK(answer(e.build(), true) == e.reply().build());
    // Checksums whose incremental update carries (TTL and type words near 0xffff).
    for (uint8_t ttl : {1, 64, 128, 255})
        for (uint32_t src : {ipv4(255, 255, 255, 254), ipv4(0, 0, 0, 1), ipv4(10, 1, 0, 11)}) {
            e.ttl = ttl;
            e.src = src;
            INFO("ttl " << int(ttl) << " src " << src);
            CHECK(answer(e.build(), true) == e.reply().build());
        }
}

TEST_CASE("icmp echo reply: VLAN tags, IP options and a payload in other segments", "[icmp][echo]") {
    Echo e;
    e.tags = hex("8100006488a80065");   // two tags: kept as they are
    e.ip_options = hex("01010100");      // NOPs and an end
    CHECK(answer(e.build(), true) == e.reply().build());
    Echo big;
    big.payload = 1400;
    CHECK(answer(big.build(), true, {14 + 20 + 8, 500}) == big.reply().build());
}

TEST_CASE("icmp echo reply: what is not answered stays as it was", "[icmp][echo]") {
    Echo e;
    e.type = 0;   // a reply
    answer(e.build(), false);
    e = Echo();
    e.code = 1;
    answer(e.build(), false);
    e = Echo();
    e.frag = 0x2000;   // first fragment
    answer(e.build(), false);
    e = Echo();
    e.frag = 0x0010;   // a later one
    answer(e.build(), false);
    e = Echo();
    e.dst_mac = hex("ffffffffffff");
    answer(e.build(), false);
    e = Echo();
    e.dst = ipv4(255, 255, 255, 255);
    answer(e.build(), false);
    e = Echo();
    e.dst = ipv4(224, 0, 0, 1);
    answer(e.build(), false);
    // Headers not in the first segment; truncated; not IPv4; not ICMP.
    e = Echo();
    answer(e.build(), false, {14 + 20 + 4});
    Bytes b = e.build();
    b.resize(14 + 20 + 4);
    answer(b, false);
    b = e.build();
    b[12] = 0x86;
    b[13] = 0xdd;
    answer(b, false);
    b = e.build();
    b[14 + 9] = 17;
    fix_ip_csum(b);
    answer(b, false);
}
