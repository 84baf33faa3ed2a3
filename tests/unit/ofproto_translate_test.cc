// Translation: datapath actions, credited rules and — checked exactly — megaflow masks.
// Ends with a property test of the mask contract (every key agreeing with the packet on
// the mask translates the same) and a concurrency test of snapshot publication.
#include <arpa/inet.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "ofproto/flow_parser.h"
#include "ofproto/ofproto.h"
#include "ofproto/rule.h"
#include "ofproto/translate.h"
#include "ofproto_fake_ports.h"

using namespace vswitch;
using namespace vswitch::ofp;

namespace {

using vswitch::testing::FakePorts;

const FakePorts kPorts;

// The rules among what a translation credits (it also credits per-table counters).
std::vector<StatsSink*> rule_sinks(const Translation& t) {
    std::vector<StatsSink*> v;
    for (const auto& s : t.rules)
        if (dynamic_cast<const Rule*>(s.get())) v.push_back(s.get());
    return v;
}

uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return htonl(uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | d);
}

FlowKey eth_key(uint32_t in_port, uint16_t dl_type) {
    FlowKey k;
    k.clear();
    k.in_port = in_port;
    const uint8_t src[6] = {0x02, 0, 0, 0, 0, 1}, dst[6] = {0x02, 0, 0, 0, 0, 2};
    std::memcpy(k.dl_src, src, 6);
    std::memcpy(k.dl_dst, dst, 6);
    k.dl_type = htons(dl_type);
    return k;
}

FlowKey ip_key(uint32_t in_port, uint32_t dst, uint8_t proto = 6, uint16_t tp_dst = 80) {
    FlowKey k = eth_key(in_port, 0x0800);
    k.nw_src = ip(192, 168, 0, 1);
    k.nw_dst = dst;
    k.nw_proto = proto;
    k.nw_ttl = 64;
    k.tp_src = htons(33333);
    k.tp_dst = htons(tp_dst);
    return k;
}

// Mask builder: names the fields a test expects un-wildcarded.
struct MaskOf {
    FlowKey m;
    MaskOf() { m.clear(); }
    MaskOf& in_port() { m.in_port = ~0u; return *this; }
    MaskOf& dl_type() { m.dl_type = 0xffff; return *this; }
    MaskOf& nw_proto() { m.nw_proto = 0xff; return *this; }
    MaskOf& nw_dst(int prefix) { m.nw_dst = htonl(prefix ? ~0u << (32 - prefix) : 0); return *this; }
    MaskOf& tp_dst() { m.tp_dst = 0xffff; return *this; }
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
    // Anything outside the known fields would be a bug on its own.
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

std::vector<uint32_t> outputs(const Translation& t) {
    std::vector<uint32_t> v;
    for (const DpAction& a : t.actions) {
        REQUIRE(a.type == DpActionType::Output);
        v.push_back(a.port);
    }
    return v;
}

struct Switch {
    Ofproto ofp{kPorts, [] {}};
    explicit Switch(std::vector<std::string> flows) {
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

#define CHECK_MASK(t, expected) \
    CHECK(describe((t).mask) == describe((expected).m))

using Ports = std::vector<uint32_t>;

}  // namespace

TEST_CASE("translate: single in_port rule", "[ofproto][translate]") {
    Switch sw({"in_port=1,actions=output:2"});
    Translation t = sw.run(ip_key(1, ip(10, 1, 0, 1)));
    CHECK(outputs(t) == Ports{2});
    CHECK_MASK(t, MaskOf().in_port());
    REQUIRE(rule_sinks(t).size() == 1);

    // Miss: the rule failed on in_port, so in_port is all that was looked at.
    t = sw.run(ip_key(3, ip(10, 1, 0, 1)));
    CHECK(t.actions.empty());
    CHECK(rule_sinks(t).empty());
    CHECK_MASK(t, MaskOf().in_port());
}

TEST_CASE("translate: failing higher-priority rule adds its mismatching field",
          "[ofproto][translate]") {
    Switch sw({"priority=200,ip,nw_dst=10.0.0.0/24,actions=output:3",
               "priority=100,in_port=1,actions=output:2"});
    // Fails the /24 on nw_dst: nw_dst/24 plus its prerequisite dl_type.
    Translation t = sw.run(ip_key(1, ip(10, 1, 0, 1)));
    CHECK(outputs(t) == Ports{2});
    CHECK_MASK(t, MaskOf().in_port().dl_type().nw_dst(24));

    // Matches the /24: its mask, plus in_port because output:3 depends on not coming
    // from port 3.
    t = sw.run(ip_key(1, ip(10, 0, 0, 7)));
    CHECK(outputs(t) == Ports{3});
    CHECK_MASK(t, MaskOf().in_port().dl_type().nw_dst(24));

    // Not IP: the high rule fails on dl_type alone; nw_dst is not examined.
    t = sw.run(eth_key(1, 0x0806));
    CHECK(outputs(t) == Ports{2});
    CHECK_MASK(t, MaskOf().in_port().dl_type());

    // Table miss after examining both.
    t = sw.run(eth_key(2, 0x86dd));
    CHECK(t.actions.empty());
    CHECK_MASK(t, MaskOf().in_port().dl_type());
}

TEST_CASE("translate: output to the ingress port is skipped, in_port action is not",
          "[ofproto][translate]") {
    Switch sw({"priority=10,ip,actions=output:1,output:2",
               "priority=5,actions=in_port,output:3"});
    Translation t = sw.run(ip_key(1, ip(1, 1, 1, 1)));
    CHECK(outputs(t) == Ports{2});
    CHECK_MASK(t, MaskOf().in_port().dl_type());
    t = sw.run(ip_key(3, ip(1, 1, 1, 1)));
    CHECK(outputs(t) == (Ports{1, 2}));
    CHECK_MASK(t, MaskOf().in_port().dl_type());

    t = sw.run(eth_key(2, 0x0806));
    CHECK(outputs(t) == (Ports{2, 3}));
    CHECK_MASK(t, MaskOf().in_port().dl_type());
}

TEST_CASE("translate: drop rules read nothing but their match", "[ofproto][translate]") {
    Switch sw({"priority=10,tcp,tp_dst=22,actions=drop", "priority=1,actions=output:2"});
    Translation t = sw.run(ip_key(1, ip(1, 1, 1, 1), 6, 22));
    CHECK(t.actions.empty());
    REQUIRE(rule_sinks(t).size() == 1);   // still credited
    CHECK_MASK(t, MaskOf().dl_type().nw_proto().tp_dst());

    // UDP to port 22 fails the TCP rule on nw_proto: tp_dst is not needed.
    t = sw.run(ip_key(1, ip(1, 1, 1, 1), 17, 22));
    CHECK(outputs(t) == Ports{2});
    CHECK_MASK(t, MaskOf().in_port().dl_type().nw_proto());
}

TEST_CASE("translate: a failing rule reuses a field already in the mask",
          "[ofproto][translate]") {
    Switch sw({"priority=200,tcp,nw_dst=10.0.0.0/24,tp_dst=80,actions=output:3",
               "priority=100,tcp,tp_dst=22,actions=output:2"});
    // The high rule fails on nw_dst AND tp_dst; tp_dst is pinned by the winner anyway,
    // so nw_dst stays wildcarded.
    Translation t = sw.run(ip_key(1, ip(10, 1, 0, 1), 6, 22));
    CHECK(outputs(t) == Ports{2});
    CHECK_MASK(t, MaskOf().in_port().dl_type().nw_proto().tp_dst());
}

TEST_CASE("translate: empty table drops everything with an empty mask",
          "[ofproto][translate]") {
    Switch sw({});
    Translation t = sw.run(ip_key(1, ip(1, 2, 3, 4)));
    CHECK(t.actions.empty());
    CHECK(rule_sinks(t).empty());
    CHECK_MASK(t, MaskOf());
}

TEST_CASE("translate: flows in other tables are not reached", "[ofproto][translate]") {
    Switch sw({"table=1,priority=65535,actions=output:3", "priority=1,actions=output:2"});
    Translation t = sw.run(ip_key(1, ip(1, 2, 3, 4)));
    CHECK(outputs(t) == Ports{2});
    CHECK_MASK(t, MaskOf().in_port());
}

TEST_CASE("translate: out is reset and reusable", "[ofproto][translate]") {
    Switch sw({"in_port=1,actions=output:2", "priority=1,actions=drop"});
    Translation t;
    sw.ofp.translate(ip_key(1, 0), t);
    sw.ofp.translate(ip_key(2, 0), t);
    CHECK(t.actions.empty());
    CHECK(rule_sinks(t).size() == 1);
    CHECK_MASK(t, MaskOf().in_port());
}

namespace {

struct Recorder : XlateObserver {
    std::vector<std::string> events;
    void rule_examined(uint8_t table, const Rule& r, bool matched) override {
        events.push_back(std::to_string(table) + ":" + std::to_string(r.priority()) +
                         (matched ? ":hit" : ":miss"));
    }
    void table_miss(uint8_t table) override { events.push_back(std::to_string(table) + ":none"); }
};

RulePtr make_rule(std::string_view text) {
    FlowSpec spec;
    FlowError err = parse_flow(text, kPorts, spec);
    INFO(err.message);
    REQUIRE_FALSE(err);
    return std::make_shared<Rule>(std::move(spec));
}

}  // namespace

TEST_CASE("translate: pipeline-only mismatches cost no mask bits, observer sees the walk",
          "[ofproto][translate]") {
    FlowSpec spec;
    REQUIRE_FALSE(parse_flow("priority=300,ip,actions=output:3", kPorts, spec));
    // A rule on reg0=5 (no syntax yet): the translation's registers are all zero.
    PipelineKey v, m;
    v.clear();
    m.clear();
    v.regs[0] = 5;
    m.regs[0] = ~0u;
    spec.match.set_pipeline(v, m);
    auto reg_rule = std::make_shared<Rule>(spec);

    FlowTables empty;
    auto tables = empty.with_added({reg_rule, make_rule("priority=200,in_port=2,actions=drop"),
                                    make_rule("priority=100,in_port=1,actions=output:2")});
    Recorder rec;
    Translation t;
    translate_key(*tables, ip_key(1, ip(1, 1, 1, 1)), t, &rec);
    CHECK(outputs(t) == Ports{2});
    CHECK_MASK(t, MaskOf().in_port());
    CHECK(rec.events == std::vector<std::string>{"0:300:miss", "0:200:miss", "0:100:hit"});

    rec.events.clear();
    translate_key(*tables, ip_key(7, ip(1, 1, 1, 1)), t, &rec);
    CHECK(rec.events == std::vector<std::string>{"0:300:miss", "0:200:miss", "0:100:miss", "0:none"});
}

// The megaflow contract, checked by brute force: random tables and packets from small
// vocabularies (so rules overlap and match often); for each translated packet, keys
// that agree with it on the mask but are random elsewhere must translate identically.
TEST_CASE("translate property: masks are sound", "[ofproto][translate][property]") {
    std::mt19937_64 rng(2024);
    auto pick = [&](size_t n) { return rng() % n; };
    const char* const in_ports[] = {"", "in_port=1,", "in_port=2,", "in_port=3,"};
    const char* const protos[] = {"", "ip,", "tcp,", "udp,", "arp,", "dl_type=0x86dd,"};
    const char* const nets[] = {"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3",
                                "10.0.0.0/255.0.0.255"};
    const char* const acts[] = {"drop", "output:1", "output:2", "output:3", "in_port",
                                "output:1,output:2"};
    const uint32_t dsts[] = {ip(10, 1, 2, 3), ip(10, 1, 2, 4), ip(10, 1, 9, 3), ip(10, 7, 2, 3),
                             ip(11, 1, 2, 3)};
    const uint16_t types[] = {0x0800, 0x0806, 0x86dd, 0x1234};

    auto random_key = [&] {
        FlowKey k;
        k.clear();
        for (size_t w = 0; w < FlowKey::kWords; w++) k.words()[w] = rng();
        k.reserved0 = 0;
        k.in_port = 1 + pick(4);
        k.dl_type = htons(types[pick(4)]);
        k.nw_dst = dsts[pick(5)];
        k.nw_proto = pick(2) ? 6 : 17;
        k.tp_dst = htons(pick(2) ? 22 : 80);
        if (pick(2)) k.vlan_tci = htons(kVlanCfi | 5);
        return k;
    };

    for (int round = 0; round < 200; round++) {
        std::vector<std::string> flows;
        int n = 1 + pick(8);
        for (int i = 0; i < n; i++) {
            std::string f = "priority=" + std::to_string(pick(4)) + ",";
            f += in_ports[pick(4)];
            size_t proto = pick(6);
            f += protos[proto];
            if (proto >= 1 && proto <= 4 && pick(2)) f += std::string("nw_dst=") + nets[pick(5)] + ",";
            if ((proto == 2 || proto == 3) && pick(2)) f += pick(2) ? "tp_dst=22," : "tp_dst=80,";
            if (pick(4) == 0) f += "dl_vlan=5,";
            f += std::string("actions=") + acts[pick(6)];
            flows.push_back(f);
        }
        Switch sw(flows);
        for (int p = 0; p < 20; p++) {
            FlowKey key = random_key();
            Translation t = sw.run(key);
            for (int q = 0; q < 20; q++) {
                FlowKey other = random_key();
                for (size_t w = 0; w < FlowKey::kWords; w++)
                    other.words()[w] =
                        (other.words()[w] & ~t.mask.words()[w]) | (key.words()[w] & t.mask.words()[w]);
                Translation u = sw.run(other);
                std::string table;
                for (auto& f : flows) table += f + "\n";
                INFO("flows:\n" << table << "mask: " << describe(t.mask));
                REQUIRE(outputs(u) == outputs(t));
                REQUIRE(u.rules == t.rules);
            }
        }
    }
}

// Readers translate continuously while the control thread rewrites the table; a tiny
// epoch-based rcu_synchronize stands in for the datapath's QSBR. Every translation must
// come from some complete snapshot.
TEST_CASE("translate: concurrent readers and table changes", "[ofproto][translate][threads]") {
    constexpr int kReaders = 2;
    std::atomic<uint64_t> epochs[kReaders];   // odd = inside a read-side section
    for (auto& e : epochs) e = 0;
    auto synchronize = [&] {
        for (auto& e : epochs) {
            uint64_t seen = e.load();
            if (seen & 1)
                while (e.load() == seen) std::this_thread::yield();
        }
    };
    Ofproto ofp(kPorts, synchronize);
    REQUIRE_FALSE(ofp.add_flows({"priority=1,actions=output:2"}));

    std::atomic<bool> stop{false};
    std::atomic<uint64_t> bad{0}, done{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < kReaders; r++) {
        readers.emplace_back([&, r] {
            Translation t;
            FlowKey k = ip_key(1, ip(10, 0, 0, 1));
            while (!stop.load()) {
                epochs[r].fetch_add(1);
                ofp.translate(k, t);
                epochs[r].fetch_add(1);
                // Snapshots alternate between "output:2" and "output:3 above it".
                bool ok = t.actions.size() == 1 &&
                          (t.actions[0].port == 2 || t.actions[0].port == 3) && rule_sinks(t).size() == 1;
                if (!ok) bad.fetch_add(1);
                done.fetch_add(1);
            }
        });
    }
    // Readers may start late on a loaded machine; overlap is the point of the test.
    while (done.load() < 1000) std::this_thread::yield();
    for (int i = 0; i < 300; i++) {
        REQUIRE_FALSE(ofp.add_flows({"priority=10,ip,nw_dst=10.0.0.0/8,actions=output:3",
                                     "priority=" + std::to_string(2 + i % 5) + ",in_port=9,actions=drop"}));
        size_t n = 0;
        REQUIRE_FALSE(ofp.del_flows("ip", false, &n));
        REQUIRE(n == 1);
    }
    stop = true;
    for (auto& th : readers) th.join();
    CHECK(bad.load() == 0);
}
