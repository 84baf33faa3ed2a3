// switchctl output: fixed replies in, exact text out.
#include <catch2/catch.hpp>

#include "ctl/api/cli_format.h"

using namespace vswitch;

TEST_CASE("dump-flows: ovs-ofctl layout, priority always printed", "[ctl][format]") {
    api::DumpFlowsReply r;
    auto* f = r.add_flows();
    f->set_cookie(0x1f);
    f->set_table(0);
    f->set_priority(100);
    f->set_duration_s(12.3456);
    f->set_n_packets(10);
    f->set_n_bytes(600);
    f->set_idle_age_s(1.9);
    f->set_match("in_port=vm1");
    f->set_actions("output:vm2");
    auto* g = r.add_flows();
    g->set_priority(0);
    g->set_table(1);
    g->set_idle_age_s(-1);
    CHECK(cli::format_dump_flows(r) ==
          " cookie=0x1f, duration=12.346s, table=0, n_packets=10, n_bytes=600, idle_age=1, "
          "priority=100,in_port=vm1 actions=output:vm2\n"
          " cookie=0x0, duration=0.000s, table=1, n_packets=0, n_bytes=0, idle_age=0, "
          "priority=0 actions=drop\n");
}

TEST_CASE("dump-dpflows: dpctl layout, used never", "[ctl][format]") {
    api::DumpDpflowsReply r;
    auto* f = r.add_flows();
    f->set_pmd(0);
    f->set_id(7);
    f->set_match("in_port(1),eth_type(0x0800),ipv4(dst=10.0.0.5/255.255.255.0)");
    f->set_packets(10);
    f->set_bytes(600);
    f->set_used_s(0.512);
    f->set_actions("2");
    auto* g = r.add_flows();
    g->set_pmd(1);
    g->set_id(8);
    g->set_match("in_port(2)");
    g->set_used_s(-1);
    CHECK(cli::format_dump_dpflows(r) ==
          "pmd=0 id=7 in_port(1),eth_type(0x0800),ipv4(dst=10.0.0.5/255.255.255.0), "
          "packets:10, bytes:600, used:0.512s, actions:2\n"
          "pmd=1 id=8 in_port(2), packets:0, bytes:0, used:never, actions:drop\n");
}

TEST_CASE("show", "[ctl][format]") {
    api::ShowReply r;
    r.set_version("0.1");
    r.set_db("/var/lib/vswitch/conf.db");
    r.set_db_snapshot_bytes(4096);
    r.set_db_journal_records(3);
    r.set_db_journal_bytes(212);
    r.add_pmd_cores(2);
    r.add_pmd_cores(3);
    r.set_n_flows(12);
    r.set_n_megaflows(34);
    r.set_megaflow_capacity(65536);
    auto* up = r.add_ports();   // listed out of order on purpose
    up->set_name("up0");
    up->set_port_no(2);
    up->set_type("dpdk");
    up->set_state("error");
    up->set_error("cannot start device: -5");
    up->mutable_options()->insert({"devargs", "0000:03:00.0"});
    up->set_n_rxq(4);
    up->set_n_txq(4);
    up->set_mac("52:54:00:00:00:02");
    up->set_mtu(1500);
    auto* vm = r.add_ports();
    vm->set_name("vm1");
    vm->set_port_no(1);
    vm->set_type("vhost-user");
    vm->set_state("up");
    vm->mutable_options()->insert({"queues", "2"});
    vm->mutable_options()->insert({"mode", "client"});
    vm->mutable_options()->insert({"path", "/tmp/vm1.sock"});
    vm->set_n_rxq(2);
    vm->set_n_txq(2);
    CHECK(cli::format_show(r) ==
          "switchd 0.1\n"
          "  db: /var/lib/vswitch/conf.db (snapshot 4096 bytes, journal 3 records, 212 bytes)\n"
          "  pmd cores: 2,3\n"
          "  flows: 12\n"
          "  megaflows: 34 (capacity 65536)\n"
          "  port 1: vm1\n"
          "      type: vhost-user\n"
          "      state: up\n"
          "      options: {mode=client, path=/tmp/vm1.sock, queues=2}\n"
          "      queues: rx 2, tx 2\n"
          "  port 2: up0\n"
          "      type: dpdk\n"
          "      state: error\n"
          "      error: cannot start device: -5\n"
          "      options: {devargs=0000:03:00.0}\n"
          "      queues: rx 4, tx 4\n"
          "      mac: 52:54:00:00:00:02\n"
          "      mtu: 1500\n");

    CHECK(cli::format_show(api::ShowReply()) ==
          "switchd\n  pmd cores: none\n  flows: 0\n  megaflows: 0\n");
}

TEST_CASE("port-stats: queues and only non-zero drop reasons", "[ctl][format]") {
    api::PortStatsReply r;
    auto* p = r.add_ports();
    p->set_name("vm1");
    p->set_port_no(1);
    p->set_type("vhost-user");
    p->set_state("up");
    p->set_rx_packets(100);
    p->set_rx_bytes(6000);
    p->set_tx_packets(98);
    p->set_tx_bytes(5880);
    p->set_tx_dropped(2);
    auto* q0 = p->add_rxq();
    q0->set_queue(0);
    q0->set_enabled(true);
    q0->set_packets(60);
    q0->set_bytes(3600);
    q0->set_pmd(0);
    auto* q1 = p->add_rxq();
    q1->set_queue(1);
    q1->set_enabled(false);
    q1->set_pmd(1);
    auto* t0 = p->add_txq();
    t0->set_queue(0);
    t0->set_enabled(true);
    t0->set_packets(98);
    t0->set_bytes(5880);
    t0->set_drops(2);
    t0->set_retries(3);
    (*p->mutable_drops())["tx_full"] = 2;
    (*p->mutable_drops())["rx_runt"] = 0;
    (*p->mutable_drops())["rx_oversize"] = 1;
    auto* q = r.add_ports();
    q->set_name("vm2");
    q->set_port_no(3);
    q->set_type("vhost-user");
    q->set_state("down");
    (*q->mutable_drops())["rx_runt"] = 0;
    CHECK(cli::format_port_stats(r) ==
          "port 1: vm1 (vhost-user, up)\n"
          "    rx pkts=100, bytes=6000, drop=0\n"
          "    tx pkts=98, bytes=5880, drop=2\n"
          "    rxq 0: pkts=60, bytes=3600, pmd=0\n"
          "    rxq 1: pkts=0, bytes=0, pmd=1, disabled\n"
          "    txq 0: pkts=98, bytes=5880, drop=2, retries=3\n"
          "    drops: rx_oversize=1, tx_full=2\n"
          "port 3: vm2 (vhost-user, down)\n"
          "    rx pkts=0, bytes=0, drop=0\n"
          "    tx pkts=0, bytes=0, drop=0\n");
}

TEST_CASE("pmd-stats: EMC bypass shown only when it happened", "[ctl][format]") {
    api::PmdStatsReply r;
    auto* p = r.add_pmds();
    p->set_rx_packets(1000);
    p->set_emc_hits(10);
    p->set_emc_bypassed(930);
    p->set_megaflow_hits(990);
    const std::string out = cli::format_pmd_stats(r);
    CHECK(out.find("  emc hits: 10 (1.0%)\n  emc bypassed: 930 (93.0%) (hit share below 1/10)\n"
                   "  megaflow hits: 990 (99.0%)\n") != std::string::npos);
    p->set_emc_bypassed(0);
    CHECK(cli::format_pmd_stats(r).find("bypassed") == std::string::npos);
}

TEST_CASE("pmd-stats", "[ctl][format]") {
    api::PmdStatsReply r;
    auto* p = r.add_pmds();
    p->set_pmd(0);
    p->set_core(2);
    p->set_rx_packets(1000);
    p->set_tx_packets(990);
    p->set_emc_hits(900);
    p->set_megaflow_hits(95);
    p->set_upcalls(5);
    p->set_megaflows_installed(3);
    p->set_busy_cycles(250000);
    p->set_idle_cycles(750000);
    p->set_iterations(4000);
    p->set_busy_iterations(125);
    p->set_cycles_per_packet(250);
    p->set_tx_shared_locks(12);
    p->set_n_rxq(2);
    (*p->mutable_drops())["tx_full"] = 10;
    (*p->mutable_drops())["no_route"] = 0;
    auto* idle = r.add_pmds();
    idle->set_pmd(1);
    idle->set_core(3);
    CHECK(cli::format_pmd_stats(r) ==
          "pmd 0 (core 2):\n"
          "  packets received: 1000\n"
          "  packets sent: 990\n"
          "  emc hits: 900 (90.0%)\n"
          "  megaflow hits: 95 (9.5%)\n"
          "  upcalls: 5 (0.5%)\n"
          "  megaflows installed: 3\n"
          "  rx queues: 2\n"
          "  avg cycles/pkt: 250.00\n"
          "  busy: 25.0% (250000 of 1000000 cycles)\n"
          "  iterations: 4000\n"
          "  packets per busy iteration: 8.0\n"
          "  shared tx-queue locks: 12\n"
          "  drops: tx_full=10\n"
          "pmd 1 (core 3):\n"
          "  packets received: 0\n"
          "  packets sent: 0\n"
          "  emc hits: 0\n"
          "  megaflow hits: 0\n"
          "  upcalls: 0\n"
          "  megaflows installed: 0\n"
          "  rx queues: 0\n"
          "  avg cycles/pkt: 0.00\n"
          "  busy: 0.0% (0 of 0 cycles)\n"
          "  iterations: 0\n"
          "  shared tx-queue locks: 0\n");
}

TEST_CASE("pmd-rxq-show: grouped by PMD, tx mapping", "[ctl][format]") {
    api::PmdRxqShowReply r;
    auto add = [&](const char* port, unsigned q, unsigned pmd, unsigned core, bool en, double use) {
        auto* x = r.add_rxqs();
        x->set_port(port);
        x->set_queue(q);
        x->set_pmd(pmd);
        x->set_core(core);
        x->set_enabled(en);
        x->set_usage_pct(use);
        return x;
    };
    auto* a = add("vm1", 2, 1, 3, true, 62.5);
    auto* t = a->add_tx();
    t->set_port("up0");
    t->set_txq(5);
    t = a->add_tx();
    t->set_port("vm2");
    t->set_txq(2);
    t->set_shared(true);
    auto* u = add("up0", 0, 0, 2, true, 100);
    t = u->add_tx();
    t->set_port("vm3");
    t->set_txq(UINT32_MAX);
    add("vm2", 1, 1, 3, false, 0);
    CHECK(cli::format_pmd_rxq_show(r) ==
          "pmd 0 (core 2):\n"
          "  port up0  queue 0   enabled   usage 100.0%\n"
          "  tx mapping:\n"
          "    port up0 queue 0 -> vm3:none\n"
          "pmd 1 (core 3):\n"
          "  port vm1  queue 2   enabled   usage  62.5%\n"
          "  port vm2  queue 1   disabled  usage   0.0%\n"
          "  tx mapping:\n"
          "    port vm1 queue 2 -> up0:txq5, vm2:txq2 (shared)\n");
    // With a load window, a first line says what the shares cover.
    r.set_window_s(59.7);
    CHECK(cli::format_pmd_rxq_show(r).rfind("usage: share of each PMD's busy cycles in the last 60 s\npmd 0 (core 2):\n", 0) == 0);
}

TEST_CASE("pmd-rebalance and silent commands", "[ctl][format]") {
    api::PmdRebalanceReply rb;
    rb.set_moved(1);
    rb.set_summary("vm1 q0: pmd 0 -> pmd 1");
    CHECK(cli::format_pmd_rebalance(rb) == "vm1 q0: pmd 0 -> pmd 1\n");
    rb.clear_summary();
    CHECK(cli::format_pmd_rebalance(rb) == "moved 1 rx queue\n");
    CHECK(cli::format_pmd_rebalance(api::PmdRebalanceReply()) == "moved 0 rx queues\n");

    api::Response resp;
    resp.mutable_add_port()->set_port_no(3);
    CHECK(cli::format_text(resp) == "");
    resp.mutable_del_flows()->set_deleted(4);
    CHECK(cli::format_text(resp) == "");
}

TEST_CASE("json prints the reply message with every field", "[ctl][format]") {
    api::Response resp;
    auto* f = resp.mutable_dump_flows()->add_flows();
    f->set_priority(100);
    f->set_n_packets(10);
    f->set_match("in_port=vm1");
    std::string out, err;
    REQUIRE(cli::format_json(resp, out, err));
    CHECK(out ==
          "{\"flows\":[{\"cookie\":\"0\",\"table\":0,\"priority\":100,\"duration_s\":0,"
          "\"n_packets\":\"10\",\"n_bytes\":\"0\",\"idle_age_s\":0,\"match\":\"in_port=vm1\","
          "\"actions\":\"\",\"idle_timeout\":0,\"hard_timeout\":0}]}\n");

    api::Response add;
    add.mutable_add_port()->set_port_no(0);
    REQUIRE(cli::format_json(add, out, err));
    CHECK(out == "{\"port_no\":0}\n");

    api::Response empty;
    empty.mutable_dump_dpflows();
    REQUIRE(cli::format_json(empty, out, err));
    CHECK(out == "{\"flows\":[]}\n");
}

TEST_CASE("expected reply bodies", "[ctl][format]") {
    api::Request req;
    req.mutable_pmd_rxq_show();
    CHECK(cli::expected_body(req) == api::Response::kPmdRxqShow);
    req.mutable_add_flows();
    CHECK(cli::expected_body(req) == api::Response::kAddFlows);
    CHECK(cli::body_name(api::Response::kDumpFlows) == "dump_flows");
    CHECK(cli::body_name(api::Response::BODY_NOT_SET) == "none");
}

TEST_CASE("error lines", "[ctl][format]") {
    cli::Options opts;
    api::Request req;
    req.mutable_add_flows()->add_flows("priority=1,ip actions=drop");
    req.mutable_add_flows()->add_flows("ip,nw_dst=10.0.0.0/33 actions=drop");
    api::Error e;
    e.set_message("invalid prefix length");
    e.set_token("nw_dst=10.0.0.0/33");
    e.set_field("flows[1]");
    // add-flow (no file): no location.
    CHECK(cli::format_error(e, opts, req) ==
          "switchctl: invalid prefix length near 'nw_dst=10.0.0.0/33' (field: flows[1])");

    opts.flows_source = "flows.txt";
    opts.flow_lines = {3, 7};
    CHECK(cli::format_error(e, opts, req) ==
          "switchctl: flows.txt:7: invalid prefix length near 'nw_dst=10.0.0.0/33' "
          "(field: flows[1])");
    // Without an index the token finds the line, if only one flow contains it.
    e.clear_field();
    CHECK(cli::format_error(e, opts, req) ==
          "switchctl: flows.txt:7: invalid prefix length near 'nw_dst=10.0.0.0/33'");
    e.set_token("actions=drop");
    e.set_message("ambiguous");
    CHECK(cli::format_error(e, opts, req) == "switchctl: ambiguous near 'actions=drop'");
    e.set_field("flows[9]");   // out of range: no location rather than a wrong one
    CHECK(cli::format_error(e, opts, req) ==
          "switchctl: ambiguous near 'actions=drop' (field: flows[9])");

    api::Request del;
    del.mutable_del_port()->set_name("vm9");
    api::Error plain;
    plain.set_message("no such port 'vm9'");
    CHECK(cli::format_error(plain, cli::Options(), del) == "switchctl: no such port 'vm9'");
    api::Error field_only;
    field_only.set_message("must be 1..32");
    field_only.set_field("port.options.queues");
    CHECK(cli::format_error(field_only, cli::Options(), del) ==
          "switchctl: must be 1..32 (field: port.options.queues)");
    CHECK(cli::format_error(api::Error(), cli::Options(), del) ==
          "switchctl: switchd rejected the request");
}

TEST_CASE("pipeline replies render", "[ctl][format]") {
    api::Response r;
    auto* t = r.mutable_dump_tables()->add_tables();
    t->set_table(10);
    t->set_active(2);
    t->set_lookups(100);
    t->set_matches(90);
    CHECK(cli::format_text(r) == "  table 10: active=2, lookup=100, matched=90\n");

    api::Response tr;
    tr.mutable_trace()->add_lines("table 0: priority=1 actions=drop");
    tr.mutable_trace()->add_lines("Datapath actions: drop");
    CHECK(cli::format_text(tr) == "table 0: priority=1 actions=drop\nDatapath actions: drop\n");

    api::Response f;
    auto* e = f.mutable_fdb_show()->add_entries();
    e->set_port("vm1");
    e->set_port_no(1);
    e->set_vlan(0);
    e->set_mac("52:54:00:00:00:01");
    e->set_age_s(3.4);
    CHECK(cli::format_text(f) == " port  VLAN  MAC                Age\n  vm1     0  52:54:00:00:00:01    3\n");

    api::Response g;
    auto* ge = g.mutable_dump_groups()->add_groups();
    ge->set_group_id(1);
    ge->set_group("group_id=1,type=all,bucket=actions=output:vm1");
    ge->set_n_flows(2);
    CHECK(cli::format_text(g) == " group_id=1,type=all,bucket=actions=output:vm1 (flows=2)\n");

    api::Response m;
    auto* me = m.mutable_dump_meters()->add_meters();
    me->set_meter("meter=1,kbps,band=type=drop,rate=10");
    me->set_packets_in(5);
    me->set_bytes_in(500);
    me->set_packets_dropped(1);
    me->set_bytes_dropped(100);
    CHECK(cli::format_text(m) == " meter=1,kbps,band=type=drop,rate=10 packets_in=5, bytes_in=500, "
                                 "packets_dropped=1, bytes_dropped=100\n");

    api::Response mf;
    mf.mutable_mod_flows()->set_modified(3);
    CHECK(cli::format_text(mf).empty());
    api::Request req;
    req.mutable_mod_flows();
    CHECK(cli::expected_body(req) == api::Response::kModFlows);

    api::FlowEntry fl;
    fl.set_table(1);
    fl.set_priority(5);
    fl.set_idle_timeout(30);
    fl.set_hard_timeout(60);
    fl.set_actions("drop");
    CHECK(cli::format_flow(fl) == " cookie=0x0, duration=0.000s, table=1, n_packets=0, n_bytes=0, "
                                  "idle_timeout=30, hard_timeout=60, idle_age=0, priority=5 actions=drop\n");
}
