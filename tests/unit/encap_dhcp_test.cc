// dhcp_make_reply(): each kind of request against RFC 2131's answer, read back by a
// decoder written here (fields, options, checksums recomputed byte by byte); one answer
// byte for byte as built from scratch; every request that gets no answer, unchanged.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <map>

#include "encap_util.h"
#include "overlay/encap/dhcp_reply.h"

using namespace vswitch::encap;
using namespace encap_test;

namespace {

constexpr uint32_t kClient = 0x0a01000b;   // 10.1.0.11 (the config is host order)
constexpr uint32_t kServer = 0x0a010001;   // 10.1.0.1

DhcpConfig config() {
    DhcpConfig c;
    const uint8_t mac[6] = {0x0a, 0x56, 0x00, 0x00, 0x13, 0x89};
    std::memcpy(c.server_mac, mac, 6);
    c.server_ip = kServer;
    c.client_ip = kClient;
    c.netmask = 0xffffff00;
    c.router = kServer;
    c.lease = 86400;
    c.mtu = 1450;
    c.n_dns = 2;
    c.dns[0] = 0x0a010002;
    c.dns[1] = 0x08080808;
    return c;
}

using Options = std::vector<std::pair<uint8_t, Bytes>>;

Bytes be32b(uint32_t v) { return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)}; }

// A client's message, as dhclient lays it out (300-byte BOOTP minimum not assumed).
struct Request {
    Bytes dst_mac = hex("ffffffffffff");
    Bytes src_mac = hex("525400000001");
    Bytes chaddr = hex("525400000001");
    Bytes tags;
    Bytes ip_options;
    uint32_t ip_src = 0, ip_dst = 0xffffffff;   // host order
    uint16_t sport = 68, dport = 67, frag = 0;
    uint8_t op = 1, htype = 1, hlen = 6;
    uint16_t flags = 0;
    uint32_t ciaddr = 0, magic = 0x63825363;
    Options options;   // written in order, then 255
    size_t pad = 60;   // zero bytes after the end option

    Bytes build() const {
        Bytes b = cat(cat(cat(dst_mac, src_mac), tags), hex("0800"));
        const size_t ip_off = b.size();
        const size_t ihl = 20 + ip_options.size();
        Bytes msg(240);
        msg[0] = op;
        msg[1] = htype;
        msg[2] = hlen;
        msg[4] = 0xde, msg[5] = 0xad, msg[6] = 0xbe, msg[7] = 0xef;   // xid
        put16(&msg[8], 3);                                           // secs
        put16(&msg[10], flags);
        std::copy_n(be32b(ciaddr).begin(), 4, &msg[12]);
        std::copy(chaddr.begin(), chaddr.end(), &msg[28]);
        std::memcpy(&msg[44], "client-sname", 12);   // the answer must not echo these
        std::copy_n(be32b(magic).begin(), 4, &msg[236]);
        for (const auto& [code, v] : options) {
            msg.push_back(code);
            msg.push_back(static_cast<uint8_t>(v.size()));
            msg.insert(msg.end(), v.begin(), v.end());
        }
        msg.push_back(255);
        msg.resize(msg.size() + pad);
        b.resize(ip_off + ihl + 8);
        uint8_t* ip = &b[ip_off];
        ip[0] = static_cast<uint8_t>(0x40 | ihl / 4);
        put16(ip + 2, static_cast<uint16_t>(ihl + 8 + msg.size()));
        put16(ip + 6, frag);
        ip[8] = 64;
        ip[9] = 17;
        std::copy_n(be32b(ip_src).begin(), 4, ip + 12);
        std::copy_n(be32b(ip_dst).begin(), 4, ip + 16);
        std::copy(ip_options.begin(), ip_options.end(), ip + 20);
        fix_ip_csum(b, ip_off);
        uint8_t* udp = ip + ihl;
        put16(udp, sport);
        put16(udp + 2, dport);
        put16(udp + 4, static_cast<uint16_t>(8 + msg.size()));
        return cat(b, msg);   // UDP checksum 0: allowed over IPv4
    }
};

Request discover() {
    Request r;
    r.options = {{53, {1}}, {55, {1, 3, 6, 26}}};
    return r;
}
Request request_for(uint32_t ip, uint32_t server = kServer) {
    Request r;
    r.options = {{53, {3}}, {50, be32b(ip)}, {54, be32b(server)}};
    return r;
}

// The answer, decoded independently of the library.
struct Answer {
    Bytes eth_dst, eth_src;
    size_t l3 = 0;
    uint32_t ip_src = 0, ip_dst = 0;
    uint8_t ttl = 0, ihl = 0;
    uint16_t sport = 0, dport = 0;
    uint8_t op = 0;
    uint32_t ciaddr = 0, yiaddr = 0, siaddr = 0, giaddr = 0;
    Bytes xid, chaddr;
    uint16_t flags = 0;
    size_t bootp_len = 0;
    bool sname_file_zero = false;
    std::map<uint8_t, Bytes> opt;
    std::vector<uint8_t> order;

    uint8_t type() const { return opt.count(53) ? opt.at(53)[0] : 0; }
    uint32_t u32(uint8_t code) const { return be32(opt.at(code).data()); }
};

Answer decode(const Bytes& b, size_t l3 = 14) {
    Answer a;
    a.eth_dst.assign(b.begin(), b.begin() + 6);
    a.eth_src.assign(b.begin() + 6, b.begin() + 12);
    a.l3 = l3;
    const uint8_t* ip = &b[l3];
    a.ihl = ip[0] & 0x0f;
    REQUIRE(ip[0] == 0x45);
    REQUIRE(be16(ip + 2) == b.size() - l3);
    CHECK(ref_sum(ip, 20) == 0xffff);   // header checksum right
    CHECK(ip[9] == 17);
    a.ttl = ip[8];
    a.ip_src = be32(ip + 12);
    a.ip_dst = be32(ip + 16);
    const uint8_t* udp = ip + 20;
    a.sport = be16(udp);
    a.dport = be16(udp + 2);
    const size_t ulen = be16(udp + 4);
    REQUIRE(ulen == b.size() - l3 - 20);
    // UDP checksum over the pseudo-header: the sum of everything is 0xffff.
    Bytes pseudo(ip + 12, ip + 20);
    pseudo.push_back(0);
    pseudo.push_back(17);
    pseudo.push_back(static_cast<uint8_t>(ulen >> 8));
    pseudo.push_back(static_cast<uint8_t>(ulen));
    pseudo.insert(pseudo.end(), udp, udp + ulen);
    CHECK(be16(udp + 6) != 0);
    CHECK(ref_sum(pseudo.data(), pseudo.size()) == 0xffff);
    const uint8_t* m = udp + 8;
    a.bootp_len = ulen - 8;
    a.op = m[0];
    CHECK((m[1] == 1 && m[2] == 6 && m[3] == 0));
    a.xid.assign(m + 4, m + 8);
    CHECK(be16(m + 8) == 0);   // secs
    a.flags = be16(m + 10);
    a.ciaddr = be32(m + 12);
    a.yiaddr = be32(m + 16);
    a.siaddr = be32(m + 20);
    a.giaddr = be32(m + 24);
    a.chaddr.assign(m + 28, m + 44);
    a.sname_file_zero = std::all_of(m + 44, m + 236, [](uint8_t x) { return x == 0; });
    REQUIRE(be32(m + 236) == 0x63825363);
    size_t i = 240;
    while (i < a.bootp_len && m[i] != 255) {
        REQUIRE(i + 2 <= a.bootp_len);
        const uint8_t code = m[i], len = m[i + 1];
        REQUIRE(i + 2 + len <= a.bootp_len);
        CHECK(a.opt.count(code) == 0);
        a.opt[code] = Bytes(m + i + 2, m + i + 2 + len);
        a.order.push_back(code);
        i += 2 + len;
    }
    REQUIRE(i < a.bootp_len);   // the end option is there
    CHECK(std::all_of(m + i + 1, m + a.bootp_len, [](uint8_t x) { return x == 0; }));
    return a;
}

// Applies the action to req; the answer's bytes, or req unchanged for no answer.
Bytes run(const Bytes& req, DhcpResult expect, const DhcpConfig& c = config(),
          const std::vector<size_t>& segs = {}, uint16_t headroom = RTE_PKTMBUF_HEADROOM) {
    Mbuf m = make(req, segs, headroom);
    const Snapshot before(m.get());
    CHECK(dhcp_make_reply(m.get(), c) == expect);
    if (expect != DhcpResult::Reply) CHECK(Snapshot(m.get()) == before);
    else CHECK(m->nb_segs == 1);
    return bytes_of(m.get());
}

// The parts every answer shares.
void check_common(const Answer& a) {
    CHECK(a.eth_src == hex("0a5600001389"));
    CHECK(a.ip_src == kServer);
    CHECK(a.ttl == 64);
    CHECK((a.sport == 67 && a.dport == 68));
    CHECK(a.op == 2);
    CHECK(a.xid == hex("deadbeef"));
    CHECK(a.chaddr == cat(hex("525400000001"), Bytes(10, 0)));
    CHECK(a.siaddr == 0);
    CHECK(a.giaddr == 0);
    CHECK(a.sname_file_zero);
    CHECK(a.bootp_len >= 300);
    CHECK(a.u32(54) == kServer);
}

void check_grant_options(const Answer& a) {
    CHECK(a.u32(1) == 0xffffff00);
    CHECK(a.u32(3) == kServer);
    CHECK(a.opt.at(6) == cat(hex("0a010002"), hex("08080808")));
    CHECK(a.opt.at(26) == hex("05aa"));   // 1450
}

}  // namespace

TEST_CASE("dhcp: DISCOVER gets an OFFER of the bound address, with the options", "[dhcp]") {
    const Answer a = decode(run(discover().build(), DhcpResult::Reply));
    check_common(a);
    CHECK(a.type() == 2);
    CHECK(a.eth_dst == hex("525400000001"));   // unicast to chaddr at yiaddr
    CHECK(a.ip_dst == kClient);
    CHECK(a.yiaddr == kClient);
    CHECK(a.ciaddr == 0);
    CHECK(a.u32(51) == 86400);
    CHECK(a.u32(58) == 43200);
    CHECK(a.u32(59) == 75600);
    check_grant_options(a);
    CHECK(a.order == std::vector<uint8_t>{53, 54, 51, 58, 59, 1, 3, 6, 26});
}

TEST_CASE("dhcp: the OFFER byte for byte as built from scratch", "[dhcp]") {
    DhcpConfig c = config();
    c.n_dns = 0;
    c.mtu = 0;
    c.router = 0;
    c.lease = 0xffffffff;   // infinite: no renewal times
    Bytes want = cat(cat(hex("525400000001"), hex("0a5600001389")), hex("0800"));
    Bytes ip = hex("45000148000000004011000000000000000000000000");   // len 328, TTL 64, UDP
    ip.resize(20);
    std::copy_n(be32b(kServer).begin(), 4, &ip[12]);
    std::copy_n(be32b(kClient).begin(), 4, &ip[16]);
    put16(&ip[10], static_cast<uint16_t>(~ref_sum(ip.data(), 20)));
    Bytes msg(300);
    msg[0] = 2, msg[1] = 1, msg[2] = 6;
    std::copy_n(hex("deadbeef").begin(), 4, &msg[4]);
    std::copy_n(be32b(kClient).begin(), 4, &msg[16]);
    std::copy_n(hex("525400000001").begin(), 6, &msg[28]);
    std::copy_n(hex("63825363").begin(), 4, &msg[236]);
    const Bytes opts = cat(cat(cat(hex("350102"), cat(hex("3604"), be32b(kServer))), hex("3304ffffffff")),
                           cat(hex("0104ffffff00"), hex("ff")));
    std::copy(opts.begin(), opts.end(), &msg[240]);
    Bytes udp = hex("0043004401340000");   // 67 -> 68, length 308
    Bytes pseudo = cat(cat(Bytes(ip.begin() + 12, ip.begin() + 20), hex("00110134")), cat(udp, msg));
    put16(&udp[6], static_cast<uint16_t>(~ref_sum(pseudo.data(), pseudo.size())));
    want = cat(cat(cat(want, ip), udp), msg);
    CHECK(run(discover().build(), DhcpResult::Reply, c) == want);
}

TEST_CASE("dhcp: REQUEST for the bound address is ACKed, for another NAKed", "[dhcp]") {
    SECTION("selecting: options 50 and 54") {
        const Answer a = decode(run(request_for(kClient).build(), DhcpResult::Reply));
        check_common(a);
        CHECK(a.type() == 5);
        CHECK(a.yiaddr == kClient);
        CHECK(a.ip_dst == kClient);
        CHECK(a.u32(51) == 86400);
        check_grant_options(a);
    }
    SECTION("init-reboot: option 50, no 54") {
        Request r;
        r.options = {{53, {3}}, {50, be32b(kClient)}};
        CHECK(decode(run(r.build(), DhcpResult::Reply)).type() == 5);
    }
    SECTION("renewing: ciaddr, unicast from the bound address") {
        Request r;
        r.ciaddr = kClient;
        r.ip_src = kClient;
        r.ip_dst = kServer;
        r.dst_mac = hex("0a5600001389");
        r.options = {{53, {3}}};
        const Answer a = decode(run(r.build(), DhcpResult::Reply));
        check_common(a);
        CHECK(a.type() == 5);
        CHECK(a.ciaddr == kClient);
        CHECK(a.yiaddr == kClient);
        CHECK(a.ip_dst == kClient);
        CHECK(a.eth_dst == hex("525400000001"));
    }
    SECTION("another address: NAK, broadcast, no options but the server's") {
        const Answer a = decode(run(request_for(0x0a010063).build(), DhcpResult::Reply));
        check_common(a);
        CHECK(a.type() == 6);
        CHECK(a.yiaddr == 0);
        CHECK(a.ciaddr == 0);
        CHECK(a.ip_dst == 0xffffffff);
        CHECK(a.eth_dst == hex("ffffffffffff"));
        CHECK(a.order == std::vector<uint8_t>{53, 54});
    }
    SECTION("a renewal of another address is NAKed too") {
        Request r;
        r.ciaddr = 0x0a010063;
        r.options = {{53, {3}}};
        CHECK(decode(run(r.build(), DhcpResult::Reply)).type() == 6);
    }
    SECTION("to another server: no answer") {
        run(request_for(kClient, 0x0a0100fe).build(), DhcpResult::Consumed);
    }
}

TEST_CASE("dhcp: a checksum offload the request carried is not applied to the answer", "[dhcp]") {
    Mbuf m = make(discover().build());
    m->ol_flags |= RTE_MBUF_F_TX_UDP_CKSUM | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
    REQUIRE(dhcp_make_reply(m.get(), config()) == DhcpResult::Reply);
    CHECK((m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK) == 0);
    CHECK(decode(bytes_of(m.get())).type() == 2);   // checksums verified there
}

TEST_CASE("dhcp: addressing by the broadcast flag and ciaddr", "[dhcp]") {
    Request r = discover();
    r.flags = 0x8000;
    Answer a = decode(run(r.build(), DhcpResult::Reply));
    CHECK(a.ip_dst == 0xffffffff);
    CHECK(a.eth_dst == hex("ffffffffffff"));
    CHECK(a.flags == 0x8000);   // echoed
    CHECK(a.yiaddr == kClient);
}

TEST_CASE("dhcp: INFORM gets the options, no address and no lease", "[dhcp]") {
    Request r;
    r.ciaddr = kClient;
    r.ip_src = kClient;
    r.options = {{53, {8}}};
    Answer a = decode(run(r.build(), DhcpResult::Reply));
    check_common(a);
    CHECK(a.type() == 5);
    CHECK(a.yiaddr == 0);
    CHECK(a.ciaddr == kClient);
    CHECK(a.ip_dst == kClient);
    CHECK(a.opt.count(51) == 0);
    CHECK(a.opt.count(58) == 0);
    check_grant_options(a);
    // Without ciaddr there is nowhere to unicast: broadcast.
    r.ciaddr = 0;
    a = decode(run(r.build(), DhcpResult::Reply));
    CHECK(a.ip_dst == 0xffffffff);
}

TEST_CASE("dhcp: RELEASE and DECLINE are taken without an answer", "[dhcp]") {
    for (uint8_t type : {4, 7}) {
        Request r;
        r.ciaddr = kClient;
        r.options = {{53, {type}}};
        run(r.build(), DhcpResult::Consumed);
    }
}

TEST_CASE("dhcp: options left out when not configured", "[dhcp]") {
    DhcpConfig c = config();
    c.router = 0;
    c.n_dns = 0;
    c.mtu = 0;
    const Answer a = decode(run(discover().build(), DhcpResult::Reply, c));
    CHECK(a.order == std::vector<uint8_t>{53, 54, 51, 58, 59, 1});
    c.n_dns = 4;
    c.dns[2] = 1, c.dns[3] = 2;
    CHECK(decode(run(discover().build(), DhcpResult::Reply, c)).opt.at(6).size() == 16);
}

TEST_CASE("dhcp: VLAN tags kept, IP options and segments of the request dropped", "[dhcp]") {
    SECTION("two tags") {
        Request r = discover();
        r.tags = hex("88a8006481000065");
        const Bytes out = run(r.build(), DhcpResult::Reply);
        CHECK(Bytes(out.begin() + 12, out.begin() + 20) == r.tags);
        const Answer a = decode(out, 22);
        check_common(a);
        CHECK(a.type() == 2);
    }
    SECTION("IP options: the answer has none") {
        Request r = discover();
        r.ip_options = hex("94040000");   // router alert
        const Answer a = decode(run(r.build(), DhcpResult::Reply));
        CHECK(a.type() == 2);
        CHECK(a.ihl == 5);
    }
    SECTION("a request in three segments") {
        Request r = discover();
        r.pad = 400;
        const Answer a = decode(run(r.build(), DhcpResult::Reply, config(), {320, 100}));
        CHECK(a.type() == 2);
        CHECK(a.bootp_len == 300);
    }
    SECTION("a long request gets a short answer") {
        Request r = discover();
        r.pad = 1000;
        CHECK(run(r.build(), DhcpResult::Reply).size() == 14 + 20 + 8 + 300);   // 54 bytes of options
    }
}

TEST_CASE("dhcp: what is not a request we can answer is left unchanged", "[dhcp]") {
    auto refused = [](Request r) { run(r.build(), DhcpResult::Invalid); };
    Request r = discover();
    SECTION("ports") {
        r.sport = 67;
        refused(r);
        r = discover();
        r.dport = 68;
        refused(r);
    }
    SECTION("a BOOTREPLY") {
        r.op = 2;
        refused(r);
    }
    SECTION("not Ethernet addresses") {
        r.htype = 6;
        refused(r);
        r = discover();
        r.hlen = 16;
        refused(r);
    }
    SECTION("chaddr is not the sender") {
        r.chaddr = hex("525400000002");
        refused(r);
    }
    SECTION("no magic cookie (BOOTP)") {
        r.magic = 0;
        refused(r);
    }
    SECTION("no message type") {
        r.options = {{55, {1, 3}}};
        refused(r);
    }
    SECTION("a server's message type, an unknown one") {
        for (uint8_t t : {2, 5, 6, 9, 200}) {
            r.options = {{53, {t}}};
            refused(r);
        }
    }
    SECTION("an option running past the datagram") {
        r.options = {{53, {1}}, {12, {'h', 'o', 's', 't'}}};
        r.pad = 0;
        Bytes b = r.build();
        b[b.size() - 6] = 40;   // option 12's length: 12, 4, host, 255
        run(b, DhcpResult::Invalid);
    }
    SECTION("truncated: the fixed part cut") {
        Bytes b = r.build();
        b.resize(14 + 20 + 8 + 200);
        put16(&b[14 + 2], 20 + 8 + 200);
        put16(&b[14 + 20 + 4], 8 + 200);
        fix_ip_csum(b);
        run(b, DhcpResult::Invalid);
    }
    SECTION("UDP length beyond the packet") {
        Bytes b = r.build();
        put16(&b[14 + 20 + 4], static_cast<uint16_t>(be16(&b[14 + 20 + 4]) + 10));
        run(b, DhcpResult::Invalid);
    }
    SECTION("a fragment") {
        r.frag = 0x2000;
        refused(r);
    }
    SECTION("not UDP, not IPv4") {
        Bytes b = r.build();
        b[14 + 9] = 6;
        run(b, DhcpResult::Invalid);
        b = r.build();
        b[12] = 0x86, b[13] = 0xdd;
        run(b, DhcpResult::Invalid);
    }
    SECTION("no room for the answer") {
        Request small = discover();
        small.pad = 0;   // 14 + 28 + 240 + 8 bytes, the answer 342
        Bytes b = small.build();
        Mbuf probe = make(b);
        const uint16_t room = static_cast<uint16_t>(probe->buf_len - 330);
        run(b, DhcpResult::Invalid, config(), {}, room);
    }
}
