// flow_extract: packets built byte by byte, every key field checked; bad-frame
// classification per flow_extract.h; multi-segment mbufs parse like single ones.
#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "eal_fixture.h"
#include "flow_extract.h"

using namespace vswitch;

namespace {

using Bytes = std::vector<uint8_t>;

const uint8_t kDst[6] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
const uint8_t kSrc[6] = {0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};

struct Pkt {
    Bytes b;
    Pkt& u8(uint8_t v) { b.push_back(v); return *this; }
    Pkt& u16(uint16_t v) { return u8(v >> 8).u8(v & 0xff); }
    Pkt& u32(uint32_t v) { return u16(v >> 16).u16(v & 0xffff); }
    Pkt& raw(const uint8_t* p, size_t n) { b.insert(b.end(), p, p + n); return *this; }
    Pkt& zeros(size_t n) { b.insert(b.end(), n, 0); return *this; }
    Pkt& eth(uint16_t type) { return raw(kDst, 6).raw(kSrc, 6).u16(type); }
    Pkt& tag(uint16_t tpid, uint16_t tci) { return raw(kDst, 6).raw(kSrc, 6).u16(tpid).u16(tci); }
    // IPv4 header; ihl in words, options zero-filled.
    Pkt& ipv4(uint8_t proto, uint32_t src, uint32_t dst, uint16_t total, uint16_t frag = 0,
              uint8_t ihl = 5, uint8_t tos = 0xb8, uint8_t ttl = 64, uint8_t version = 4) {
        u8(static_cast<uint8_t>(version << 4 | ihl)).u8(tos).u16(total).u16(0x1234).u16(frag);
        u8(ttl).u8(proto).u16(0).u32(src).u32(dst);
        if (ihl > 5) zeros((ihl - 5) * 4);
        return *this;
    }
    Pkt& ipv6(uint8_t nh, uint16_t plen, uint8_t tc = 0xa5, uint8_t hlim = 255) {
        u32(6u << 28 | uint32_t(tc) << 20 | 0x12345).u16(plen).u8(nh).u8(hlim);
        for (int i = 0; i < 16; i++) u8(static_cast<uint8_t>(0x20 + i));   // src
        for (int i = 0; i < 16; i++) u8(static_cast<uint8_t>(0xf0 + i));   // dst
        return *this;
    }
    Pkt& tcp(uint16_t sp, uint16_t dp) {
        return u16(sp).u16(dp).u32(1000).u32(0).u16(0x5002).u16(8192).u16(0).u16(0);
    }
    Pkt& udp(uint16_t sp, uint16_t dp, uint16_t len) { return u16(sp).u16(dp).u16(len).u16(0); }
    Pkt& icmp(uint8_t type, uint8_t code) { return u8(type).u8(code).u16(0).u32(0x00010002); }
};

rte_mbuf* to_mbuf(const Bytes& b) {
    rte_mbuf* m = rte_pktmbuf_alloc(vsw_test_eal());
    REQUIRE(m != nullptr);
    char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(b.size()));
    REQUIRE(d != nullptr);
    if (!b.empty()) std::memcpy(d, b.data(), b.size());
    return m;
}

// Same bytes split into segments at the given cut offsets.
rte_mbuf* to_chain(const Bytes& b, std::vector<size_t> cuts) {
    cuts.push_back(b.size());
    rte_mbuf* head = nullptr;
    size_t from = 0;
    for (size_t to : cuts) {
        rte_mbuf* seg = to_mbuf(Bytes(b.begin() + from, b.begin() + to));
        if (head == nullptr) head = seg;
        else REQUIRE(rte_pktmbuf_chain(head, seg) == 0);
        from = to;
    }
    return head;
}

ParseResult parse(const Bytes& b, FlowKey& k, uint32_t in_port = 7) {
    rte_mbuf* m = to_mbuf(b);
    ParseResult r = flow_extract(m, in_port, k);
    rte_pktmbuf_free(m);
    return r;
}

ParseResult parse(const Bytes& b) {
    FlowKey k;
    return parse(b, k);
}

FlowKey l2_key(uint16_t type, uint32_t in_port = 7) {
    FlowKey e;
    e.clear();
    e.in_port = in_port;
    std::memcpy(e.dl_dst, kDst, 6);
    std::memcpy(e.dl_src, kSrc, 6);
    e.dl_type = rte_cpu_to_be_16(type);
    return e;
}

void check_key(const FlowKey& got, const FlowKey& exp) {
    CHECK(got.in_port == exp.in_port);
    CHECK(got.recirc_id == exp.recirc_id);
    CHECK(got.tun_id == exp.tun_id);
    CHECK(got.tun_src == exp.tun_src);
    CHECK(got.tun_dst == exp.tun_dst);
    CHECK(std::memcmp(got.dl_dst, exp.dl_dst, 6) == 0);
    CHECK(std::memcmp(got.dl_src, exp.dl_src, 6) == 0);
    CHECK(rte_be_to_cpu_16(got.dl_type) == rte_be_to_cpu_16(exp.dl_type));
    CHECK(rte_be_to_cpu_16(got.vlan_tci) == rte_be_to_cpu_16(exp.vlan_tci));
    CHECK(rte_be_to_cpu_32(got.nw_src) == rte_be_to_cpu_32(exp.nw_src));
    CHECK(rte_be_to_cpu_32(got.nw_dst) == rte_be_to_cpu_32(exp.nw_dst));
    CHECK(int(got.nw_proto) == int(exp.nw_proto));
    CHECK(int(got.nw_tos) == int(exp.nw_tos));
    CHECK(int(got.nw_ttl) == int(exp.nw_ttl));
    CHECK(int(got.nw_frag) == int(exp.nw_frag));
    CHECK(rte_be_to_cpu_16(got.tp_src) == rte_be_to_cpu_16(exp.tp_src));
    CHECK(rte_be_to_cpu_16(got.tp_dst) == rte_be_to_cpu_16(exp.tp_dst));
    CHECK(got.reserved0 == 0);
    CHECK(std::memcmp(got.ipv6_src, exp.ipv6_src, 16) == 0);
    CHECK(std::memcmp(got.ipv6_dst, exp.ipv6_dst, 16) == 0);
    CHECK(got == exp);   // catches anything the field list missed
}

FlowKey v4_key(uint8_t proto, uint16_t sp, uint16_t dp) {
    FlowKey e = l2_key(0x0800);
    e.nw_src = rte_cpu_to_be_32(0x0a000001);
    e.nw_dst = rte_cpu_to_be_32(0xc0a80102);
    e.nw_proto = proto;
    e.nw_tos = 0xb8;
    e.nw_ttl = 64;
    e.tp_src = rte_cpu_to_be_16(sp);
    e.tp_dst = rte_cpu_to_be_16(dp);
    return e;
}

Bytes tcp4(uint8_t ihl = 5) {
    return Pkt().eth(0x0800)
        .ipv4(6, 0x0a000001, 0xc0a80102, static_cast<uint16_t>(ihl * 4 + 20), 0, ihl)
        .tcp(1234, 80).b;
}

Bytes ipv6_udp() { return Pkt().eth(0x86dd).ipv6(17, 8 + 4).udp(5353, 53, 12).u32(0xdeadbeef).b; }

void set_v6_addrs(FlowKey& e) {
    for (int i = 0; i < 16; i++) {
        e.ipv6_src[i] = static_cast<uint8_t>(0x20 + i);
        e.ipv6_dst[i] = static_cast<uint8_t>(0xf0 + i);
    }
}

}  // namespace

TEST_CASE("flow_extract: TCP over IPv4", "[switch][flow_extract]") {
    FlowKey k;
    REQUIRE(parse(tcp4(), k) == ParseResult::Ok);
    check_key(k, v4_key(6, 1234, 80));
}

TEST_CASE("flow_extract: UDP over IPv4 with IP options", "[switch][flow_extract]") {
    // ihl 7: the UDP header sits after 8 bytes of options.
    Bytes b = Pkt().eth(0x0800).ipv4(17, 0x0a000001, 0xc0a80102, 28 + 8, 0, 7)
                  .udp(40000, 4789, 8).b;
    FlowKey k;
    REQUIRE(parse(b, k) == ParseResult::Ok);
    check_key(k, v4_key(17, 40000, 4789));
}

TEST_CASE("flow_extract: ICMP over IPv4 puts type/code in tp_src/tp_dst", "[switch][flow_extract]") {
    Bytes b = Pkt().eth(0x0800).ipv4(1, 0x0a000001, 0xc0a80102, 28).icmp(3, 1).b;
    FlowKey k;
    REQUIRE(parse(b, k) == ParseResult::Ok);
    check_key(k, v4_key(1, 3, 1));
    // The value is in the low byte of a network-order u16.
    const auto* tp = reinterpret_cast<const uint8_t*>(&k.tp_src);
    CHECK(tp[0] == 0);
    CHECK(tp[1] == 3);
    CHECK(tp[3] == 1);
}

TEST_CASE("flow_extract: Ethernet padding after a short IPv4 packet", "[switch][flow_extract]") {
    Bytes b = Pkt().eth(0x0800).ipv4(17, 0x0a000001, 0xc0a80102, 28).udp(1, 2, 8).zeros(18).b;
    REQUIRE(b.size() == 60);
    FlowKey k;
    REQUIRE(parse(b, k) == ParseResult::Ok);
    check_key(k, v4_key(17, 1, 2));
}

TEST_CASE("flow_extract: UDP over IPv6", "[switch][flow_extract]") {
    FlowKey k;
    REQUIRE(parse(ipv6_udp(), k) == ParseResult::Ok);
    FlowKey e = l2_key(0x86dd);
    e.nw_proto = 17;
    e.nw_tos = 0xa5;   // traffic class straddles the first two bytes
    e.nw_ttl = 255;
    set_v6_addrs(e);
    e.tp_src = rte_cpu_to_be_16(5353);
    e.tp_dst = rte_cpu_to_be_16(53);
    check_key(k, e);
}

TEST_CASE("flow_extract: ICMPv6 and an unparsed IPv6 next header", "[switch][flow_extract]") {
    FlowKey k;
    REQUIRE(parse(Pkt().eth(0x86dd).ipv6(58, 24).icmp(135, 0).zeros(16).b, k) == ParseResult::Ok);
    FlowKey e = l2_key(0x86dd);
    e.nw_proto = 58;
    e.nw_tos = 0xa5;
    e.nw_ttl = 255;
    set_v6_addrs(e);
    e.tp_src = rte_cpu_to_be_16(135);
    check_key(k, e);

    // Fragment header (44): nothing behind the fixed header is parsed.
    REQUIRE(parse(Pkt().eth(0x86dd).ipv6(44, 16).udp(1, 2, 8).zeros(8).b, k) == ParseResult::Ok);
    e.nw_proto = 44;
    e.tp_src = 0;
    check_key(k, e);
}

TEST_CASE("flow_extract: ARP request and reply", "[switch][flow_extract]") {
    auto arp = [](uint16_t op) {
        Pkt p;
        p.eth(0x0806).u16(1).u16(0x0800).u8(6).u8(4).u16(op);
        p.raw(kSrc, 6).u32(0x0a000001);   // SHA, SPA
        p.zeros(6).u32(0x0a0000fe);       // THA, TPA
        return p.zeros(18).b;             // padded to 60
    };
    FlowKey k;
    REQUIRE(parse(arp(1), k) == ParseResult::Ok);
    FlowKey e = l2_key(0x0806);
    e.nw_src = rte_cpu_to_be_32(0x0a000001);
    e.nw_dst = rte_cpu_to_be_32(0x0a0000fe);
    e.nw_proto = 1;
    check_key(k, e);

    REQUIRE(parse(arp(2), k) == ParseResult::Ok);
    e.nw_proto = 2;
    check_key(k, e);

    // ARP for another protocol: L2 only, not an error.
    Bytes other = Pkt().eth(0x0806).u16(1).u16(0x86dd).u8(6).u8(16).u16(1).zeros(40).b;
    REQUIRE(parse(other, k) == ParseResult::Ok);
    check_key(k, l2_key(0x0806));
}

TEST_CASE("flow_extract: 802.1Q tagged IPv4", "[switch][flow_extract]") {
    Bytes b = Pkt().tag(0x8100, 0xa064).u16(0x0800)
                  .ipv4(6, 0x0a000001, 0xc0a80102, 40).tcp(1234, 80).b;
    FlowKey k;
    REQUIRE(parse(b, k) == ParseResult::Ok);
    FlowKey e = v4_key(6, 1234, 80);
    e.vlan_tci = rte_cpu_to_be_16(0xa064 | kVlanCfi);
    check_key(k, e);

    // VID 0 / PCP 0 still differs from "no tag".
    Bytes z = Pkt().tag(0x8100, 0x0000).u16(0x88cc).zeros(46).b;
    REQUIRE(parse(z, k) == ParseResult::Ok);
    e = l2_key(0x88cc);
    e.vlan_tci = rte_cpu_to_be_16(kVlanCfi);
    check_key(k, e);
}

TEST_CASE("flow_extract: QinQ keeps the outer TCI and the inner EtherType", "[switch][flow_extract]") {
    Bytes b = Pkt().tag(0x88a8, 0x200a).u16(0x8100).u16(0x0014).u16(0x0800)
                  .ipv4(17, 0x0a000001, 0xc0a80102, 28).udp(7, 9, 8).zeros(10).b;
    FlowKey k;
    REQUIRE(parse(b, k) == ParseResult::Ok);
    FlowKey e = v4_key(17, 7, 9);
    e.vlan_tci = rte_cpu_to_be_16(0x200a | kVlanCfi);
    check_key(k, e);
}

TEST_CASE("flow_extract: unknown EtherType is L2 only", "[switch][flow_extract]") {
    FlowKey k;
    Bytes b = Pkt().eth(0x88cc).u32(0x02070401).zeros(42).b;
    REQUIRE(parse(b, k, 3) == ParseResult::Ok);
    check_key(k, l2_key(0x88cc, 3));
    // Exactly an Ethernet header is enough.
    REQUIRE(parse(Pkt().eth(0x88b5).b, k, 3) == ParseResult::Ok);
    check_key(k, l2_key(0x88b5, 3));
}

TEST_CASE("flow_extract: IPv4 fragments", "[switch][flow_extract]") {
    FlowKey k;
    SECTION("first fragment keeps the ports") {
        Bytes b = Pkt().eth(0x0800).ipv4(17, 0x0a000001, 0xc0a80102, 28 + 32, 0x2000)
                      .udp(1000, 2000, 1400).zeros(32).b;
        REQUIRE(parse(b, k) == ParseResult::Ok);
        FlowKey e = v4_key(17, 1000, 2000);
        e.nw_frag = kFragAny;
        check_key(k, e);
    }
    SECTION("later fragment has no ports, even if its payload looks like a header") {
        Bytes b = Pkt().eth(0x0800).ipv4(6, 0x0a000001, 0xc0a80102, 40, 185)
                      .tcp(1234, 80).b;
        REQUIRE(parse(b, k) == ParseResult::Ok);
        FlowKey e = v4_key(6, 0, 0);
        e.nw_frag = kFragAny | kFragLater;
        check_key(k, e);
    }
    SECTION("last fragment (MF clear, offset set) is a later fragment") {
        Bytes b = Pkt().eth(0x0800).ipv4(17, 0x0a000001, 0xc0a80102, 24, 0x0010).zeros(4).b;
        REQUIRE(parse(b, k) == ParseResult::Ok);
        CHECK(int(k.nw_frag) == (kFragAny | kFragLater));
        CHECK(k.tp_src == 0);
    }
    SECTION("DF alone is not a fragment") {
        Bytes b = Pkt().eth(0x0800).ipv4(17, 0x0a000001, 0xc0a80102, 28, 0x4000).udp(1, 2, 8).b;
        REQUIRE(parse(b, k) == ParseResult::Ok);
        check_key(k, v4_key(17, 1, 2));
    }
    SECTION("a truncated L4 header is fine on a later fragment") {
        Bytes b = Pkt().eth(0x0800).ipv4(6, 0x0a000001, 0xc0a80102, 24, 0x2010).zeros(4).b;
        REQUIRE(parse(b, k) == ParseResult::Ok);
    }
}

TEST_CASE("flow_extract: runts", "[switch][flow_extract]") {
    CHECK(parse(Bytes{}) == ParseResult::Runt);
    CHECK(parse(Bytes(13, 0xff)) == ParseResult::Runt);
    Bytes tag = Pkt().raw(kDst, 6).raw(kSrc, 6).u16(0x8100).u16(0x0005).b;   // 16 bytes
    CHECK(parse(tag) == ParseResult::Runt);
    tag.push_back(0x88);   // 17: inner EtherType cut in half
    CHECK(parse(tag) == ParseResult::Runt);
    tag.push_back(0xcc);   // 18: complete (an L2-only EtherType)
    CHECK(parse(tag) == ParseResult::Ok);
    tag[16] = 0x08;        // ...but IPv4 with no header at all is malformed, not a runt
    tag[17] = 0x00;
    CHECK(parse(tag) == ParseResult::Malformed);
    Bytes qinq = Pkt().tag(0x88a8, 1).u16(0x8100).u16(2).b;   // 20: inner type missing
    CHECK(parse(qinq) == ParseResult::Runt);
}

TEST_CASE("flow_extract: malformed IPv4/IPv6/L4", "[switch][flow_extract]") {
    const uint32_t s = 0x0a000001, d = 0xc0a80102;
    SECTION("IPv4 version != 4") {
        CHECK(parse(Pkt().eth(0x0800).ipv4(17, s, d, 28, 0, 5, 0, 64, 6).udp(1, 2, 8).b) ==
              ParseResult::Malformed);
    }
    SECTION("IHL < 5") {
        CHECK(parse(Pkt().eth(0x0800).ipv4(17, s, d, 28, 0, 4).zeros(12).udp(1, 2, 8).b) ==
              ParseResult::Malformed);
    }
    SECTION("total length < IHL*4") {
        CHECK(parse(Pkt().eth(0x0800).ipv4(17, s, d, 19).udp(1, 2, 8).b) == ParseResult::Malformed);
        CHECK(parse(Pkt().eth(0x0800).ipv4(17, s, d, 20, 0, 6).udp(1, 2, 8).b) ==
              ParseResult::Malformed);
    }
    SECTION("total length beyond the frame") {
        CHECK(parse(Pkt().eth(0x0800).ipv4(17, s, d, 29).udp(1, 2, 8).b) == ParseResult::Malformed);
        // Options claimed but cut off by the frame.
        CHECK(parse(Pkt().eth(0x0800).ipv4(17, s, d, 60).b) == ParseResult::Malformed);
    }
    SECTION("IPv4 header cut short") {
        Bytes b = Pkt().eth(0x0800).ipv4(17, s, d, 28).b;
        b.resize(14 + 19);
        CHECK(parse(b) == ParseResult::Malformed);
    }
    SECTION("IPv6 header cut short") {
        Bytes b = ipv6_udp();
        b.resize(14 + 39);
        CHECK(parse(b) == ParseResult::Malformed);
    }
    SECTION("TCP header cut short") {
        Bytes b = Pkt().eth(0x0800).ipv4(6, s, d, 20 + 19).tcp(1, 2).b;
        b.pop_back();
        CHECK(parse(b) == ParseResult::Malformed);
        // Bytes in the frame past total_len do not count as L4 header.
        b = Pkt().eth(0x0800).ipv4(6, s, d, 20 + 12).tcp(1, 2).b;
        CHECK(parse(b) == ParseResult::Malformed);
    }
    SECTION("TCP header cut short on a first fragment") {
        Bytes b = Pkt().eth(0x0800).ipv4(6, s, d, 20 + 8, 0x2000).zeros(8).b;
        CHECK(parse(b) == ParseResult::Malformed);
    }
    SECTION("UDP / ICMP cut short") {
        CHECK(parse(Pkt().eth(0x0800).ipv4(17, s, d, 27).zeros(7).b) == ParseResult::Malformed);
        CHECK(parse(Pkt().eth(0x0800).ipv4(1, s, d, 24).zeros(4).b) == ParseResult::Malformed);
        CHECK(parse(Pkt().eth(0x86dd).ipv6(17, 6).zeros(6).b) == ParseResult::Malformed);
        CHECK(parse(Pkt().eth(0x86dd).ipv6(58, 4).zeros(4).b) == ParseResult::Malformed);
    }
    SECTION("a protocol we do not key on may be empty") {
        CHECK(parse(Pkt().eth(0x0800).ipv4(47, s, d, 20).b) == ParseResult::Ok);
    }
}

TEST_CASE("flow_extract: headers straddling segments parse like one segment",
          "[switch][flow_extract]") {
    std::vector<Bytes> pkts = {
        tcp4(15),   // 60-byte IPv4 header: deepest headers we parse
        ipv6_udp(),
        Pkt().tag(0x88a8, 0x200a).u16(0x8100).u16(0x0014).u16(0x0800)
            .ipv4(17, 0x0a000001, 0xc0a80102, 28).udp(7, 9, 8).zeros(10).b,
        Pkt().tag(0x8100, 0xa064).u16(0x86dd).ipv6(6, 20).tcp(22, 2222).zeros(100).b,
        Pkt().eth(0x0800).ipv4(6, 1, 2, 20 + 12).tcp(1, 2).b,   // malformed
    };
    for (size_t p = 0; p < pkts.size(); p++) {
        const Bytes& b = pkts[p];
        FlowKey ref;
        const ParseResult ref_r = parse(b, ref);
        for (size_t c1 : {1, 5, 13, 14, 15, 17, 19, 23, 30, 41, 55, 70}) {
            for (size_t extra : {0, 3, 20}) {
                size_t c2 = c1 + extra;
                if (c2 >= b.size()) continue;
                std::vector<size_t> cuts{c1};
                if (extra) cuts.push_back(c2);
                rte_mbuf* m = to_chain(b, cuts);
                REQUIRE(rte_pktmbuf_pkt_len(m) == b.size());
                FlowKey k;
                INFO("packet " << p << " cut at " << c1 << "+" << extra);
                CHECK(flow_extract(m, 7, k) == ref_r);
                if (ref_r == ParseResult::Ok) CHECK(k == ref);
                rte_pktmbuf_free(m);
            }
        }
    }
}

TEST_CASE("flow_extract: key is fully rewritten", "[switch][flow_extract]") {
    FlowKey k;
    std::memset(&k, 0xa5, sizeof k);
    REQUIRE(parse(tcp4(), k, 9) == ParseResult::Ok);
    FlowKey e = v4_key(6, 1234, 80);
    e.in_port = 9;
    check_key(k, e);
}
