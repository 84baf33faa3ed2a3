// switchctl's overlay commands: command line -> Request (set-uplink, del-uplink,
// add-neighbor, del-neighbor, show-uplink, add-port of tunnel ports), and the text of
// their replies (show-uplink, pmd-stats' overlay lines). The Controller side needs a
// Datapath (EAL, ports) and is covered by the integration tests.
#include <catch2/catch.hpp>

#include <sstream>

#include "ctl/api/cli_args.h"
#include "ctl/api/cli_format.h"

using namespace vswitch;
using cli::ParseStatus;

namespace {

struct Parse {
    api::Request req;
    cli::Options opts;
    std::string err;
    ParseStatus status;

    explicit Parse(std::vector<std::string> args) {
        opts.socket_path = "/default.sock";
        std::istringstream in;
        status = cli::build_request(args, req, opts, err, in);
    }
};

std::string usage_error(std::vector<std::string> args) {
    Parse p(std::move(args));
    CHECK(p.status == ParseStatus::kUsageError);
    return p.err;
}

}  // namespace

TEST_CASE("set-uplink", "[ctl][cli][overlay]") {
    Parse p({"set-uplink", "up0", "local-ip=192.0.2.1/24", "gateway=192.0.2.254", "mtu=1600"});
    REQUIRE(p.status == ParseStatus::kOk);
    REQUIRE(p.req.has_set_uplink());
    const auto& u = p.req.set_uplink().uplink();
    CHECK(u.port() == "up0");
    CHECK(u.local_ip() == "192.0.2.1/24");
    CHECK(u.gateway() == "192.0.2.254");
    CHECK(u.mtu() == 1600);

    // Optional keys, in any order; mtu 0 (unset) = the port's MTU.
    Parse q({"set-uplink", "up0", "mtu=9000", "local-ip=10.1.0.5"});
    REQUIRE(q.status == ParseStatus::kOk);
    CHECK(q.req.set_uplink().uplink().local_ip() == "10.1.0.5");
    CHECK(q.req.set_uplink().uplink().gateway().empty());
    CHECK(q.req.set_uplink().uplink().mtu() == 9000);
    Parse r({"set-uplink", "up0", "local-ip=10.1.0.5"});
    REQUIRE(r.status == ParseStatus::kOk);
    CHECK(r.req.set_uplink().uplink().mtu() == 0);
    // The address itself is the server's to check (it knows the port too).
    CHECK(Parse({"set-uplink", "up0", "local-ip=banana"}).status == ParseStatus::kOk);

    // Argument counts.
    CHECK(usage_error({"set-uplink"}) == "set-uplink: missing PORT local-ip=IP[/LEN]");
    CHECK(usage_error({"set-uplink", "up0"}) == "set-uplink: missing local-ip=IP[/LEN]");
    CHECK(usage_error({"set-uplink", "up0", "local-ip=1.2.3.4", "gateway=1.2.3.1", "mtu=1500", "x=1"}) ==
          "set-uplink: unexpected argument 'x=1'");
    // KEY=VALUE.
    CHECK(usage_error({"set-uplink", "up0", "gateway=192.0.2.254"}) ==
          "set-uplink: local-ip=A.B.C.D[/LEN] is required");
    CHECK(usage_error({"set-uplink", "up0", "192.0.2.1"}) ==
          "set-uplink: '192.0.2.1' is not KEY=VALUE (local-ip, gateway, mtu)");
    CHECK(usage_error({"set-uplink", "up0", "local-ip="}) ==
          "set-uplink: 'local-ip=' is not KEY=VALUE (local-ip, gateway, mtu)");
    CHECK(usage_error({"set-uplink", "up0", "local_ip=192.0.2.1"}) ==
          "set-uplink: unknown key 'local_ip' (local-ip, gateway, mtu)");
    CHECK(usage_error({"set-uplink", "local-ip=192.0.2.1", "up0"}) ==
          "set-uplink: expected a PORT before 'local-ip=192.0.2.1'");
    CHECK(usage_error({"set-uplink", "up0", "local-ip=192.0.2.1", "local-ip=192.0.2.2"}) ==
          "set-uplink: 'local-ip' given more than once");
    // mtu range 576..9600, a plain number.
    for (const char* bad : {"575", "9601", "0", "-1", "15OO", "1500 ", "99999999999999999999"}) {
        INFO(bad);
        CHECK(usage_error({"set-uplink", "up0", "local-ip=192.0.2.1", std::string("mtu=") + bad}) ==
              std::string("set-uplink: mtu '") + bad + "' is not a number in 576..9600");
    }
    for (const char* good : {"576", "1500", "9600"}) {
        Parse ok({"set-uplink", "up0", "local-ip=192.0.2.1", std::string("mtu=") + good});
        CHECK(ok.status == ParseStatus::kOk);
        CHECK(ok.req.set_uplink().uplink().mtu() == std::stoul(good));
    }
}

TEST_CASE("del-uplink, add-neighbor, del-neighbor, show-uplink", "[ctl][cli][overlay]") {
    Parse del({"del-uplink"});
    REQUIRE(del.status == ParseStatus::kOk);
    CHECK(del.req.has_del_uplink());
    CHECK(usage_error({"del-uplink", "up0"}) == "del-uplink: unexpected argument 'up0'");

    Parse add({"add-neighbor", "up0", "192.0.2.2", "02:00:00:00:00:02"});
    REQUIRE(add.status == ParseStatus::kOk);
    REQUIRE(add.req.has_add_neighbor());
    CHECK(add.req.add_neighbor().port() == "up0");
    CHECK(add.req.add_neighbor().ip() == "192.0.2.2");
    CHECK(add.req.add_neighbor().mac() == "02:00:00:00:00:02");
    CHECK(usage_error({"add-neighbor", "up0", "192.0.2.2"}) == "add-neighbor: missing MAC");
    CHECK(usage_error({"add-neighbor"}) == "add-neighbor: missing PORT IP MAC");
    CHECK(usage_error({"add-neighbor", "up0", "192.0.2.2", "02:00:00:00:00:02", "x"}) ==
          "add-neighbor: unexpected argument 'x'");

    Parse dn({"del-neighbor", "up0", "192.0.2.2"});
    REQUIRE(dn.status == ParseStatus::kOk);
    CHECK(dn.req.del_neighbor().port() == "up0");
    CHECK(dn.req.del_neighbor().ip() == "192.0.2.2");
    CHECK(usage_error({"del-neighbor", "up0"}) == "del-neighbor: missing IP");

    Parse show({"show-uplink"});
    REQUIRE(show.status == ParseStatus::kOk);
    CHECK(show.req.has_show_uplink());
    CHECK(usage_error({"show-uplink", "up0"}) == "show-uplink: unexpected argument 'up0'");

    // Listed under their own help heading.
    for (const char* c : {"set-uplink", "del-uplink", "add-neighbor", "del-neighbor", "show-uplink"}) {
        bool found = false;
        for (const auto& info : cli::commands())
            if (std::string(info.name) == c) {
                found = true;
                CHECK(std::string(info.group) == "Overlay");
            }
        CHECK(found);
    }
    CHECK(cli::command_usage("add-neighbor") == "usage: switchctl [OPTIONS] add-neighbor PORT IP MAC");
}

TEST_CASE("add-port of tunnel ports", "[ctl][cli][overlay]") {
    Parse vx({"add-port", "vxlan1", "type=vxlan", "remote_ip=192.0.2.9", "key=5001", "dst_port=8472"});
    REQUIRE(vx.status == ParseStatus::kOk);
    const auto& port = vx.req.add_port().port();
    CHECK(port.type() == "vxlan");
    CHECK(port.options().at("remote_ip") == "192.0.2.9");
    CHECK(port.options().at("key") == "5001");
    CHECK(port.options().at("dst_port") == "8472");
    Parse gre({"add-port", "gre1", "type=gre", "key=flow", "df=false"});
    REQUIRE(gre.status == ParseStatus::kOk);
    CHECK(gre.req.add_port().port().type() == "gre");
    CHECK(usage_error({"add-port", "t", "type=geneve"}) ==
          "add-port: unknown port type 'geneve' (expected vhost-user, dpdk, vxlan or gre)");
    CHECK(usage_error({"add-port", "t"}) == "add-port: missing type=vhost-user|dpdk|vxlan|gre");
}

TEST_CASE("show-uplink text", "[ctl][format][overlay]") {
    api::ShowUplinkReply r;
    CHECK(cli::format_show_uplink(r) == "no uplink (set-uplink PORT local-ip=IP)\n");
    r.set_configured(true);
    r.mutable_uplink()->set_port("up0");
    r.mutable_uplink()->set_local_ip("192.0.2.1/24");
    r.mutable_uplink()->set_gateway("192.0.2.254");
    r.set_mac("02:00:00:00:00:01");
    r.set_mtu(1600);
    r.add_tunnel_ports("vxlan0 (vxlan, dst_port 4789, remote_ip flow, key flow)");
    r.add_tunnel_ports("gre0 (gre, remote_ip flow, key flow)");
    r.set_arp_requests_sent(3);
    auto* n = r.add_neighbors();
    n->set_ip("192.0.2.2");
    n->set_mac("02:00:00:00:00:02");
    n->set_is_static(true);
    n->set_age_s(12.4);
    n = r.add_neighbors();
    n->set_ip("192.0.2.254");
    n->set_mac("02:00:00:00:00:fe");
    n->set_age_s(3.6);
    CHECK(cli::format_show_uplink(r) ==
          "uplink up0: local-ip 192.0.2.1/24, mac 02:00:00:00:00:01, mtu 1600, gateway 192.0.2.254\n"
          "  tunnel port vxlan0 (vxlan, dst_port 4789, remote_ip flow, key flow)\n"
          "  tunnel port gre0 (gre, remote_ip flow, key flow)\n"
          "neighbors (2, ARP requests sent: 3, no aging):\n"
          "  192.0.2.2        02:00:00:00:00:02  static   12s\n"
          "  192.0.2.254      02:00:00:00:00:fe  learned  4s\n");
    // With aging: the setting, the removals, and an entry being asked for again.
    r.set_neighbor_aging_s(900);
    r.set_neighbors_aged_out(2);
    n->set_age_s(901);
    n->set_probing(true);
    CHECK(cli::format_show_uplink(r).find("neighbors (2, ARP requests sent: 3, aging 900s, aged out: 2):\n"
                                          "  192.0.2.2        02:00:00:00:00:02  static   12s\n"
                                          "  192.0.2.254      02:00:00:00:00:fe  learned  901s  probing\n") !=
          std::string::npos);
    // Through the generic entry point too.
    api::Response resp;
    *resp.mutable_show_uplink() = r;
    CHECK(cli::format_text(resp) == cli::format_show_uplink(r));
    // The changes print nothing.
    for (auto set : {+[](api::Response& x) { x.mutable_set_uplink(); },
                     +[](api::Response& x) { x.mutable_del_uplink(); },
                     +[](api::Response& x) { x.mutable_add_neighbor(); },
                     +[](api::Response& x) { x.mutable_del_neighbor(); }}) {
        api::Response x;
        set(x);
        CHECK(cli::format_text(x).empty());
    }
}

TEST_CASE("pmd-stats: overlay lines only when there was overlay traffic", "[ctl][format][overlay]") {
    api::PmdStatsReply r;
    auto* p = r.add_pmds();
    p->set_pmd(0);
    p->set_core(2);
    const std::string plain = cli::format_pmd_stats(r);
    CHECK(plain.find("decapsulated") == std::string::npos);
    CHECK(plain.find("control packets") == std::string::npos);
    p->set_recirculated(100);
    p->set_affinity_hits(90);
    p->set_affinity_misses(8);
    p->set_injected(4);
    const std::string s = cli::format_pmd_stats(r);
    CHECK(s.find("  decapsulated: 100 (VM queue by flow affinity: 90, by hash: 8)\n") != std::string::npos);
    CHECK(s.find("  control packets sent: 4\n") != std::string::npos);
}
