// The VPC requests of the control API (VpcService, as switchd runs it): replies, bad
// requests rejected naming the field with model, pipeline and saved state unchanged, a
// failing save, replay, and the persistent state surviving a restart (save -> restore).
#include "vpc_fixture.h"
#include "vpc_service.h"

using namespace vswitch;
using namespace vswitch::vpc;
using namespace vswitch::vpctest;

namespace {

// A switch's view of the VPC service: the persist callback saves into `saved` (or fails).
struct Api {
    Env env;
    store::StoredState saved;
    int saves = 0;
    std::string fail_save;   // non-empty: saving fails with this
    std::vector<std::string> logs;
    VpcService svc{env.ofp, [this](std::string_view n) { return env.ports.port_number(n).has_value(); },
                   [this](std::string& err) {
                       if (!fail_save.empty()) {
                           err = fail_save;
                           return false;
                       }
                       saved.Clear();
                       svc.save(saved);
                       saves++;
                       return true;
                   },
                   [this](const std::string& m) { logs.push_back(m); }};

    // Changes go to `journal` (one record each) instead of whole saves.
    std::vector<store::JournalRecord> journal;
    std::string fail_journal;
    void use_journal() {
        svc.set_journal([this](store::JournalRecord& rec, std::string& err) {
            if (!fail_journal.empty()) {
                err = fail_journal;
                return false;
            }
            rec.set_seq(journal.size() + 1);
            journal.push_back(rec);
            return true;
        });
    }

    api::Response call(const api::Request& req, bool* changed = nullptr) {
        api::Response resp;
        bool ch = false;
        REQUIRE(svc.handle(req, resp, &ch));
        if (changed) *changed = ch;
        return resp;
    }
    std::string model() const {
        std::string s;
        for (const auto& [name, v] : svc.manager().model().vpcs) {
            api::VpcConfig c;
            vpc_spec_to_proto(to_spec(*v), c);
            s += c.ShortDebugString() + " gen " + std::to_string(v->generation) + "\n";
        }
        for (auto& [n, g] : svc.manager().model().tombstones) s += "tomb " + n + "@" + std::to_string(g) + "\n";
        return s;
    }
};

api::VpcOp op_create(const std::string& vpc, uint32_t vni, const std::string& encap = "") {
    api::VpcOp o;
    o.mutable_create_vpc()->set_vpc(vpc);
    o.mutable_create_vpc()->set_vni(vni);
    o.mutable_create_vpc()->set_encap(encap);
    return o;
}
api::VpcOp op_subnet(const std::string& vpc, const std::string& cidr, const std::string& gw = "") {
    api::VpcOp o;
    o.mutable_add_subnet()->set_vpc(vpc);
    o.mutable_add_subnet()->mutable_subnet()->set_cidr(cidr);
    o.mutable_add_subnet()->mutable_subnet()->set_gateway(gw);
    return o;
}
api::VpcOp op_bind(const std::string& vpc, const std::string& port, const std::string& mac, const std::string& ip) {
    api::VpcOp o;
    o.mutable_bind()->set_vpc(vpc);
    auto* b = o.mutable_bind()->mutable_binding();
    b->set_port(port);
    b->set_mac(mac);
    b->add_ips(ip);
    return o;
}
api::VpcOp op_endpoint(const std::string& vpc, const std::string& mac, const std::string& ip, const std::string& host) {
    api::VpcOp o;
    o.mutable_add_endpoint()->set_vpc(vpc);
    auto* e = o.mutable_add_endpoint()->mutable_endpoint();
    e->set_mac(mac);
    e->set_ip(ip);
    e->set_host(host);
    return o;
}
api::VpcOp op_rule(const std::string& vpc, const std::string& port, const std::string& dir, const std::string& proto,
                   const std::string& cidr, uint32_t lo) {
    api::VpcOp o;
    o.mutable_add_rule()->set_vpc(vpc);
    auto* r = o.mutable_add_rule()->mutable_rule();
    r->set_port(port);
    r->set_direction(dir);
    r->set_protocol(proto);
    r->set_cidr(cidr);
    r->set_port_min(lo);
    return o;
}

api::Request batch(uint64_t gen, std::vector<api::VpcOp> ops) {
    api::Request r;
    r.mutable_vpc_batch()->set_generation(gen);
    for (auto& o : ops) *r.mutable_vpc_batch()->add_ops() = o;
    return r;
}

api::Request blue_batch(uint64_t gen) {
    return batch(gen, {op_create("blue", 5001), op_subnet("blue", "10.1.0.0/24", "10.1.0.1"),
                       op_bind("blue", "vm1", "52:54:00:00:00:01", "10.1.0.11"),
                       op_endpoint("blue", "52:54:00:00:01:07", "10.1.0.27", "192.0.2.2"),
                       op_rule("blue", "vm1", "ingress", "tcp", "10.1.0.0/16", 22)});
}

}  // namespace

TEST_CASE("vpc api: batch, show, stats replies", "[vpc][api]") {
    Api a;
    bool changed = false;
    api::Response r = a.call(blue_batch(3), &changed);
    REQUIRE_FALSE(r.has_error());
    REQUIRE(r.has_vpc_batch());
    CHECK(changed);
    CHECK(r.vpc_batch().ops_applied() == 5);
    CHECK(r.vpc_batch().rules_added() == a.env.ofp.n_rules());
    REQUIRE(r.vpc_batch().vpcs_size() == 1);
    CHECK(r.vpc_batch().vpcs(0).vpc() == "blue");
    CHECK(r.vpc_batch().vpcs(0).applied());
    CHECK(r.vpc_batch().vpcs(0).generation() == 3);
    CHECK(a.saves == 1);
    CHECK(a.saved.vpcs_size() == 1);
    CHECK(a.saved.vpcs(0).generation() == 3);

    api::Request show;
    show.mutable_vpc_show()->set_name("blue");
    r = a.call(show);
    REQUIRE(r.vpc_show().vpcs_size() == 1);
    const auto& info = r.vpc_show().vpcs(0);
    CHECK(info.config().name() == "blue");
    CHECK(info.config().vni() == 5001);
    CHECK(info.config().encap() == "vxlan");
    CHECK(info.config().bindings(0).ips(0) == "10.1.0.11");
    CHECK(info.config().rules(0).port_min() == 22);
    CHECK(info.config().rules(0).cidr() == "10.1.0.0/16");
    CHECK(info.generation() == 3);
    CHECK(info.index() == 1);
    CHECK(info.router_mac() == "0a:56:00:00:13:89");
    CHECK(info.tunnel_port() == "vxlan0");
    CHECK(info.tunnel_port_present());
    CHECK(info.pending_ports().empty());
    CHECK(info.n_hosts() == 1);
    CHECK(info.n_rules() == a.env.ofp.n_rules() - 2);

    api::Request stats;
    stats.mutable_vpc_stats();
    r = a.call(stats);
    REQUIRE(r.vpc_stats().vpcs_size() == 1);
    CHECK(r.vpc_stats().vpcs(0).drops().at("vpc_spoofed") == 0);
    CHECK(r.vpc_stats().global_drops().at("vpc_unknown_vni") == 0);

    // Not a VPC request: not handled.
    api::Request other;
    other.mutable_show();
    api::Response resp;
    bool ch;
    CHECK_FALSE(a.svc.handle(other, resp, &ch));
}

TEST_CASE("vpc api: bad requests are rejected naming the field, nothing changes", "[vpc][api]") {
    Api a;
    REQUIRE_FALSE(a.call(blue_batch(3)).has_error());
    const std::string model = a.model();
    const auto rules = a.env.rules();
    const std::string saved = a.saved.SerializeAsString();
    const int saves = a.saves;

    struct Bad {
        api::Request req;
        std::string field;
        std::string message;
    };
    api::Request empty_op = batch(4, {op_endpoint("blue", "52:54:00:00:01:08", "10.1.0.28", "192.0.2.2")});
    empty_op.mutable_vpc_batch()->add_ops();
    api::Request sync_no_name;
    sync_no_name.mutable_vpc_sync()->set_generation(4);
    api::Request sync_bad;
    sync_bad.mutable_vpc_sync()->set_generation(4);
    sync_bad.mutable_vpc_sync()->mutable_vpc()->set_name("blue");
    sync_bad.mutable_vpc_sync()->mutable_vpc()->set_vni(5001);
    sync_bad.mutable_vpc_sync()->mutable_vpc()->add_subnets()->set_cidr("10.1.0.0/24");
    sync_bad.mutable_vpc_sync()->mutable_vpc()->add_subnets()->set_cidr("10.1.0.0/16");
    api::Request show_unknown;
    show_unknown.mutable_vpc_show()->set_name("red");
    api::Request stats_unknown;
    stats_unknown.mutable_vpc_stats()->set_name("red");
    std::vector<Bad> bad = {
        {batch(4, {op_subnet("red", "10.2.0.0/24")}), "ops[0].add_subnet.vpc", "vpc: no VPC named 'red'"},
        {batch(4, {op_subnet("blue", "10.1.0.0/16")}), "ops[0].add_subnet.subnet.cidr",
         "cidr: 10.1.0.0/16 overlaps subnet 10.1.0.0/24 of VPC 'blue'"},
        {batch(4, {op_endpoint("blue", "52:54:00:00:01:08", "10.1.0.28", "192.0.2.2"),
                   op_endpoint("blue", "52:54:00:zz:01:09", "10.1.0.29", "192.0.2.2")}),
         "ops[1].add_endpoint.endpoint.mac", "mac: '52:54:00:zz:01:09' is not a MAC address"},
        {batch(4, {op_create("red", 5001)}), "ops[0].create_vpc.vni", "vni: 5001 is already used by VPC 'blue'"},
        {batch(4, {}), "ops", "ops: the batch is empty"},
        {empty_op, "ops[1]", "ops[1]: empty op"},
        {sync_no_name, "vpc.name", "name: missing VPC name"},
        {sync_bad, "vpc.subnets[1].cidr", "overlaps subnet 10.1.0.0/24"},
        {show_unknown, "name", "no VPC named 'red'"},
        {stats_unknown, "name", "no VPC named 'red'"},
    };
    for (const Bad& b : bad) {
        INFO(b.req.ShortDebugString());
        bool changed = true;
        api::Response r = a.call(b.req, &changed);
        REQUIRE(r.has_error());
        CHECK(r.body_case() == api::Response::BODY_NOT_SET);
        CHECK(r.error().field() == b.field);
        INFO(r.error().message());
        CHECK(r.error().message().find(b.message) != std::string::npos);
        CHECK_FALSE(changed);
        CHECK(a.model() == model);
        CHECK(a.env.rules() == rules);
        CHECK(a.saved.SerializeAsString() == saved);
        CHECK(a.saves == saves);
    }
}

TEST_CASE("vpc api: a change that cannot be saved is not made", "[vpc][api]") {
    Api a;
    REQUIRE_FALSE(a.call(blue_batch(3)).has_error());
    const std::string model = a.model();
    const auto rules = a.env.rules();
    a.fail_save = "No space left on device";
    api::Response r = a.call(batch(4, {op_endpoint("blue", "52:54:00:00:01:08", "10.1.0.28", "192.0.2.3")}));
    REQUIRE(r.has_error());
    CHECK(r.error().message() == "not saved, VPC change not applied: No space left on device");
    CHECK(a.model() == model);
    CHECK(a.env.rules() == rules);
    a.fail_save.clear();
    CHECK_FALSE(a.call(batch(4, {op_endpoint("blue", "52:54:00:00:01:08", "10.1.0.28", "192.0.2.3")})).has_error());
}

TEST_CASE("vpc api: replayed requests are acknowledged without changes", "[vpc][api]") {
    Api a;
    REQUIRE_FALSE(a.call(blue_batch(3)).has_error());
    const auto rules = a.env.rules();
    const int saves = a.saves;
    bool changed = true;
    api::Response r = a.call(blue_batch(3), &changed);
    REQUIRE_FALSE(r.has_error());
    CHECK_FALSE(r.vpc_batch().vpcs(0).applied());
    CHECK(r.vpc_batch().vpcs(0).generation() == 3);
    CHECK(r.vpc_batch().ops_applied() == 0);
    CHECK_FALSE(changed);
    CHECK(a.env.rules() == rules);
    CHECK(a.saves == saves);   // nothing to save either
    // A full sync of the same content at a newer generation: only the generation moves.
    api::Request s;
    s.mutable_vpc_sync()->set_generation(5);
    vpc_spec_to_proto(to_spec(*a.svc.manager().model().find("blue")), *s.mutable_vpc_sync()->mutable_vpc());
    r = a.call(s, &changed);
    REQUIRE_FALSE(r.has_error());
    CHECK(r.vpc_sync().vpcs(0).applied());
    CHECK(r.vpc_sync().vpcs(0).generation() == 5);
    CHECK(r.vpc_sync().rules_added() == 0);
    CHECK_FALSE(changed);
    CHECK(a.saved.vpcs(0).generation() == 5);
    r = a.call(s);
    CHECK_FALSE(r.vpc_sync().vpcs(0).applied());
}

TEST_CASE("vpc api: the saved state brings the VPCs back after a restart", "[vpc][api]") {
    Api a;
    REQUIRE_FALSE(a.call(blue_batch(3)).has_error());
    REQUIRE_FALSE(a.call(batch(6, {op_create("red", 7001, "gre"), op_subnet("red", "10.1.0.0/24")})).has_error());
    REQUIRE_FALSE(a.call(batch(7, {op_create("old", 7002)})).has_error());
    api::VpcOp del;
    del.mutable_delete_vpc()->set_vpc("old");
    REQUIRE_FALSE(a.call(batch(8, {del})).has_error());
    CHECK(a.saved.vpc_tombstones().at("old") == 8);

    Api b;   // a new switchd, same ports
    store::StoredState failed;
    b.svc.restore(a.saved, failed);
    CHECK(failed.vpcs_size() == 0);
    CHECK(b.model() == a.model());
    CHECK(b.env.rules() == a.env.rules());
    // The replayed creation of the deleted VPC is still refused.
    api::Response r = b.call(batch(7, {op_create("old", 7002)}));
    CHECK_FALSE(r.vpc_batch().vpcs(0).applied());

    // A stored VPC that no longer validates is kept aside (and logged), the rest restored.
    store::StoredState s = a.saved;
    s.mutable_vpcs(1)->mutable_config()->set_vni(5001);   // red takes blue's VNI
    Api c;
    store::StoredState failed2;
    c.svc.restore(s, failed2);
    REQUIRE(failed2.vpcs_size() == 1);
    CHECK(failed2.vpcs(0).config().name() == "red");
    CHECK(c.svc.manager().model().find("blue"));
    CHECK_FALSE(c.svc.manager().model().find("red"));
    REQUIRE(c.logs.size() == 1);
    CHECK(c.logs[0] == "stored VPC red not restored (kept in the state file): vpc.vni: vni: 5001 is already used by VPC 'blue'");
}

TEST_CASE("vpc api: with a journal a change is one record of its request, and replaying them rebuilds the VPCs",
          "[vpc][api]") {
    Api a;
    a.use_journal();
    REQUIRE_FALSE(a.call(blue_batch(3)).has_error());
    REQUIRE_FALSE(a.call(batch(4, {op_endpoint("blue", "52:54:00:00:01:08", "10.1.0.28", "192.0.2.3")})).has_error());
    api::VpcOp del;
    del.mutable_del_endpoint()->set_vpc("blue");
    del.mutable_del_endpoint()->mutable_endpoint()->set_mac("52:54:00:00:01:07");
    REQUIRE_FALSE(a.call(batch(0, {del})).has_error());
    api::Request s;   // a full sync creating red
    s.mutable_vpc_sync()->set_generation(6);
    s.mutable_vpc_sync()->mutable_vpc()->set_name("red");
    s.mutable_vpc_sync()->mutable_vpc()->set_vni(7001);
    s.mutable_vpc_sync()->mutable_vpc()->add_subnets()->set_cidr("10.1.0.0/24");
    REQUIRE_FALSE(a.call(s).has_error());
    // Neither a replayed batch nor a rejected one is a change: no record.
    REQUIRE_FALSE(a.call(blue_batch(3)).has_error());
    REQUIRE(a.call(batch(9, {op_endpoint("blue", "zz", "10.1.0.29", "192.0.2.3")})).has_error());
    CHECK(a.saves == 0);
    REQUIRE(a.journal.size() == 4);
    CHECK(a.journal[0].vpc_batch().ops_size() == 5);
    CHECK(a.journal[1].vpc_batch().generation() == 4);
    CHECK(a.journal[3].vpc_sync().vpc().name() == "red");

    Api b;   // a new switchd: the snapshot (empty here), then the journal
    store::StoredState failed;
    b.svc.restore(store::StoredState{}, failed);
    CHECK(b.svc.replay(a.journal) == 4);
    CHECK(b.model() == a.model());
    CHECK(b.env.rules() == a.env.rules());
    CHECK(b.logs.empty());

    // A journal that cannot be written: the change is not made.
    const std::string model = a.model();
    const auto rules = a.env.rules();
    a.fail_journal = "No space left on device";
    api::Response r = a.call(batch(10, {op_endpoint("blue", "52:54:00:00:01:09", "10.1.0.29", "192.0.2.3")}));
    CHECK(r.error().message() == "not saved, VPC change not applied: No space left on device");
    CHECK(a.model() == model);
    CHECK(a.env.rules() == rules);

    // A record that no longer applies is logged and skipped; the others still apply.
    Api c;
    std::vector<store::JournalRecord> j(a.journal.begin() + 1, a.journal.end());   // blue never created
    c.svc.restore(store::StoredState{}, failed);
    CHECK(c.svc.replay(j) == 1);   // red's sync
    REQUIRE(c.logs.size() == 2);
    CHECK(c.logs[0] == "journal record 2 not replayed: ops[0].add_endpoint.vpc: vpc: no VPC named 'blue'");
    CHECK(c.svc.manager().model().find("red"));
}

TEST_CASE("vpc api: bound ports that do not exist yet are pending", "[vpc][api]") {
    Api a;
    a.env.ports.by_name.erase("vm1");
    REQUIRE_FALSE(a.call(blue_batch(3)).has_error());
    api::Request show;
    show.mutable_vpc_show();
    api::Response r = a.call(show);
    REQUIRE(r.vpc_show().vpcs(0).pending_ports_size() == 1);
    CHECK(r.vpc_show().vpcs(0).pending_ports(0) == "vm1");
    size_t n = a.env.ofp.n_rules();
    a.env.ports.by_name["vm1"] = 1;
    a.svc.port_changed("vm1");
    CHECK(a.env.ofp.n_rules() > n);
    CHECK(a.call(show).vpc_show().vpcs(0).pending_ports().empty());
}

TEST_CASE("vpc api: VPC rules removed behind the VPCs' back are put back", "[vpc][api]") {
    Api a;
    CHECK(a.svc.pipeline_rules() == 0);
    REQUIRE_FALSE(a.call(blue_batch(3)).has_error());
    REQUIRE(!a.env.ofp.add_flows({"table=0,priority=5,in_port=vm2,actions=drop"}));
    const auto rules = a.env.rules();
    const size_t n = a.svc.pipeline_rules();
    CHECK(n == a.env.ofp.n_rules() - 1);
    REQUIRE(!a.env.ofp.del_flows("table=40", false, nullptr));   // what switchd's del-flows does
    CHECK(a.svc.pipeline_rules() < n);
    a.svc.reinstall();                                           // ... and then this
    CHECK(a.env.rules() == rules);
}

TEST_CASE("vpc api: the state file's VPCs are the model as to_spec gives it, byte for byte", "[vpc][api]") {
    Api a;
    REQUIRE_FALSE(a.call(blue_batch(3)).has_error());
    // Endpoints out of IP order, at the edges of the formats (MAC bytes 00/ff, IP bytes
    // of 1, 2 and 3 digits).
    std::vector<api::VpcOp> ops = {op_subnet("blue", "10.2.0.0/16"),
                                   op_bind("blue", "vm2", "0a:00:00:00:00:ff", "10.2.0.9")};
    ops.push_back(op_endpoint("blue", "fe:ff:ff:ff:ff:ff", "10.2.255.254", "255.255.255.254"));
    ops.push_back(op_endpoint("blue", "00:00:00:00:00:01", "10.2.0.2", "1.0.0.0"));
    ops.push_back(op_endpoint("blue", "52:54:00:ab:cd:ef", "10.1.0.99", "192.0.2.20"));
    ops.push_back(op_rule("blue", "vm2", "egress", "udp", "0.0.0.0/0", 53));
    api::Response r = a.call(batch(4, ops));
    INFO(r.ShortDebugString());
    REQUIRE_FALSE(r.has_error());
    const Vpc& v = *a.svc.manager().model().find("blue");
    api::VpcConfig direct, via_spec;
    vpc_to_proto(v, direct);
    vpc_spec_to_proto(to_spec(v), via_spec);
    CHECK(direct.endpoints_size() == 4);
    CHECK(direct.SerializeAsString() == via_spec.SerializeAsString());
    CHECK(direct.endpoints(0).ip() == "10.1.0.27");   // by IP, as vpc show lists them
    CHECK(direct.endpoints(3).mac() == "fe:ff:ff:ff:ff:ff");
    CHECK(direct.endpoints(3).host() == "255.255.255.254");
    CHECK(direct.endpoints(2).mac() == "00:00:00:00:00:01");
    CHECK(direct.endpoints(2).host() == "1.0.0.0");
}
