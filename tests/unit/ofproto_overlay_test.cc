// The overlay in the pipeline: tunnel outputs (TunnelPush + output to the uplink, the
// template decoded, masks checked exactly), next-hop resolution through the neighbor
// table, underlay termination before table 0 (ARP, VXLAN/GRE pop), the arp_reply and
// drop:REASON actions (syntax and translation), and what trace says about all that.
// The Neighbors table on its own is tested at the end, with an injected clock.
#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "ofproto/flow_format.h"
#include "ofproto/flow_parser.h"
#include "ofproto/neighbors.h"
#include "ofproto/ofproto.h"
#include "ofproto/overlay_config.h"
#include "ofproto/translate.h"
#include "ofproto_fake_ports.h"
#include "switch/drop_reasons.h"

namespace Catch {
template <>
struct StringMaker<vswitch::DpActionList> {
    static std::string convert(const vswitch::DpActionList& a) { return vswitch::dp_actions_to_string(a); }
};
}  // namespace Catch

using namespace vswitch;
using namespace vswitch::ofp;

namespace {

using vswitch::testing::FakePorts;

const FakePorts kPorts;   // vm1=1, vm2=2, up0=3, vm3=4, vxlan0=5, gre0=6
constexpr uint32_t kVm1 = 1, kUp0 = 3, kVxlan0 = 5, kGre0 = 6;

uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return htonl(uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | d);
}

const uint8_t kVtepMac[6] = {0x02, 0, 0, 0, 0, 0x01};
const uint8_t kRemoteMac[6] = {0x02, 0, 0, 0, 0, 0x02};
const uint8_t kGatewayMac[6] = {0x02, 0, 0, 0, 0, 0xfe};
const uint8_t kVmMac[6] = {0x52, 0x54, 0, 0, 0, 0x01};
const uint8_t kVm2Mac[6] = {0x52, 0x54, 0, 0, 0, 0x02};
const uint32_t kLocal = ip(192, 0, 2, 1), kRemote = ip(192, 0, 2, 2), kGateway = ip(192, 0, 2, 254),
               kFar = ip(198, 51, 100, 7);

// up0 is the VTEP 192.0.2.1/24 (gateway .254, MTU 1500); vxlan0 and gre0 with every
// option "flow" (as set-uplink creates them).
OverlayConfig overlay(uint8_t prefix = 24) {
    OverlayConfig c;
    c.underlay.port = kUp0;
    c.underlay.local_ip = kLocal;
    c.underlay.prefix_len = prefix;
    c.underlay.gateway = kGateway;
    std::memcpy(c.underlay.mac, kVtepMac, 6);
    c.underlay.mtu = 1500;
    c.tunnels[kVxlan0] = TunnelPortConfig{};
    TunnelPortConfig gre;
    gre.type = encap::TunnelType::Gre;
    c.tunnels[kGre0] = gre;
    return c;
}

struct Switch {
    Ofproto ofp{kPorts, [] {}};
    explicit Switch(std::vector<std::string> flows, OverlayConfig ov = overlay()) {
        ofp.set_overlay(std::move(ov));
        FlowError err = ofp.add_flows(flows);
        INFO(err.message << " token: " << err.token);
        REQUIRE_FALSE(err);
    }
    Translation run(const FlowKey& k) {
        Translation t;
        REQUIRE(ofp.translate(k, t));
        return t;
    }
};

FlowKey eth_key(uint32_t in_port, uint16_t dl_type, const uint8_t src[6] = kVmMac,
                const uint8_t dst[6] = kVm2Mac) {
    FlowKey k;
    k.clear();
    k.in_port = in_port;
    std::memcpy(k.dl_src, src, 6);
    std::memcpy(k.dl_dst, dst, 6);
    k.dl_type = htons(dl_type);
    return k;
}

FlowKey ip_key(uint32_t in_port, uint32_t src, uint32_t dst, uint8_t proto = 6, uint16_t tp_dst = 80) {
    FlowKey k = eth_key(in_port, 0x0800);
    k.nw_src = src;
    k.nw_dst = dst;
    k.nw_proto = proto;
    k.nw_ttl = 64;
    k.tp_src = htons(33333);
    k.tp_dst = htons(tp_dst);
    return k;
}

FlowKey arp_key(uint32_t in_port, uint8_t op, uint32_t spa, uint32_t tpa,
                const uint8_t src[6] = kRemoteMac) {
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    FlowKey k = eth_key(in_port, 0x0806, src, op == 1 ? bcast : kVtepMac);
    k.nw_proto = op;
    k.nw_src = spa;
    k.nw_dst = tpa;
    return k;
}

// A packet decapsulated from tunnel port `port`.
FlowKey decap_key(uint32_t port, uint64_t vni, uint32_t tun_src, FlowKey inner) {
    inner.in_port = port;
    inner.tun_id = vni;
    inner.tun_src = tun_src;
    inner.tun_dst = kLocal;
    return inner;
}

// Mask builder: names the fields a test expects un-wildcarded (all bits).
struct MaskOf {
    FlowKey m;
    MaskOf() { m.clear(); }
    MaskOf& f(Field field) {
        std::memset(field_bytes(m, field), 0xff, field_info(field).size);
        return *this;
    }
};

std::string describe(const FlowKey& mask) {
    std::ostringstream os;
    for (size_t i = 0; i < kFieldCount; i++) {
        Field f = static_cast<Field>(i);
        if (!field_any(mask, f)) continue;
        os << field_info(f).name << "/0x";
        const uint8_t* b = field_bytes(mask, f);
        for (size_t j = 0; j < field_info(f).size; j++) {
            char buf[3];
            std::snprintf(buf, sizeof buf, "%02x", b[j]);
            os << buf;
        }
        os << " ";
    }
    FlowKey rest = mask;
    for (size_t i = 0; i < kFieldCount; i++) {
        Field f = static_cast<Field>(i);
        std::memset(field_bytes(rest, f), 0, field_info(f).size);
    }
    FlowKey zero;
    zero.clear();
    if (!(rest == zero)) os << "+OTHER-BITS";
    return os.str();
}

#define CHECK_MASK(t, expected) CHECK(describe((t).mask) == describe((expected).m))

bool no_tunnel_bits(const FlowKey& mask) { return mask.tun_id == 0 && mask.tun_src == 0 && mask.tun_dst == 0; }

// The template a tunnel output to (type, dst, vni) through next-hop MAC nh should carry.
encap::TunnelHeader expected_header(encap::TunnelType type, uint32_t dst, uint32_t vni,
                                    const uint8_t nh[6], uint16_t mtu = 1500) {
    encap::TunnelSpec s;
    s.type = type;
    std::memcpy(s.src_mac, kVtepMac, 6);
    std::memcpy(s.dst_mac, nh, 6);
    s.src_ip = kLocal;
    s.dst_ip = dst;
    s.vni = vni;
    encap::TunnelHeader h;
    std::string err;
    REQUIRE(encap::build_header(s, h, err));
    h.mtu = mtu;
    return h;
}

uint32_t rd32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// Checks t = TunnelPush(template) + Output(up0) with the given outer header, decoding the
// fields a reader cares about from the template bytes as well.
void check_push(const Translation& t, encap::TunnelType type, uint32_t dst, uint32_t vni,
                const uint8_t nh[6]) {
    INFO(dp_actions_to_string(t.actions));
    REQUIRE(t.actions.size() == 2);
    REQUIRE(t.actions[0].type == DpActionType::TunnelPush);
    CHECK(t.actions[1] == DpAction::output(kUp0));
    REQUIRE(t.actions.tunnels.size() == 1);
    const encap::TunnelHeader& h = t.actions.tunnel(t.actions[0]);
    CHECK(h == expected_header(type, dst, vni, nh));
    CHECK(h.mtu == 1500);
    CHECK(std::memcmp(h.bytes, nh, 6) == 0);             // eth dst: the next hop
    CHECK(std::memcmp(h.bytes + 6, kVtepMac, 6) == 0);   // eth src: the uplink
    CHECK(rd32(h.bytes + 26) == kLocal);
    CHECK(rd32(h.bytes + 30) == dst);
    if (type == encap::TunnelType::Vxlan) {
        CHECK(h.len == 50);
        CHECK((h.bytes[46] << 16 | h.bytes[47] << 8 | h.bytes[48]) == int(vni));
    } else {
        CHECK(h.len == 42);
        CHECK(ntohl(rd32(h.bytes + 38)) == vni);
    }
}

DpActionList drop_list(DropReason r) { return DpActionList{DpAction::drop(uint8_t(r))}; }

std::string trace(Switch& sw, const std::string& packet) {
    std::vector<std::string> lines;
    FlowError err = sw.ofp.trace(packet, lines);
    INFO(err.message << " token " << err.token);
    REQUIRE_FALSE(err);
    std::string all;
    for (auto& l : lines) all += l + "\n";
    return all;
}

}  // namespace

// ------------------------------------------------------------------ tunnel outputs

TEST_CASE("overlay: set_field tun_id/tun_dst + output to a vxlan port = push + uplink output",
          "[ofproto][overlay]") {
    Switch sw({"in_port=vm1,actions=set_field:5001->tun_id,set_field:192.0.2.2->tun_dst,output:vxlan0"});
    sw.ofp.neighbors().set_static(kRemote, kRemoteMac);
    Translation t = sw.run(ip_key(kVm1, ip(10, 0, 0, 1), ip(10, 0, 0, 2)));
    check_push(t, encap::TunnelType::Vxlan, kRemote, 5001, kRemoteMac);
    // Both tunnel fields were written by actions: they cost no mask bits.
    CHECK(no_tunnel_bits(t.mask));
    CHECK_MASK(t, MaskOf().f(Field::InPort));
    // The same through GRE: the key is the 32-bit GRE key.
    Switch gre({"in_port=vm1,actions=set_field:0xdeadbeef->tun_id,set_field:192.0.2.2->tun_dst,output:gre0"});
    gre.ofp.neighbors().set_static(kRemote, kRemoteMac);
    t = gre.run(ip_key(kVm1, ip(10, 0, 0, 1), ip(10, 0, 0, 2)));
    check_push(t, encap::TunnelType::Gre, kRemote, 0xdeadbeef, kRemoteMac);
    CHECK_MASK(t, MaskOf().f(Field::InPort));
}

TEST_CASE("overlay: tunnel fields taken from the packet are in the mask", "[ofproto][overlay]") {
    // Transit: decapsulated from gre0, sent on through vxlan0 with the same VNI and remote.
    Switch sw({"in_port=gre0,actions=output:vxlan0"});
    sw.ofp.neighbors().set_static(kRemote, kRemoteMac);
    FlowKey k = decap_key(kGre0, 5001, kRemote, ip_key(kGre0, ip(10, 0, 0, 1), ip(10, 0, 0, 2)));
    k.tun_dst = kRemote;   // (what a set_field earlier in another pipeline would give)
    Translation t = sw.run(k);
    check_push(t, encap::TunnelType::Vxlan, kRemote, 5001, kRemoteMac);
    CHECK_MASK(t, MaskOf().f(Field::InPort).f(Field::TunId).f(Field::TunDst));
    CHECK(t.mask.tun_src == 0);

    // Only the field that is not written: tun_id set, tun_dst from the packet.
    Switch half({"in_port=gre0,actions=set_field:7->tun_id,output:vxlan0"});
    half.ofp.neighbors().set_static(kRemote, kRemoteMac);
    t = half.run(k);
    check_push(t, encap::TunnelType::Vxlan, kRemote, 7, kRemoteMac);
    CHECK_MASK(t, MaskOf().f(Field::InPort).f(Field::TunDst));

    // A port with remote_ip and key options reads neither.
    OverlayConfig ov = overlay();
    ov.tunnels[kVxlan0].remote_ip = kRemote;
    ov.tunnels[kVxlan0].key_flow = false;
    ov.tunnels[kVxlan0].key = 99;
    Switch fixed({"in_port=gre0,actions=output:vxlan0"}, ov);
    fixed.ofp.neighbors().set_static(kRemote, kRemoteMac);
    k.tun_dst = ip(203, 0, 113, 9);   // ignored: the port's remote_ip wins
    t = fixed.run(k);
    check_push(t, encap::TunnelType::Vxlan, kRemote, 99, kRemoteMac);
    CHECK_MASK(t, MaskOf().f(Field::InPort));
}

TEST_CASE("overlay: a tunnel output with nothing to send to", "[ofproto][overlay]") {
    SECTION("no remote IP: tunnel_no_route, tun_dst read") {
        Switch sw({"in_port=vm1,actions=output:vxlan0"});
        Translation t = sw.run(ip_key(kVm1, ip(10, 0, 0, 1), ip(10, 0, 0, 2)));
        CHECK(t.actions == drop_list(DropReason::TunnelNoRoute));
        CHECK(t.mask.tun_dst == 0xffffffff);
    }
    SECTION("no underlay: tunnel_no_route") {
        Switch sw({"in_port=vm1,actions=set_field:192.0.2.2->tun_dst,output:vxlan0"}, OverlayConfig{});
        // Without an OverlayConfig vxlan0 is an ordinary port number.
        Translation t = sw.run(ip_key(kVm1, ip(10, 0, 0, 1), ip(10, 0, 0, 2)));
        CHECK(t.actions == DpActionList{DpAction::output(kVxlan0)});
        OverlayConfig ov = overlay();
        ov.underlay = Underlay{};
        sw.ofp.set_overlay(ov);
        t = sw.run(ip_key(kVm1, ip(10, 0, 0, 1), ip(10, 0, 0, 2)));
        CHECK(t.actions == drop_list(DropReason::TunnelNoRoute));
    }
    SECTION("VNI over 24 bits on VXLAN: tunnel_no_route") {
        Switch sw({"in_port=vm1,actions=set_field:0x1000000->tun_id,set_field:192.0.2.2->tun_dst,output:vxlan0"});
        sw.ofp.neighbors().set_static(kRemote, kRemoteMac);
        Translation t = sw.run(ip_key(kVm1, ip(10, 0, 0, 1), ip(10, 0, 0, 2)));
        CHECK(t.actions == drop_list(DropReason::TunnelNoRoute));
    }
    SECTION("another output still happens; no named drop then") {
        Switch sw({"in_port=vm1,actions=output:vxlan0,output:vm2"});
        Translation t = sw.run(ip_key(kVm1, ip(10, 0, 0, 1), ip(10, 0, 0, 2)));
        CHECK(t.actions == DpActionList{DpAction::output(2)});
    }
}

TEST_CASE("overlay: unresolved next hop: tunnel_no_neighbor and one ARP request per second",
          "[ofproto][overlay]") {
    Switch sw({"in_port=vm1,actions=set_field:5001->tun_id,set_field:192.0.2.2->tun_dst,output:vxlan0"});
    Neighbors& nb = sw.ofp.neighbors();
    CHECK(nb.due_requests().empty());
    Translation t = sw.run(ip_key(kVm1, ip(10, 0, 0, 1), ip(10, 0, 0, 2)));
    CHECK(t.actions == drop_list(DropReason::TunnelNoNeighbor));
    CHECK(nb.due_requests() == std::vector<uint32_t>{kRemote});
    CHECK(nb.due_requests().empty());   // asked already; the next one in a second
    CHECK(nb.requests_sent() == 1);
    // The answer: learned on the uplink, the version moves (revalidation), and the same
    // packet now encapsulates.
    const uint64_t v = nb.version();
    Translation learned = sw.run(arp_key(kUp0, 2, kRemote, kLocal));
    CHECK(learned.actions == drop_list(DropReason::ArpConsumed));
    CHECK_FALSE(learned.cache);   // no megaflow: the next ARP must reach translation too
    CHECK(nb.version() > v);
    CHECK(sw.run(ip_key(kVm1, ip(10, 0, 0, 1), ip(10, 0, 0, 2))).cache);
    t = sw.run(ip_key(kVm1, ip(10, 0, 0, 1), ip(10, 0, 0, 2)));
    check_push(t, encap::TunnelType::Vxlan, kRemote, 5001, kRemoteMac);
    CHECK(nb.due_requests().empty());   // resolved: no more requests
}

TEST_CASE("overlay: re-translation (revalidation) asks for unresolved next hops too",
          "[ofproto][overlay]") {
    // Revalidation replays megaflows on the control thread without learning. A megaflow
    // whose next hop went away (del-neighbor, a neighbor given up on) becomes
    // drop(tunnel_no_neighbor) with the same mask and is kept: its packets never upcall
    // again, so unless re-translation asks, nobody ever sends the ARP request.
    Switch sw({"in_port=vm1,actions=set_field:5001->tun_id,set_field:192.0.2.2->tun_dst,output:vxlan0"});
    Neighbors& nb = sw.ofp.neighbors();
    nb.set_static(kRemote, kRemoteMac);
    const FlowKey k = ip_key(kVm1, ip(10, 0, 0, 1), ip(10, 0, 0, 2));
    Translation before = sw.run(k);
    check_push(before, encap::TunnelType::Vxlan, kRemote, 5001, kRemoteMac);
    REQUIRE(nb.remove(kRemote));
    {
        Ofproto::NoLearningScope revalidating(sw.ofp);
        Translation t = sw.run(k);
        CHECK(t.actions == drop_list(DropReason::TunnelNoNeighbor));
        CHECK(describe(t.mask) == describe(before.mask));   // same mask: the megaflow stays
        CHECK(nb.due_requests() == std::vector<uint32_t>{kRemote});
        // Learning is still off: an ARP reply replayed now teaches nothing.
        sw.run(arp_key(kUp0, 2, kRemote, kLocal));
        uint8_t mac[6];
        CHECK_FALSE(nb.lookup(kRemote, mac));
    }
}

TEST_CASE("overlay: next hop is the gateway for remotes off the local subnet",
          "[ofproto][overlay]") {
    const std::string flow = "in_port=vm1,actions=set_field:9->tun_id,set_field:198.51.100.7->tun_dst,output:vxlan0";
    const FlowKey k = ip_key(kVm1, ip(10, 0, 0, 1), ip(10, 0, 0, 2));
    SECTION("/24: via the gateway's MAC, to the far address") {
        Switch sw({flow});
        Translation t = sw.run(k);
        CHECK(t.actions == drop_list(DropReason::TunnelNoNeighbor));
        CHECK(sw.ofp.neighbors().due_requests() == std::vector<uint32_t>{kGateway});
        sw.ofp.neighbors().set_static(kGateway, kGatewayMac);
        check_push(sw.run(k), encap::TunnelType::Vxlan, kFar, 9, kGatewayMac);
        // An on-link remote still goes straight to its own MAC (the gateway's is no use).
        Switch on_link({"in_port=vm1,actions=set_field:9->tun_id,set_field:192.0.2.2->tun_dst,output:vxlan0"});
        on_link.ofp.neighbors().set_static(kGateway, kGatewayMac);
        CHECK(on_link.run(k).actions == drop_list(DropReason::TunnelNoNeighbor));
        CHECK(on_link.ofp.neighbors().due_requests() == std::vector<uint32_t>{kRemote});
    }
    SECTION("/32 (no prefix given): every remote is on-link, the gateway is not used") {
        Switch sw({flow}, overlay(32));
        sw.ofp.neighbors().set_static(kGateway, kGatewayMac);
        CHECK(sw.run(k).actions == drop_list(DropReason::TunnelNoNeighbor));
        CHECK(sw.ofp.neighbors().due_requests() == std::vector<uint32_t>{kFar});
    }
    SECTION("next_hop() itself") {
        OverlayConfig ov = overlay(24);
        CHECK(ov.next_hop(kRemote) == kRemote);
        CHECK(ov.next_hop(kFar) == kGateway);
        ov.underlay.gateway = 0;
        CHECK(ov.next_hop(kFar) == kFar);
        ov = overlay(16);
        CHECK(ov.next_hop(ip(192, 0, 200, 1)) == ip(192, 0, 200, 1));
        CHECK(ov.next_hop(ip(192, 1, 0, 1)) == kGateway);
        ov = overlay(0);
        CHECK(ov.next_hop(kFar) == kFar);   // /0: everything is local
    }
}

// ------------------------------------------------------------------ underlay input

TEST_CASE("overlay: ARP on the uplink for the local IP is answered or learned, before table 0",
          "[ofproto][overlay]") {
    Switch sw({"priority=0,actions=output:vm1"});
    Neighbors& nb = sw.ofp.neighbors();
    SECTION("request: arp_reply with the VTEP MAC, out of the uplink; the asker is learned") {
        Translation t = sw.run(arp_key(kUp0, 1, kRemote, kLocal));
        CHECK(t.actions == DpActionList{DpAction::arp_reply(kVtepMac), DpAction::output(kUp0)});
        CHECK_MASK(t, MaskOf()
                          .f(Field::InPort)
                          .f(Field::DlType)
                          .f(Field::NwDst)
                          .f(Field::NwProto)
                          .f(Field::NwSrc)
                          .f(Field::DlSrc));
        uint8_t mac[6];
        REQUIRE(nb.lookup(kRemote, mac));
        CHECK(std::memcmp(mac, kRemoteMac, 6) == 0);
        // Cached (an ARP storm to the VTEP costs no upcalls), one megaflow per asker (its
        // address and MAC are in the mask above). No table was looked at: the one "rule"
        // is the asker's confirmation, which the revalidator's stats push feeds.
        CHECK(t.cache);
        REQUIRE(t.rules.size() == 1);
        auto* confirm = dynamic_cast<NeighborConfirm*>(t.rules[0].get());
        REQUIRE(confirm != nullptr);
        REQUIRE(nb.remove(kRemote));
        const uint64_t v = nb.version();
        confirm->credit(0, 0, 0);   // no packets since the last push: nothing confirmed
        CHECK_FALSE(nb.lookup(kRemote, mac));
        confirm->credit(3, 180, 1);   // packets: the asker is learned (confirmed) again
        REQUIRE(nb.lookup(kRemote, mac));
        CHECK(std::memcmp(mac, kRemoteMac, 6) == 0);
        CHECK(nb.version() > v);
        // A static entry is not overwritten by a confirmation.
        const uint8_t other[6] = {0x02, 0, 0, 0, 0x0e, 0x0e};
        nb.set_static(kRemote, other);
        confirm->credit(1, 60, 2);
        REQUIRE(nb.lookup(kRemote, mac));
        CHECK(std::memcmp(mac, other, 6) == 0);
    }
    SECTION("request, re-translated (revalidation): still cached, nothing learned") {
        Ofproto::NoLearningScope revalidating(sw.ofp);
        Translation t = sw.run(arp_key(kUp0, 1, kRemote, kLocal));
        CHECK(t.actions == DpActionList{DpAction::arp_reply(kVtepMac), DpAction::output(kUp0)});
        CHECK(t.cache);
        CHECK(t.rules.size() == 1);
        uint8_t mac[6];
        CHECK_FALSE(nb.lookup(kRemote, mac));
    }
    SECTION("reply: learned and consumed, not cached (each answer to a probe is learned at once)") {
        Translation t = sw.run(arp_key(kUp0, 2, kRemote, kLocal));
        CHECK(t.actions == drop_list(DropReason::ArpConsumed));
        CHECK_FALSE(t.cache);
        CHECK(t.rules.empty());
        uint8_t mac[6];
        REQUIRE(nb.lookup(kRemote, mac));
        CHECK(std::memcmp(mac, kRemoteMac, 6) == 0);
    }
    SECTION("what is not for the VTEP goes to table 0") {
        // ARP for another address.
        CHECK(sw.run(arp_key(kUp0, 1, kRemote, ip(192, 0, 2, 77))).actions ==
              DpActionList{DpAction::output(kVm1)});
        // ARP for the local IP from a VM port.
        CHECK(sw.run(arp_key(2, 1, kRemote, kLocal)).actions == DpActionList{DpAction::output(kVm1)});
        // Another ARP opcode (RARP-style 3).
        CHECK(sw.run(arp_key(kUp0, 3, kRemote, kLocal)).actions == DpActionList{DpAction::output(kVm1)});
        uint8_t mac[6];
        CHECK_FALSE(nb.lookup(kRemote, mac));   // nothing learned from those
    }
    SECTION("no underlay: nothing is terminated") {
        sw.ofp.set_overlay(OverlayConfig{});
        CHECK(sw.run(arp_key(kUp0, 1, kRemote, kLocal)).actions == DpActionList{DpAction::output(kVm1)});
    }
}

TEST_CASE("overlay: VXLAN and GRE to the local IP pop as the tunnel port", "[ofproto][overlay]") {
    Switch sw({"priority=0,actions=output:vm1"});
    SECTION("vxlan: UDP 4789") {
        Translation t = sw.run(ip_key(kUp0, kRemote, kLocal, 17, 4789));
        CHECK(t.actions ==
              DpActionList{DpAction::tunnel_pop(kVxlan0, encap::TunnelType::Vxlan, 4789)});
        CHECK_MASK(t, MaskOf()
                          .f(Field::InPort)
                          .f(Field::DlType)
                          .f(Field::NwDst)
                          .f(Field::NwProto)
                          .f(Field::TpDst));
        CHECK(t.rules.empty());
    }
    SECTION("gre: protocol 47") {
        Translation t = sw.run(ip_key(kUp0, kRemote, kLocal, 47, 0));
        CHECK(t.actions == DpActionList{DpAction::tunnel_pop(kGre0, encap::TunnelType::Gre, 4789)});
        CHECK_MASK(t, MaskOf().f(Field::InPort).f(Field::DlType).f(Field::NwDst).f(Field::NwProto));
    }
    SECTION("a vxlan port's dst_port decides") {
        OverlayConfig ov = overlay();
        ov.tunnels[kVxlan0].dst_port = 8472;
        sw.ofp.set_overlay(ov);
        CHECK(sw.run(ip_key(kUp0, kRemote, kLocal, 17, 8472)).actions ==
              DpActionList{DpAction::tunnel_pop(kVxlan0, encap::TunnelType::Vxlan, 8472)});
        CHECK(sw.run(ip_key(kUp0, kRemote, kLocal, 17, 4789)).actions ==
              DpActionList{DpAction::output(kVm1)});
    }
    SECTION("everything else goes to table 0") {
        const DpActionList table0{DpAction::output(kVm1)};
        CHECK(sw.run(ip_key(kUp0, kRemote, kLocal, 17, 53)).actions == table0);    // other UDP
        CHECK(sw.run(ip_key(kUp0, kRemote, kLocal, 6, 4789)).actions == table0);   // TCP
        CHECK(sw.run(ip_key(kUp0, kRemote, ip(192, 0, 2, 9), 17, 4789)).actions == table0);   // not us
        CHECK(sw.run(ip_key(2, kRemote, kLocal, 17, 4789)).actions == table0);      // not the uplink
        CHECK(sw.run(eth_key(kUp0, 0x86dd)).actions == table0);
        // Table 0's mask has the termination checks in it.
        Translation t = sw.run(ip_key(kUp0, kRemote, kLocal, 17, 53));
        CHECK_MASK(t, MaskOf()
                          .f(Field::InPort)
                          .f(Field::DlType)
                          .f(Field::NwDst)
                          .f(Field::NwProto)
                          .f(Field::TpDst));
    }
    SECTION("no tunnel ports: nothing to pop to") {
        OverlayConfig ov = overlay();
        ov.tunnels.clear();
        sw.ofp.set_overlay(ov);
        CHECK(sw.run(ip_key(kUp0, kRemote, kLocal, 17, 4789)).actions ==
              DpActionList{DpAction::output(kVm1)});
    }
}

TEST_CASE("overlay: decapsulated packets match in_port and tun_* like any packet",
          "[ofproto][overlay]") {
    Switch sw({"priority=10,in_port=vxlan0,tun_id=5001,tun_src=192.0.2.2,actions=output:vm1",
               "priority=0,actions=drop:vpc_unknown_vni"});
    FlowKey k = decap_key(kVxlan0, 5001, kRemote, ip_key(kVxlan0, ip(10, 0, 0, 9), ip(10, 0, 0, 1)));
    CHECK(sw.run(k).actions == DpActionList{DpAction::output(kVm1)});
    k.tun_id = 5002;
    CHECK(sw.run(k).actions == drop_list(DropReason::VpcUnknownVni));
}

// ------------------------------------------------------------------ arp_reply, drop:REASON

namespace {

// Parses, prints canonically, and parses the print back to the same flow.
void check_round_trip(const std::string& flow) {
    FlowSpec spec;
    FlowError err = parse_flow(flow, kPorts, spec);
    INFO(flow << ": " << err.message << " near '" << err.token << "'");
    REQUIRE_FALSE(err);
    const std::string printed = format_flow(spec, kPorts);
    FlowSpec again;
    REQUIRE_FALSE(parse_flow(printed, kPorts, again));
    CHECK(again == spec);
    CHECK(format_flow(again, kPorts) == printed);
}

}  // namespace

TEST_CASE("overlay: arp_reply and drop:REASON parse, print back, must be last",
          "[ofproto][overlay][parser]") {
    for (const char* flow : {
             "priority=10,in_port=vm1,arp,arp_op=1,arp_tpa=10.0.0.254,actions=arp_reply:02:00:00:00:00:aa",
             "in_port=vm1,actions=drop:vpc_spoofed",
             "actions=output:vm2,drop:vpc_no_route",
             "actions=set_field:5001->tun_id,set_field:192.0.2.2->tun_dst,output:vxlan0",
             "tun_id=0x1389,tun_src=192.0.2.2,actions=set_field:192.0.2.3->tun_src,drop:vpc_unknown_host",
             "icmp,nw_dst=10.0.0.1,icmp_type=8,actions=icmp_echo_reply",
         }) {
        check_round_trip(flow);
    }
    // The dump form, through Ofproto.
    Switch sw({"in_port=vm1,actions=drop:vpc_security_denied", "in_port=vm2,arp,actions=arp_reply:02:00:00:00:00:AA"});
    std::vector<FlowDump> d;
    REQUIRE_FALSE(sw.ofp.dump_flows("", d));
    REQUIRE(d.size() == 2);
    std::vector<std::string> acts{d[0].actions, d[1].actions};
    std::sort(acts.begin(), acts.end());
    CHECK(acts == std::vector<std::string>{"arp_reply:02:00:00:00:00:aa", "drop:vpc_security_denied"});

    auto err = [](const std::string& flow) {
        FlowSpec spec;
        FlowError e = parse_flow(flow, kPorts, spec);
        INFO(flow);
        CHECK(e);
        return e;
    };
    FlowError e = err("actions=drop:vpc_spoofed,output:vm1");
    CHECK(e.message == "drop must be the last action");
    CHECK(e.token == "drop:vpc_spoofed");
    e = err("arp,actions=arp_reply:02:00:00:00:00:aa,output:vm1");
    CHECK(e.message == "arp_reply must be the last action");
    CHECK(e.token == "arp_reply:02:00:00:00:00:aa");
    e = err("actions=drop:vpc_spoofed,drop:vpc_no_route");
    CHECK(e.token == "drop:vpc_spoofed");
    // Only the pipeline's reasons.
    e = err("actions=drop:tx_full");
    CHECK(e.message.find("'tx_full' is not a drop reason (vpc_spoofed, vpc_unknown_vni, vpc_unknown_host, "
                         "vpc_security_denied, vpc_no_route)") != std::string::npos);
    CHECK(e.token == "drop:tx_full");
    CHECK(err("actions=drop:bogus").token == "drop:bogus");
    CHECK(err("actions=drop:").token == "drop:");
    // arp_reply needs a unicast MAC.
    CHECK(err("actions=arp_reply:ff:ff:ff:ff:ff:ff").message == "arp_reply: the MAC must be unicast");
    CHECK(err("actions=arp_reply:01:00:5e:00:00:01").token == "arp_reply:01:00:5e:00:00:01");
    CHECK(err("actions=arp_reply:02:00:00:00:00").message.find("invalid MAC address") != std::string::npos);
    CHECK(err("actions=arp_reply:zz").token == "arp_reply:zz");
    CHECK(err("actions=arp_reply").message == "arp_reply: expected arp_reply:MAC");
    CHECK(err("actions=icmp_echo_reply:1").message == "icmp_echo_reply does not take an argument");
    e = err("icmp,actions=icmp_echo_reply,output:vm1");
    CHECK(e.message == "icmp_echo_reply must be the last action");
    CHECK(e.token == "icmp_echo_reply");
    // Plain drop is still drop.
    FlowSpec plain;
    REQUIRE_FALSE(parse_flow("actions=drop", kPorts, plain));
    CHECK(plain.actions.empty());
}

TEST_CASE("overlay: icmp_echo_reply translation", "[ofproto][overlay]") {
    Switch sw({"in_port=vm1,actions=icmp_echo_reply"});
    SECTION("an echo request: the reply goes back out of the ingress port") {
        FlowKey k = ip_key(kVm1, ip(10, 0, 0, 11), ip(10, 0, 0, 1), 1);
        k.tp_src = htons(8);   // type
        k.tp_dst = 0;          // code
        Translation t = sw.run(k);
        CHECK(t.actions == DpActionList{DpAction::icmp_echo_reply(), DpAction::output(kVm1)});
        CHECK_MASK(t, MaskOf().f(Field::InPort).f(Field::DlType).f(Field::NwProto).f(Field::TpSrc).f(Field::TpDst));
        CHECK(dp_actions_to_string(t.actions, [](uint32_t p) { return std::to_string(p); }) ==
              "icmp_echo_reply,output:" + std::to_string(kVm1));
    }
    SECTION("not ICMP, or not an echo request: dropped") {
        Translation t = sw.run(ip_key(kVm1, ip(10, 0, 0, 11), ip(10, 0, 0, 1)));
        CHECK(t.actions.empty());
        CHECK_MASK(t, MaskOf().f(Field::InPort).f(Field::DlType).f(Field::NwProto));
        FlowKey k = ip_key(kVm1, ip(10, 0, 0, 11), ip(10, 0, 0, 1), 1);
        k.tp_src = 0;   // an echo reply
        k.tp_dst = 0;
        CHECK(sw.run(k).actions.empty());
        CHECK(sw.run(arp_key(kVm1, 1, ip(10, 0, 0, 1), ip(10, 0, 0, 254))).actions.empty());
    }
}

TEST_CASE("overlay: arp_reply translation", "[ofproto][overlay]") {
    const uint8_t kResp[6] = {0x02, 0, 0, 0, 0, 0xaa};
    Switch sw({"in_port=vm1,actions=arp_reply:02:00:00:00:00:aa"});
    SECTION("a request: the reply goes back out of the ingress port") {
        Translation t = sw.run(arp_key(kVm1, 1, ip(10, 0, 0, 1), ip(10, 0, 0, 254), kVmMac));
        CHECK(t.actions == DpActionList{DpAction::arp_reply(kResp), DpAction::output(kVm1)});
        // What the answer says comes from the target address: matched exactly.
        CHECK_MASK(t, MaskOf().f(Field::InPort).f(Field::DlType).f(Field::NwProto).f(Field::NwDst));
    }
    SECTION("not ARP, or not a request: dropped") {
        Translation t = sw.run(ip_key(kVm1, ip(10, 0, 0, 1), ip(10, 0, 0, 2)));
        CHECK(t.actions.empty());
        CHECK_MASK(t, MaskOf().f(Field::InPort).f(Field::DlType));
        t = sw.run(arp_key(kVm1, 2, ip(10, 0, 0, 1), ip(10, 0, 0, 254), kVmMac));
        CHECK(t.actions.empty());
        CHECK_MASK(t, MaskOf().f(Field::InPort).f(Field::DlType).f(Field::NwProto));
    }
    SECTION("asked through a tunnel: answered through it, to the asking host") {
        Switch tun({"in_port=vxlan0,arp,actions=arp_reply:02:00:00:00:00:aa"});
        tun.ofp.neighbors().set_static(kRemote, kRemoteMac);
        FlowKey k = decap_key(kVxlan0, 5001, kRemote,
                              arp_key(kVxlan0, 1, ip(10, 0, 0, 1), ip(10, 0, 0, 254), kVmMac));
        Translation t = tun.run(k);
        INFO(dp_actions_to_string(t.actions));
        REQUIRE(t.actions.size() == 3);
        CHECK(t.actions[0] == DpAction::arp_reply(kResp));
        Translation rest;
        rest.actions.assign(t.actions.begin() + 1, t.actions.end());
        rest.actions.tunnels = t.actions.tunnels;
        check_push(rest, encap::TunnelType::Vxlan, kRemote, 5001, kRemoteMac);
        CHECK(t.mask.tun_src == 0xffffffff);
        CHECK(t.mask.tun_id == ~uint64_t(0));
        CHECK(t.mask.tun_dst == 0);   // the answer's destination is tun_src, not tun_dst
    }
    SECTION("through a tunnel, next hop unknown: dropped as tunnel_no_neighbor") {
        Switch tun({"in_port=vxlan0,arp,actions=arp_reply:02:00:00:00:00:aa"});
        FlowKey k = decap_key(kVxlan0, 5001, kRemote,
                              arp_key(kVxlan0, 1, ip(10, 0, 0, 1), ip(10, 0, 0, 254), kVmMac));
        Translation t = tun.run(k);
        CHECK(t.actions == drop_list(DropReason::TunnelNoNeighbor));
        CHECK(tun.ofp.neighbors().due_requests() == std::vector<uint32_t>{kRemote});
    }
}

TEST_CASE("overlay: drop:REASON translation", "[ofproto][overlay]") {
    Switch sw({"priority=10,in_port=vm1,actions=output:vm2,drop:vpc_spoofed",
               "priority=10,in_port=vm2,actions=drop:vpc_no_route"});
    CHECK(sw.run(ip_key(kVm1, ip(10, 0, 0, 1), ip(10, 0, 0, 2))).actions ==
          DpActionList{DpAction::output(2), DpAction::drop(uint8_t(DropReason::VpcSpoofed))});
    CHECK(sw.run(ip_key(2, ip(10, 0, 0, 1), ip(10, 0, 0, 2))).actions == drop_list(DropReason::VpcNoRoute));
    // It ends the packet's path: a resubmit's caller does not carry on.
    Switch nested({"table=0,in_port=vm1,actions=resubmit(,1),output:vm3",
                   "table=1,actions=drop:vpc_security_denied"});
    CHECK(nested.run(ip_key(kVm1, ip(10, 0, 0, 1), ip(10, 0, 0, 2))).actions ==
          drop_list(DropReason::VpcSecurityDenied));
}

// ------------------------------------------------------------------ trace

TEST_CASE("overlay: trace shows the tunnel decisions and the decoded push", "[ofproto][overlay][trace]") {
    Switch sw({"in_port=vm1,actions=set_field:5001->tun_id,set_field:192.0.2.2->tun_dst,output:vxlan0",
               "priority=0,actions=output:vm2"});
    std::string all = trace(sw, "in_port=vm1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2");
    INFO(all);
    CHECK(all.find("-> tunnel: next hop 192.0.2.2 unresolved: not sent (tunnel_no_neighbor)") != std::string::npos);
    CHECK(all.find("Datapath actions: drop(tunnel_no_neighbor)") != std::string::npos);
    // Trace never sends ARP requests (it does not learn or ask).
    CHECK(sw.ofp.neighbors().due_requests().empty());

    sw.ofp.neighbors().set_static(kRemote, kRemoteMac);
    all = trace(sw, "in_port=vm1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2");
    CHECK(all.find("-> tunnel: encapsulated (key 5001) to 192.0.2.2 via port 3") != std::string::npos);
    CHECK(all.find("Datapath actions: tunnel_push(vxlan,dst_port=4789,key=5001,src=192.0.2.1,dst=192.0.2.2,"
                   "eth_dst=02:00:00:00:00:02,mtu=1500),output:up0") != std::string::npos);

    all = trace(sw, "in_port=up0,arp,arp_op=1,arp_spa=192.0.2.2,arp_tpa=192.0.2.1");
    CHECK(all.find("underlay: ARP request for the local IP answered") != std::string::npos);
    CHECK(all.find("Datapath actions: arp_reply(02:00:00:00:00:01),output:up0") != std::string::npos);
    all = trace(sw, "in_port=up0,udp,nw_dst=192.0.2.1,tp_dst=4789");
    CHECK(all.find("underlay: tunnel packet for us, decapsulated as from port 5") != std::string::npos);
    CHECK(all.find("Datapath actions: tunnel_pop(vxlan0)") != std::string::npos);
}

// ------------------------------------------------------------------ Neighbors

namespace {

std::atomic<int64_t> g_now{1'000'000'000};
int64_t fake_clock() { return g_now.load(); }
void advance(double s) { g_now += static_cast<int64_t>(s * 1e9); }

}  // namespace

TEST_CASE("neighbors: static entries win over learning; versions move on changes only",
          "[ofproto][neighbors]") {
    Neighbors nb(&fake_clock);
    uint8_t mac[6];
    CHECK_FALSE(nb.lookup(kRemote, mac));
    uint64_t v = nb.version();
    nb.learn(kRemote, kRemoteMac);
    CHECK(nb.version() == ++v);
    REQUIRE(nb.lookup(kRemote, mac));
    CHECK(std::memcmp(mac, kRemoteMac, 6) == 0);
    nb.learn(kRemote, kRemoteMac);   // the same again: nothing changes
    CHECK(nb.version() == v);
    nb.learn(kRemote, kGatewayMac);  // moved: learned again
    CHECK(nb.version() == ++v);
    REQUIRE(nb.lookup(kRemote, mac));
    CHECK(std::memcmp(mac, kGatewayMac, 6) == 0);

    nb.set_static(kRemote, kRemoteMac);
    CHECK(nb.version() == ++v);
    nb.learn(kRemote, kGatewayMac);  // static: not overwritten, no version change
    CHECK(nb.version() == v);
    REQUIRE(nb.lookup(kRemote, mac));
    CHECK(std::memcmp(mac, kRemoteMac, 6) == 0);

    // Nonsense is not learned: sender 0.0.0.0 (probe), multicast MAC.
    const uint8_t mcast[6] = {0x01, 0, 0x5e, 0, 0, 1};
    nb.learn(0, kRemoteMac);
    nb.learn(kGateway, mcast);
    CHECK(nb.version() == v);
    CHECK_FALSE(nb.lookup(kGateway, mac));

    // clear_learned keeps static entries; removes learned ones.
    nb.learn(kGateway, kGatewayMac);
    v = nb.version();
    nb.clear_learned();
    CHECK(nb.version() == v + 1);
    CHECK(nb.lookup(kRemote, mac));
    CHECK_FALSE(nb.lookup(kGateway, mac));
    nb.clear_learned();   // nothing learned left: no change
    CHECK(nb.version() == v + 1);

    CHECK(nb.remove(kRemote));
    CHECK(nb.version() == v + 2);
    CHECK_FALSE(nb.remove(kRemote));
    CHECK(nb.version() == v + 2);
}

TEST_CASE("neighbors: dump shows kind and age", "[ofproto][neighbors]") {
    Neighbors nb(&fake_clock);
    nb.set_static(kRemote, kRemoteMac);
    advance(2);
    nb.learn(kGateway, kGatewayMac);
    advance(3);
    auto d = nb.dump();
    REQUIRE(d.size() == 2);
    std::sort(d.begin(), d.end(), [](auto& a, auto& b) { return ntohl(a.ip) < ntohl(b.ip); });
    CHECK(d[0].ip == kRemote);
    CHECK(d[0].is_static);
    CHECK(d[0].age_s == Approx(5.0));
    CHECK(std::memcmp(d[0].mac, kRemoteMac, 6) == 0);
    CHECK(d[1].ip == kGateway);
    CHECK_FALSE(d[1].is_static);
    CHECK(d[1].age_s == Approx(3.0));
}

TEST_CASE("neighbors: requests paced at one per second, given up 30 s after the last want",
          "[ofproto][neighbors]") {
    Neighbors nb(&fake_clock);
    nb.want(kRemote);
    nb.want(kRemote);   // wanted twice: still one request
    CHECK(nb.due_requests() == std::vector<uint32_t>{kRemote});
    CHECK(nb.due_requests().empty());
    advance(0.5);
    nb.want(kGateway);
    CHECK(nb.due_requests() == std::vector<uint32_t>{kGateway});
    advance(0.49);
    CHECK(nb.due_requests().empty());
    advance(0.02);   // 1.01 s after the first request, 0.51 s after the second
    CHECK(nb.due_requests() == std::vector<uint32_t>{kRemote});
    advance(0.5);
    CHECK(nb.due_requests() == std::vector<uint32_t>{kGateway});
    CHECK(nb.requests_sent() == 4);

    // Learned (or added): no more requests.
    nb.learn(kGateway, kGatewayMac);
    advance(1.0);
    CHECK(nb.due_requests() == std::vector<uint32_t>{kRemote});

    // Wanted no more: one request a second until kGiveUpS after the last want. kRemote
    // was last wanted at the start, 2.51 s ago: requests at 3.51, 4.51, ..., 29.51 s.
    int sent = 0;
    for (int i = 0; i < 27; i++) {
        advance(1.0);
        sent += static_cast<int>(nb.due_requests().size());
    }
    CHECK(sent == 27);
    // At 30.51 s it is given up. That moves the version: revalidation re-translates, and
    // a megaflow that still needs the address (its packets no longer upcall) asks again.
    const uint64_t v = nb.version();
    advance(1.0);
    CHECK(nb.due_requests().empty());
    CHECK(nb.version() == v + 1);
    advance(1.0);
    CHECK(nb.due_requests().empty());
    CHECK(nb.version() == v + 1);   // once
    // A new want starts over at once.
    nb.want(kRemote);
    CHECK(nb.due_requests() == std::vector<uint32_t>{kRemote});
}

TEST_CASE("neighbors: aged entries are probed, kept while they answer, removed when they do not",
          "[ofproto][neighbors]") {
    Neighbors nb(&fake_clock);
    CHECK(nb.aging() == Neighbors::kDefaultAgingS);
    nb.set_aging(60);
    nb.learn(kRemote, kRemoteMac);
    nb.set_static(kGateway, kGatewayMac);
    advance(59);
    CHECK(nb.due_requests().empty());
    advance(2);   // 61 s unconfirmed: asked for again; the static entry never is
    CHECK(nb.due_requests() == std::vector<uint32_t>{kRemote});
    uint8_t mac[6];
    CHECK(nb.lookup(kRemote, mac));   // still used meanwhile: traffic does not stop
    auto probing = [&](uint32_t ip) {
        for (const NeighborEntry& e : nb.dump())
            if (e.ip == ip) return e.probing;
        return false;
    };
    CHECK(probing(kRemote));
    CHECK_FALSE(probing(kGateway));
    advance(0.5);
    CHECK(nb.due_requests().empty());   // a second apart
    advance(0.6);
    CHECK(nb.due_requests() == std::vector<uint32_t>{kRemote});
    // The answer, with the MAC it had: confirmed, nothing changes for the megaflows.
    uint64_t v = nb.version();
    nb.learn(kRemote, kRemoteMac);
    CHECK(nb.version() == v);
    advance(1.1);
    CHECK(nb.due_requests().empty());
    CHECK_FALSE(probing(kRemote));
    CHECK(nb.aged_out() == 0);

    // Unanswered: kProbes requests a second apart, then removed a second after the last.
    advance(60);
    int probes = 0;
    for (int i = 0; i < 10 && nb.lookup(kRemote, mac); i++) {
        probes += static_cast<int>(nb.due_requests().size());
        advance(1.01);
    }
    CHECK(probes == static_cast<int>(Neighbors::kProbes));
    CHECK_FALSE(nb.lookup(kRemote, mac));
    CHECK(nb.version() == v + 1);   // its megaflows are re-translated
    CHECK(nb.aged_out() == 1);
    CHECK(nb.lookup(kGateway, mac));

    // Answered from another MAC while probed: learned as a move.
    nb.learn(kRemote, kRemoteMac);
    advance(61);
    CHECK(nb.due_requests() == std::vector<uint32_t>{kRemote});
    v = nb.version();
    nb.learn(kRemote, kGatewayMac);
    CHECK(nb.version() == v + 1);
    advance(5);
    CHECK(nb.due_requests().empty());
    REQUIRE(nb.lookup(kRemote, mac));
    CHECK(std::memcmp(mac, kGatewayMac, 6) == 0);

    // Aging off: learned entries stay.
    nb.set_aging(0);
    advance(100000);
    CHECK(nb.due_requests().empty());
    CHECK(nb.lookup(kRemote, mac));
}

// ------------------------------------------------------------------ dhcp_reply

TEST_CASE("overlay: dhcp_reply parses, prints back canonically, refuses bad options",
          "[ofproto][overlay][parser]") {
    const std::string canonical =
        "dhcp_reply(mac=0a:56:00:00:13:89,server=10.1.0.1,ip=10.1.0.11,mask=255.255.255.0,"
        "router=10.1.0.1,dns=10.1.0.2,dns=8.8.8.8,mtu=1450,lease=3600)";
    for (const std::string& flow : std::vector<std::string>{
             "udp,in_port=vm1,tp_src=68,tp_dst=67,actions=" + canonical,
             "udp,actions=dhcp_reply(ip=10.1.0.11,mac=0A:56:00:00:13:89,mask=255.255.255.0,server=10.1.0.1)",
             "actions=dhcp_reply(mac=02:00:00:00:00:01,server=192.168.0.1,ip=192.168.0.7,mask=255.255.255.255,lease=4294967295)",
         }) {
        check_round_trip(flow);
    }
    FlowSpec spec;
    REQUIRE_FALSE(parse_flow("udp,actions=" + canonical, kPorts, spec));
    CHECK(format_flow(spec, kPorts).find("actions=" + canonical) != std::string::npos);
    // Any order; printed in the canonical one, with the lease.
    REQUIRE_FALSE(parse_flow("actions=dhcp_reply(ip=10.1.0.11,mac=0A:56:00:00:13:89,mask=255.255.255.0,server=10.1.0.1)",
                             kPorts, spec));
    CHECK(format_flow(spec, kPorts) ==
          "table=0,priority=32768 actions=dhcp_reply(mac=0a:56:00:00:13:89,server=10.1.0.1,ip=10.1.0.11,"
          "mask=255.255.255.0,lease=86400)");

    auto err = [](const std::string& actions) {
        FlowSpec s;
        FlowError e = parse_flow("udp,actions=" + actions, kPorts, s);
        INFO(actions);
        CHECK(e);
        return e;
    };
    const std::string base = "mac=0a:56:00:00:13:89,server=10.1.0.1,ip=10.1.0.11,mask=255.255.255.0";
    auto with = [&](const std::string& extra) { return "dhcp_reply(" + base + extra + ")"; };
    CHECK(err("dhcp_reply").message == "dhcp_reply: expected dhcp_reply(mac=MAC,server=IP,ip=IP,mask=MASK,...)");
    CHECK(err("dhcp_reply:1").token == "dhcp_reply:1");
    CHECK(err("dhcp_reply(mac=0a:56:00:00:13:89,server=10.1.0.1,ip=10.1.0.11)").message == "dhcp_reply: missing mask=");
    CHECK(err("dhcp_reply(server=10.1.0.1,ip=10.1.0.11,mask=255.255.255.0)").message == "dhcp_reply: missing mac=");
    CHECK(err(with(",ip=10.1.0.12")).message == "dhcp_reply: ip: given twice");
    CHECK(err(with(",mask2")).message == "dhcp_reply: expected KEY=VALUE, got 'mask2'");
    CHECK(err(with(",MTU=1400")).message == "dhcp_reply: unknown key 'MTU' (mac, server, ip, mask, router, dns, mtu, lease)");
    CHECK(err("dhcp_reply(mac=01:00:5e:00:00:01,server=10.1.0.1,ip=10.1.0.11,mask=255.255.255.0)").message ==
          "dhcp_reply: mac: the MAC must be unicast");
    CHECK(err("dhcp_reply(mac=0a:56:00:00:13:89,server=10.1.0.1,ip=10.1.0.11,mask=255.0.255.0)").message ==
          "dhcp_reply: mask: '255.0.255.0' is not a netmask");
    CHECK(err("dhcp_reply(mac=0a:56:00:00:13:89,server=10.1.0.1,ip=10.1.0.255,mask=255.255.255.0)").message ==
          "dhcp_reply: ip: the network or broadcast address of its subnet");
    CHECK(err("dhcp_reply(mac=0a:56:00:00:13:89,server=10.1.0.1,ip=10.1.0.0,mask=255.255.255.0)"));
    CHECK(err("dhcp_reply(mac=0a:56:00:00:13:89,server=224.0.0.1,ip=10.1.0.11,mask=255.255.255.0)").message ==
          "dhcp_reply: server: '224.0.0.1' is not a unicast address");
    CHECK(err(with(",router=10.1.0")).message.rfind("dhcp_reply: router: ", 0) == 0);
    CHECK(err(with(",dns=1.1.1.1,dns=1.1.1.2,dns=1.1.1.3,dns=1.1.1.4,dns=1.1.1.5")).message ==
          "dhcp_reply: dns: at most 4 servers");
    CHECK(err(with(",mtu=67")).message == "dhcp_reply: mtu: below 68, the IPv4 minimum");
    CHECK(err(with(",mtu=65536")));
    CHECK(err(with(",lease=0")).message == "dhcp_reply: lease: must be at least 1 second");
    FlowError e = err(with("") + ",output:vm1");
    CHECK(e.message == "dhcp_reply must be the last action");
    CHECK(e.token == with(""));
}

TEST_CASE("overlay: dhcp_reply translation", "[ofproto][overlay]") {
    Switch sw({"in_port=vm1,actions=dhcp_reply(mac=0a:56:00:00:13:89,server=10.1.0.1,ip=10.1.0.11,"
               "mask=255.255.255.0,router=10.1.0.1,mtu=1450)"});
    FlowKey k = ip_key(kVm1, 0, 0xffffffff, 17);
    k.tp_src = htons(68);
    k.tp_dst = htons(67);
    SECTION("a client's datagram: answered out of the ingress port, the answer in the list") {
        Translation t = sw.run(k);
        REQUIRE(t.actions.size() == 2);
        CHECK(t.actions[0].type == DpActionType::DhcpReply);
        CHECK(t.actions[1] == DpAction::output(kVm1));
        REQUIRE(t.actions.dhcp.size() == 1);
        const encap::DhcpConfig& c = t.actions.dhcp[0];
        CHECK(c.client_ip == 0x0a01000b);
        CHECK(c.server_ip == 0x0a010001);
        CHECK(c.netmask == 0xffffff00);
        CHECK(c.router == 0x0a010001);
        CHECK(c.mtu == 1450);
        CHECK(c.lease == 86400);
        CHECK(c.n_dns == 0);
        CHECK_MASK(t, MaskOf().f(Field::InPort).f(Field::DlType).f(Field::NwProto).f(Field::TpSrc).f(Field::TpDst));
        CHECK(dp_actions_to_string(t.actions, [](uint32_t p) { return std::to_string(p); }) ==
              "dhcp_reply(ip=10.1.0.11,mask=255.255.255.0,server=10.1.0.1,router=10.1.0.1,mtu=1450,"
              "lease=86400),output:" + std::to_string(kVm1));
        // Two translations give equal lists (revalidation compares them).
        CHECK(sw.run(k).actions == t.actions);
    }
    SECTION("not a DHCP client's datagram: dropped") {
        FlowKey o = k;
        o.tp_src = htons(67);   // a server's
        CHECK(sw.run(o).actions.empty());
        o = k;
        o.nw_proto = 6;
        Translation t = sw.run(o);
        CHECK(t.actions.empty());
        CHECK_MASK(t, MaskOf().f(Field::InPort).f(Field::DlType).f(Field::NwProto));
        CHECK(sw.run(arp_key(kVm1, 1, ip(10, 0, 0, 1), ip(10, 0, 0, 254))).actions.empty());
    }
}

// ------------------------------------------------------------------ icmp_error

TEST_CASE("overlay: icmp_error parses, prints back, refuses what it cannot send", "[ofproto][overlay][parser]") {
    FlowSpec spec;
    REQUIRE_FALSE(parse_flow("ip,nw_ttl=1,actions=icmp_error(src=10.1.0.1,code=0,type=11)", kPorts, spec));
    const std::string printed = format_flow(spec, kPorts);
    CHECK(printed.find("actions=icmp_error(type=11,code=0,src=10.1.0.1)") != std::string::npos);
    FlowSpec again;
    REQUIRE_FALSE(parse_flow(printed, kPorts, again));
    CHECK(again == spec);
    REQUIRE_FALSE(parse_flow("ip,actions=icmp_error(type=3,code=13,src=192.0.2.1)", kPorts, spec));

    auto err = [](const std::string& actions) {
        FlowSpec s;
        FlowError e = parse_flow("ip,actions=" + actions, kPorts, s);
        INFO(actions);
        CHECK(e);
        return e;
    };
    CHECK(err("icmp_error").message == "icmp_error: expected icmp_error(type=T,code=C,src=IP)");
    CHECK(err("icmp_error(type=11,code=0)").message == "icmp_error: missing src=");
    CHECK(err("icmp_error(code=0,src=10.1.0.1)").message == "icmp_error: missing type=");
    CHECK(err("icmp_error(type=8,code=0,src=10.1.0.1)").message ==
          "icmp_error: type: 8 is not an error type this action sends (3, 11, 12)");
    CHECK(err("icmp_error(type=11,code=16,src=10.1.0.1)").message == "icmp_error: code: code 16 out of range (0-15)");
    CHECK(err("icmp_error(type=11,code=0,src=224.0.0.1)").message ==
          "icmp_error: src: '224.0.0.1' is not a unicast address");
    CHECK(err("icmp_error(type=11,type=11,code=0,src=10.1.0.1)").message == "icmp_error: type: given twice");
    CHECK(err("icmp_error(type=11,code=0,src=10.1.0.1,ttl=3)").message == "icmp_error: unknown key 'ttl' (type, code, src)");
    CHECK(err("icmp_error(type,code=0,src=10.1.0.1)").message == "icmp_error: expected KEY=VALUE, got 'type'");
    FlowError e = err("icmp_error(type=11,code=0,src=10.1.0.1),output:vm1");
    CHECK(e.message == "icmp_error must be the last action");
}

TEST_CASE("overlay: icmp_error translation", "[ofproto][overlay]") {
    Switch sw({"in_port=vm1,actions=icmp_error(type=11,code=0,src=10.0.0.254)"});
    Translation t = sw.run(ip_key(kVm1, ip(10, 0, 0, 11), ip(10, 0, 1, 5), 17));
    CHECK(t.actions == DpActionList{DpAction::icmp_error(11, 0, 0x0a0000fe), DpAction::output(kVm1)});
    CHECK_MASK(t, MaskOf().f(Field::InPort).f(Field::DlType));
    CHECK(dp_actions_to_string(t.actions, [](uint32_t p) { return std::to_string(p); }) ==
          "icmp_error(type=11,code=0,src=10.0.0.254),output:" + std::to_string(kVm1));
    // Not IPv4: dropped.
    CHECK(sw.run(arp_key(kVm1, 1, ip(10, 0, 0, 1), ip(10, 0, 0, 254))).actions.empty());
    CHECK_FALSE(DpAction::icmp_error(11, 0, 1) == DpAction::icmp_error(11, 1, 1));
    CHECK_FALSE(DpAction::icmp_error(11, 0, 1) == DpAction::icmp_error(3, 0, 1));
    CHECK_FALSE(DpAction::icmp_error(11, 0, 1) == DpAction::icmp_error(11, 0, 2));
}
