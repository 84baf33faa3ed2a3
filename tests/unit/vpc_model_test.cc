// The VPC model: address parsing and every validation error, each checked to leave the
// model and the pipeline exactly as they were.
#include "vpc_fixture.h"

using namespace vswitch;
using namespace vswitch::vpc;
using namespace vswitch::vpctest;

TEST_CASE("vpc model: MAC, IP and CIDR syntax", "[vpc]") {
    Mac m;
    CHECK(parse_mac("52:54:00:00:00:01", m));
    CHECK(m == 0x525400000001ull);
    CHECK(format_mac(m) == "52:54:00:00:00:01");
    CHECK(parse_mac("2:54:0:0:0:A", m));
    CHECK(m == 0x02540000000aull);
    CHECK_FALSE(parse_mac("52:54:00:00:00", m));
    CHECK_FALSE(parse_mac("52:54:00:00:00:01:02", m));
    CHECK_FALSE(parse_mac("52:54:00:00:00:zz", m));
    CHECK_FALSE(parse_mac("525:4:00:00:00:01", m));

    uint32_t ip;
    CHECK(parse_ip("10.1.0.11", ip));
    CHECK(ip == 0x0a01000b);
    CHECK(format_ip(ip) == "10.1.0.11");
    CHECK_FALSE(parse_ip("10.1.0.256", ip));
    CHECK_FALSE(parse_ip("10.1.0", ip));
    CHECK_FALSE(parse_ip("10.1.0.1.", ip));
    CHECK_FALSE(parse_ip("", ip));

    Cidr c;
    bool hb = true;
    CHECK(parse_cidr("10.1.0.0/24", c, &hb));
    CHECK_FALSE(hb);
    CHECK(format_cidr(c) == "10.1.0.0/24");
    CHECK(c.contains(0x0a0100ff));
    CHECK_FALSE(c.contains(0x0a010100));
    CHECK(parse_cidr("10.1.0.5/24", c, &hb));
    CHECK(hb);
    CHECK(format_cidr(c) == "10.1.0.0/24");
    CHECK(parse_cidr("0.0.0.0/0", c, &hb));
    CHECK(c.contains(0xffffffff));
    CHECK_FALSE(parse_cidr("10.1.0.0/33", c));
    CHECK_FALSE(parse_cidr("10.1.0.0/", c));
    Cidr a, b;
    parse_cidr("10.1.0.0/16", a);
    parse_cidr("10.1.5.0/24", b);
    CHECK(a.overlaps(b));
    CHECK(b.overlaps(a));
    parse_cidr("10.2.0.0/24", b);
    CHECK_FALSE(a.overlaps(b));

    CHECK(valid_name("blue"));
    CHECK(valid_name("tenant-1.prod_a"));
    CHECK_FALSE(valid_name(""));
    CHECK_FALSE(valid_name("1blue"));
    CHECK_FALSE(valid_name("blue green"));
    CHECK_FALSE(valid_name(std::string(33, 'a')));
    CHECK(router_mac(5001) == 0x0a5600001389ull);
}

namespace {

struct Bad {
    Op op;
    std::string field;
    std::string message;   // a fragment
};

}  // namespace

TEST_CASE("vpc model: every invalid op is rejected naming its field, nothing changes", "[vpc]") {
    Env env;
    env.underlay();
    std::vector<Op> base = blue();
    base.push_back(create_vpc("green", 6001, "gre"));
    base.push_back(add_subnet("green", "10.1.0.0/24"));   // same addresses as blue: allowed
    base.push_back(add_rule("blue", "vm1", "ingress", "tcp", "10.1.0.0/16", 22));
    REQUIRE(!env.apply(base));
    const std::string model = env.model_text();
    const auto rules = env.rules();

    std::vector<Bad> bad = {
        // create_vpc
        {create_vpc("", 7000), "ops[0].create_vpc.vpc", "is not a valid VPC name"},
        {create_vpc("9x", 7000), "ops[0].create_vpc.vpc", "is not a valid VPC name"},
        {create_vpc("blue", 7000), "ops[0].create_vpc.vpc", "VPC 'blue' already exists"},
        {create_vpc("red", 0), "ops[0].create_vpc.vni", "vni: 0 is out of range (1-16777215)"},
        {create_vpc("red", 1 << 24), "ops[0].create_vpc.vni", "out of range"},
        {create_vpc("red", 5001), "ops[0].create_vpc.vni", "vni: 5001 is already used by VPC 'blue'"},
        {create_vpc("red", 7000, "geneve"), "ops[0].create_vpc.encap", "encap: unknown encapsulation 'geneve'"},
        // unknown VPC (any op)
        {delete_vpc("red"), "ops[0].delete_vpc.vpc", "vpc: no VPC named 'red'"},
        {add_subnet("red", "10.9.0.0/24"), "ops[0].add_subnet.vpc", "no VPC named 'red'"},
        {add_endpoint("", "52:54:00:00:09:01", "10.1.0.99", "192.0.2.3"), "ops[0].add_endpoint.vpc", "missing VPC name"},
        // subnets
        {add_subnet("blue", ""), "ops[0].add_subnet.subnet.cidr", "cidr: missing"},
        {add_subnet("blue", "10.2.0.0"), "ops[0].add_subnet.subnet.cidr", "is not an IPv4 CIDR"},
        {add_subnet("blue", "10.2.0.0/33"), "ops[0].add_subnet.subnet.cidr", "is not an IPv4 CIDR"},
        {add_subnet("blue", "10.2.0.5/24"), "ops[0].add_subnet.subnet.cidr", "has host bits set (did you mean 10.2.0.0/24?)"},
        {add_subnet("blue", "10.2.0.0/31"), "ops[0].add_subnet.subnet.cidr", "prefix length /31 out of range"},
        {add_subnet("blue", "10.1.0.0/16"), "ops[0].add_subnet.subnet.cidr", "10.1.0.0/16 overlaps subnet 10.1.0.0/24 of VPC 'blue'"},
        {add_subnet("blue", "10.1.0.128/25"), "ops[0].add_subnet.subnet.cidr", "overlaps subnet 10.1.0.0/24"},
        {add_subnet("blue", "10.2.0.0/24", "10.2.1.1"), "ops[0].add_subnet.subnet.gateway", "gateway: 10.2.1.1 is not inside 10.2.0.0/24"},
        {add_subnet("blue", "10.2.0.0/24", "10.2.0.255"), "ops[0].add_subnet.subnet.gateway", "network or broadcast address"},
        {add_subnet("blue", "10.2.0.0/24", "x"), "ops[0].add_subnet.subnet.gateway", "is not an IPv4 address"},
        {add_subnet("blue", "10.2.0.0/24", "", {"10.2.0.2", "dns.example"}), "ops[0].add_subnet.subnet.dns[1]",
         "dns[1]: 'dns.example' is not an IPv4 address"},
        {add_subnet("blue", "10.2.0.0/24", "", {"224.0.0.251"}), "ops[0].add_subnet.subnet.dns[0]", "224.0.0.251 is not a unicast address"},
        {add_subnet("blue", "10.2.0.0/24", "", {"0.0.0.0"}), "ops[0].add_subnet.subnet.dns[0]", "is not a unicast address"},
        {add_subnet("blue", "10.2.0.0/24", "", {"8.8.8.8", "8.8.8.8"}), "ops[0].add_subnet.subnet.dns[1]", "8.8.8.8 is given twice"},
        {add_subnet("blue", "10.2.0.0/24", "", {"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5"}),
         "ops[0].add_subnet.subnet.dns", "5 servers: at most 4"},
        {del_subnet("blue", "10.9.0.0/24"), "ops[0].del_subnet.subnet.cidr", "VPC 'blue' has no subnet 10.9.0.0/24"},
        {del_subnet("blue", "10.1.0.0/24"), "ops[0].del_subnet.subnet.cidr", "is still in use by"},
        // bindings
        {bind("blue", "vm3", "zz", {"10.1.0.30"}), "ops[0].bind.binding.mac", "mac: 'zz' is not a MAC address"},
        {bind("blue", "vm3", "", {"10.1.0.30"}), "ops[0].bind.binding.mac", "mac: missing"},
        {bind("blue", "vm3", "01:00:5e:00:00:01", {"10.1.0.30"}), "ops[0].bind.binding.mac", "multicast/broadcast MAC, not unicast"},
        {bind("blue", "vm3", "ff:ff:ff:ff:ff:ff", {"10.1.0.30"}), "ops[0].bind.binding.mac", "not unicast"},
        {bind("blue", "vm3", "00:00:00:00:00:00", {"10.1.0.30"}), "ops[0].bind.binding.mac", "the zero MAC"},
        {bind("blue", "vm3", "0a:56:00:00:13:89", {"10.1.0.30"}), "ops[0].bind.binding.mac", "is the VPC's router MAC"},
        {bind("blue", "vm3", "52:54:00:00:00:01", {"10.1.0.30"}), "ops[0].bind.binding.mac", "already used by port 'vm1'"},
        {bind("blue", "vm3", "52:54:00:00:01:07", {"10.1.0.30"}), "ops[0].bind.binding.mac", "already used by an endpoint"},
        {bind("blue", "vm1", "52:54:00:00:00:09", {"10.1.0.30"}), "ops[0].bind.binding.port", "port 'vm1' is already bound to VPC 'blue'"},
        {bind("green", "vm1", "52:54:00:00:00:09", {"10.1.0.30"}), "ops[0].bind.binding.port", "already bound to VPC 'blue'"},
        {bind("blue", "1bad", "52:54:00:00:00:09", {"10.1.0.30"}), "ops[0].bind.binding.port", "is not a valid port name"},
        {bind("blue", "vm3", "52:54:00:00:00:09", {}), "ops[0].bind.binding.ips", "ips: at least one IP address is needed"},
        {bind("blue", "vm3", "52:54:00:00:00:09", {"10.1.0.30", "x"}), "ops[0].bind.binding.ips[1]", "ips[1]: 'x' is not an IPv4 address"},
        {bind("blue", "vm3", "52:54:00:00:00:09", {"10.5.0.30"}), "ops[0].bind.binding.ips[0]", "10.5.0.30 is not inside any subnet of VPC 'blue'"},
        {bind("blue", "vm3", "52:54:00:00:00:09", {"10.1.0.1"}), "ops[0].bind.binding.ips[0]", "is the gateway of 10.1.0.0/24"},
        {bind("blue", "vm3", "52:54:00:00:00:09", {"10.1.0.0"}), "ops[0].bind.binding.ips[0]", "network or broadcast"},
        {bind("blue", "vm3", "52:54:00:00:00:09", {"10.1.0.255"}), "ops[0].bind.binding.ips[0]", "network or broadcast"},
        {bind("blue", "vm3", "52:54:00:00:00:09", {"10.1.0.11"}), "ops[0].bind.binding.ips[0]", "10.1.0.11 is already used in VPC 'blue'"},
        {bind("blue", "vm3", "52:54:00:00:00:09", {"10.1.0.27"}), "ops[0].bind.binding.ips[0]", "already used"},
        {bind("blue", "vm3", "52:54:00:00:00:09", {"10.1.0.30", "10.1.0.30"}), "ops[0].bind.binding.ips[1]", "is given twice"},
        {unbind("blue", "vm3"), "ops[0].unbind.binding.port", "port 'vm3' is not bound to VPC 'blue'"},
        {unbind("green", "vm1"), "ops[0].unbind.binding.port", "is not bound to VPC 'green'"},
        // endpoints
        {add_endpoint("blue", "52:54:00:00:01:07", "10.1.0.99", "192.0.2.3"), "ops[0].add_endpoint.endpoint.mac", "already used by an endpoint"},
        {add_endpoint("blue", "52:54:00:00:00:02", "10.1.0.99", "192.0.2.3"), "ops[0].add_endpoint.endpoint.mac", "already used by port 'vm2'"},
        {add_endpoint("blue", "33:33:00:00:00:01", "10.1.0.99", "192.0.2.3"), "ops[0].add_endpoint.endpoint.mac", "not unicast"},
        {add_endpoint("blue", "52:54:00:00:09:01", "10.1.0.27", "192.0.2.3"), "ops[0].add_endpoint.endpoint.ip", "10.1.0.27 is already used"},
        {add_endpoint("blue", "52:54:00:00:09:01", "10.7.0.5", "192.0.2.3"), "ops[0].add_endpoint.endpoint.ip", "not inside any subnet"},
        {add_endpoint("blue", "52:54:00:00:09:01", "", "192.0.2.3"), "ops[0].add_endpoint.endpoint.ip", "ip: missing"},
        {add_endpoint("blue", "52:54:00:00:09:01", "10.1.0.99", ""), "ops[0].add_endpoint.endpoint.host", "host: missing"},
        {add_endpoint("blue", "52:54:00:00:09:01", "10.1.0.99", "192.0.2"), "ops[0].add_endpoint.endpoint.host", "is not an IPv4 address"},
        {add_endpoint("blue", "52:54:00:00:09:01", "10.1.0.99", "224.0.0.1"), "ops[0].add_endpoint.endpoint.host", "is not a unicast host address"},
        {add_endpoint("blue", "52:54:00:00:09:01", "10.1.0.99", "0.0.0.0"), "ops[0].add_endpoint.endpoint.host", "not a unicast host"},
        {del_endpoint("blue", "52:54:00:00:09:01"), "ops[0].del_endpoint.endpoint.mac", "VPC 'blue' has no endpoint 52:54:00:00:09:01"},
        {del_endpoint("blue", "nope"), "ops[0].del_endpoint.endpoint.mac", "is not a MAC address"},
        {del_endpoint("green", "52:54:00:00:01:07"), "ops[0].del_endpoint.endpoint.mac", "has no endpoint"},
        // rules
        {add_rule("blue", "vm3", "ingress", "tcp"), "ops[0].add_rule.rule.port", "port 'vm3' is not bound to VPC 'blue'"},
        {add_rule("blue", "vm1", "inbound", "tcp"), "ops[0].add_rule.rule.direction", "'inbound' is not a direction (ingress or egress)"},
        {add_rule("blue", "vm1", "ingress", "sctp"), "ops[0].add_rule.rule.protocol", "'sctp' is not a protocol (tcp, udp, icmp or any)"},
        {add_rule("blue", "vm1", "ingress", "tcp", "10.1.0.0/40"), "ops[0].add_rule.rule.cidr", "is not an IPv4 CIDR"},
        {add_rule("blue", "vm1", "ingress", "tcp", "10.1.0.9/16"), "ops[0].add_rule.rule.cidr", "has host bits set (did you mean 10.1.0.0/16?)"},
        {add_rule("blue", "vm1", "ingress", "tcp", "", 70000), "ops[0].add_rule.rule.port_min", "70000 is out of range (0-65535)"},
        {add_rule("blue", "vm1", "ingress", "tcp", "", 80, 70000), "ops[0].add_rule.rule.port_max", "out of range"},
        {add_rule("blue", "vm1", "ingress", "tcp", "", 90, 80), "ops[0].add_rule.rule.port_max", "80 is below port_min 90"},
        {add_rule("blue", "vm1", "ingress", "icmp", "", 80), "ops[0].add_rule.rule.port_min", "a port range needs protocol tcp or udp"},
        {add_rule("blue", "vm1", "ingress", "any", "", 80), "ops[0].add_rule.rule.port_min", "needs protocol tcp or udp"},
        {add_rule("blue", "vm1", "ingress", "tcp", "10.1.0.0/16", 22), "ops[0].add_rule.rule", "the same rule already exists on port 'vm1'"},
        {del_rule("blue", "vm1", "ingress", "tcp", "10.1.0.0/16", 23), "ops[0].del_rule.rule", "rule: no such rule on port 'vm1'"},
        {del_rule("blue", "vm2", "egress", "any"), "ops[0].del_rule.rule", "no such rule"},
    };
    for (const Bad& b : bad) {
        INFO("op " << op_name(b.op.kind) << " " << b.op.vpc << " expecting " << b.field << ": " << b.message);
        BatchResult r;
        VpcError e = env.mgr.apply(7, {b.op}, r);
        REQUIRE(e);
        INFO("got " << e.field << ": " << e.message);
        CHECK(e.field == b.field);
        CHECK(e.message.find(b.message) != std::string::npos);
        CHECK(env.model_text() == model);
        CHECK(env.rules() == rules);
    }
}

TEST_CASE("vpc model: an error in the middle of a batch undoes the ops before it", "[vpc]") {
    Env env;
    env.underlay();
    REQUIRE(!env.apply(blue(), 3));
    const std::string model = env.model_text();
    const auto rules = env.rules();
    const uint64_t version = env.ofp.version();
    // Every kind of change first, then a bad op: nothing of it may remain.
    std::vector<Op> ops = {
        create_vpc("red", 7001, "gre"),
        add_subnet("red", "10.1.0.0/24"),
        bind("red", "vm3", "52:54:00:00:00:03", {"10.1.0.11"}),
        add_rule("red", "vm3", "egress", "udp", "", 53),
        add_endpoint("blue", "52:54:00:00:01:08", "10.1.0.28", "192.0.2.2"),
        add_endpoint("blue", "52:54:00:00:01:09", "10.1.0.29", "192.0.2.3"),
        del_endpoint("blue", "52:54:00:00:01:07"),
        add_rule("blue", "vm1", "egress", "tcp", "10.1.0.0/16", 80, 88),
        unbind("blue", "vm2"),
        add_subnet("blue", "10.1.2.0/24"),
        del_subnet("blue", "10.1.1.0/24"),
        delete_vpc("blue"),
        create_vpc("blue", 5002),
        bind("blue", "vm1", "52:54:00:00:00:01", {"10.3.0.1"}),   // no subnet: invalid
    };
    BatchResult r;
    VpcError e = env.mgr.apply(4, ops, r);
    REQUIRE(e);
    CHECK(e.field == "ops[13].bind.binding.ips[0]");
    CHECK(env.model_text() == model);
    CHECK(env.rules() == rules);
    CHECK(env.ofp.version() == version);   // the pipeline was never touched
    // And the id allocators were restored: the same batch without the bad op works and
    // a later change compiles with fresh ids.
    ops.pop_back();
    REQUIRE(!env.mgr.apply(4, ops, r));
    CHECK(env.mgr.model().find("blue")->vni == 5002);
    CHECK(env.mgr.model().find("red")->bindings.size() == 1);
}

TEST_CASE("vpc model: empty batch", "[vpc]") {
    Env env;
    BatchResult r;
    VpcError e = env.mgr.apply(1, {}, r);
    CHECK(e.field == "ops");
    CHECK(e.message == "ops: the batch is empty");
}

TEST_CASE("vpc model: MAC and IP text at the edges of their formats", "[vpc][model]") {
    for (const char* s : {"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "0a:1b:2c:3d:4e:5f", "52:54:00:00:01:07"}) {
        Mac m;
        REQUIRE(parse_mac(s, m));
        CHECK(format_mac(m) == s);
    }
    for (const char* s : {"0.0.0.0", "255.255.255.255", "1.10.100.199", "10.0.9.99", "192.0.2.1"}) {
        uint32_t ip;
        REQUIRE(parse_ip(s, ip));
        CHECK(format_ip(ip) == s);
    }
}
