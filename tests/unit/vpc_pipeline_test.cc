// Packets through the compiled VPC pipeline (a real Ofproto translating, with an
// underlay): anti-spoofing, the local ARP responder, forwarding to local and remote
// endpoints (tunnel key and destination), routing between subnets, security rules, VNI
// and host checks on tunnel input, and isolation of two VPCs with the same addresses.
#include <algorithm>
#include <iterator>

#include "switch/rule_changes.h"
#include "vpc_fixture.h"

using namespace vswitch;
using namespace vswitch::vpc;
using namespace vswitch::vpctest;

namespace {

const std::string kVm1 = "in_port=vm1,dl_src=52:54:00:00:00:01";
const std::string kVm2 = "in_port=vm2,dl_src=52:54:00:00:00:02";
const std::string kFromHost2 = "in_port=vxlan0,tun_id=5001,tun_src=192.0.2.2";

struct Pipeline : Env {
    Pipeline() {
        underlay();
        std::vector<Op> ops = blue();
        // vm1 accepts ssh and icmp from the VPC; vm2 icmp from anywhere.
        ops.push_back(add_rule("blue", "vm1", "ingress", "tcp", "10.1.0.0/16", 22));
        ops.push_back(add_rule("blue", "vm1", "ingress", "icmp", "10.1.0.0/16"));
        ops.push_back(add_rule("blue", "vm2", "ingress", "icmp"));
        REQUIRE(!apply(ops));
    }
};

}  // namespace

TEST_CASE("vpc pipeline: a VM sends only from its bound MAC and IP", "[vpc]") {
    Pipeline p;
    CHECK(p.actions(kVm1 + ",icmp,nw_src=10.1.0.11,nw_dst=10.1.1.12") != "drop(vpc_spoofed)");
    CHECK(p.actions("in_port=vm1,dl_src=52:54:00:00:00:99,icmp,nw_src=10.1.0.11,nw_dst=10.1.1.12") == "drop(vpc_spoofed)");
    CHECK(p.actions(kVm1 + ",icmp,nw_src=10.1.0.12,nw_dst=10.1.1.12") == "drop(vpc_spoofed)");
    CHECK(p.actions(kVm1 + ",arp,arp_op=1,arp_spa=10.1.0.99,arp_tpa=10.1.0.27") == "drop(vpc_spoofed)");
    CHECK(p.actions(kVm1 + ",ipv6,ipv6_dst=fe80::1") == "drop(vpc_spoofed)");
    CHECK(p.actions(kVm1 + ",dl_type=0x88cc") == "drop(vpc_spoofed)");
}

TEST_CASE("vpc pipeline: ARP is answered locally for every known address, none crosses", "[vpc]") {
    Pipeline p;
    const std::string req = kVm1 + ",arp,arp_op=1,arp_spa=10.1.0.11,arp_tpa=";
    CHECK(p.actions(req + "10.1.0.27") == "arp_reply(52:54:00:00:01:07),output:vm1");   // remote endpoint
    CHECK(p.actions(req + "10.1.1.12") == "arp_reply(52:54:00:00:00:02),output:vm1");   // local VM
    CHECK(p.actions(req + "10.1.0.1") == "arp_reply(0a:56:00:00:13:89),output:vm1");    // gateway
    CHECK(p.actions(req + "10.1.1.1") == "arp_reply(0a:56:00:00:13:89),output:vm1");
    CHECK(p.actions(req + "10.1.0.99") == "drop(vpc_no_route)");                        // unknown
    CHECK(p.actions(kVm1 + ",arp,arp_op=2,arp_spa=10.1.0.11,arp_tpa=10.1.0.27") == "drop(vpc_no_route)");  // replies
    // ARP arriving from the overlay is not delivered either.
    CHECK(p.actions(kFromHost2 + ",arp,arp_op=1,arp_spa=10.1.0.27,arp_tpa=10.1.0.11") == "drop(vpc_no_route)");
}

TEST_CASE("vpc pipeline: the gateways answer their VMs' ping", "[vpc]") {
    Pipeline p;
    const std::string ping = kVm1 + ",dl_dst=0a:56:00:00:13:89,icmp,nw_src=10.1.0.11,icmp_type=8,icmp_code=0,nw_dst=";
    CHECK(p.actions(ping + "10.1.0.1") == "icmp_echo_reply,output:vm1");
    CHECK(p.actions(ping + "10.1.1.1") == "icmp_echo_reply,output:vm1");   // the other subnet's gateway too
    // Anything else to a gateway address is routed as usual (and finds no one).
    CHECK(p.actions(kVm1 + ",dl_dst=0a:56:00:00:13:89,icmp,nw_src=10.1.0.11,icmp_type=0,nw_dst=10.1.0.1") ==
          "drop(vpc_no_route)");
    CHECK(p.actions(kVm1 + ",dl_dst=0a:56:00:00:13:89,tcp,nw_src=10.1.0.11,nw_dst=10.1.0.1,tp_dst=22") ==
          "drop(vpc_no_route)");
    // Not answered for remote hosts; and a VM's egress rules apply to the request.
    CHECK(p.actions(kFromHost2 + ",dl_dst=0a:56:00:00:13:89,icmp,nw_src=10.1.0.27,nw_dst=10.1.0.1,icmp_type=8") ==
          "drop(vpc_no_route)");
    REQUIRE(!p.apply({add_rule("blue", "vm1", "egress", "tcp", "10.1.0.0/24", 80)}));
    CHECK(p.actions(ping + "10.1.0.1") == "drop(vpc_security_denied)");
}

TEST_CASE("vpc pipeline: to a remote endpoint through the tunnel with VNI and host", "[vpc]") {
    Pipeline p;
    const std::string pkt = kVm1 + ",dl_dst=52:54:00:00:01:07,tcp,nw_src=10.1.0.11,nw_dst=10.1.0.27,tp_dst=80";
    std::string a = p.actions(pkt);
    CHECK(a.find("tunnel_push(") != std::string::npos);
    CHECK(a.find("output:up0") != std::string::npos);
    CHECK(p.trace_has(pkt, "tunnel: encapsulated (key 5001) to 192.0.2.2 via port 3"));
    // A GRE VPC: key = VNI, through gre0.
    REQUIRE(!p.apply({create_vpc("green", 6001, "gre"), add_subnet("green", "10.1.0.0/24"),
                      bind("green", "vm3", "52:54:00:00:00:03", {"10.1.0.11"}),
                      add_endpoint("green", "52:54:00:00:03:07", "10.1.0.27", "192.0.2.3")}));
    const std::string g = "in_port=vm3,dl_src=52:54:00:00:00:03,tcp,nw_src=10.1.0.11,nw_dst=10.1.0.27,tp_dst=80";
    CHECK(p.trace_has(g, "tunnel: encapsulated (key 6001) to 192.0.2.3 via port 3"));
    CHECK(p.trace_has(g, "output:gre0"));
}

TEST_CASE("vpc pipeline: tunnel input is checked: VNI, then host", "[vpc]") {
    Pipeline p;
    const std::string inner = ",icmp,nw_src=10.1.0.27,nw_dst=10.1.0.11";
    CHECK(p.actions(kFromHost2 + inner) == "set_eth_dst(52:54:00:00:00:01),output:vm1");
    CHECK(p.actions("in_port=vxlan0,tun_id=5002,tun_src=192.0.2.2" + inner) == "drop(vpc_unknown_vni)");
    CHECK(p.actions("in_port=vxlan0,tun_id=5001,tun_src=192.0.2.9" + inner) == "drop(vpc_unknown_host)");
    CHECK(p.actions("in_port=gre0,tun_id=5001,tun_src=192.0.2.2" + inner) == "drop(vpc_unknown_vni)");   // wrong encap
    // Never back into the tunnel: from a remote host to another remote endpoint.
    CHECK(p.actions(kFromHost2 + ",icmp,nw_src=10.1.0.27,nw_dst=10.1.0.27") == "drop(vpc_no_route)");
    // The last endpoint on a host goes: that host is unknown again.
    REQUIRE(!p.apply({del_endpoint("blue", "52:54:00:00:01:07")}));
    CHECK(p.actions(kFromHost2 + inner) == "drop(vpc_unknown_host)");
}

TEST_CASE("vpc pipeline: local delivery, routing between subnets at the source", "[vpc]") {
    Pipeline p;
    // Same subnet would be L2; vm2 is in 10.1.1.0/24, so vm1 sends to the router MAC.
    const std::string routed = kVm1 + ",dl_dst=0a:56:00:00:13:89,icmp,nw_src=10.1.0.11,nw_dst=10.1.1.12";
    CHECK(p.actions(routed) == "set_eth_src(0a:56:00:00:13:89),set_eth_dst(52:54:00:00:00:02),dec_ttl,output:vm2");
    // TTL expires at the router: "time exceeded" from the sender's gateway, back to it.
    CHECK(p.actions(routed + ",nw_ttl=1") == "icmp_error(type=11,code=0,src=10.1.0.1),output:vm1");
    CHECK(p.actions(kVm2 + ",dl_dst=0a:56:00:00:13:89,udp,nw_src=10.1.1.12,nw_dst=10.1.0.27,nw_ttl=1") ==
          "icmp_error(type=11,code=0,src=10.1.1.1),output:vm2");
    CHECK(p.actions(routed + ",nw_ttl=2") == "set_eth_src(0a:56:00:00:13:89),set_eth_dst(52:54:00:00:00:02),dec_ttl,output:vm2");
    // Not routed, not expired: same-subnet traffic and pings of the gateway with TTL 1.
    CHECK(p.actions(kVm1 + ",dl_dst=0a:56:00:00:13:89,icmp,nw_src=10.1.0.11,nw_dst=10.1.0.1,icmp_type=8,icmp_code=0,nw_ttl=1") ==
          "icmp_echo_reply,output:vm1");
    CHECK(p.actions(kVm1 + ",dl_dst=52:54:00:00:01:07,icmp,nw_src=10.1.0.11,nw_dst=10.1.0.27,nw_ttl=1").find("tunnel_push(") !=
          std::string::npos);
    // Routed towards a remote endpoint too.
    const std::string remote = kVm2 + ",dl_dst=0a:56:00:00:13:89,icmp,nw_src=10.1.1.12,nw_dst=10.1.0.27";
    CHECK(p.trace_has(remote, "tunnel: encapsulated (key 5001) to 192.0.2.2"));
    CHECK(p.actions(remote).find("set_eth_src(0a:56:00:00:13:89),set_eth_dst(52:54:00:00:01:07),dec_ttl,tunnel_push(") == 0);
    // Nothing is routed for packets from the tunnel (the source host routed them).
    CHECK(p.actions(kFromHost2 + ",dl_dst=0a:56:00:00:13:89,icmp,nw_src=10.1.0.27,nw_dst=10.1.1.12") ==
          "set_eth_dst(52:54:00:00:00:02),output:vm2");
}

TEST_CASE("vpc pipeline: security rules are stateless, ingress default deny, egress default allow", "[vpc]") {
    Pipeline p;
    const std::string to_vm1 = kVm2 + ",dl_dst=0a:56:00:00:13:89,nw_src=10.1.1.12,nw_dst=10.1.0.11";
    CHECK(p.actions(to_vm1 + ",tcp,tp_dst=22").find("output:vm1") != std::string::npos);
    CHECK(p.actions(to_vm1 + ",tcp,tp_dst=80") == "drop(vpc_security_denied)");
    CHECK(p.actions(to_vm1 + ",udp,tp_dst=22") == "drop(vpc_security_denied)");
    CHECK(p.actions(kFromHost2 + ",tcp,nw_src=10.1.0.27,nw_dst=10.1.0.11,tp_dst=22").find("output:vm1") != std::string::npos);
    // The reply of vm1's ssh server to vm2 needs a rule at vm2 (no connection tracking).
    const std::string reply = kVm1 + ",dl_dst=0a:56:00:00:13:89,tcp,nw_src=10.1.0.11,nw_dst=10.1.1.12,tp_src=22,tp_dst=40000";
    CHECK(p.actions(reply) == "drop(vpc_security_denied)");
    REQUIRE(!p.apply({add_rule("blue", "vm2", "ingress", "tcp", "10.1.0.11/32", 32768, 60999)}));
    CHECK(p.actions(reply).find("output:vm2") != std::string::npos);
    CHECK(p.actions(reply.substr(0, reply.size() - 5) + "61000") == "drop(vpc_security_denied)");
    // Egress: allowed by default; once a port has egress rules, only what they allow.
    const std::string out = kVm1 + ",dl_dst=52:54:00:00:01:07,tcp,nw_src=10.1.0.11,nw_dst=10.1.0.27";
    CHECK(p.actions(out + ",tp_dst=443").find("tunnel_push(") != std::string::npos);
    REQUIRE(!p.apply({add_rule("blue", "vm1", "egress", "tcp", "10.1.0.0/24", 80)}));
    CHECK(p.actions(out + ",tp_dst=80").find("tunnel_push(") != std::string::npos);
    CHECK(p.actions(out + ",tp_dst=443") == "drop(vpc_security_denied)");
    REQUIRE(!p.apply({del_rule("blue", "vm1", "egress", "tcp", "10.1.0.0/24", 80)}));
    CHECK(p.actions(out + ",tp_dst=443").find("tunnel_push(") != std::string::npos);
}

TEST_CASE("vpc pipeline: two VPCs with the same addresses never see each other's packets", "[vpc]") {
    Pipeline p;
    // green: the same subnets, the same VM addresses and MACs, on vm3/vm4, GRE 6001; and
    // a remote endpoint with blue's address on another host.
    REQUIRE(!p.apply({create_vpc("green", 6001, "gre"), add_subnet("green", "10.1.0.0/24"),
                      add_subnet("green", "10.1.1.0/24"),
                      bind("green", "vm3", "52:54:00:00:00:01", {"10.1.0.11"}),
                      bind("green", "vm4", "52:54:00:00:00:02", {"10.1.1.12"}),
                      add_endpoint("green", "52:54:00:00:01:07", "10.1.0.27", "192.0.2.3"),
                      add_rule("green", "vm3", "ingress", "any"), add_rule("green", "vm4", "ingress", "any"),
                      add_rule("blue", "vm2", "ingress", "any")}));
    const std::string gvm3 = "in_port=vm3,dl_src=52:54:00:00:00:01";
    for (const std::string& tail : {std::string(",dl_dst=0a:56:00:00:13:89,icmp,nw_src=10.1.0.11,nw_dst=10.1.1.12"),
                                    std::string(",tcp,nw_src=10.1.0.11,nw_dst=10.1.1.12,tp_dst=22")}) {
        std::string b = p.actions(kVm1 + tail), g = p.actions(gvm3 + tail);
        CHECK(b.find("output:vm2") != std::string::npos);
        CHECK(b.find("vm4") == std::string::npos);
        CHECK(g.find("output:vm4") != std::string::npos);
        CHECK(g.find("vm2") == std::string::npos);
    }
    // The remote endpoint of each is on its own host, under its own key.
    CHECK(p.trace_has(kVm1 + ",icmp,nw_src=10.1.0.11,nw_dst=10.1.0.27", "(key 5001) to 192.0.2.2"));
    CHECK(p.trace_has(gvm3 + ",icmp,nw_src=10.1.0.11,nw_dst=10.1.0.27", "(key 6001) to 192.0.2.3"));
    // Tunnel input: each VNI reaches its own VPC's VM only; a VPC's key from the other's
    // host or tunnel is refused.
    const std::string inner = ",icmp,nw_src=10.1.0.27,nw_dst=10.1.0.11";
    CHECK(p.actions(kFromHost2 + inner) == "set_eth_dst(52:54:00:00:00:01),output:vm1");
    CHECK(p.actions("in_port=gre0,tun_id=6001,tun_src=192.0.2.3" + inner) == "set_eth_dst(52:54:00:00:00:01),output:vm3");
    CHECK(p.actions("in_port=gre0,tun_id=6001,tun_src=192.0.2.2" + inner) == "drop(vpc_unknown_host)");
    CHECK(p.actions("in_port=vxlan0,tun_id=6001,tun_src=192.0.2.3" + inner) == "drop(vpc_unknown_vni)");
    // ARP answers come from the asker's VPC.
    REQUIRE(!p.apply({add_endpoint("green", "52:54:00:00:03:09", "10.1.0.40", "192.0.2.3")}));
    CHECK(p.actions(gvm3 + ",arp,arp_op=1,arp_spa=10.1.0.11,arp_tpa=10.1.0.40") == "arp_reply(52:54:00:00:03:09),output:vm3");
    CHECK(p.actions(kVm1 + ",arp,arp_op=1,arp_spa=10.1.0.11,arp_tpa=10.1.0.40") == "drop(vpc_no_route)");
}

TEST_CASE("vpc pipeline: a batch of endpoints re-translates only the megaflows that can meet them",
          "[vpc][revalidate]") {
    Pipeline p;
    auto translate = [&](const std::string& packet) {
        ofp::FlowFilter f;
        REQUIRE_FALSE(ofp::parse_filter(packet, p.ports, f));
        FlowKey key = f.match.value();
        key.nw_ttl = 64;
        Translation t;
        REQUIRE(p.ofp.translate(key, t));
        return std::make_pair(key, t);
    };
    // The traffic's megaflows now: bridged to a remote endpoint, routed to it, routed to
    // a local VM, and one to an address the batch will add (dropped for now).
    const std::vector<std::pair<FlowKey, Translation>> others = {
        translate(kVm1 + ",dl_dst=52:54:00:00:01:07,tcp,nw_src=10.1.0.11,nw_dst=10.1.0.27,tp_dst=80"),
        translate(kVm2 + ",dl_dst=0a:56:00:00:13:89,tcp,nw_src=10.1.1.12,nw_dst=10.1.0.27,tp_dst=80"),
        translate(kVm2 + ",dl_dst=0a:56:00:00:13:89,tcp,nw_src=10.1.1.12,nw_dst=10.1.0.11,tp_dst=22"),
    };
    const auto newcomer = translate(kVm1 + ",dl_dst=0a:56:00:00:13:89,tcp,nw_src=10.1.0.11,nw_dst=10.1.0.150,tp_dst=80");
    CHECK(others[1].second.written != 0);   // routed: mod_dl_src and dec_ttl before table 43
    uint64_t tables = 0;
    std::vector<RuleChange> rules;
    p.ofp.take_changes(tables, &rules);   // what building the VPC changed
    std::vector<Op> batch;
    for (int i = 100; i < 200; i++) {
        char mac[24];
        snprintf(mac, sizeof mac, "52:54:00:00:02:%02x", i);
        batch.push_back(add_endpoint("blue", mac, "10.1.0." + std::to_string(i), "192.0.2.2"));
    }
    REQUIRE(!p.apply(batch));
    REQUIRE_FALSE(p.ofp.take_changes(tables, &rules));
    CHECK(tables == 0);           // every changed rule listed, no table named
    CHECK(rules.size() == 200);   // ARP and forwarding, per endpoint
    const RuleChangeSet set(rules);
    for (const auto& [key, t] : others) CHECK_FALSE(set.may_meet(t.tables, t.written, key, t.mask));
    CHECK(set.may_meet(newcomer.second.tables, newcomer.second.written, newcomer.first, newcomer.second.mask));
}

TEST_CASE("vpc pipeline: each VM's DHCP requests get its own address and its subnet's options", "[vpc]") {
    Pipeline p;
    const std::string offer1 =
        "dhcp_reply(ip=10.1.0.11,mask=255.255.255.0,server=10.1.0.1,router=10.1.0.1,mtu=1450,lease=86400),output:vm1";
    // A first lease: from 0.0.0.0 to the broadcast address; a renewal: from the bound IP.
    CHECK(p.actions(kVm1 + ",dl_dst=ff:ff:ff:ff:ff:ff,udp,nw_src=0.0.0.0,nw_dst=255.255.255.255,tp_src=68,tp_dst=67") == offer1);
    CHECK(p.actions(kVm1 + ",dl_dst=0a:56:00:00:13:89,udp,nw_src=10.1.0.11,nw_dst=10.1.0.1,tp_src=68,tp_dst=67") == offer1);
    CHECK(p.actions(kVm2 + ",udp,nw_src=0.0.0.0,nw_dst=255.255.255.255,tp_src=68,tp_dst=67") ==
          "dhcp_reply(ip=10.1.1.12,mask=255.255.255.0,server=10.1.1.1,router=10.1.1.1,mtu=1450,lease=86400),output:vm2");
    // Another MAC on the port is a spoofer, DHCP or not; other UDP from 0.0.0.0 too.
    CHECK(p.actions("in_port=vm1,dl_src=52:54:00:00:00:99,udp,nw_src=0.0.0.0,nw_dst=255.255.255.255,tp_src=68,tp_dst=67") ==
          "drop(vpc_spoofed)");
    CHECK(p.actions(kVm1 + ",udp,nw_src=0.0.0.0,nw_dst=255.255.255.255,tp_src=67,tp_dst=68") == "drop(vpc_spoofed)");
    // Not from the overlay: a remote host's DHCP is its own host's business.
    CHECK(p.actions(kFromHost2 + ",udp,nw_src=10.1.0.27,nw_dst=10.1.0.1,tp_src=68,tp_dst=67") == "drop(vpc_no_route)");

    SECTION("the underlay MTU changes the MTU the VMs are given, and nothing else") {
        const auto before = p.rules();
        const uint64_t version = p.ofp.version();
        REQUIRE(!p.mgr.set_underlay_mtu(1600));
        CHECK(p.ofp.version() == version + 1);   // one snapshot
        CHECK(p.actions(kVm1 + ",udp,nw_src=0.0.0.0,nw_dst=255.255.255.255,tp_src=68,tp_dst=67").find(",mtu=1550,") !=
              std::string::npos);
        const auto after = p.rules();
        REQUIRE(after.size() == before.size());
        std::vector<std::string> gone;
        std::set_difference(before.begin(), before.end(), after.begin(), after.end(), std::back_inserter(gone));
        REQUIRE(gone.size() == 2);   // vm1's and vm2's DHCP rules
        for (const std::string& r : gone) CHECK(r.find(",mtu=1450,") != std::string::npos);
        REQUIRE(!p.mgr.set_underlay_mtu(1600));   // no change: no new snapshot
        CHECK(p.ofp.version() == version + 1);
    }
    SECTION("unbound, the port has no server") {
        REQUIRE(!p.apply({unbind("blue", "vm1")}));
        for (const std::string& r : p.rules()) CHECK_FALSE((r.find("dhcp_reply") != std::string::npos && r.find("in_port=vm1") != std::string::npos));
    }
}
