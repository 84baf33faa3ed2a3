// The multi-table pipeline: resubmit/goto_table walks, field rewrites committed as
// datapath actions, registers and metadata, groups, meters, dec_ttl, loops, mod-flows,
// timeouts, dump-tables and trace — with the megaflow masks checked exactly, plus a
// brute-force property test of the mask contract over random multi-table pipelines.
#include <arpa/inet.h>

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <sstream>

#include "ofproto/field_syntax.h"
#include "ofproto/group.h"
#include "ofproto/ofproto.h"
#include "ofproto/rule.h"
#include "ofproto/translate.h"
#include "ofproto_fake_ports.h"
#include "switch/flow_key_format.h"

using namespace vswitch;
using namespace vswitch::ofp;

namespace {

using vswitch::testing::FakePorts;

const FakePorts kPorts;
const uint8_t kMac1[6] = {0x52, 0x54, 0, 0, 0, 1};
const uint8_t kMac2[6] = {0x52, 0x54, 0, 0, 0, 2};
const uint8_t kMac9[6] = {0x52, 0x54, 0, 0, 0, 9};

uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return htonl(uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | d);
}

FlowKey tcp_key(uint32_t in_port, uint32_t dst, uint16_t tp_dst, uint8_t ttl = 64) {
    FlowKey k;
    k.clear();
    k.in_port = in_port;
    std::memcpy(k.dl_src, kMac1, 6);
    const uint8_t dmac[6] = {0x52, 0x54, 0, 0, 0, 0x77};
    std::memcpy(k.dl_dst, dmac, 6);
    k.dl_type = htons(0x0800);
    k.nw_src = ip(10, 0, 0, 1);
    k.nw_dst = dst;
    k.nw_proto = 6;
    k.nw_ttl = ttl;
    k.nw_tos = 0x12;
    k.tp_src = htons(40000);
    k.tp_dst = htons(tp_dst);
    return k;
}

std::string mask_text(const FlowKey& mask) {
    FlowKey ones;
    std::memset(&ones, 0xff, sizeof ones);
    FlowKey v;
    flow_key_apply_mask(v, ones, mask);
    return format_masked_key(v, mask);
}

// Expected mask, by field.
struct M {
    FlowKey m;
    M() { m.clear(); }
    M& in_port() { m.in_port = ~0u; return *this; }
    M& dl_src() { std::memset(m.dl_src, 0xff, 6); return *this; }
    M& dl_dst() { std::memset(m.dl_dst, 0xff, 6); return *this; }
    M& dl_type() { m.dl_type = 0xffff; return *this; }
    M& cfi() { m.vlan_tci |= htons(kVlanCfi); return *this; }
    M& nw_src(uint32_t host_mask) { m.nw_src = htonl(host_mask); return *this; }
    M& nw_dst(int prefix) { m.nw_dst = htonl(prefix ? ~0u << (32 - prefix) : 0); return *this; }
    M& nw_proto() { m.nw_proto = 0xff; return *this; }
    M& ttl() { m.nw_ttl = 0xff; return *this; }
    M& tp_src() { m.tp_src = 0xffff; return *this; }
    M& tp_dst() { m.tp_dst = 0xffff; return *this; }
};

#define CHECK_MASK(t, expected) CHECK(mask_text((t).mask) == mask_text((expected).m))

struct Switch {
    Ofproto ofp{kPorts, [] {}};
    Switch() { ofp.set_ports({1, 2, 3, 4}); }
    explicit Switch(std::vector<std::string> flows) : Switch() { add(flows); }
    void add(std::vector<std::string> flows) {
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

std::string acts(const Translation& t) {
    return dp_actions_to_string(t.actions, [](uint32_t p) { return kPorts.port_name(p); });
}

std::vector<const Rule*> rules_of(const Translation& t) {
    std::vector<const Rule*> v;
    for (const auto& s : t.rules)
        if (auto* r = dynamic_cast<const Rule*>(s.get())) v.push_back(r);
    return v;
}

const std::vector<std::string> kIssuePipeline = {
    "table=0,priority=200,in_port=vm1,dl_src=52:54:00:00:00:01,actions=resubmit(,10)",
    "table=0,priority=0,actions=drop",
    "table=10,priority=100,ip,nw_dst=10.0.0.0/24,actions=set_field:52:54:00:00:00:02->eth_dst,dec_ttl,output:vm2",
    "table=10,priority=50,tcp,tp_dst=22,actions=load:0x1->NXM_NX_REG0[],goto_table:20",
    "table=20,reg0=1,actions=mod_vlan_vid:100,output:up0",
    "table=30,priority=10,actions=NORMAL",
};

}  // namespace

TEST_CASE("pipeline: the issue's example, actions and masks", "[ofproto][pipeline]") {
    Switch sw(kIssuePipeline);

    // vm1 -> 10.0.0.5: table 0 -> resubmit(,10) -> rewrite, dec_ttl, output.
    Translation t = sw.run(tcp_key(1, ip(10, 0, 0, 5), 80));
    CHECK(acts(t) == "set_eth_dst(52:54:00:00:00:02),dec_ttl,output:vm2");
    // Table 0's rule (in_port, dl_src), table 10's /24 (with dl_type), dec_ttl's TTL;
    // set_field needs nothing of eth_dst.
    CHECK_MASK(t, M().in_port().dl_src().dl_type().nw_dst(24).ttl());
    REQUIRE(rules_of(t).size() == 2);
    CHECK(rules_of(t)[0]->table() == 0);
    CHECK(rules_of(t)[1]->table() == 10);

    // ssh elsewhere: the /24 fails on nw_dst, tcp/22 matches, reg0 -> table 20 pushes
    // VLAN 100 (reading only "is it tagged").
    t = sw.run(tcp_key(1, ip(10, 9, 0, 5), 22));
    CHECK(acts(t) == "push_vlan(vid=100,pcp=0),output:up0");
    CHECK_MASK(t, M().in_port().dl_src().dl_type().nw_dst(24).nw_proto().tp_dst().cfi());
    REQUIRE(rules_of(t).size() == 3);
    CHECK(rules_of(t)[2]->table() == 20);

    // Neither: table 10 misses, nothing output.
    t = sw.run(tcp_key(1, ip(10, 9, 0, 5), 80));
    CHECK(t.actions.empty());
    CHECK_MASK(t, M().in_port().dl_src().dl_type().nw_dst(24).nw_proto().tp_dst());

    // Another port: table 0's priority 0 drop, having looked at in_port only.
    t = sw.run(tcp_key(2, ip(10, 0, 0, 5), 80));
    CHECK(t.actions.empty());
    CHECK_MASK(t, M().in_port());
}

TEST_CASE("pipeline: rewrites are committed before each output", "[ofproto][pipeline]") {
    Switch sw({"in_port=vm1,tcp,actions=output:vm3,mod_nw_dst:10.9.9.9,mod_tp_dst:8080,"
               "mod_dl_src:52:54:00:00:00:09,output:vm2,strip_vlan,output:up0"});
    Translation t = sw.run(tcp_key(1, ip(10, 0, 0, 5), 80));
    CHECK(acts(t) == "output:vm3,set_eth_src(52:54:00:00:00:09),set_ipv4_dst(10.9.9.9),"
                     "set_tp_dst(8080),output:vm2,output:up0");
    // Writes read nothing; mod_nw/mod_tp check their prerequisites (dl_type, nw_proto,
    // already in the match); strip_vlan reads whether there is a tag.
    CHECK_MASK(t, M().in_port().dl_type().nw_proto().cfi());

    // A tagged packet: strip_vlan pops.
    FlowKey k = tcp_key(1, ip(10, 0, 0, 5), 80);
    k.vlan_tci = htons(kVlanCfi | 7);
    t = sw.run(k);
    CHECK(acts(t) == "output:vm3,set_eth_src(52:54:00:00:00:09),set_ipv4_dst(10.9.9.9),"
                     "set_tp_dst(8080),output:vm2,pop_vlan,output:up0");
}

TEST_CASE("pipeline: partial writes read the rest of the field", "[ofproto][pipeline]") {
    Switch sw({"ip,actions=mod_nw_tos:32,load:0x7->NXM_OF_IP_DST[0..7],output:vm2"});
    Translation t = sw.run(tcp_key(1, ip(10, 0, 0, 5), 80));
    DpAction tos{};
    for (const DpAction& a : t.actions)
        if (a.type == DpActionType::SetIpTos) tos = a;
    CHECK(tos.type == DpActionType::SetIpTos);
    CHECK((tos.arg.u32 & 0xff) == (32 | (0x12 & 3)));
    CHECK(acts(t).find("set_ipv4_dst(10.0.0.7)") != std::string::npos);
    M want = M().in_port().dl_type().nw_dst(24);
    want.m.nw_tos = 0x03;   // the ECN bits mod_nw_tos keeps
    CHECK_MASK(t, want);
}

TEST_CASE("pipeline: registers, metadata and move", "[ofproto][pipeline]") {
    Switch sw({"table=0,ip,actions=move:NXM_OF_IP_SRC[0..7]->NXM_NX_REG1[8..15],write_metadata:0x5/0xff,goto_table:1",
               "table=1,priority=10,reg1=0x100/0xff00,metadata=0x5/0xf,actions=output:vm2",
               "table=1,priority=5,actions=output:vm3"});
    // nw_src ends in .1: reg1[8..15] = 1, so the priority 10 rule matches.
    Translation t = sw.run(tcp_key(1, ip(10, 0, 0, 5), 80));
    CHECK(acts(t) == "output:vm2");
    // Only the moved bits of nw_src; registers and metadata never reach the mask.
    CHECK_MASK(t, M().in_port().dl_type().nw_src(0xff));
    FlowKey k = tcp_key(1, ip(10, 0, 0, 5), 80);
    k.nw_src = ip(10, 0, 0, 2);
    t = sw.run(k);
    CHECK(acts(t) == "output:vm3");
    CHECK_MASK(t, M().in_port().dl_type().nw_src(0xff));
}

TEST_CASE("pipeline: resubmit with a port, and loops drop", "[ofproto][pipeline]") {
    Switch sw({"table=0,in_port=vm1,actions=resubmit(vm2,5),output:vm3",
               "table=5,in_port=vm2,actions=output:vm1"});
    // In table 5 the packet "comes from" vm2: in_port matched there is free, output:vm1
    // is not skipped; back in table 0, in_port is vm1 again.
    Translation t = sw.run(tcp_key(1, ip(10, 0, 0, 5), 80));
    CHECK(acts(t) == "output:vm1,output:vm3");
    CHECK_MASK(t, M().in_port());

    Switch loop({"table=0,actions=output:vm2,resubmit(,1)", "table=1,actions=resubmit(,0)"});
    t = loop.run(tcp_key(1, ip(10, 0, 0, 5), 80));
    CHECK(t.actions.empty());   // the whole translation is dropped
}

TEST_CASE("pipeline: dec_ttl drops expiring packets", "[ofproto][pipeline]") {
    Switch sw({"ip,actions=output:vm3,dec_ttl,output:vm2"});
    Translation t = sw.run(tcp_key(1, ip(10, 0, 0, 5), 80, 1));
    CHECK(acts(t) == "output:vm3");   // what was output before it stays
    CHECK_MASK(t, M().in_port().dl_type().ttl());
    t = sw.run(tcp_key(1, ip(10, 0, 0, 5), 80, 2));
    CHECK(acts(t) == "output:vm3,dec_ttl,output:vm2");
    // A non-IP packet: dec_ttl does nothing.
    Switch arp({"actions=dec_ttl,output:vm2"});
    FlowKey k = tcp_key(1, 0, 0);
    k.dl_type = htons(0x0806);
    t = arp.run(k);
    CHECK(acts(t) == "output:vm2");
}

TEST_CASE("pipeline: ALL and FLOOD skip the ingress port", "[ofproto][pipeline]") {
    Switch sw({"actions=ALL"});
    Translation t = sw.run(tcp_key(2, ip(10, 0, 0, 5), 80));
    CHECK(acts(t) == "output:vm1,output:up0,output:vm3");
    CHECK_MASK(t, M().in_port());
}

TEST_CASE("pipeline: groups", "[ofproto][pipeline][group]") {
    Switch sw;
    REQUIRE_FALSE(sw.ofp.add_group("group_id=1,type=all,bucket=mod_dl_dst:52:54:00:00:00:09,output:vm1,"
                                   "bucket=output:vm2", false));
    REQUIRE_FALSE(sw.ofp.add_group("group_id=2,type=select,bucket=output:vm1,bucket=output:vm2,"
                                   "bucket=weight:0,actions=output:up0", false));
    CHECK(sw.ofp.add_group("group_id=2,type=all,bucket=output:vm1", false));   // exists
    sw.add({"in_port=vm3,actions=group:1", "in_port=up0,actions=group:2"});
    // add-flow naming a missing group fails.
    FlowError err = sw.ofp.add_flows({"in_port=vm1,actions=group:7"});
    CHECK(err.message == "group 7 does not exist");

    // all: each bucket on its own copy; the second bucket's packet gets its eth_dst back.
    Translation t = sw.run(tcp_key(4, ip(10, 0, 0, 5), 80));
    CHECK(acts(t) == "set_eth_dst(52:54:00:00:00:09),output:vm1,set_eth_dst(52:54:00:00:00:77),output:vm2");
    CHECK_MASK(t, M().in_port().dl_dst());   // restoring eth_dst reads it

    // select: one bucket by hash, never the weight 0 one; the hashed fields are in the mask.
    std::map<uint32_t, int> seen;
    for (int i = 0; i < 64; i++) {
        FlowKey k = tcp_key(3, ip(10, 0, 0, 5), 80);
        k.tp_src = htons(static_cast<uint16_t>(1000 + i));
        t = sw.run(k);
        REQUIRE(t.actions.size() == 1);
        seen[t.actions[0].port]++;
        CHECK_MASK(t, M().in_port().dl_src().dl_dst().dl_type().nw_src(~0u).nw_dst(32).nw_proto().tp_src().tp_dst());
        Translation again = sw.run(k);
        CHECK(again.actions == t.actions);
    }
    CHECK(seen.size() == 2);
    CHECK(seen.count(3) == 0);

    // Deleting a group deletes the flows using it.
    size_t n = 0, nf = 0;
    REQUIRE_FALSE(sw.ofp.del_groups("group_id=1", &n, &nf));
    CHECK(n == 1);
    CHECK(nf == 1);
    CHECK(sw.ofp.n_rules() == 1);
    std::vector<GroupDump> dump;
    REQUIRE_FALSE(sw.ofp.dump_groups("", dump));
    REQUIRE(dump.size() == 1);
    CHECK(dump[0].text == "group_id=2,type=select,bucket=weight:100,actions=output:vm1,"
                          "bucket=weight:100,actions=output:vm2,bucket=weight:0,actions=output:up0");
    CHECK(dump[0].n_flows == 1);
}

TEST_CASE("pipeline: group and meter syntax", "[ofproto][pipeline][group]") {
    GroupSpec g;
    CHECK(parse_group("type=all,bucket=output:1", kPorts, g).message == "missing group_id");
    CHECK(parse_group("group_id=1,type=ff,bucket=output:1", kPorts, g).token == "type=ff");
    CHECK(parse_group("group_id=1,type=all,bucket=goto_table:3", kPorts, g).token == "goto_table:3");
    CHECK(parse_group("group_id=1,type=indirect,bucket=output:1,bucket=output:2", kPorts, g));
    REQUIRE_FALSE(parse_group("group_id=9,type=all,bucket=actions=output:vm1,output:vm2,bucket=", kPorts, g));
    CHECK(g.buckets.size() == 2);
    CHECK(g.buckets[1].actions.empty());
    CHECK(format_group(g, kPorts) == "group_id=9,type=all,bucket=actions=output:vm1,output:vm2,bucket=actions=drop");
    GroupSpec back;
    REQUIRE_FALSE(parse_group(format_group(g, kPorts), kPorts, back));
    CHECK(back == g);

    MeterSpec m;
    REQUIRE_FALSE(parse_meter("meter=1,kbps,band=type=drop,rate=1000", m));
    CHECK(format_meter(m) == "meter=1,kbps,band=type=drop,rate=1000");
    REQUIRE_FALSE(parse_meter("meter=2,pktps,burst,stats,band=type=drop,rate=10,burst_size=5", m));
    CHECK(format_meter(m) == "meter=2,pktps,burst,band=type=drop,rate=10,burst_size=5");
    CHECK(parse_meter("meter=1,kbps,band=type=dscp_remark,rate=1", m).token == "band=type=dscp_remark");
    CHECK(parse_meter("meter=0,kbps,band=type=drop,rate=1", m).token == "meter=0");
    CHECK(parse_meter("meter=1,band=type=drop,rate=1", m).message == "missing kbps or pktps");
}

TEST_CASE("pipeline: meters are emitted first and must exist", "[ofproto][pipeline][meter]") {
    Switch sw;
    CHECK(sw.ofp.add_flows({"actions=meter:1,output:vm2"}).message == "meter 1 does not exist");
    MeterSpec m;
    REQUIRE_FALSE(sw.ofp.add_meter("meter=1,pktps,band=type=drop,rate=100", false, m));
    sw.add({"actions=meter:1,output:vm2"});
    Translation t = sw.run(tcp_key(1, ip(10, 0, 0, 5), 80));
    REQUIRE(t.actions.size() == 2);
    CHECK(t.actions[0] == DpAction{DpActionType::Meter, {}, 1, {.u32 = 1}});
    CHECK(acts(t) == "meter(1),output:vm2");
    // meter must come first (an OpenFlow instruction).
    CHECK(sw.ofp.add_flows({"actions=output:vm2,meter:1"}).token == "meter:1");
    std::vector<uint32_t> gone;
    size_t nf = 0;
    REQUIRE_FALSE(sw.ofp.del_meters("meter=1", gone, &nf));
    CHECK(gone == std::vector<uint32_t>{1});
    CHECK(nf == 1);
    CHECK(sw.ofp.n_rules() == 0);
}

TEST_CASE("pipeline: mod-flows keeps counters, strict selects one", "[ofproto][pipeline]") {
    Switch sw({"priority=10,in_port=vm1,actions=output:vm2", "priority=20,in_port=vm1,tcp,actions=output:vm2"});
    Translation t = sw.run(tcp_key(1, ip(10, 0, 0, 5), 80));
    const_cast<Rule*>(rules_of(t)[0])->credit(5, 500, 0);
    size_t n = 0;
    REQUIRE_FALSE(sw.ofp.mod_flows("in_port=vm1,actions=output:up0", false, &n));
    CHECK(n == 2);
    std::vector<FlowDump> d;
    REQUIRE_FALSE(sw.ofp.dump_flows("", d));
    REQUIRE(d.size() == 2);
    CHECK(d[0].actions == "output:up0");
    CHECK(d[0].n_packets == 5);   // counters kept
    REQUIRE_FALSE(sw.ofp.mod_flows("priority=10,in_port=vm1,actions=drop", true, &n));
    CHECK(n == 1);
    REQUIRE_FALSE(sw.ofp.dump_flows("", d));
    CHECK(d[0].actions == "output:up0");
    CHECK(d[1].actions == "drop");
    // Cookie masks select.
    sw.add({"cookie=0x10,priority=30,in_port=vm2,actions=output:vm1"});
    REQUIRE_FALSE(sw.ofp.mod_flows("cookie=0x10/0xff,actions=output:vm3", false, &n));
    CHECK(n == 1);
    CHECK(sw.ofp.mod_flows("in_port=vm1,actions=frob", false, &n).token == "frob");
}

TEST_CASE("pipeline: idle and hard timeouts expire rules", "[ofproto][pipeline][timeout]") {
    Switch sw({"priority=1,hard_timeout=10,in_port=vm1,actions=output:vm2",
               "priority=2,idle_timeout=5,in_port=vm2,actions=output:vm1", "priority=3,actions=drop"});
    auto now = Rule::Clock::now();
    using std::chrono::seconds;
    CHECK(sw.ofp.expire(now + seconds(4)) == 0);
    // Used just now: the idle one lives 5 s from its last use.
    Translation t = sw.run(tcp_key(2, ip(10, 0, 0, 5), 80));
    REQUIRE(rules_of(t).size() == 1);
    CHECK(rules_of(t)[0]->priority() == 3);   // priority 3 drop wins; credit the idle rule directly
    std::vector<FlowDump> d;
    CHECK(sw.ofp.expire(now + seconds(6)) == 1);   // the idle one
    REQUIRE_FALSE(sw.ofp.dump_flows("", d));
    CHECK(d.size() == 2);
    CHECK(sw.ofp.expire(now + seconds(11)) == 1);  // the hard one
    CHECK(sw.ofp.n_rules() == 1);
    // dump and serialize keep the timeouts.
    sw.add({"idle_timeout=7,hard_timeout=9,actions=drop"});
    CHECK(sw.ofp.serialize().front() == "table=0,priority=32768,idle_timeout=7,hard_timeout=9 actions=drop");
}

TEST_CASE("pipeline: idle timeout counts from the last credited packet", "[ofproto][pipeline][timeout]") {
    Switch sw({"idle_timeout=2,in_port=vm1,actions=output:vm2"});
    auto t0 = Rule::Clock::now();
    Translation t = sw.run(tcp_key(1, ip(10, 0, 0, 5), 80));
    REQUIRE(rules_of(t).size() == 1);
    const_cast<Rule*>(rules_of(t)[0])->credit(1, 64, 0);   // stamps "now"
    auto used = rules_of(t)[0]->last_used();
    REQUIRE(used);
    CHECK(sw.ofp.expire(*used + std::chrono::milliseconds(1900)) == 0);
    CHECK(sw.ofp.expire(*used + std::chrono::milliseconds(2001)) == 1);
    (void)t0;
}

TEST_CASE("pipeline: dump-tables counts lookups and matches per packet", "[ofproto][pipeline]") {
    Switch sw(kIssuePipeline);
    Translation t = sw.run(tcp_key(1, ip(10, 9, 0, 5), 80));   // t0 hit, t10 miss
    for (auto& s : t.rules) s->credit(3, 300, 0);              // the datapath's credit
    std::vector<TableDump> d;
    sw.ofp.dump_tables(d);
    std::map<uint32_t, TableDump> by;
    for (auto& x : d) by[x.table] = x;
    CHECK(by[0].active == 2);
    CHECK(by[0].lookups == 3);
    CHECK(by[0].matches == 3);
    CHECK(by[10].lookups == 3);
    CHECK(by[10].matches == 0);
    CHECK(by[30].active == 1);
    CHECK(by[30].lookups == 0);
}

TEST_CASE("pipeline: trace names every table, rule and action", "[ofproto][pipeline][trace]") {
    Switch sw(kIssuePipeline);
    std::vector<std::string> lines;
    REQUIRE_FALSE(sw.ofp.trace("in_port=vm1,dl_src=52:54:00:00:00:01,tcp,nw_src=10.0.0.1,nw_dst=10.9.0.2,tp_dst=22", lines));
    std::string all;
    for (auto& l : lines) all += l + "\n";
    INFO(all);
    CHECK(all.find("table 0: priority=200,in_port=vm1,dl_src=52:54:00:00:00:01, cookie=0x0 actions=resubmit(,10)") != std::string::npos);
    CHECK(all.find("    table 10: priority=50,tcp,tp_dst=22") != std::string::npos);
    CHECK(all.find("        load:0x1->NXM_NX_REG0[]") != std::string::npos);
    CHECK(all.find("    table 20: priority=32768,reg0=0x1") != std::string::npos);
    CHECK(all.find("Datapath actions: push_vlan(vid=100,pcp=0),output:up0") != std::string::npos);
    CHECK(all.find("Megaflow: in_port(vm1)") != std::string::npos);
    CHECK(sw.ofp.trace("in_port=vm9", lines).token == "in_port=vm9");
    // A table miss is named too.
    REQUIRE_FALSE(sw.ofp.trace("in_port=vm1,dl_src=52:54:00:00:00:01,arp", lines));
    all.clear();
    for (auto& l : lines) all += l + "\n";
    CHECK(all.find("table 10: no match") != std::string::npos);
    CHECK(all.find("Datapath actions: drop") != std::string::npos);
}

// The mask contract over random multi-table pipelines with rewrites, registers,
// resubmits and groups: keys agreeing with a translated key on its mask translate to the
// same actions and rules.
TEST_CASE("pipeline property: multi-table masks are sound", "[ofproto][pipeline][property]") {
    std::mt19937_64 rng(77);
    auto pick = [&](size_t n) { return rng() % n; };
    const char* const matches[] = {"", "in_port=vm1,", "in_port=vm2,", "ip,", "tcp,tp_dst=22,",
                                   "ip,nw_dst=10.1.0.0/16,", "reg0=1,", "reg1=0x2/0x2,",
                                   "dl_vlan=5,", "dl_src=52:54:00:00:00:01,", "ip,nw_ttl=1,",
                                   "metadata=0x1/0x1,", "ip,nw_src=10.0.0.1,"};
    const char* const actions[] = {"output:vm1", "output:vm2", "output:up0", "IN_PORT", "ALL",
                                   "mod_dl_dst:52:54:00:00:00:09", "mod_nw_dst:10.1.2.3",
                                   "mod_vlan_vid:7", "strip_vlan", "push_vlan:0x8100", "dec_ttl",
                                   "load:0x1->NXM_NX_REG0[]", "load:0x3->NXM_NX_REG1[0..1]",
                                   "move:NXM_OF_IP_DST[16..31]->NXM_NX_REG0[0..15]",
                                   "move:NXM_OF_ETH_SRC[0..7]->NXM_NX_REG1[]", "write_metadata:0x1",
                                   "resubmit(,1)", "resubmit(,2)", "resubmit(vm2,1)", "group:1",
                                   "group:2", "mod_tp_dst:99", "set_field:2->vlan_pcp",
                                   "load:0x5->NXM_OF_IP_SRC[0..7]"};
    auto random_key = [&] {
        FlowKey k;
        for (size_t w = 0; w < FlowKey::kWords; w++) k.set_word(w, rng());
        k.reserved0 = 0;
        k.recirc_id = 0;
        k.in_port = 1 + pick(4);
        const uint16_t types[] = {0x0800, 0x0806, 0x86dd};
        k.dl_type = htons(types[pick(3)]);
        k.nw_proto = pick(2) ? 6 : 17;
        k.nw_ttl = static_cast<uint8_t>(pick(3));
        k.nw_dst = pick(2) ? ip(10, 1, pick(2), 3) : ip(10, 2, 0, 1);
        k.nw_src = pick(2) ? ip(10, 0, 0, 1) : ip(10, 0, 0, 2);
        k.tp_dst = htons(pick(2) ? 22 : 80);
        k.vlan_tci = pick(2) ? htons(kVlanCfi | static_cast<uint16_t>(pick(2) ? 5 : 6)) : 0;
        if (pick(2)) std::memcpy(k.dl_src, kMac1, 6);
        return k;
    };
    for (int round = 0; round < 150; round++) {
        Switch sw;
        std::vector<std::string> flows;
        for (int table = 0; table < 3; table++) {
            int n = 1 + pick(4);
            for (int i = 0; i < n; i++) {
                std::string f = "table=" + std::to_string(table) + ",priority=" + std::to_string(pick(4)) + "," +
                                matches[pick(std::size(matches))] + "actions=";
                int na = pick(4);
                for (int a = 0; a < na; a++) {
                    std::string act = actions[pick(std::size(actions))];
                    // Keep resubmits forward-ish so most walks end (loops are legal, too).
                    f += (a ? "," : "") + act;
                }
                if (table < 2 && pick(4) == 0) f += std::string(na ? "," : "") + "goto_table:" + std::to_string(table + 1);
                flows.push_back(f);
            }
        }
        REQUIRE_FALSE(sw.ofp.add_group("group_id=1,type=all,bucket=mod_dl_src:52:54:00:00:00:02,output:vm3,bucket=output:vm1", false));
        REQUIRE_FALSE(sw.ofp.add_group("group_id=2,type=select,bucket=output:vm1,bucket=dec_ttl,output:vm2", false));
        std::string table;
        for (auto& f : flows) table += f + "\n";
        INFO("flows:\n" << table);
        for (auto& f : flows) {
            // Some combinations are invalid (load to ip_src without ip, write_metadata
            // before an action, ...): those are simply not added.
            FlowError err = sw.ofp.add_flows({f});
            (void)err;
        }
        for (int p = 0; p < 15; p++) {
            FlowKey key = random_key();
            Translation t = sw.run(key);
            for (int q = 0; q < 15; q++) {
                FlowKey other = random_key();
                for (size_t w = 0; w < FlowKey::kWords; w++)
                    other.set_word(w, (other.word(w) & ~t.mask.word(w)) | (key.word(w) & t.mask.word(w)));
                Translation u = sw.run(other);
                INFO("mask: " << mask_text(t.mask) << "\nkey actions: " << acts(t) << "\nother actions: " << acts(u));
                REQUIRE(u.actions == t.actions);
                REQUIRE(rules_of(u) == rules_of(t));
            }
        }
    }
}
