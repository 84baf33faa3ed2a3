// Flow syntax: the parser accepts the documented subset, prints it canonically, round
// trips, and rejects bad input naming the offending token. Includes property tests that
// throw random and mutated text at the parser.
#include <arpa/inet.h>

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>

#include "ofproto/flow_format.h"
#include "ofproto/flow_parser.h"
#include "ofproto_fake_ports.h"

using namespace vswitch;
using namespace vswitch::ofp;

namespace {

using vswitch::testing::FakePorts;

const FakePorts kPorts;

FlowSpec parse_ok(std::string_view text) {
    FlowSpec spec;
    FlowError err = parse_flow(text, kPorts, spec);
    INFO("flow: " << text);
    INFO("error: " << err.message << " token: " << err.token);
    REQUIRE_FALSE(err);
    return spec;
}

FlowError parse_bad(std::string_view text) {
    FlowSpec spec;
    FlowError err = parse_flow(text, kPorts, spec);
    INFO("flow: " << text);
    REQUIRE(err);
    return err;
}

// ovs-ofctl's dump-flows spelling: priority first when it is not the default. (The
// library's match text never has it; switchctl adds it from FlowEntry.priority.)
std::string with_priority(const FlowSpec& s) {
    std::string match = format_match(s.match, kPorts);
    if (s.priority == kDefaultPriority) return match;
    return "priority=" + std::to_string(s.priority) + (match.empty() ? "" : "," + match);
}
std::string match_of(std::string_view text) { return with_priority(parse_ok(text)); }
std::string actions_of(std::string_view text) {
    return format_actions(parse_ok(text).actions, kPorts);
}

uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return htonl(uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | d);
}

// parse(format(parse(x))) == parse(x), and the printed form is a fixed point.
void check_round_trip(const FlowSpec& spec, std::string_view origin) {
    std::string line = format_flow(spec, kPorts);
    INFO("origin: " << origin);
    INFO("formatted: " << line);
    FlowSpec again;
    FlowError err = parse_flow(line, kPorts, again);
    INFO("reparse error: " << err.message << " token: " << err.token);
    REQUIRE_FALSE(err);
    REQUIRE(again == spec);
    REQUIRE(format_flow(again, kPorts) == line);
}

}  // namespace

TEST_CASE("parser: the two reference flows", "[ofproto][parser]") {
    FlowSpec a = parse_ok("priority=100,in_port=vm1,actions=output:vm2");
    CHECK(a.table == 0);
    CHECK(a.priority == 100);
    CHECK(a.cookie == 0);
    CHECK(a.match.value().in_port == 1);
    CHECK(a.match.mask().in_port == 0xffffffffu);
    REQUIRE(a.actions.size() == 1);
    CHECK(std::get<OutputAction>(a.actions[0]).port == 2);
    CHECK(format_match(a.match, kPorts) == "in_port=vm1");
    CHECK(with_priority(a) == "priority=100,in_port=vm1");
    CHECK(format_actions(a.actions, kPorts) == "output:vm2");
    CHECK(format_flow(a, kPorts) == "table=0,priority=100,in_port=vm1 actions=output:vm2");

    FlowSpec b = parse_ok(
        "priority=100,in_port=vm2,dl_type=0x0800,nw_dst=10.0.0.0/24,actions=output:vm1");
    CHECK(b.match.value().dl_type == htons(0x0800));
    CHECK(b.match.value().nw_dst == ip(10, 0, 0, 0));
    CHECK(b.match.mask().nw_dst == ip(255, 255, 255, 0));
    CHECK(with_priority(b) == "priority=100,ip,in_port=vm2,nw_dst=10.0.0.0/24");
    CHECK(format_actions(b.actions, kPorts) == "output:vm1");
}

TEST_CASE("parser: separators and the actions keyword", "[ofproto][parser]") {
    FlowSpec ref = parse_ok("priority=100,in_port=vm1,actions=output:vm2");
    CHECK(parse_ok("priority=100 in_port=vm1 actions=output:vm2") == ref);
    CHECK(parse_ok("  priority=100, in_port=vm1 ,actions=output:vm2  ") == ref);
    CHECK(parse_ok("priority=100\tin_port=1\nactions=output:2") == ref);
    CHECK(parse_ok("priority=100,,in_port=vm1,,actions=vm2") == ref);
    CHECK(parse_ok("priority=100,in_port=vm1 actions=2") == ref);
    CHECK(parse_ok("in_port=vm1,priority=100,actions=output:2") == ref);
}

TEST_CASE("parser: every field, canonical form", "[ofproto][parser]") {
    CHECK(match_of("actions=drop") == "");
    CHECK(match_of("priority=0,actions=drop") == "priority=0");
    CHECK(match_of("priority=32768,actions=drop") == "");
    CHECK(match_of("in_port=3,actions=drop") == "in_port=up0");
    CHECK(match_of("in_port=42,actions=drop") == "in_port=42");
    CHECK(match_of("dl_src=00:11:22:AA:bb:cc,actions=drop") == "dl_src=00:11:22:aa:bb:cc");
    CHECK(match_of("dl_dst=1:2:3:4:5:6,actions=drop") == "dl_dst=01:02:03:04:05:06");
    CHECK(match_of("dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=drop") ==
          "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00");
    CHECK(match_of("dl_src=00:11:22:33:44:55/ff:ff:ff:ff:ff:ff,actions=drop") ==
          "dl_src=00:11:22:33:44:55");
    CHECK(match_of("dl_type=0x86dd,actions=drop") == "ipv6");
    CHECK(match_of("dl_type=0x88cc,actions=drop") == "dl_type=0x88cc");
    CHECK(match_of("dl_type=2048,actions=drop") == "ip");
    CHECK(match_of("dl_type=0x0806,actions=drop") == "arp");
    CHECK(match_of("dl_vlan=5,actions=drop") == "dl_vlan=5");
    CHECK(match_of("dl_vlan=0,actions=drop") == "dl_vlan=0");
    CHECK(match_of("dl_vlan=0xffff,actions=drop") == "vlan_tci=0x0000");
    CHECK(match_of("vlan_tci=0x0000,actions=drop") == "vlan_tci=0x0000");
    CHECK(match_of("vlan_tci=0x1005/0x1fff,actions=drop") == "dl_vlan=5");
    CHECK(match_of("vlan_tci=0x1000/0x1000,actions=drop") == "vlan_tci=0x1000/0x1000");
    CHECK(match_of("ip,nw_src=192.168.1.7,actions=drop") == "ip,nw_src=192.168.1.7");
    CHECK(match_of("ip,nw_src=192.168.1.7/32,actions=drop") == "ip,nw_src=192.168.1.7");
    CHECK(match_of("ip,nw_src=192.168.1.7/16,actions=drop") == "ip,nw_src=192.168.0.0/16");
    CHECK(match_of("ip,nw_dst=10.1.2.3/255.255.0.0,actions=drop") == "ip,nw_dst=10.1.0.0/16");
    CHECK(match_of("ip,nw_dst=10.1.2.3/255.0.255.0,actions=drop") ==
          "ip,nw_dst=10.0.2.0/255.0.255.0");
    CHECK(match_of("ip,nw_dst=10.1.2.3/0,actions=drop") == "ip");
    CHECK(match_of("ip,nw_proto=47,actions=drop") == "ip,nw_proto=47");
    CHECK(match_of("ip,nw_proto=6,actions=drop") == "tcp");
    CHECK(match_of("dl_type=0x0800,nw_proto=17,actions=drop") == "udp");
    CHECK(match_of("ip,nw_proto=1,actions=drop") == "icmp");
    CHECK(match_of("ip,nw_proto=132,actions=drop") == "sctp");
    CHECK(match_of("tcp,actions=drop") == "tcp");
    CHECK(match_of("udp,tp_src=53,actions=drop") == "udp,tp_src=53");
    CHECK(match_of("tcp,tp_dst=0x50,actions=drop") == "tcp,tp_dst=80");
    CHECK(match_of("tcp,tp_dst=80/0xfff0,actions=drop") == "tcp,tp_dst=0x50/0xfff0");
    CHECK(match_of("sctp,tp_dst=9,actions=drop") == "sctp,tp_dst=9");
    CHECK(match_of("icmp,actions=drop") == "icmp");
    CHECK(match_of("arp,nw_src=10.0.0.1,actions=drop") == "arp,arp_spa=10.0.0.1");
    CHECK(match_of("arp,arp_tpa=10.0.0.0/8,arp_op=1,actions=drop") ==
          "arp,arp_tpa=10.0.0.0/8,arp_op=1");
    CHECK(match_of("arp,nw_proto=2,actions=drop") == "arp,arp_op=2");
    // Fields in any order print in ovs-ofctl order; prerequisites may come after.
    CHECK(match_of("tp_dst=22,nw_dst=10.0.0.1,dl_src=00:00:00:00:00:01,in_port=vm2,"
                   "dl_vlan=7,tcp,priority=9,actions=drop") ==
          "priority=9,tcp,in_port=vm2,dl_vlan=7,dl_src=00:00:00:00:00:01,nw_dst=10.0.0.1,"
          "tp_dst=22");
}

TEST_CASE("parser: table, priority, cookie", "[ofproto][parser]") {
    FlowSpec s = parse_ok("table=5,priority=65535,cookie=0xdeadbeef,actions=drop");
    CHECK(s.table == 5);
    CHECK(s.priority == 65535);
    CHECK(s.cookie == 0xdeadbeef);
    CHECK(format_flow(s, kPorts) == "cookie=0xdeadbeef,table=5,priority=65535 actions=drop");
    CHECK(parse_ok("table=253,actions=drop").table == 253);
    CHECK(parse_ok("cookie=42,actions=drop").cookie == 42);
    CHECK(parse_ok("priority=0,actions=drop").priority == 0);
    CHECK(parse_ok("actions=drop").priority == 32768);
}

TEST_CASE("parser: actions", "[ofproto][parser]") {
    CHECK(actions_of("actions=") == "drop");
    CHECK(actions_of("actions=drop") == "drop");
    CHECK(actions_of("actions=DROP") == "drop");
    CHECK(actions_of("actions=output:vm2") == "output:vm2");
    CHECK(actions_of("actions=output:2") == "output:vm2");
    CHECK(actions_of("actions=2") == "output:vm2");
    CHECK(actions_of("actions=vm2") == "output:vm2");
    CHECK(actions_of("actions=output:77") == "output:77");
    CHECK(actions_of("actions=output:vm1,output:up0") == "output:vm1,output:up0");
    CHECK(actions_of("actions=vm1 up0") == "output:vm1,output:up0");
    CHECK(actions_of("actions=vm1, 3") == "output:vm1,output:up0");
    CHECK(actions_of("actions=in_port") == "IN_PORT");
    CHECK(actions_of("actions=IN_PORT") == "IN_PORT");
    CHECK(actions_of("actions=output:in_port") == "IN_PORT");
    CHECK(actions_of("actions=Output:vm1,in_port") == "output:vm1,IN_PORT");
    FlowSpec s = parse_ok("actions=output:vm1,in_port");
    REQUIRE(s.actions.size() == 2);
    CHECK(std::holds_alternative<InPortAction>(s.actions[1]));
}

TEST_CASE("parser: errors name the offending token", "[ofproto][parser]") {
    struct Case {
        const char* flow;
        const char* token;
        const char* message_part;
    };
    const Case cases[] = {
        {"frobnicate=1,actions=drop", "frobnicate=1", "unknown field 'frobnicate'"},
        {"frobnicate,actions=drop", "frobnicate", "unknown field 'frobnicate'"},
        {"dl_src=00:11:22:33:44:zz,actions=drop", "dl_src=00:11:22:33:44:zz",
         "invalid MAC address"},
        {"dl_src=00:11:22:33:44,actions=drop", "dl_src=00:11:22:33:44", "invalid MAC address"},
        {"dl_dst=00:11:22:33:44:55:66,actions=drop", "dl_dst=00:11:22:33:44:55:66",
         "invalid MAC address"},
        {"dl_dst=00:11:22:33:44:55/ff,actions=drop", "dl_dst=00:11:22:33:44:55/ff",
         "invalid mask"},
        {"ip,nw_dst=10.0.0.0/33,actions=drop", "nw_dst=10.0.0.0/33",
         "invalid prefix length '33'"},
        {"ip,nw_dst=10.0.0.256,actions=drop", "nw_dst=10.0.0.256", "invalid IPv4 address"},
        {"ip,nw_src=10.0.0,actions=drop", "nw_src=10.0.0", "invalid IPv4 address"},
        {"in_port=vm9,actions=drop", "in_port=vm9", "unknown port 'vm9'"},
        {"in_port=70000,actions=drop", "in_port=70000", "out of range"},
        {"tp_dst=80,actions=drop", "tp_dst=80", "tp_dst requires tcp, udp or sctp"},
        {"ip,tp_src=80,actions=drop", "tp_src=80", "tp_src requires tcp, udp or sctp"},
        {"icmp,tp_src=8,actions=drop", "tp_src=8", "tp_src requires tcp, udp or sctp"},
        {"nw_dst=10.0.0.1,actions=drop", "nw_dst=10.0.0.1", "nw_dst requires ip or arp"},
        {"dl_type=0x88cc,nw_proto=6,actions=drop", "nw_proto=6", "nw_proto requires ip, ipv6 or arp"},
        {"ip,arp_spa=10.0.0.1,actions=drop", "arp_spa=10.0.0.1", "arp_spa requires arp"},
        {"in_port=1,in_port=2,actions=drop", "in_port=2", "duplicate field 'in_port'"},
        {"ip,dl_type=0x0800,actions=drop", "dl_type=0x0800", "duplicate field 'dl_type'"},
        {"tcp,udp,actions=drop", "udp", "duplicate field 'udp'"},
        {"dl_vlan=1,vlan_tci=0x1001,actions=drop", "vlan_tci=0x1001", "duplicate field"},
        {"arp,nw_src=1.1.1.1,arp_spa=1.1.1.1,actions=drop", "arp_spa=1.1.1.1",
         "duplicate field"},
        {"priority=1,priority=2,actions=drop", "priority=2", "duplicate field 'priority'"},
        {"in_port=1", "", "missing actions"},
        {"", "", "missing actions"},
        {"in_port=1 actions", "actions", "missing actions"},
        {"in_port=1,actions=frobnicate", "frobnicate", "unknown action 'frobnicate'"},
        {"actions=output:vm2,frobnicate:3", "frobnicate:3", "unknown action"},
        {"actions=output:vm9", "output:vm9", "unknown port 'vm9'"},
        {"actions=output:", "output:", "missing port"},
        {"actions=output", "output", "expected output:PORT"},
        {"actions=drop,output:1", "drop", "drop must not be accompanied"},
        {"actions=99999", "99999", "out of range"},
        {"priority=70000,actions=drop", "priority=70000", "out of range"},
        {"priority=-1,actions=drop", "priority=-1", "invalid number"},
        {"priority=,actions=drop", "priority=", "missing value"},
        {"table=254,actions=drop", "table=254", "not a table number"},
        {"cookie=0x1/0x1,actions=drop", "cookie=0x1/0x1", "cannot use a cookie mask"},
        {"in_port,actions=drop", "in_port", "missing value"},
        {"ip=1,actions=drop", "ip=1", "does not take a value"},
        {"dl_type=0x0800/0xffff,actions=drop", "dl_type=0x0800/0xffff", "does not take a mask"},
        {"dl_vlan=4096,actions=drop", "dl_vlan=4096", "out of range"},
        {"tcp,tp_dst=65536,actions=drop", "tp_dst=65536", "out of range"},
        {"tcp,tp_dst=80/0x1ffff,actions=drop", "tp_dst=80/0x1ffff", "invalid mask"},
        {"=5,actions=drop", "=5", "missing field name"},
        {"in_port=1,priority=1 in_port=2", "in_port=2", "duplicate field"},
    };
    for (const Case& c : cases) {
        FlowError err = parse_bad(c.flow);
        INFO("flow: " << c.flow << "\nmessage: " << err.message);
        CHECK(err.token == c.token);
        CHECK(err.message.find(c.message_part) != std::string::npos);
    }
}

TEST_CASE("parser: filters for del-flows and dump-flows", "[ofproto][parser]") {
    FlowFilter f;
    REQUIRE_FALSE(parse_filter("", kPorts, f));
    CHECK(!f.table);
    CHECK(f.match.empty());
    CHECK(f.cookie_mask == 0);

    REQUIRE_FALSE(parse_filter("table=3,priority=7,cookie=0x10/0xf0,in_port=vm1", kPorts, f));
    CHECK(f.table == 3);
    CHECK(f.priority == 7);
    CHECK(f.cookie == 0x10);
    CHECK(f.cookie_mask == 0xf0);
    CHECK(f.match.value().in_port == 1);
    // ovs-ofctl's "every bit" mask.
    REQUIRE_FALSE(parse_filter("cookie=0x77/-1", kPorts, f));
    CHECK(f.cookie == 0x77);
    CHECK(f.cookie_mask == UINT64_MAX);
    CHECK(parse_filter("cookie=0x77/-2", kPorts, f).token == "cookie=0x77/-2");

    FlowError err = parse_filter("in_port=1,actions=drop", kPorts, f);
    CHECK(err.token == "actions=drop");
    err = parse_filter("cookie=5", kPorts, f);
    CHECK(err.token == "cookie=5");
    CHECK(err.message.find("needs a mask") != std::string::npos);
    err = parse_filter("nw_dst=10.0.0.1", kPorts, f);
    CHECK(err.token == "nw_dst=10.0.0.1");
}

TEST_CASE("parser: port names that cannot be printed as names", "[ofproto][parser]") {
    FakePorts odd;
    odd.by_name = {{"7", 1}, {"a,b", 2}, {"drop", 3}, {"good", 4}};
    FlowSpec s;
    REQUIRE_FALSE(parse_flow("in_port=7,actions=output:4,1,2,3", odd, s));
    // "7" is a number, not the port named "7".
    CHECK(s.match.value().in_port == 7);
    CHECK(format_match(s.match, odd) == "in_port=7");
    CHECK(format_actions(s.actions, odd) == "output:good,output:1,output:2,output:3");
}

TEST_CASE("parser: round trip of hand-written flows", "[ofproto][parser]") {
    const char* flows[] = {
        "priority=100,in_port=vm1,actions=output:vm2",
        "priority=100,in_port=vm2,dl_type=0x0800,nw_dst=10.0.0.0/24,actions=output:vm1",
        "actions=drop",
        "priority=0,actions=",
        "table=7,cookie=0xffffffffffffffff,arp,arp_op=1,arp_spa=1.2.3.4/31,actions=in_port",
        "dl_vlan=0xffff,dl_src=aa:bb:cc:dd:ee:ff/ff:ff:ff:00:00:00,actions=up0,vm1",
        "udp,nw_src=1.2.3.4/255.255.0.255,tp_src=1/0xff00,tp_dst=65535,actions=3",
        "vlan_tci=0x0123/0x0fff,dl_type=0x88cc,actions=output:77",
        "ip,nw_proto=255,nw_dst=0.0.0.0/1,actions=drop",
    };
    for (const char* f : flows) check_round_trip(parse_ok(f), f);
}

namespace {

// Generates valid flows from the grammar, with random order, separators and masks.
class FlowGen {
public:
    explicit FlowGen(uint64_t seed) : rng_(seed) {}

    std::string flow() {
        std::vector<std::string> parts;
        table_ = coin() ? static_cast<int>(pick(254)) : 0;
        if (table_ || coin()) parts.push_back("table=" + std::to_string(table_));
        if (coin()) parts.push_back("idle_timeout=" + number(pick(65536)));
        if (coin()) parts.push_back("hard_timeout=" + number(pick(65536)));
        for (int r = 0; r < 8; r++)
            if (pick(6) == 0) parts.push_back("reg" + std::to_string(r) + "=" + u32_masked());
        if (coin()) parts.push_back("metadata=" + number(rng_()) + (coin() ? "/" + number(rng_()) : ""));
        if (pick(4) == 0) parts.push_back("tun_id=" + number(rng_()) + (coin() ? "/" + number(rng_()) : ""));
        if (pick(4) == 0) parts.push_back("tun_src=" + ipv4());
        if (pick(4) == 0) parts.push_back("tun_dst=" + ipv4());
        if (coin()) parts.push_back("priority=" + number(pick(65536)));
        if (coin()) parts.push_back("cookie=" + number(rng_()));
        if (coin()) parts.push_back("in_port=" + port());
        if (coin()) parts.push_back("dl_src=" + mac());
        if (coin()) parts.push_back("dl_dst=" + mac());
        switch (pick(5)) {
        case 0: break;
        case 1: parts.push_back("dl_vlan=" + (coin() ? std::string("0xffff") : number(pick(4096)))); break;
        case 2: parts.push_back("vlan_tci=" + number(pick(65536)) + (coin() ? "/" + number(pick(65536)) : "")); break;
        case 3: parts.push_back("dl_vlan_pcp=" + number(pick(8))); break;
        case 4:
            parts.push_back("dl_vlan=" + number(pick(4096)));
            parts.push_back("dl_vlan_pcp=" + number(pick(8)));
            break;
        }
        int proto = pick(14);
        static const char* const kProto[] = {"", "ip", "tcp", "udp", "sctp", "icmp", "arp",
                                             "dl_type=0x0800", "dl_type=0x86dd", "ipv6",
                                             "tcp6", "udp6", "icmp6", "dl_type=0x88cc"};
        if (proto) parts.push_back(kProto[proto]);
        bool ip_or_arp = proto >= 1 && proto <= 7;
        bool l4 = (proto >= 2 && proto <= 4) || proto == 10 || proto == 11;
        bool arp = proto == 6;
        bool bare_ip = proto == 1 || proto == 7;
        bool v6 = proto >= 8 && proto <= 12;
        bool ip4 = ip_or_arp && !arp;
        ip4_ = ip4 && proto != 5;
        if (v6) {
            if (coin()) parts.push_back("ipv6_src=" + ipv6());
            if (coin()) parts.push_back("ipv6_dst=" + ipv6());
        }
        if ((ip4 || v6) && coin()) parts.push_back("nw_tos=" + number(4 * pick(64)));
        if ((ip4 || v6) && coin()) parts.push_back("nw_ttl=" + number(pick(256)));
        if (proto == 5 || proto == 12) {
            const char* pre = proto == 5 ? "icmp_" : "icmpv6_";
            if (coin()) parts.push_back(std::string(pre) + "type=" + number(pick(256)));
            if (coin()) parts.push_back(std::string(pre) + "code=" + number(pick(256)));
        }
        if (ip_or_arp) {
            const char* src = arp && coin() ? "arp_spa=" : "nw_src=";
            const char* dst = arp && coin() ? "arp_tpa=" : "nw_dst=";
            if (coin()) parts.push_back(src + ipv4());
            if (coin()) parts.push_back(dst + ipv4());
        }
        if ((bare_ip || arp) && coin()) {
            int p = pick(256);
            parts.push_back((arp && coin() ? "arp_op=" : "nw_proto=") + number(p));
            l4 = !arp && (p == 6 || p == 17 || p == 132);
        }
        if (l4) {
            if (coin()) parts.push_back("tp_src=" + u16_masked());
            if (coin()) parts.push_back("tp_dst=" + u16_masked());
        }
        std::shuffle(parts.begin(), parts.end(), rng_);
        std::string s;
        for (const std::string& p : parts) s += p + sep();
        s += "actions=" + actions();
        return s;
    }

private:
    bool coin() { return rng_() & 1; }
    uint64_t pick(uint64_t n) { return rng_() % n; }
    std::string number(uint64_t v) {
        if (coin()) return std::to_string(v);
        char buf[24];
        std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
        return buf;
    }
    std::string sep() {
        static const char* const kSeps[] = {",", " ", ", ", " ,", "\t", ",,"};
        return kSeps[pick(6)];
    }
    std::string port() {
        static const char* const kNames[] = {"vm1", "vm2", "up0"};
        return coin() ? kNames[pick(3)] : std::to_string(pick(0xff00));
    }
    std::string mac() {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%x:%02x:%02X:%x:%02x:%02x", unsigned(pick(256)),
                      unsigned(pick(256)), unsigned(pick(256)), unsigned(pick(256)),
                      unsigned(pick(256)), unsigned(pick(256)));
        std::string s = buf;
        if (coin()) {
            std::snprintf(buf, sizeof buf, "/%02x:%02x:%02x:%02x:%02x:%02x", unsigned(pick(256)),
                          unsigned(pick(256)), unsigned(pick(256)), unsigned(pick(256)),
                          unsigned(pick(256)), unsigned(pick(256)));
            s += buf;
        }
        return s;
    }
    std::string ipv4() {
        auto quad = [&] {
            return std::to_string(pick(256)) + "." + std::to_string(pick(256)) + "." +
                   std::to_string(pick(256)) + "." + std::to_string(pick(256));
        };
        std::string s = quad();
        switch (pick(3)) {
        case 0: break;
        case 1: s += '/'; s += std::to_string(pick(33)); break;
        case 2: s += '/'; s += quad(); break;
        }
        return s;
    }
    std::string u16_masked() {
        std::string s = number(pick(65536));
        if (coin()) {
            s += '/';
            s += number(pick(65536));
        }
        return s;
    }
    std::string u32_masked() {
        std::string s = number(pick(1ull << 32));
        if (coin()) s += "/" + number(pick(1ull << 32));
        return s;
    }
    std::string ipv6() {
        static const char* const kAddrs[] = {"::", "::1", "2001:db8::1", "fe80::1:2:3:4",
                                             "2001:db8:0:0:1:0:0:1", "ff02::1"};
        std::string s = kAddrs[pick(6)];
        switch (pick(3)) {
        case 0: break;
        case 1: s += "/" + std::to_string(pick(129)); break;
        case 2: s += "/ffff:0:ffff::"; break;
        }
        return s;
    }
    std::string action() {
        switch (pick(24)) {
        case 0: return "output:" + port();
        case 1: return port();
        case 2: return coin() ? "in_port" : "IN_PORT";
        case 3: return coin() ? "ALL" : "flood";
        case 4: return coin() ? "NORMAL" : "output:normal";
        case 5: return "resubmit(," + std::to_string(pick(254)) + ")";
        case 6: return "resubmit:" + port();
        case 7: return "resubmit(" + port() + "," + std::to_string(pick(254)) + ")";
        case 8: return "mod_dl_src:" + mac_exact();
        case 9: return "mod_dl_dst:" + mac_exact();
        case 10: return "mod_vlan_vid:" + number(pick(4096));
        case 11: return "mod_vlan_pcp:" + number(pick(8));
        case 12: return coin() ? "push_vlan:0x8100" : (coin() ? "pop_vlan" : "strip_vlan");
        case 13: return "dec_ttl";
        case 14: return "note:" + std::string(coin() ? "01.02.ab" : "c0ffee");
        case 15: return "group:" + number(pick(1000));
        case 16: return "load:" + number(pick(16)) + "->NXM_NX_REG" + std::to_string(pick(8)) + "[0..3]";
        case 17: return "load:" + number(rng_() >> 16) + "->NXM_OF_ETH_DST[]";
        case 18: return "move:NXM_NX_REG" + std::to_string(pick(8)) + "[]->NXM_NX_REG" + std::to_string(pick(8)) + "[]";
        case 19: return "move:NXM_OF_ETH_SRC[0..31]->reg" + std::to_string(pick(8));
        case 20: return "set_field:" + number(pick(1ull << 32)) + "->reg" + std::to_string(pick(8));
        case 21: return "set_field:" + mac_exact() + "->eth_dst";
        case 22: return ip4_ ? "set_field:" + quad() + "->ip_dst" : "mod_nw_src:" + quad();
        case 23: return ip4_ ? "mod_nw_tos:" + number(4 * pick(64)) : "mod_tp_dst:" + number(pick(65536));
        }
        return "drop";
    }
    std::string actions() {
        switch (pick(4)) {
        case 0: return coin() ? "drop" : "";
        default: {
            std::string s;
            if (pick(4) == 0) s += "meter:" + number(1 + pick(100)) + sep();
            int n = 1 + pick(4);
            for (int i = 0; i < n; i++) s += (i ? sep() : "") + action();
            if (pick(4) == 0) s += sep() + "write_metadata:" + number(rng_()) + (coin() ? "/" + number(rng_()) : "");
            if (table_ < 253 && pick(3) == 0)
                s += sep() + "goto_table:" + std::to_string(table_ + 1 + pick(253 - table_));
            return s;
        }
        }
    }
    std::string quad() {
        return std::to_string(pick(256)) + "." + std::to_string(pick(256)) + "." +
               std::to_string(pick(256)) + "." + std::to_string(pick(256));
    }
    std::string mac_exact() {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", unsigned(pick(256)),
                      unsigned(pick(256)), unsigned(pick(256)), unsigned(pick(256)),
                      unsigned(pick(256)), unsigned(pick(256)));
        return buf;
    }
    int table_ = 0;
    bool ip4_ = false;

    std::mt19937_64 rng_;
};

// Mutations: the kinds of damage a hand-edited flow file suffers.
std::string mutate(std::string s, std::mt19937_64& rng) {
    static const std::string kAlphabet =
        "abcdefghijklmnopqrstuvwxyz0123456789=,:/. \t()_-x\xff";
    int n = 1 + rng() % 4;
    for (int i = 0; i < n; i++) {
        size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
        switch (rng() % 5) {
        case 0:   // delete a char
            if (pos < s.size()) s.erase(pos, 1);
            break;
        case 1:   // insert a char
            s.insert(pos, 1, kAlphabet[rng() % kAlphabet.size()]);
            break;
        case 2:   // replace a char
            if (pos < s.size()) s[pos] = static_cast<char>(rng());
            break;
        case 3: {   // duplicate a slice
            size_t len = rng() % 12;
            if (pos < s.size()) s.insert(pos, s.substr(pos, len));
            break;
        }
        case 4:   // truncate
            s.resize(pos);
            break;
        }
    }
    return s;
}

// Whatever the parser says about arbitrary input must be well-formed: errors quote a
// token from the input; successes round trip.
void check_any(const std::string& text) {
    FlowSpec spec;
    FlowError err = parse_flow(text, kPorts, spec);
    if (err) {
        INFO("input: " << text << "\nmessage: " << err.message << "\ntoken: " << err.token);
        CHECK(text.find(err.token) != std::string::npos);
    } else {
        check_round_trip(spec, text);
    }
    FlowFilter filter;
    err = parse_filter(text, kPorts, filter);
    if (err) {
        INFO("input: " << text << "\ntoken: " << err.token);
        CHECK(text.find(err.token) != std::string::npos);
    }
}

}  // namespace

TEST_CASE("parser property: generated valid flows round trip", "[ofproto][parser][property]") {
    FlowGen gen(0x5eed1234);
    for (int i = 0; i < 5000; i++) {
        std::string text = gen.flow();
        check_round_trip(parse_ok(text), text);
    }
}

TEST_CASE("parser property: random bytes never crash", "[ofproto][parser][property]") {
    std::mt19937_64 rng(42);
    for (int i = 0; i < 5000; i++) {
        std::string s(rng() % 80, '\0');
        for (char& c : s) c = static_cast<char>(rng());
        check_any(s);
    }
}

TEST_CASE("parser property: random token soup never crashes", "[ofproto][parser][property]") {
    static const char* const kWords[] = {
        "priority", "table", "cookie", "in_port", "dl_src", "dl_dst", "dl_type", "dl_vlan",
        "vlan_tci", "nw_src", "nw_dst", "nw_proto", "tp_src", "tp_dst", "ip", "tcp", "udp",
        "arp", "icmp", "sctp", "actions", "output", "drop", "vm1", "up0", "=", ",", ":", "/",
        " ", "(", ")", "0x", "10.0.0.1", "00:11:22:33:44:55", "65535", "0", "-1", "255.0.0.0",
        "99999999999999999999999", "IN_PORT", "arp_spa", "arp_op"};
    std::mt19937_64 rng(7);
    for (int i = 0; i < 10000; i++) {
        std::string s;
        int n = rng() % 16;
        for (int j = 0; j < n; j++) s += kWords[rng() % std::size(kWords)];
        check_any(s);
    }
}

TEST_CASE("parser property: mutated valid flows never crash", "[ofproto][parser][property]") {
    FlowGen gen(99);
    std::mt19937_64 rng(1234);
    for (int i = 0; i < 10000; i++) check_any(mutate(gen.flow(), rng));
}
