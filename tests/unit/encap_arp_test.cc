// ARP helpers: the in-place reply and the built request, byte for byte against scapy;
// everything that is not an Ethernet/IPv4 ARP request left alone.
#include <catch2/catch.hpp>

#include "encap_vectors.h"

using namespace vswitch::encap;
using namespace encap_test;

TEST_CASE("arp_make_reply: byte for byte what scapy builds", "[arp]") {
    Mbuf m = make(vec::arp_request());
    REQUIRE(arp_make_reply(m.get(), vec::kResponderMac));
    CHECK(bytes_of(m.get()) == vec::arp_reply());
    CHECK(m->pkt_len == 60);   // padding kept
}

TEST_CASE("arp_make_reply keeps a VLAN tag", "[arp]") {
    Mbuf m = make(vec::arp_vlan_request());
    REQUIRE(arp_make_reply(m.get(), vec::kResponderMac));
    CHECK(bytes_of(m.get()) == vec::arp_vlan_reply());
}

TEST_CASE("arp_make_reply: field by field", "[arp]") {
    const Bytes req = vec::arp_request();
    Mbuf m = make(req);
    REQUIRE(arp_make_reply(m.get(), vec::kResponderMac));
    const Bytes b = bytes_of(m.get());
    const Bytes mac(vec::kResponderMac, vec::kResponderMac + 6);
    CHECK(Bytes(b.begin(), b.begin() + 6) == Bytes(req.begin() + 6, req.begin() + 12));   // to the requester
    CHECK(Bytes(b.begin() + 6, b.begin() + 12) == mac);
    CHECK(be16(&b[12]) == 0x0806);
    CHECK(be16(&b[14]) == 1);
    CHECK(be16(&b[16]) == 0x0800);
    CHECK(b[18] == 6);
    CHECK(b[19] == 4);
    CHECK(be16(&b[20]) == 2);   // reply
    CHECK(Bytes(b.begin() + 22, b.begin() + 28) == mac);                                  // sha
    CHECK(Bytes(b.begin() + 28, b.begin() + 32) == Bytes(req.begin() + 38, req.begin() + 42));   // spa = asked IP
    CHECK(Bytes(b.begin() + 32, b.begin() + 38) == Bytes(req.begin() + 22, req.begin() + 28));   // tha = requester
    CHECK(Bytes(b.begin() + 38, b.begin() + 42) == Bytes(req.begin() + 28, req.begin() + 32));   // tpa = requester
}

TEST_CASE("arp_make_reply refuses anything but an Ethernet/IPv4 ARP request", "[arp]") {
    struct Case {
        const char* what;
        void (*change)(Bytes&);
    };
    const Case cases[] = {
        {"a reply", [](Bytes& b) { put16(&b[20], 2); }},
        {"RARP request", [](Bytes& b) { put16(&b[20], 3); }},
        {"IPv4 EtherType", [](Bytes& b) { put16(&b[12], 0x0800); }},
        {"RARP EtherType", [](Bytes& b) { put16(&b[12], 0x8035); }},
        {"hardware type 6 (IEEE 802)", [](Bytes& b) { put16(&b[14], 6); }},
        {"protocol IPv6", [](Bytes& b) { put16(&b[16], 0x86dd); }},
        {"hardware length 8", [](Bytes& b) { b[18] = 8; }},
        {"protocol length 16", [](Bytes& b) { b[19] = 16; }},
        {"truncated to 41 bytes", [](Bytes& b) { b.resize(41); }},
        {"truncated to 12 bytes", [](Bytes& b) { b.resize(12); }},
        {"empty", [](Bytes& b) { b.clear(); }},
        {"three VLAN tags", [](Bytes& b) {
             const uint8_t tags[] = {0x88, 0xa8, 0, 1, 0x81, 0, 0, 2, 0x81, 0, 0, 3};
             b.insert(b.begin() + 12, tags, tags + sizeof tags);
         }},
    };
    for (const Case& c : cases) {
        INFO(c.what);
        Bytes b = vec::arp_request();
        c.change(b);
        Mbuf m = make(b);
        const Snapshot before(m.get());
        CHECK_FALSE(arp_make_reply(m.get(), vec::kResponderMac));
        CHECK(Snapshot(m.get()) == before);
    }
}

TEST_CASE("arp_build_request: byte for byte what scapy builds", "[arp]") {
    const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x01};
    Mbuf m(arp_build_request(mac, ipv4(192, 168, 1, 1), ipv4(192, 168, 1, 254), pool()));
    REQUIRE(m);
    CHECK(bytes_of(m.get()) == vec::arp_built_request());
    CHECK(m->pkt_len == 60);
    CHECK(m->nb_segs == 1);
    // And it is a request our own responder answers.
    REQUIRE(arp_make_reply(m.get(), vec::kResponderMac));
}

TEST_CASE("arp_build_request: nullptr when the pool is empty", "[arp]") {
    pool();   // EAL up
    rte_mempool* tiny = rte_pktmbuf_pool_create("arp_tiny", 1, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    REQUIRE(tiny);
    rte_mbuf* hold = rte_pktmbuf_alloc(tiny);
    REQUIRE(hold);
    const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x01};
    CHECK(arp_build_request(mac, ipv4(192, 168, 1, 1), ipv4(192, 168, 1, 254), tiny) == nullptr);
    rte_pktmbuf_free(hold);
    rte_mempool_free(tiny);
}
