// switchctl vpc: subcommands -> requests, usage errors, the VPC file of `vpc sync`, the
// text output of the VPC replies, and FILE:LINE for sync errors.
#include <catch2/catch.hpp>

#include <sstream>

#include "ctl/api/cli_args.h"
#include "ctl/api/cli_format.h"
#include "ctl/api/cli_vpc.h"

using namespace vswitch;
using cli::ParseStatus;

namespace {

struct Parse {
    api::Request req;
    cli::Options opts;
    std::string err;
    ParseStatus status;
    explicit Parse(std::vector<std::string> args, const std::string& input = "") {
        opts.socket_path = "/default.sock";
        std::istringstream in(input);
        status = cli::build_request(args, req, opts, err, in);
    }
    const api::VpcOp& op() const {
        REQUIRE(req.has_vpc_batch());
        REQUIRE(req.vpc_batch().ops_size() == 1);
        return req.vpc_batch().ops(0);
    }
};

std::string usage_err(std::vector<std::string> args) {
    Parse p(std::move(args));
    CHECK(p.status == ParseStatus::kUsageError);
    return p.err;
}

const char* kBlueFile =
    "# blue\n"
    "create blue vni=5001 encap=vxlan\n"
    "add-subnet blue 10.1.0.0/24 gateway=10.1.0.1\n"
    "add-subnet blue 10.1.1.0/24 dns=10.1.1.2,8.8.8.8\n"
    "bind blue vm1 mac=52:54:00:00:00:01 ip=10.1.0.11,10.1.0.12\n"
    "add-endpoint blue mac=52:54:00:00:01:07 ip=10.1.0.27 host=192.0.2.2\n"
    "add-rule blue vm1 ingress tcp 22 from 10.1.0.0/16\n"
    "vpc add-rule blue vm1 egress udp 1000-2000 to 10.2.0.0/16\n"
    "add-rule blue vm1 ingress icmp\n";

}  // namespace

TEST_CASE("vpc cli: each change subcommand is one op in one batch", "[ctl][cli][vpc]") {
    Parse c({"vpc", "create", "blue", "vni=5001", "encap=gre"});
    REQUIRE(c.status == ParseStatus::kOk);
    CHECK(c.opts.command == "vpc");
    CHECK(c.req.vpc_batch().generation() == 0);
    CHECK(c.op().create_vpc().vpc() == "blue");
    CHECK(c.op().create_vpc().vni() == 5001);
    CHECK(c.op().create_vpc().encap() == "gre");
    CHECK(Parse({"vpc", "create", "blue", "vni=5001"}).op().create_vpc().encap().empty());

    CHECK(Parse({"vpc", "delete", "blue"}).op().delete_vpc().vpc() == "blue");

    Parse s({"vpc", "add-subnet", "blue", "10.1.0.0/24", "gateway=10.1.0.1"});
    CHECK(s.op().add_subnet().vpc() == "blue");
    CHECK(s.op().add_subnet().subnet().cidr() == "10.1.0.0/24");
    CHECK(s.op().add_subnet().subnet().gateway() == "10.1.0.1");
    CHECK(Parse({"vpc", "del-subnet", "blue", "10.1.0.0/24"}).op().del_subnet().subnet().cidr() == "10.1.0.0/24");
    Parse d({"vpc", "add-subnet", "blue", "10.1.0.0/24", "dns=10.1.0.2,8.8.8.8"});
    CHECK(std::vector<std::string>(d.op().add_subnet().subnet().dns().begin(), d.op().add_subnet().subnet().dns().end()) ==
          std::vector<std::string>{"10.1.0.2", "8.8.8.8"});
    CHECK(d.op().add_subnet().subnet().gateway().empty());

    Parse b({"vpc", "bind", "blue", "vm1", "mac=52:54:00:00:00:01", "ip=10.1.0.11,10.1.0.12", "ip=10.1.0.13"});
    const auto& bb = b.op().bind().binding();
    CHECK(bb.port() == "vm1");
    CHECK(bb.mac() == "52:54:00:00:00:01");
    CHECK(std::vector<std::string>(bb.ips().begin(), bb.ips().end()) ==
          std::vector<std::string>{"10.1.0.11", "10.1.0.12", "10.1.0.13"});
    CHECK(Parse({"vpc", "unbind", "blue", "vm1"}).op().unbind().binding().port() == "vm1");

    Parse e({"vpc", "add-endpoint", "blue", "mac=52:54:00:00:01:07", "ip=10.1.0.27", "host=192.0.2.2"});
    CHECK(e.op().add_endpoint().endpoint().mac() == "52:54:00:00:01:07");
    CHECK(e.op().add_endpoint().endpoint().ip() == "10.1.0.27");
    CHECK(e.op().add_endpoint().endpoint().host() == "192.0.2.2");
    CHECK(Parse({"vpc", "del-endpoint", "blue", "mac=52:54:00:00:01:07"}).op().del_endpoint().endpoint().mac() ==
          "52:54:00:00:01:07");

    Parse r({"vpc", "add-rule", "blue", "vm1", "ingress", "tcp", "22", "from", "10.1.0.0/16"});
    const auto& rr = r.op().add_rule().rule();
    CHECK(rr.port() == "vm1");
    CHECK(rr.direction() == "ingress");
    CHECK(rr.protocol() == "tcp");
    CHECK(rr.port_min() == 22);
    CHECK(rr.port_max() == 22);
    CHECK(rr.cidr() == "10.1.0.0/16");
    Parse r2({"vpc", "del-rule", "blue", "vm1", "egress", "udp", "1000-2000", "to", "10.2.0.0/16"});
    CHECK(r2.op().del_rule().rule().port_min() == 1000);
    CHECK(r2.op().del_rule().rule().port_max() == 2000);
    Parse r3({"vpc", "add-rule", "blue", "vm1", "egress", "any"});
    CHECK(r3.op().add_rule().rule().cidr().empty());
    CHECK(r3.op().add_rule().rule().port_min() == 0);

    Parse g({"--generation", "42", "vpc", "add-endpoint", "blue", "mac=52:54:00:00:01:07", "ip=10.1.0.27",
             "host=192.0.2.2"});
    CHECK(g.req.vpc_batch().generation() == 42);

    CHECK(Parse({"vpc", "show"}).req.vpc_show().name().empty());
    CHECK(Parse({"vpc", "show", "blue"}).req.vpc_show().name() == "blue");
    CHECK(Parse({"vpc", "stats", "blue", "--format", "json"}).req.vpc_stats().name() == "blue");
}

TEST_CASE("vpc cli: usage errors", "[ctl][cli][vpc]") {
    CHECK(usage_err({"vpc"}) == "vpc: missing SUBCOMMAND");
    CHECK(usage_err({"vpc", "frob", "blue"}) == "vpc: unknown subcommand 'frob'");
    CHECK(usage_err({"vpc", "create"}) == "vpc create: missing arguments (usage: vpc create NAME vni=N [encap=vxlan|gre])");
    CHECK(usage_err({"vpc", "create", "blue"}) == "vpc create: missing vni=N");
    CHECK(usage_err({"vpc", "create", "blue", "vni=x"}) == "vpc create: vni 'x' is not a number");
    CHECK(usage_err({"vpc", "create", "blue", "vni=1", "vni=2"}) == "vpc create: 'vni' given more than once");
    CHECK(usage_err({"vpc", "create", "blue", "vni=1", "mtu=9000"}) == "vpc create: unknown key 'mtu' (known: vni, encap)");
    CHECK(usage_err({"vpc", "create", "vni=1"}) == "vpc create: expected a VPC NAME before 'vni=1'");
    CHECK(usage_err({"vpc", "delete", "blue", "now"}) == "vpc delete: unexpected argument 'now'");
    CHECK(usage_err({"vpc", "bind", "blue", "vm1", "ip=10.1.0.11"}) == "vpc bind: missing mac=MAC");
    CHECK(usage_err({"vpc", "bind", "blue", "vm1", "mac=52:54:00:00:00:01"}) == "vpc bind: missing ip=IP");
    CHECK(usage_err({"vpc", "bind", "blue", "vm1", "mac"}) == "vpc bind: 'mac' is not KEY=VALUE");
    CHECK(usage_err({"vpc", "bind", "blue", "vm1", "mac="}) == "vpc bind: 'mac' has no value");
    CHECK(usage_err({"vpc", "add-endpoint", "blue", "mac=52:54:00:00:01:07", "ip=10.1.0.27"}) ==
          "vpc add-endpoint: missing host=IP");
    CHECK(usage_err({"vpc", "add-rule", "blue", "vm1"}) ==
          "vpc add-rule: missing ingress|egress (usage: vpc add-rule NAME PORT DIR PROTO [P[-P]] [from|to CIDR])");
    CHECK(usage_err({"vpc", "add-rule", "blue", "vm1", "in", "tcp"}) == "vpc add-rule: expected ingress or egress, not 'in'");
    CHECK(usage_err({"vpc", "add-rule", "blue", "vm1", "ingress", "sctp"}) ==
          "vpc add-rule: unknown protocol 'sctp' (tcp, udp, icmp or any)");
    CHECK(usage_err({"vpc", "add-rule", "blue", "vm1", "ingress", "tcp", "22-x"}) ==
          "vpc add-rule: '22-x' is not a port or port range (0-65535, e.g. 22 or 8000-8080)");
    CHECK(usage_err({"vpc", "add-rule", "blue", "vm1", "ingress", "tcp", "99999"}).find("is not a port") != std::string::npos);
    CHECK(usage_err({"vpc", "add-rule", "blue", "vm1", "ingress", "tcp", "to", "10.0.0.0/8"}) ==
          "vpc add-rule: expected 'from CIDR' (ingress rules name the source), not 'to'");
    CHECK(usage_err({"vpc", "add-rule", "blue", "vm1", "egress", "tcp", "from", "10.0.0.0/8"}) ==
          "vpc add-rule: expected 'to CIDR' (egress rules name the destination), not 'from'");
    CHECK(usage_err({"vpc", "add-rule", "blue", "vm1", "ingress", "tcp", "from"}) == "vpc add-rule: missing CIDR after 'from'");
    CHECK(usage_err({"vpc", "add-rule", "blue", "vm1", "ingress", "tcp", "from", "10.0.0.0/8", "x"}) ==
          "vpc add-rule: unexpected argument 'x'");
    CHECK(usage_err({"vpc", "show", "a", "b"}) == "vpc show: unexpected argument 'b'");
    CHECK(usage_err({"vpc", "sync"}) == "vpc sync: missing FILE");
    CHECK(usage_err({"--generation", "1", "show"}) == "option --generation is only valid with vpc");
    CHECK(usage_err({"--generation", "-1", "vpc", "show"}) == "invalid --generation '-1' (a number, 0 = unconditional)");
}

TEST_CASE("vpc cli: help lists the subcommands", "[ctl][cli][vpc]") {
    std::string help = cli::usage_text();
    for (const auto& s : cli::vpc_subcommands()) CHECK(help.find(std::string("    ") + s.name + " ") != std::string::npos);
    CHECK(help.find("--generation N") != std::string::npos);
    std::istringstream lines(help);
    std::string line;
    while (std::getline(lines, line))
        if (line.rfind("    ", 0) == 0) CHECK(line.size() <= 80);   // the vpc subcommands
}

TEST_CASE("vpc cli: the VPC file", "[ctl][cli][vpc]") {
    api::VpcConfig c;
    std::string err;
    std::vector<std::pair<std::string, unsigned>> lines;
    REQUIRE(cli::parse_vpc_file(kBlueFile, c, err, &lines));
    CHECK(c.name() == "blue");
    CHECK(c.vni() == 5001);
    CHECK(c.encap() == "vxlan");
    REQUIRE(c.subnets_size() == 2);
    CHECK(c.subnets(1).dns_size() == 2);
    CHECK(c.bindings(0).ips_size() == 2);
    CHECK(c.endpoints(0).host() == "192.0.2.2");
    REQUIRE(c.rules_size() == 3);
    CHECK(c.rules(1).cidr() == "10.2.0.0/16");
    CHECK(lines == std::vector<std::pair<std::string, unsigned>>{
        {"vpc", 2}, {"vpc.subnets[0]", 3}, {"vpc.subnets[1]", 4}, {"vpc.bindings[0]", 5}, {"vpc.endpoints[0]", 6},
        {"vpc.rules[0]", 7}, {"vpc.rules[1]", 8}, {"vpc.rules[2]", 9}});
    // Printed back, it parses to the same VPC.
    std::string text = cli::format_vpc_file(c);
    CHECK(text.find("add-rule blue vm1 egress udp 1000-2000 to 10.2.0.0/16\n") != std::string::npos);
    CHECK(text.find("bind blue vm1 mac=52:54:00:00:00:01 ip=10.1.0.11,10.1.0.12\n") != std::string::npos);
    CHECK(text.find("add-subnet blue 10.1.1.0/24 dns=10.1.1.2,8.8.8.8\n") != std::string::npos);
    api::VpcConfig again;
    REQUIRE(cli::parse_vpc_file(text, again, err));
    CHECK(again.SerializeAsString() == c.SerializeAsString());

    auto bad = [&](const std::string& t) {
        api::VpcConfig x;
        std::string e;
        CHECK_FALSE(cli::parse_vpc_file(t, x, e));
        return e;
    };
    CHECK(bad("") == "1: no 'create NAME vni=N' line");
    CHECK(bad("add-subnet blue 10.1.0.0/24\n") == "1: the first line must be 'create NAME vni=N [encap=vxlan|gre]'");
    CHECK(bad("create blue vni=1\ncreate red vni=2\n") == "2: a second 'create' (the file describes one VPC)");
    CHECK(bad("create blue vni=1\nadd-subnet red 10.1.0.0/24\n") == "2: names VPC 'red', the file describes 'blue'");
    CHECK(bad("create blue vni=1\ndel-subnet blue 10.1.0.0/24\n") ==
          "2: 'del-subnet' does not describe a VPC (create, add-subnet, bind, add-endpoint, add-rule)");
    CHECK(bad("create blue vni=1\nbind blue vm1 mac=x\n") == "2: vpc bind: missing ip=IP");

    // From the command line: one VpcSyncRequest.
    Parse p({"--generation=9", "vpc", "sync", "-"}, kBlueFile);
    REQUIRE(p.status == ParseStatus::kOk);
    CHECK(p.req.vpc_sync().generation() == 9);
    CHECK(p.req.vpc_sync().vpc().SerializeAsString() == c.SerializeAsString());
    Parse q({"vpc", "sync", "-"}, "create blue vni=1\nfrob\n");
    CHECK(q.status == ParseStatus::kInputError);
    CHECK(q.err == "<stdin>:2: vpc: unknown subcommand 'frob'");
    Parse m({"vpc", "sync", "/nonexistent/blue.vpc"});
    CHECK(m.status == ParseStatus::kInputError);
    CHECK(m.err == "cannot read /nonexistent/blue.vpc: No such file or directory");
}

TEST_CASE("vpc cli: switchd's errors point at the line of the VPC file", "[ctl][cli][vpc]") {
    Parse p({"vpc", "sync", "-"}, kBlueFile);
    REQUIRE(p.status == ParseStatus::kOk);
    api::Error e;
    e.set_field("vpc.endpoints[0].mac");
    e.set_message("mac: 'x' is not a MAC address");
    CHECK(cli::format_error(e, p.opts, p.req) ==
          "switchctl: <stdin>:6: mac: 'x' is not a MAC address (field: vpc.endpoints[0].mac)");
    e.set_field("vpc.vni");
    CHECK(cli::format_error(e, p.opts, p.req).find("<stdin>:2: ") != std::string::npos);
    e.set_field("vpc.rules[2].port");
    CHECK(cli::format_error(e, p.opts, p.req).find("<stdin>:9: ") != std::string::npos);
    e.set_field("");
    CHECK(cli::format_error(e, p.opts, p.req).find("<stdin>") == std::string::npos);
}

TEST_CASE("vpc cli: output", "[ctl][cli][vpc]") {
    api::Response resp;
    auto* b = resp.mutable_vpc_batch();
    auto* g = b->add_vpcs();
    g->set_vpc("blue");
    g->set_applied(true);
    g->set_generation(7);
    CHECK(cli::format_text(resp).empty());   // changes print nothing
    g->set_applied(false);
    CHECK(cli::format_text(resp) == "vpc blue: already at generation 7, not applied\n");
    api::Request req;
    req.mutable_vpc_batch();
    CHECK(cli::expected_body(req) == api::Response::kVpcBatch);
    req.mutable_vpc_sync();
    CHECK(cli::expected_body(req) == api::Response::kVpcSync);

    api::VpcShowReply show;
    auto* v = show.add_vpcs();
    std::string perr;
    REQUIRE(cli::parse_vpc_file(kBlueFile, *v->mutable_config(), perr));
    v->set_generation(3);
    v->set_index(1);
    v->set_router_mac("0a:56:00:00:13:89");
    v->set_tunnel_port("vxlan0");
    v->set_tunnel_port_present(false);
    v->add_pending_ports("vm1");
    v->set_n_hosts(1);
    v->set_vm_mtu(1450);
    v->set_n_rules(20);
    show.add_tombstones("red@4");
    std::string text = cli::format_vpc_show(show);
    CHECK(text.rfind("vpc blue: vni 5001, vxlan (vxlan0, missing: run set-uplink), generation 3\n"
                     "  router mac 0a:56:00:00:13:89, index 1, 20 pipeline rules, 1 remote hosts, VM MTU 1450\n"
                     "  pending ports (not on the switch, no rules yet): vm1\n"
                     "  create blue vni=5001 encap=vxlan\n"
                     "  add-subnet blue 10.1.0.0/24 gateway=10.1.0.1\n",
                     0) == 0);
    CHECK(text.find("deleted (name@generation): red@4\n") != std::string::npos);

    api::VpcStatsReply st;
    auto* s = st.add_vpcs();
    s->set_name("blue");
    s->set_from_vm(20);
    s->set_from_tunnel(10);
    s->set_arp_answered(3);
    s->set_pings_answered(4);
    s->set_dhcp_answered(2);
    s->set_ttl_expired(1);
    s->set_routed(10);
    s->set_to_remote(5);
    s->set_to_local(14);
    (*s->mutable_drops())["vpc_spoofed"] = 7;
    (*s->mutable_drops())["vpc_no_route"] = 2;
    s->set_n_rules(20);
    (*st.mutable_global_drops())["vpc_unknown_vni"] = 9;
    CHECK(cli::format_vpc_stats(st) ==
          "vpc blue (20 rules):\n"
          "  from VMs: 20, from remote hosts: 10\n"
          "  ARP answered: 3, pings answered: 4, DHCP answered: 2\n"
          "  routed: 10, TTL expired at the router: 1\n"
          "  to remote hosts: 5, to local VMs: 14\n"
          "  drops: vpc_no_route=2, vpc_spoofed=7\n"
          "not in any VPC: vpc_unknown_vni=9\n");
}
