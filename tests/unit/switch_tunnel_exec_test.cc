// dp_execute's overlay actions (TunnelPush, TunnelPop, Drop, ArpReply) against byte
// vectors from scapy (encap_vectors.h), plus the two pure helpers the overlay's queue
// steering rests on: the symmetric flow hash (flow_hash.h) and owned_txqs (steering.h).
#include <rte_mbuf.h>

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <vector>

#include "dp_execute.h"
#include "encap_vectors.h"
#include "flow_extract.h"
#include "flow_hash.h"
#include "steering.h"

using namespace vswitch;
using namespace encap_test;

namespace {

// Records everything the executor hands over; frees it all at the end.
struct TunSink final : DpExecSink {
    struct Out {
        uint32_t port;
        rte_mbuf* m;
        Bytes at_output;   // bytes when handed over
    };
    struct Recirc {
        uint32_t port;
        rte_mbuf* m;
        encap::TunnelMd md;
        Bytes bytes;
    };
    std::vector<Out> outs;
    std::vector<Recirc> recircs;
    std::vector<Bytes> replies;
    std::vector<uint32_t> hashes;
    std::map<DropReason, uint64_t> drops;
    int reply_calls = 0, encapped_calls = 0, recirc_calls = 0;

    void dp_output(uint32_t port, rte_mbuf* const* pkts, uint16_t n) override {
        for (uint16_t i = 0; i < n; i++) outs.push_back({port, pkts[i], bytes_of(pkts[i])});
    }
    void dp_drop(DropReason r, rte_mbuf** pkts, uint16_t n) override {
        drops[r] += n;
        if (pkts) rte_pktmbuf_free_bulk(pkts, n);
    }
    void dp_recirculate(uint32_t port, rte_mbuf* const* pkts, const encap::TunnelMd* md,
                        uint16_t n) override {
        recirc_calls++;
        for (uint16_t i = 0; i < n; i++) recircs.push_back({port, pkts[i], md[i], bytes_of(pkts[i])});
    }
    void dp_reply(rte_mbuf* const* pkts, uint16_t n) override {
        reply_calls++;
        for (uint16_t i = 0; i < n; i++) {
            replies.push_back(bytes_of(pkts[i]));
            rte_pktmbuf_free(pkts[i]);
        }
    }
    void dp_encapped(const uint32_t* h, uint16_t n) override {
        encapped_calls++;
        hashes.insert(hashes.end(), h, h + n);
    }
    uint64_t dropped(DropReason r) const {
        auto it = drops.find(r);
        return it == drops.end() ? 0 : it->second;
    }
    uint64_t total_dropped() const {
        uint64_t n = 0;
        for (auto& [r, c] : drops) n += c;
        return n;
    }
    ~TunSink() {
        for (auto& o : outs) rte_pktmbuf_free(o.m);
        for (auto& r : recircs) rte_pktmbuf_free(r.m);
    }
};

constexpr uint32_t kUplink = 3, kVm = 1, kTunPort = 7;

encap::TunnelHeader header(encap::TunnelType type, uint16_t mtu = 1500) {
    encap::TunnelSpec s;
    s.type = type;
    std::memcpy(s.src_mac, vec::kUplinkMac, 6);
    std::memcpy(s.dst_mac, vec::kNextHopMac, 6);
    s.src_ip = vec::kLocalIp;
    s.dst_ip = vec::kRemoteIp;
    s.vni = vec::kVni;
    encap::TunnelHeader h;
    std::string err;
    REQUIRE(encap::build_header(s, h, err));
    h.mtu = mtu;
    return h;
}

// TunnelPush(h) + Output(port): the pair the pipeline emits for a tunnel output.
DpActionList push_out(const encap::TunnelHeader& h, uint32_t port = kUplink) {
    DpActionList a;
    a.push_tunnel(h);
    a.push_back(DpAction::output(port));
    return a;
}

void run(const DpActionList& acts, std::vector<rte_mbuf*> pkts, TunSink& sink) {
    dp_execute(acts, pkts.data(), static_cast<uint16_t>(pkts.size()), DpExecEnv{}, sink);
}

// The symmetric hash of vec::inner() (UDP 10.0.0.1:1234 -> 10.0.0.2:80), computed from
// its fields rather than by the executor.
uint32_t inner_hash() {
    return sym_flow_hash_ipv4(ipv4(10, 0, 0, 1), ipv4(10, 0, 0, 2), 17, htons(1234), htons(80));
}

// vec::vxlan() is scapy's packet for inner_hash 0x12345678; the executor gives the inner
// flow's own hash, so only the outer UDP source port (bytes 34-35; the UDP checksum is 0
// and the port is not in the IP checksum) differs.
Bytes vxlan_expected(uint32_t hash) {
    Bytes b = vec::vxlan();
    put16(&b[34], encap::entropy_port(hash));
    return b;
}

// Clears IPv4 DF (and fixes the IP checksum) of a frame whose IP header is at ip_off.
Bytes without_df(Bytes b, size_t ip_off = 14) {
    b[ip_off + 6] &= static_cast<uint8_t>(~0x40);
    fix_ip_csum(b, ip_off);
    return b;
}

// Ethernet (+ optional 802.1Q tag) + IPv4 with DF + UDP 5000->6000 (checksum 0), the IP
// datagram ip_len bytes long.
Bytes udp_frame(uint16_t ip_len, bool tagged, uint32_t src = ipv4(10, 0, 0, 1)) {
    Bytes b = hex("525400000002525400000001");
    if (tagged) b = cat(b, hex("81000064"));
    b = cat(b, hex("0800"));
    const size_t ip = b.size();
    b = cat(b, hex("450000000000400040110000"));
    put16(&b[ip + 2], ip_len);
    b.resize(ip + 12 + 8);
    std::memcpy(&b[ip + 12], &src, 4);
    const uint32_t dst = ipv4(10, 0, 0, 2);
    std::memcpy(&b[ip + 16], &dst, 4);
    b = cat(b, hex("13881770"));
    b.resize(b.size() + 4);
    put16(&b[ip + 24], static_cast<uint16_t>(ip_len - 20));
    b.resize(ip + ip_len, 'q');
    fix_ip_csum(b, ip);
    return b;
}

rte_mbuf* mk(const Bytes& b) { return make(b).release(); }

}  // namespace

// ------------------------------------------------------------------ TunnelPush

TEST_CASE("tunnel exec: push + output in place, byte-exact, entropy from the inner flow",
          "[switch][tunnel]") {
    pool();
    SECTION("vxlan") {
        TunSink sink;
        rte_mbuf* m = mk(vec::inner());
        run(push_out(header(encap::TunnelType::Vxlan)), {m}, sink);
        REQUIRE(sink.outs.size() == 1);
        CHECK(sink.drops.empty());
        CHECK(sink.outs[0].port == kUplink);
        CHECK(sink.outs[0].m == m);   // in place: the original mbuf, not a copy
        const uint32_t h = inner_hash();
        CHECK(sink.outs[0].at_output == vxlan_expected(h));
        CHECK(be16(&sink.outs[0].at_output[34]) == encap::entropy_port(h));
        // The inner frame follows the 50-byte outer header unchanged.
        CHECK(Bytes(sink.outs[0].at_output.begin() + 50, sink.outs[0].at_output.end()) == vec::inner());
        CHECK(sink.hashes == std::vector<uint32_t>{h});
        CHECK(sink.encapped_calls == 1);
        CHECK(sink.replies.empty());
    }
    SECTION("gre: the scapy packet exactly (no entropy field)") {
        TunSink sink;
        run(push_out(header(encap::TunnelType::Gre)), {mk(vec::inner())}, sink);
        REQUIRE(sink.outs.size() == 1);
        CHECK(sink.outs[0].at_output == vec::gre());
        CHECK(sink.hashes == std::vector<uint32_t>{inner_hash()});
    }
    SECTION("a batch: each packet gets its own flow's port, one dp_encapped call") {
        TunSink sink;
        std::vector<rte_mbuf*> in;
        std::vector<uint32_t> want;
        for (unsigned i = 1; i <= 5; i++) {
            const uint32_t src = ipv4(10, 0, 1, i);
            in.push_back(mk(udp_frame(100, false, src)));
            want.push_back(sym_flow_hash_ipv4(src, ipv4(10, 0, 0, 2), 17, htons(5000), htons(6000)));
        }
        run(push_out(header(encap::TunnelType::Vxlan)), in, sink);
        REQUIRE(sink.outs.size() == 5);
        CHECK(sink.encapped_calls == 1);
        CHECK(sink.hashes == want);
        std::set<uint16_t> ports;
        for (size_t i = 0; i < 5; i++) {
            CHECK(be16(&sink.outs[i].at_output[34]) == encap::entropy_port(want[i]));
            CHECK(sink.outs[i].m == in[i]);   // order kept
            ports.insert(be16(&sink.outs[i].at_output[34]));
        }
        CHECK(ports.size() > 1);
    }
}

TEST_CASE("tunnel exec: the encap hash is the one the decap side computes from the reply's key",
          "[switch][tunnel]") {
    pool();
    // What the PMD does after decapsulation: flow_extract + sym_flow_hash on the key.
    auto key_hash = [](const Bytes& frame) {
        Mbuf m = make(frame);
        FlowKey k;
        REQUIRE(flow_extract(m.get(), 1, k) == ParseResult::Ok);
        return sym_flow_hash(k);
    };
    const Bytes request = vec::inner();
    // The reply: addresses and ports swapped.
    Bytes reply = request;
    std::swap_ranges(reply.begin(), reply.begin() + 6, reply.begin() + 6);
    std::swap_ranges(reply.begin() + 26, reply.begin() + 30, reply.begin() + 30);
    std::swap_ranges(reply.begin() + 34, reply.begin() + 36, reply.begin() + 36);
    TunSink sink;
    run(push_out(header(encap::TunnelType::Vxlan)), {mk(request)}, sink);
    REQUIRE(sink.hashes.size() == 1);
    CHECK(sink.hashes[0] == key_hash(request));
    CHECK(sink.hashes[0] == key_hash(reply));
    // Not IPv4 (here ARP): the MAC pair, both ways.
    TunSink arp;
    run(push_out(header(encap::TunnelType::Vxlan)), {mk(vec::arp_request())}, arp);
    REQUIRE(arp.hashes.size() == 1);
    CHECK(arp.hashes[0] == key_hash(vec::arp_request()));
    CHECK(arp.hashes[0] == sym_flow_hash_l2(&vec::arp_request()[6], &vec::arp_request()[0]));
}

TEST_CASE("tunnel exec: tunnel output followed by another output: encapsulated copy, original "
          "unchanged",
          "[switch][tunnel]") {
    pool();
    const encap::TunnelHeader h = header(encap::TunnelType::Vxlan);
    SECTION("push+output first") {
        DpActionList acts = push_out(h);
        acts.push_back(DpAction::output(kVm));
        TunSink sink;
        rte_mbuf* m = mk(vec::inner());
        run(acts, {m}, sink);
        REQUIRE(sink.outs.size() == 2);
        CHECK(sink.drops.empty());
        CHECK(sink.outs[0].port == kUplink);
        CHECK(sink.outs[0].m != m);   // a copy was encapsulated
        CHECK(sink.outs[0].at_output == vxlan_expected(inner_hash()));
        CHECK(sink.outs[1].port == kVm);
        CHECK(sink.outs[1].m == m);
        CHECK(sink.outs[1].at_output == vec::inner());
        CHECK(sink.hashes == std::vector<uint32_t>{inner_hash()});
    }
    SECTION("plain output first: it keeps the unencapsulated packet") {
        DpActionList acts;
        acts.push_back(DpAction::output(kVm));
        acts.push_tunnel(h);
        acts.push_back(DpAction::output(kUplink));
        TunSink sink;
        run(acts, {mk(vec::inner())}, sink);
        REQUIRE(sink.outs.size() == 2);
        CHECK(sink.outs[0].port == kVm);
        CHECK(sink.outs[1].port == kUplink);
        CHECK(sink.outs[1].at_output == vxlan_expected(inner_hash()));
        // Not shared with the packet that was encapsulated afterwards.
        CHECK(sink.outs[0].m != sink.outs[1].m);
        CHECK(bytes_of(sink.outs[0].m) == vec::inner());
    }
    SECTION("two tunnel outputs (two remote VTEPs)") {
        encap::TunnelSpec s2;
        std::memcpy(s2.src_mac, vec::kUplinkMac, 6);
        std::memcpy(s2.dst_mac, vec::kNextHopMac, 6);
        s2.src_ip = vec::kLocalIp;
        s2.dst_ip = ipv4(192, 168, 1, 3);
        s2.vni = 77;
        encap::TunnelHeader h2;
        std::string err;
        REQUIRE(encap::build_header(s2, h2, err));
        h2.mtu = 1500;
        DpActionList acts = push_out(h);
        acts.push_tunnel(h2);
        acts.push_back(DpAction::output(kUplink));
        TunSink sink;
        run(acts, {mk(vec::inner())}, sink);
        REQUIRE(sink.outs.size() == 2);
        CHECK(sink.outs[0].at_output == vxlan_expected(inner_hash()));
        const Bytes& b = sink.outs[1].at_output;
        REQUIRE(b.size() == 110);
        CHECK(be32(&b[30]) == 0xc0a80103);                 // outer dst
        CHECK(be32(&b[46]) >> 8 == 77);                    // VNI
        CHECK(Bytes(b.begin() + 50, b.end()) == vec::inner());
        CHECK(sink.hashes.size() == 2);
    }
}

TEST_CASE("tunnel exec: too big for the underlay MTU", "[switch][tunnel]") {
    pool();
    // vec::icmp_orig(): a 1500-byte frame with DF; VXLAN on a 1500 underlay needs 1536.
    const encap::TunnelHeader h = header(encap::TunnelType::Vxlan, 1500);
    SECTION("DF: dropped, ICMP frag-needed with next-hop MTU = mtu - 50 through dp_reply") {
        TunSink sink;
        run(push_out(h), {mk(vec::icmp_orig())}, sink);
        CHECK(sink.outs.empty());
        CHECK(sink.dropped(DropReason::TunnelMtuExceeded) == 1);
        CHECK(sink.total_dropped() == 1);
        CHECK(sink.hashes.empty());
        REQUIRE(sink.replies.size() == 1);
        CHECK(sink.reply_calls == 1);
        const Bytes& r = sink.replies[0];
        REQUIRE(r.size() >= 14 + 20 + 8);
        CHECK(r[23] == 1);                                 // ICMP
        CHECK(r[34] == 3);                                 // destination unreachable
        CHECK(r[35] == 4);                                 // fragmentation needed
        CHECK(be16(&r[40]) == 1500 - 50);                  // next-hop MTU
        CHECK(r == vec::icmp_answer());                    // scapy's, byte for byte
    }
    SECTION("GRE: next-hop MTU = mtu - 42") {
        TunSink sink;
        run(push_out(header(encap::TunnelType::Gre, 1500)), {mk(vec::icmp_orig())}, sink);
        CHECK(sink.dropped(DropReason::TunnelMtuExceeded) == 1);
        REQUIRE(sink.replies.size() == 1);
        CHECK(be16(&sink.replies[0][40]) == 1500 - 42);
    }
    SECTION("no DF: dropped, no ICMP") {
        TunSink sink;
        run(push_out(h), {mk(without_df(vec::icmp_orig()))}, sink);
        CHECK(sink.outs.empty());
        CHECK(sink.dropped(DropReason::TunnelMtuExceeded) == 1);
        CHECK(sink.replies.empty());
        CHECK(sink.reply_calls == 0);
    }
    SECTION("the largest packet that fits passes, one byte more does not") {
        TunSink sink;
        // Outer IP = frame + 50 - 14 <= 1500: frame <= 1464, inner IP <= 1450.
        run(push_out(h), {mk(udp_frame(1450, false)), mk(udp_frame(1451, false))}, sink);
        REQUIRE(sink.outs.size() == 1);
        CHECK(sink.outs[0].at_output.size() == 1464 + 50);
        CHECK(sink.dropped(DropReason::TunnelMtuExceeded) == 1);
        CHECK(sink.replies.size() == 1);
    }
    SECTION("a mixed batch: the small one goes, the big one is answered") {
        TunSink sink;
        run(push_out(h), {mk(vec::inner()), mk(vec::icmp_orig()), mk(vec::inner())}, sink);
        CHECK(sink.outs.size() == 2);
        CHECK(sink.hashes.size() == 2);
        CHECK(sink.dropped(DropReason::TunnelMtuExceeded) == 1);
        CHECK(sink.replies.size() == 1);
    }
    SECTION("on the copy path: the copy is dropped and answered, the original still goes") {
        DpActionList acts = push_out(h);
        acts.push_back(DpAction::output(kVm));
        TunSink sink;
        run(acts, {mk(vec::icmp_orig())}, sink);
        REQUIRE(sink.outs.size() == 1);
        CHECK(sink.outs[0].port == kVm);
        CHECK(sink.outs[0].at_output == vec::icmp_orig());
        CHECK(sink.dropped(DropReason::TunnelMtuExceeded) == 1);
        REQUIRE(sink.replies.size() == 1);
        CHECK(sink.replies[0] == vec::icmp_answer());
    }
    SECTION("VLAN-tagged inner frame: the announced MTU leaves room for the tag") {
        // The tag rides inside the tunnel, so the inner IP packet may be 4 bytes less.
        TunSink sink;
        run(push_out(h), {mk(udp_frame(1450, true))}, sink);
        CHECK(sink.dropped(DropReason::TunnelMtuExceeded) == 1);
        REQUIRE(sink.replies.size() == 1);
        const Bytes& r = sink.replies[0];
        REQUIRE(r.size() > 42);
        CHECK(be16(&r[12]) == 0x8100);                     // answered on the same VLAN
        const uint16_t announced = be16(&r[18 + 20 + 6]);
        CHECK(announced == 1500 - 50 - 4);
        // A sender obeying it gets through.
        TunSink again;
        run(push_out(h), {mk(udp_frame(announced, true))}, again);
        CHECK(again.outs.size() == 1);
        CHECK(again.drops.empty());
    }
}

// ------------------------------------------------------------------ TunnelPop

TEST_CASE("tunnel exec: pop hands the inner frame and metadata to dp_recirculate",
          "[switch][tunnel]") {
    pool();
    SECTION("vxlan with outer IP options and a UDP checksum") {
        TunSink sink;
        run({DpAction::tunnel_pop(kTunPort, encap::TunnelType::Vxlan, 4789)},
            {mk(vec::vxlan_udpcsum_opts())}, sink);
        CHECK(sink.outs.empty());
        CHECK(sink.drops.empty());
        REQUIRE(sink.recircs.size() == 1);
        CHECK(sink.recirc_calls == 1);
        CHECK(sink.recircs[0].port == kTunPort);
        CHECK(sink.recircs[0].md.tun_id == 42);
        CHECK(sink.recircs[0].md.tun_src == ipv4(192, 168, 1, 2));
        CHECK(sink.recircs[0].md.tun_dst == ipv4(192, 168, 1, 1));
        CHECK(sink.recircs[0].bytes == vec::inner());
    }
    SECTION("gre with checksum, key and sequence number") {
        TunSink sink;
        run({DpAction::tunnel_pop(9, encap::TunnelType::Gre, 0)}, {mk(vec::gre_csum_seq())}, sink);
        REQUIRE(sink.recircs.size() == 1);
        CHECK(sink.recircs[0].port == 9);
        CHECK(sink.recircs[0].md.tun_id == 7);
        CHECK(sink.recircs[0].bytes == vec::inner());
    }
    SECTION("a packet pushed by the executor pops back to itself") {
        TunSink push;
        run(push_out(header(encap::TunnelType::Vxlan)), {mk(vec::inner())}, push);
        REQUIRE(push.outs.size() == 1);
        TunSink pop;
        run({DpAction::tunnel_pop(kTunPort, encap::TunnelType::Vxlan, 4789)},
            {mk(push.outs[0].at_output)}, pop);
        REQUIRE(pop.recircs.size() == 1);
        CHECK(pop.recircs[0].md.tun_id == vec::kVni);
        CHECK(pop.recircs[0].md.tun_src == vec::kLocalIp);
        CHECK(pop.recircs[0].md.tun_dst == vec::kRemoteIp);
        CHECK(pop.recircs[0].bytes == vec::inner());
    }
    SECTION("a shared packet (an earlier output holds it) is not changed under that output") {
        DpActionList acts;
        acts.push_back(DpAction::output(kVm));
        acts.push_back(DpAction::tunnel_pop(kTunPort, encap::TunnelType::Vxlan, 4789));
        TunSink sink;
        run(acts, {mk(vec::vxlan_udpcsum_opts())}, sink);
        REQUIRE(sink.outs.size() == 1);
        REQUIRE(sink.recircs.size() == 1);
        CHECK(bytes_of(sink.outs[0].m) == vec::vxlan_udpcsum_opts());
        CHECK(sink.recircs[0].bytes == vec::inner());
    }
}

TEST_CASE("tunnel exec: pop failures are counted by reason, good packets still recirculate",
          "[switch][tunnel]") {
    pool();
    const Bytes good = vec::vxlan_udpcsum_opts();   // IP header at 14, IHL 6 (24 bytes)
    Bytes bad_csum = good;
    bad_csum[14 + 10] ^= 0x01;
    Bytes fragment = good;
    fragment[14 + 6] |= 0x20;   // MF
    fix_ip_csum(fragment);
    Bytes truncated(good.begin(), good.begin() + 14 + 24 + 4);
    Bytes bad_flags = good;
    bad_flags[14 + 24 + 8] = 0x00;   // VXLAN without the I flag
    Bytes other_port = good;
    put16(&other_port[14 + 24 + 2], 4790);   // not the VXLAN port (UDP checksum: not checked)
    TunSink sink;
    run({DpAction::tunnel_pop(kTunPort, encap::TunnelType::Vxlan, 4789)},
        {mk(bad_csum), mk(good), mk(fragment), mk(truncated), mk(bad_flags), mk(other_port), mk(good)},
        sink);
    CHECK(sink.dropped(DropReason::TunnelBadChecksum) == 1);
    CHECK(sink.dropped(DropReason::TunnelFragment) == 1);
    CHECK(sink.dropped(DropReason::TunnelMalformed) == 3);   // truncated, flags, not VXLAN
    CHECK(sink.total_dropped() == 5);
    REQUIRE(sink.recircs.size() == 2);
    CHECK(sink.recirc_calls == 1);
    for (auto& r : sink.recircs) CHECK(r.bytes == vec::inner());
}

// ------------------------------------------------------------------ Drop, ArpReply

TEST_CASE("tunnel exec: Drop(reason) ends the list and counts under its reason",
          "[switch][tunnel]") {
    pool();
    SECTION("after an output: the output happens, the rest is counted") {
        TunSink sink;
        run({DpAction::output(kVm), DpAction::drop(uint8_t(DropReason::VpcSpoofed))},
            {mk(vec::inner()), mk(vec::inner())}, sink);
        REQUIRE(sink.outs.size() == 2);
        CHECK(sink.outs[0].port == kVm);
        CHECK(sink.outs[0].at_output == vec::inner());
        CHECK(sink.dropped(DropReason::VpcSpoofed) == 2);
        CHECK(sink.total_dropped() == 2);
    }
    SECTION("alone") {
        TunSink sink;
        run({DpAction::drop(uint8_t(DropReason::ArpConsumed))}, {mk(vec::arp_reply())}, sink);
        CHECK(sink.outs.empty());
        CHECK(sink.dropped(DropReason::ArpConsumed) == 1);
        CHECK(sink.total_dropped() == 1);
    }
    SECTION("what follows it is not executed") {
        TunSink sink;
        run({DpAction::drop(uint8_t(DropReason::TunnelNoNeighbor)), DpAction::output(kVm)},
            {mk(vec::inner())}, sink);
        CHECK(sink.outs.empty());
        CHECK(sink.dropped(DropReason::TunnelNoNeighbor) == 1);
        CHECK(sink.dropped(DropReason::FlowDrop) == 0);
    }
}

TEST_CASE("tunnel exec: ArpReply turns a request into the reply", "[switch][tunnel]") {
    pool();
    SECTION("untagged and tagged requests: scapy's replies") {
        TunSink sink;
        run({DpAction::arp_reply(vec::kResponderMac), DpAction::output(kVm)},
            {mk(vec::arp_request()), mk(vec::arp_vlan_request())}, sink);
        REQUIRE(sink.outs.size() == 2);
        CHECK(sink.drops.empty());
        CHECK(sink.outs[0].at_output == vec::arp_reply());
        CHECK(sink.outs[1].at_output == vec::arp_vlan_reply());
    }
    SECTION("anything else is dropped as action_failed") {
        TunSink sink;
        run({DpAction::arp_reply(vec::kResponderMac), DpAction::output(kVm)},
            {mk(vec::inner()), mk(vec::arp_reply()), mk(vec::arp_request())}, sink);
        CHECK(sink.dropped(DropReason::ActionFailed) == 2);
        REQUIRE(sink.outs.size() == 1);
        CHECK(sink.outs[0].at_output == vec::arp_reply());
    }
    SECTION("answered through a tunnel: reply, then encapsulated") {
        DpActionList acts;
        acts.push_back(DpAction::arp_reply(vec::kResponderMac));
        acts.push_tunnel(header(encap::TunnelType::Vxlan));
        acts.push_back(DpAction::output(kUplink));
        TunSink sink;
        run(acts, {mk(vec::arp_request())}, sink);
        REQUIRE(sink.outs.size() == 1);
        const Bytes& b = sink.outs[0].at_output;
        REQUIRE(b.size() == 50 + vec::arp_reply().size());
        CHECK(Bytes(b.begin() + 50, b.end()) == vec::arp_reply());
    }
}

namespace {

// A DHCP client's message of type `type` (option 53), from vm's MAC, 300-byte BOOTP.
Bytes dhcp_request(uint8_t type) {
    Bytes b = cat(cat(hex("ffffffffffff"), hex("525400000001")), hex("0800"));
    Bytes ip = hex("450001480000000040110000" "00000000" "ffffffff");
    put16(&ip[10], static_cast<uint16_t>(~ref_sum(ip.data(), 20)));
    Bytes msg(300);
    msg[0] = 1, msg[1] = 1, msg[2] = 6;
    std::copy_n(hex("525400000001").begin(), 6, &msg[28]);
    std::copy_n(hex("63825363").begin(), 4, &msg[236]);
    msg[240] = 53, msg[241] = 1, msg[242] = type, msg[243] = 255;
    return cat(cat(cat(b, ip), hex("0044004301340000")), msg);
}

}  // namespace

TEST_CASE("tunnel exec: DhcpReply answers, takes releases, refuses the rest", "[switch][tunnel]") {
    pool();
    encap::DhcpConfig c;
    c.server_mac[0] = 0x0a;
    c.server_ip = 0x0a010001;
    c.client_ip = 0x0a01000b;
    c.netmask = 0xffffff00;
    DpActionList acts;
    acts.push_back(acts.dhcp_reply(c));
    acts.push_back(DpAction::output(kVm));
    TunSink sink;
    run(acts, {mk(dhcp_request(1)), mk(dhcp_request(7)), mk(vec::inner()), mk(dhcp_request(3))}, sink);
    CHECK(sink.dropped(DropReason::DhcpConsumed) == 1);   // the release
    CHECK(sink.dropped(DropReason::ActionFailed) == 1);   // not DHCP
    REQUIRE(sink.outs.size() == 2);
    for (const auto& o : sink.outs) {
        const Bytes& b = o.at_output;
        REQUIRE(b.size() == 14 + 28 + 300);
        CHECK(Bytes(b.begin() + 6, b.begin() + 12) == hex("0a0000000000"));
        CHECK(b[14 + 28] == 2);   // BOOTREPLY
    }
    CHECK(sink.outs[0].at_output[14 + 28 + 242] == 2);   // OFFER
    CHECK(sink.outs[1].at_output[14 + 28 + 242] == 6);   // NAK: the REQUEST named no address
    // The list's answer shows in dump-dpflows.
    CHECK(dp_actions_to_string(acts) ==
          "dhcp_reply(ip=10.1.0.11,mask=255.255.255.0,server=10.1.0.1,lease=86400),output:" + std::to_string(kVm));
    // A list whose index has no answer (never built so) refuses rather than reads past.
    DpActionList broken{DpAction{}, DpAction::output(kVm)};
    broken[0].type = DpActionType::DhcpReply;
    broken[0].port = 3;
    TunSink sink2;
    run(broken, {mk(dhcp_request(1))}, sink2);
    CHECK(sink2.dropped(DropReason::ActionFailed) == 1);
    // Equality looks at the answers.
    DpActionList other;
    c.mtu = 1400;
    other.push_back(other.dhcp_reply(c));
    other.push_back(DpAction::output(kVm));
    CHECK_FALSE(other == acts);
}

TEST_CASE("tunnel exec: TunnelPush without its Output is unsupported", "[switch][tunnel]") {
    pool();
    const encap::TunnelHeader h = header(encap::TunnelType::Vxlan);
    SECTION("push alone") {
        DpActionList acts;
        acts.push_tunnel(h);
        TunSink sink;
        run(acts, {mk(vec::inner()), mk(vec::inner())}, sink);
        CHECK(sink.outs.empty());
        CHECK(sink.dropped(DropReason::UnsupportedAction) == 2);
    }
    SECTION("push, then something else, then the output") {
        DpActionList acts;
        acts.push_tunnel(h);
        acts.push_back(DpAction::set_eth_src(vec::kUplinkMac));
        acts.push_back(DpAction::output(kUplink));
        TunSink sink;
        run(acts, {mk(vec::inner())}, sink);
        CHECK(sink.outs.empty());
        CHECK(sink.dropped(DropReason::UnsupportedAction) == 1);
    }
    SECTION("push whose Output comes after a Drop") {
        DpActionList acts;
        acts.push_tunnel(h);
        acts.push_back(DpAction::drop(uint8_t(DropReason::VpcNoRoute)));
        acts.push_back(DpAction::output(kUplink));
        TunSink sink;
        run(acts, {mk(vec::inner())}, sink);
        CHECK(sink.outs.empty());
        CHECK(sink.dropped(DropReason::UnsupportedAction) == 1);
    }
    SECTION("a template index the list does not have") {
        DpActionList acts = push_out(h);
        acts.tunnels.clear();
        TunSink sink;
        run(acts, {mk(vec::inner())}, sink);
        CHECK(sink.outs.empty());
        CHECK(sink.dropped(DropReason::UnsupportedAction) == 1);
    }
    SECTION("with its output the same list is fine") {
        TunSink sink;
        run(push_out(h), {mk(vec::inner())}, sink);
        CHECK(sink.outs.size() == 1);
        CHECK(sink.drops.empty());
    }
}

// ------------------------------------------------------------------ flow hash

TEST_CASE("sym_flow_hash_ipv4: symmetric, and sensitive to what defines the flow",
          "[switch][tunnel][hash]") {
    const uint32_t a = ipv4(10, 0, 0, 1), b = ipv4(10, 0, 0, 2), c = ipv4(10, 0, 0, 3);
    const uint16_t p1 = htons(1234), p2 = htons(80);
    for (uint8_t proto : {6, 17}) {
        const uint32_t h = sym_flow_hash_ipv4(a, b, proto, p1, p2);
        CHECK(sym_flow_hash_ipv4(b, a, proto, p2, p1) == h);
        CHECK(sym_flow_hash_ipv4(a, c, proto, p1, p2) != h);
        CHECK(sym_flow_hash_ipv4(a, b, proto, htons(1235), p2) != h);
        CHECK(sym_flow_hash_ipv4(a, b, proto, p2, p1) == h);   // the port pair is unordered
        CHECK(sym_flow_hash_ipv4(a, b, proto == 6 ? 17 : 6, p1, p2) != h);
    }
    // Other protocols: ports ignored (the key holds ICMP type/code there, the packet
    // has no ports).
    CHECK(sym_flow_hash_ipv4(a, b, 1, htons(8), 0) == sym_flow_hash_ipv4(a, b, 1, 0, 0));
    CHECK(sym_flow_hash_ipv4(b, a, 1, 0, htons(3)) == sym_flow_hash_ipv4(a, b, 1, 0, 0));
    CHECK(sym_flow_hash_ipv4(a, b, 47, 1, 2) == sym_flow_hash_ipv4(b, a, 47, 0, 0));
    // Many flows: no symmetry shortcut collapses them.
    std::set<uint32_t> seen;
    for (uint32_t i = 0; i < 1000; i++)
        seen.insert(sym_flow_hash_ipv4(a, htonl(0x0a010000 + i), 6, p1, p2));
    CHECK(seen.size() == 1000);
}

TEST_CASE("sym_flow_hash_l2: symmetric in the two MACs", "[switch][tunnel][hash]") {
    const uint8_t m1[6] = {0x52, 0x54, 0, 0, 0, 1}, m2[6] = {0x52, 0x54, 0, 0, 0, 2},
                  m3[6] = {0x52, 0x54, 0, 0, 1, 2};
    CHECK(sym_flow_hash_l2(m1, m2) == sym_flow_hash_l2(m2, m1));
    CHECK(sym_flow_hash_l2(m1, m3) != sym_flow_hash_l2(m1, m2));
    CHECK(sym_flow_hash_l2(m1, m1) != sym_flow_hash_l2(m2, m2));
}

// ------------------------------------------------------------------ owned_txqs

namespace {

std::vector<RxqRef> rxq_list(std::initializer_list<std::pair<uint32_t, uint16_t>> port_pmd) {
    std::vector<RxqRef> v;
    uint16_t q = 0;
    for (auto [port, pmd] : port_pmd) v.push_back({port, q++, pmd, 0});
    return v;
}

std::vector<uint16_t> seq(uint16_t n) {
    std::vector<uint16_t> v(n);
    for (uint16_t i = 0; i < n; i++) v[i] = i;
    return v;
}

using Q = std::vector<uint16_t>;

}  // namespace

TEST_CASE("owned_txqs: each active PMD owns every A-th usable queue", "[switch][steering]") {
    const auto rxqs = rxq_list({{1, 0}, {1, 1}, {2, 0}, {2, 1}});
    CHECK(owned_txqs(rxqs, 2, 0, seq(8)) == Q{0, 2, 4, 6});
    CHECK(owned_txqs(rxqs, 2, 1, seq(8)) == Q{1, 3, 5, 7});
    CHECK(owned_txqs(rxqs, 1, 0, seq(4)) == Q{0, 1, 2, 3});   // (one PMD owns all)
    // Usable queues need not be contiguous (the guest enabled 0, 3 and 5).
    CHECK(owned_txqs(rxqs, 2, 0, {0, 3, 5}) == Q{0, 5});
    CHECK(owned_txqs(rxqs, 2, 1, {0, 3, 5}) == Q{3});
}

TEST_CASE("owned_txqs: idle PMDs own nothing and do not count", "[switch][steering]") {
    // 3 PMDs, PMD 1 polls nothing: 2 active, PMD 2 has rank 1.
    const auto rxqs = rxq_list({{1, 0}, {1, 2}, {2, 0}});
    CHECK(owned_txqs(rxqs, 3, 1, seq(4)).empty());
    CHECK(owned_txqs(rxqs, 3, 0, seq(4)) == Q{0, 2});
    CHECK(owned_txqs(rxqs, 3, 2, seq(4)) == Q{1, 3});
    // Nobody polls anything.
    CHECK(owned_txqs({}, 2, 0, seq(4)).empty());
}

TEST_CASE("owned_txqs: fewer usable queues than active PMDs: nobody owns any",
          "[switch][steering]") {
    const auto rxqs = rxq_list({{1, 0}, {1, 1}, {1, 2}});
    CHECK(owned_txqs(rxqs, 3, 0, seq(2)).empty());
    CHECK(owned_txqs(rxqs, 3, 1, seq(2)).empty());
    CHECK(owned_txqs(rxqs, 3, 2, seq(2)).empty());
    CHECK(owned_txqs(rxqs, 3, 0, {}).empty());
    CHECK(owned_txqs(rxqs, 3, 2, seq(3)) == Q{2});   // exactly enough
}

TEST_CASE("owned_txqs: agrees with compute_tx_map and is disjoint across PMDs",
          "[switch][steering]") {
    for (uint16_t pmds : {1, 2, 3, 4}) {
        for (uint16_t txqs : {1, 2, 3, 5, 8}) {
            std::vector<RxqRef> rxqs;
            for (uint16_t q = 0; q < 4; q++) rxqs.push_back({1, q, 0, 0});
            for (uint16_t q = 0; q < 3; q++) rxqs.push_back({2, q, 0, 0});
            assign_rxqs_round_robin(rxqs, pmds);
            const auto map = compute_tx_map(rxqs, pmds, {{2, seq(txqs)}});
            std::set<uint16_t> all;
            size_t total = 0;
            for (uint16_t p = 0; p < pmds; p++) {
                const Q own = owned_txqs(rxqs, pmds, p, seq(txqs));
                total += own.size();
                all.insert(own.begin(), own.end());
                INFO("pmds " << pmds << " txqs " << txqs << " pmd " << p);
                // Fewer queues than PMDs: the map may still give a PMD a queue of its own,
                // but owned_txqs promises nothing then (decapsulated traffic falls back to
                // the map's slot).
                if (txqs < pmds) CHECK(own.empty());
                if (own.empty()) continue;
                // Every slot the map gives this PMD is among the queues it owns.
                for (size_t i = 0; i < rxqs.size(); i++) {
                    if (rxqs[i].pmd != p) continue;
                    CHECK(map[i][0].mode == TxMode::Owned);
                    CHECK(std::find(own.begin(), own.end(), map[i][0].txq) != own.end());
                }
            }
            CHECK(all.size() == total);   // disjoint
        }
    }
}

TEST_CASE("tunnel exec: IcmpError answers what it may, refuses the rest", "[switch][tunnel]") {
    pool();
    // A UDP packet to answer, and an ICMP error that must not be answered.
    const Bytes udp = udp_frame(64, false);
    Bytes icmp_err = udp;
    icmp_err[14 + 9] = 1;        // protocol ICMP
    icmp_err[14 + 20] = 3;       // type 3: an error
    fix_ip_csum(icmp_err);
    TunSink sink;
    run({DpAction::icmp_error(11, 0, 0x0a010001), DpAction::output(kVm)}, {mk(udp), mk(icmp_err)}, sink);
    CHECK(sink.dropped(DropReason::ActionFailed) == 1);
    REQUIRE(sink.outs.size() == 1);
    const Bytes& b = sink.outs[0].at_output;
    REQUIRE(b.size() == 14 + 20 + 8 + 20 + 8);
    CHECK(Bytes(b.begin(), b.begin() + 6) == Bytes(udp.begin() + 6, udp.begin() + 12));   // back to the sender
    CHECK((b[14 + 9] == 1 && b[14 + 20] == 11 && b[14 + 21] == 0));
    CHECK(Bytes(b.begin() + 14 + 28, b.end()) == Bytes(udp.begin() + 14, udp.begin() + 14 + 28));   // the quote
    CHECK(dp_actions_to_string(DpActionList{DpAction::icmp_error(11, 0, 0x0a010001)}) ==
          "icmp_error(type=11,code=0,src=10.1.0.1)");
}
