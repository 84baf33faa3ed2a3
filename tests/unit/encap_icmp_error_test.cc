// icmp_make_error(): the error byte for byte as built from scratch (checksums summed
// independently), VLAN tags and IP options, short and segmented packets, and every packet
// RFC 1812 4.3.2.7 says never to answer, left unchanged.
#include <catch2/catch.hpp>

#include <cstring>

#include "encap_util.h"
#include "overlay/encap/icmp_error.h"

using namespace vswitch::encap;
using namespace encap_test;

namespace {

constexpr uint32_t kGateway = 0x0a010001;   // 10.1.0.1, host order as the action takes it

struct Packet {
    Bytes dst_mac = hex("0a5600001389");
    Bytes src_mac = hex("525400000001");
    Bytes tags;
    Bytes ip_options;
    uint32_t src = ipv4(10, 1, 0, 11), dst = ipv4(10, 1, 1, 12);   // network order
    uint8_t ttl = 1, proto = 17;
    uint16_t frag = 0x4000;
    Bytes payload = hex("1f401f410020abcd" "0102030405060708");   // UDP 8000 -> 8001, then data

    Bytes ip_header() const {
        const size_t ihl = 20 + ip_options.size();
        Bytes ip(ihl);
        ip[0] = static_cast<uint8_t>(0x40 | ihl / 4);
        put16(&ip[2], static_cast<uint16_t>(ihl + payload.size()));
        put16(&ip[4], 0x4321);
        put16(&ip[6], frag);
        ip[8] = ttl;
        ip[9] = proto;
        std::memcpy(&ip[12], &src, 4);
        std::memcpy(&ip[16], &dst, 4);
        std::copy(ip_options.begin(), ip_options.end(), ip.begin() + 20);
        put16(&ip[10], static_cast<uint16_t>(~ref_sum(ip.data(), ihl)));
        return ip;
    }
    Bytes build() const { return cat(cat(cat(cat(dst_mac, src_mac), tags), hex("0800")), cat(ip_header(), payload)); }

    // The error about it, from scratch.
    Bytes error(uint8_t type, uint8_t code) const {
        const Bytes quote = cat(ip_header(), Bytes(payload.begin(), payload.begin() + std::min<size_t>(8, payload.size())));
        Bytes icmp = cat(Bytes{type, code, 0, 0, 0, 0, 0, 0}, quote);
        put16(&icmp[2], static_cast<uint16_t>(~ref_sum(icmp.data(), icmp.size())));
        Bytes ip(20);
        ip[0] = 0x45;
        ip[1] = 0xc0;
        put16(&ip[2], static_cast<uint16_t>(20 + icmp.size()));
        ip[8] = 64;
        ip[9] = 1;
        const uint32_t gw = ipv4(10, 1, 0, 1);
        std::memcpy(&ip[12], &gw, 4);
        std::memcpy(&ip[16], &src, 4);
        put16(&ip[10], static_cast<uint16_t>(~ref_sum(ip.data(), 20)));
        return cat(cat(cat(cat(src_mac, dst_mac), tags), hex("0800")), cat(ip, icmp));
    }
};

Bytes answer(const Bytes& pkt, bool expect, const std::vector<size_t>& segs = {},
             uint16_t headroom = RTE_PKTMBUF_HEADROOM, uint8_t type = 11, uint8_t code = 0) {
    Mbuf m = make(pkt, segs, headroom);
    const Snapshot before(m.get());
    CHECK(icmp_make_error(m.get(), type, code, kGateway) == expect);
    if (!expect) CHECK(Snapshot(m.get()) == before);
    else CHECK(m->nb_segs == 1);
    return bytes_of(m.get());
}

}  // namespace

TEST_CASE("icmp error: time exceeded byte for byte as built from scratch", "[icmp][error]") {
    Packet p;
    CHECK(answer(p.build(), true) == p.error(11, 0));
    // Other types and codes; a TCP packet; an ICMP echo (not an error: answered).
    CHECK(answer(p.build(), true, {}, RTE_PKTMBUF_HEADROOM, 3, 1) == p.error(3, 1));
    p.proto = 6;
    CHECK(answer(p.build(), true) == p.error(11, 0));
    p.proto = 1;
    p.payload = hex("0800f7ff00010001" "6162");
    CHECK(answer(p.build(), true) == p.error(11, 0));
}

TEST_CASE("icmp error: tags kept, options quoted, short and segmented packets", "[icmp][error]") {
    Packet p;
    SECTION("two VLAN tags") {
        p.tags = hex("88a8006481000065");
        CHECK(answer(p.build(), true) == p.error(11, 0));
    }
    SECTION("IP options: the whole header is quoted") {
        p.ip_options = hex("94040000");
        CHECK(answer(p.build(), true) == p.error(11, 0));
    }
    SECTION("fewer than 8 payload bytes: what there is") {
        p.payload = hex("1f401f41");
        CHECK(answer(p.build(), true) == p.error(11, 0));
        p.payload.clear();
        p.proto = 6;
        CHECK(answer(p.build(), true) == p.error(11, 0));
    }
    SECTION("a big packet in segments: the quote from the first, the rest freed") {
        p.payload = cat(p.payload, Bytes(3000, 0x5a));
        CHECK(answer(p.build(), true, {100, 1000}) == p.error(11, 0));
    }
    SECTION("a first fragment is answered") {
        p.frag = 0x2000;   // MF, offset 0
        CHECK(answer(p.build(), true) == p.error(11, 0));
    }
}

TEST_CASE("icmp error: what must not be answered is left unchanged", "[icmp][error]") {
    Packet p;
    auto refused = [](const Packet& q) { answer(q.build(), false); };
    SECTION("an ICMP error about an ICMP error") {
        for (uint8_t t : {3, 4, 5, 11, 12}) {
            p.proto = 1;
            p.payload = Bytes{t, 0, 0, 0, 0, 0, 0, 0};
            refused(p);
        }
    }
    SECTION("a non-first fragment") {
        p.frag = 0x0010;
        refused(p);
    }
    SECTION("addresses that name no single host") {
        for (uint32_t src : {ipv4(0, 0, 0, 0), ipv4(127, 0, 0, 1), ipv4(224, 0, 0, 5), ipv4(255, 255, 255, 255)}) {
            Packet q = p;
            q.src = src;
            refused(q);
        }
        for (uint32_t dst : {ipv4(255, 255, 255, 255), ipv4(239, 1, 2, 3)}) {
            Packet q = p;
            q.dst = dst;
            refused(q);
        }
        Packet q = p;
        q.dst_mac = hex("ffffffffffff");
        refused(q);
        q = p;
        q.src_mac = hex("010000000001");
        refused(q);
    }
    SECTION("not IPv4, truncated, no headroom") {
        Bytes b = p.build();
        b[12] = 0x86, b[13] = 0xdd;
        answer(b, false);
        b = p.build();
        b.resize(14 + 19);
        answer(b, false);
        answer(p.build(), false, {}, 27);   // 28 bytes go in front
        answer(p.build(), true, {}, 28);
    }
}
