// switchctl command line -> Request, without a server.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ctl/api/cli_args.h"

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
};

}  // namespace

TEST_CASE("socket path: env overrides default", "[ctl][cli]") {
    CHECK(cli::default_socket_path(nullptr) == "/run/vswitch/switchd.sock");
    CHECK(cli::default_socket_path("") == "/run/vswitch/switchd.sock");
    CHECK(cli::default_socket_path("/tmp/x.sock") == "/tmp/x.sock");
}

TEST_CASE("global options before or after the command", "[ctl][cli]") {
    Parse a({"--socket", "/tmp/s", "--format=json", "--timeout", "2.5", "show"});
    REQUIRE(a.status == ParseStatus::kOk);
    CHECK(a.req.has_show());
    CHECK(a.opts.socket_path == "/tmp/s");
    CHECK(a.opts.format == cli::Format::kJson);
    CHECK(a.opts.timeout == std::chrono::milliseconds(2500));
    CHECK(a.opts.command == "show");

    Parse b({"dump-flows", "--format", "json", "--socket=/tmp/t"});
    REQUIRE(b.status == ParseStatus::kOk);
    CHECK(b.opts.format == cli::Format::kJson);
    CHECK(b.opts.socket_path == "/tmp/t");
    CHECK(b.req.dump_flows().filter().empty());

    Parse c({"--timeout=0", "show"});
    CHECK(c.opts.timeout == std::chrono::milliseconds(0));
    Parse d({"show"});
    CHECK(d.opts.socket_path == "/default.sock");
    CHECK(d.opts.format == cli::Format::kText);
    CHECK(d.opts.timeout == std::chrono::seconds(30));
}

TEST_CASE("help", "[ctl][cli]") {
    CHECK(Parse({"--help"}).status == ParseStatus::kHelp);
    CHECK(Parse({"-h"}).status == ParseStatus::kHelp);
    CHECK(Parse({"add-port", "--help"}).status == ParseStatus::kHelp);
    std::string help = cli::usage_text();
    for (const auto& c : cli::commands()) CHECK(help.find(std::string("  ") + c.name) != std::string::npos);
    // Fits a terminal.
    std::istringstream lines(help);
    for (std::string line; std::getline(lines, line);) {
        INFO(line);
        CHECK(line.size() <= 80);
    }
    CHECK(cli::command_usage("del-port") == "usage: switchctl [OPTIONS] del-port NAME");
    CHECK(cli::command_usage("show") == "usage: switchctl [OPTIONS] show");
}

TEST_CASE("usage errors", "[ctl][cli]") {
    auto err = [](std::vector<std::string> args) {
        Parse p(std::move(args));
        CHECK(p.status == ParseStatus::kUsageError);
        return p.err;
    };
    CHECK(err({}) == "missing COMMAND");
    CHECK(err({"frobnicate"}) == "unknown command 'frobnicate'");
    CHECK(err({"dump-flow"}) == "unknown command 'dump-flow' (did you mean 'dump-flows'?)");
    CHECK(err({"pmd-stats-show"}) == "unknown command 'pmd-stats-show' (did you mean 'pmd-stats'?)");
    CHECK(err({"--bogus", "show"}) == "unknown option '--bogus'");
    CHECK(err({"--format", "yaml", "show"}) == "unknown format 'yaml' (expected text or json)");
    CHECK(err({"show", "--socket"}) == "option --socket needs a value");
    CHECK(err({"--timeout", "-1", "show"}) == "invalid --timeout '-1' (seconds, >= 0; 0 = wait forever)");
    CHECK(err({"--timeout", "abc", "show"}).rfind("invalid --timeout 'abc'", 0) == 0);
    CHECK(err({"show", "extra"}) == "show: unexpected argument 'extra'");
    CHECK(err({"del-port"}) == "del-port: missing NAME");
    CHECK(err({"add-flow"}) == "add-flow: missing FLOW");
    CHECK(err({"add-flow", "priority=1,in_port=vm1", "actions=output:vm2"}) ==
          "add-flow: unexpected argument 'actions=output:vm2' (quote the flow: it is one argument)");
    CHECK(err({"add-flow", "   "}) == "add-flow: empty flow");
    CHECK(err({"show", "--strict"}) == "option --strict is only valid with del-flows and mod-flows");
    CHECK(err({"show", "--clear"}) == "option --clear is only valid with pmd-stats");
    CHECK(err({"pmd-stats", "--clear=yes"}) == "option --clear takes no value");
}

TEST_CASE("add-port", "[ctl][cli]") {
    Parse p({"add-port", "vm1", "type=vhost-user", "mode=client", "path=/tmp/vm1.sock",
             "queues=2", "port_no=7"});
    REQUIRE(p.status == ParseStatus::kOk);
    REQUIRE(p.req.has_add_port());
    const auto& port = p.req.add_port().port();
    CHECK(port.name() == "vm1");
    CHECK(port.type() == "vhost-user");
    CHECK(port.port_no() == 7);
    CHECK(port.options().size() == 3);
    CHECK(port.options().at("mode") == "client");
    CHECK(port.options().at("path") == "/tmp/vm1.sock");
    CHECK(port.options().at("queues") == "2");

    Parse dpdk({"add-port", "up0", "type=dpdk", "devargs=0000:03:00.0,txq_inline=128"});
    REQUIRE(dpdk.status == ParseStatus::kOk);
    CHECK(dpdk.req.add_port().port().port_no() == 0);
    CHECK(dpdk.req.add_port().port().options().at("devargs") == "0000:03:00.0,txq_inline=128");

    auto err = [](std::vector<std::string> args) {
        Parse q(std::move(args));
        CHECK(q.status == ParseStatus::kUsageError);
        return q.err;
    };
    CHECK(err({"add-port"}) == "add-port: missing NAME type=vhost-user|dpdk|vxlan|gre");
    CHECK(err({"add-port", "vm1"}) == "add-port: missing type=vhost-user|dpdk|vxlan|gre");
    CHECK(err({"add-port", "vm1", "mode=client"}) == "add-port: missing type=vhost-user|dpdk|vxlan|gre");
    CHECK(err({"add-port", "type=dpdk"}) == "add-port: expected a port NAME before 'type=dpdk'");
    CHECK(err({"add-port", "vm1", "type=tap"}) ==
          "add-port: unknown port type 'tap' (expected vhost-user, dpdk, vxlan or gre)");
    CHECK(err({"add-port", "vm1", "type=dpdk", "queues"}) == "add-port: 'queues' is not KEY=VALUE");
    CHECK(err({"add-port", "vm1", "type=dpdk", "=4"}) == "add-port: missing key in '=4'");
    CHECK(err({"add-port", "vm1", "type=dpdk", "mtu="}) == "add-port: option 'mtu' has no value");
    CHECK(err({"add-port", "vm1", "type=dpdk", "mtu=1500", "mtu=9000"}) ==
          "add-port: option 'mtu' given more than once");
    CHECK(err({"add-port", "vm1", "type=dpdk", "port_no=x"}) ==
          "add-port: port_no must be a non-negative integer, not 'x'");
    CHECK(err({"add-port", "vm1", "type=dpdk", "port_no=4294967296"}).find("port_no") !=
          std::string::npos);

    // "--" lets a name start with '-'.
    Parse dash({"add-port", "--", "-odd", "type=dpdk"});
    REQUIRE(dash.status == ParseStatus::kOk);
    CHECK(dash.req.add_port().port().name() == "-odd");
}

TEST_CASE("del-port, flows, stats commands", "[ctl][cli]") {
    Parse del({"del-port", "vm1"});
    REQUIRE(del.status == ParseStatus::kOk);
    CHECK(del.req.del_port().name() == "vm1");

    Parse add({"add-flow", "priority=100,in_port=vm1 actions=output:vm2"});
    REQUIRE(add.status == ParseStatus::kOk);
    REQUIRE(add.req.add_flows().flows_size() == 1);
    CHECK(add.req.add_flows().flows(0) == "priority=100,in_port=vm1 actions=output:vm2");
    CHECK(add.opts.flows_source.empty());

    Parse dall({"del-flows"});
    REQUIRE(dall.status == ParseStatus::kOk);
    CHECK(dall.req.has_del_flows());
    CHECK(dall.req.del_flows().match().empty());
    CHECK_FALSE(dall.req.del_flows().strict());

    Parse ds({"del-flows", "priority=5,in_port=vm1", "--strict"});
    REQUIRE(ds.status == ParseStatus::kOk);
    CHECK(ds.req.del_flows().match() == "priority=5,in_port=vm1");
    CHECK(ds.req.del_flows().strict());

    Parse df({"dump-flows", "in_port=vm1"});
    CHECK(df.req.dump_flows().filter() == "in_port=vm1");

    CHECK(Parse({"dump-dpflows"}).req.has_dump_dpflows());
    CHECK(Parse({"show"}).req.has_show());
    CHECK(Parse({"port-stats"}).req.port_stats().name().empty());
    CHECK(Parse({"port-stats", "vm2"}).req.port_stats().name() == "vm2");
    CHECK_FALSE(Parse({"pmd-stats"}).req.pmd_stats().clear());
    CHECK(Parse({"pmd-stats", "--clear"}).req.pmd_stats().clear());
    CHECK(Parse({"pmd-rxq-show"}).req.has_pmd_rxq_show());
    CHECK(Parse({"pmd-rebalance"}).req.has_pmd_rebalance());
}

TEST_CASE("flow file splitting", "[ctl][cli]") {
    std::vector<std::string> flows;
    std::vector<unsigned> lines;
    cli::split_flow_lines("# header\n\npriority=1 actions=drop\r\n  \t\n  # indented comment\n"
                          "  in_port=vm1 actions=output:vm2  \nlast actions=drop",
                          flows, lines);
    CHECK(flows == std::vector<std::string>{"priority=1 actions=drop",
                                            "in_port=vm1 actions=output:vm2", "last actions=drop"});
    CHECK(lines == std::vector<unsigned>{3, 6, 7});
}

TEST_CASE("add-flows reads a file or stdin into one request", "[ctl][cli]") {
    Parse in({"add-flows", "-"}, "# from stdin\na actions=drop\n\nb actions=drop\n");
    REQUIRE(in.status == ParseStatus::kOk);
    REQUIRE(in.req.add_flows().flows_size() == 2);
    CHECK(in.req.add_flows().flows(1) == "b actions=drop");
    CHECK(in.opts.flows_source == "<stdin>");
    CHECK(in.opts.flow_lines == std::vector<unsigned>{2, 4});

    std::string path = "/tmp/vsw_ctl_flows." + std::to_string(::getpid());
    {
        std::ofstream f(path);
        f << "priority=10,in_port=vm1 actions=output:vm2\n#x\npriority=10,in_port=vm2 actions=output:vm1\n";
    }
    Parse file({"add-flows", path});
    REQUIRE(file.status == ParseStatus::kOk);
    CHECK(file.req.add_flows().flows_size() == 2);
    CHECK(file.opts.flows_source == path);
    CHECK(file.opts.flow_lines == std::vector<unsigned>{1, 3});
    std::remove(path.c_str());

    Parse missing({"add-flows", "/nonexistent/flows.txt"});
    CHECK(missing.status == ParseStatus::kInputError);
    CHECK(missing.err == "cannot read /nonexistent/flows.txt: No such file or directory");
    Parse none({"add-flows", "-"}, "# nothing\n\n");
    CHECK(none.status == ParseStatus::kInputError);
    CHECK(none.err == "<stdin>: no flows (only blank lines and comments)");
    Parse dir({"add-flows", "/tmp"});
    CHECK(dir.status == ParseStatus::kInputError);
    CHECK(dir.err == "cannot read /tmp: Is a directory");
}

TEST_CASE("replace-flows and diff-flows read a file the same way; an empty one is allowed", "[ctl][cli]") {
    Parse r({"replace-flows", "-"}, "a actions=drop\n# c\nb actions=drop\n");
    REQUIRE(r.status == ParseStatus::kOk);
    REQUIRE(r.req.replace_flows().flows_size() == 2);
    CHECK_FALSE(r.req.replace_flows().dry_run());
    CHECK(r.opts.flow_lines == std::vector<unsigned>{1, 3});
    Parse d({"diff-flows", "-"}, "a actions=drop\n");
    REQUIRE(d.status == ParseStatus::kOk);
    CHECK(d.req.replace_flows().dry_run());
    Parse empty({"replace-flows", "-"}, "# deletes every flow\n");
    REQUIRE(empty.status == ParseStatus::kOk);
    CHECK(empty.req.has_replace_flows());
    CHECK(empty.req.replace_flows().flows_size() == 0);
    CHECK(Parse({"diff-flows", "/nonexistent/f"}).status == ParseStatus::kInputError);
    CHECK(Parse({"replace-flows"}).status == ParseStatus::kUsageError);
}

TEST_CASE("pipeline commands build their requests", "[ctl][cli]") {
    Parse m({"mod-flows", "--strict", "priority=5,in_port=vm1,actions=drop"});
    REQUIRE(m.status == ParseStatus::kOk);
    CHECK(m.req.mod_flows().flow() == "priority=5,in_port=vm1,actions=drop");
    CHECK(m.req.mod_flows().strict());
    CHECK(Parse({"dump-tables"}).req.has_dump_tables());
    Parse t({"trace", " in_port=vm1,ip "});
    CHECK(t.req.trace().packet() == "in_port=vm1,ip");
    CHECK(Parse({"trace"}).err == "trace: missing PACKET");
    CHECK(Parse({"fdb-show", "vm2"}).req.fdb_show().port() == "vm2");
    CHECK(Parse({"fdb-show"}).req.fdb_show().port().empty());
    CHECK(Parse({"fdb-flush", "vm2"}).req.fdb_flush().port() == "vm2");
    CHECK(Parse({"fdb-flush"}).req.has_fdb_flush());
    CHECK(Parse({"fdb-flush", "a", "b"}).status == ParseStatus::kUsageError);
    CHECK(Parse({"del-dpflows"}).req.has_del_dpflows());
    CHECK(Parse({"del-dpflows", "x"}).status == ParseStatus::kUsageError);
    Parse g({"add-group", "group_id=1,type=all,bucket=output:vm1"});
    CHECK(g.req.add_group().group() == "group_id=1,type=all,bucket=output:vm1");
    CHECK_FALSE(g.req.add_group().modify());
    CHECK(Parse({"mod-group", "group_id=1,type=all"}).req.add_group().modify());
    CHECK(Parse({"del-groups", "group_id=3"}).req.del_groups().group() == "group_id=3");
    CHECK(Parse({"del-group"}).req.has_del_groups());   // singular accepted
    CHECK(Parse({"dump-groups"}).req.has_dump_groups());
    Parse me({"add-meter", "meter=1,kbps,band=type=drop,rate=10"});
    CHECK(me.req.add_meter().meter() == "meter=1,kbps,band=type=drop,rate=10");
    CHECK(Parse({"mod-meter", "meter=1"}).req.add_meter().modify());
    CHECK(Parse({"del-meters", "meter=1"}).req.del_meters().meter() == "meter=1");
    CHECK(Parse({"dump-meters"}).req.has_dump_meters());
    CHECK(Parse({"trace", "in_port=vm1", "actions=drop"}).err ==
          "trace: unexpected argument 'actions=drop' (quote the flow: it is one argument)");
}
