// TableIndex (table_index.h): the compiled lookups — linear and tuple space search over
// subtables — must give exactly what the rule-by-rule walk gives (translate.cc keeps it
// for observers): same actions, same rules, and bit-for-bit the same megaflow mask.
// Checked on hand-made tables, on random multi-table pipelines in every mode, and
// across incremental snapshot updates (flow-mods reuse untouched subtables).
#include <arpa/inet.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>

#include "ofproto/flow_parser.h"
#include "ofproto/flow_table.h"
#include "ofproto/ofproto.h"
#include "ofproto/table_index.h"
#include "ofproto/translate.h"
#include "ofproto_fake_ports.h"
#include "switch/rule_changes.h"
#include "switch/flow_key_format.h"

using namespace vswitch;
using namespace vswitch::ofp;

namespace {

using vswitch::testing::FakePorts;
const FakePorts kPorts;

// Restores the default subtable threshold when a test ends.
struct Threshold {
    explicit Threshold(size_t n) { TableIndex::set_subtable_min_rules(n); }
    ~Threshold() { TableIndex::set_subtable_min_rules(TableIndex::kDefaultSubtableMinRules); }
    void set(size_t n) { TableIndex::set_subtable_min_rules(n); }
};
constexpr size_t kNever = ~size_t{0};

uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return htonl(uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | d);
}

std::string mask_text(const FlowKey& mask) {
    FlowKey ones;
    std::memset(&ones, 0xff, sizeof ones);
    FlowKey v;
    flow_key_apply_mask(v, ones, mask);
    return format_masked_key(v, mask);
}

std::string acts(const Translation& t) {
    return dp_actions_to_string(t.actions, [](uint32_t p) { return kPorts.port_name(p); });
}

struct Quiet : XlateObserver {
    void rule_examined(uint8_t, const Rule&, bool) override {}
    void table_miss(uint8_t) override {}
};

// The reference: with an observer, translation walks the rules one by one.
Translation walk(const FlowTables& t, const FlowKey& k) {
    Quiet q;
    Translation out;
    translate_key(t, k, out, &q);
    return out;
}
Translation fast(const FlowTables& t, const FlowKey& k) {
    Translation out;
    translate_key(t, k, out);
    return out;
}

std::vector<RulePtr> parse_all(const std::vector<std::string>& flows, bool skip_invalid = false) {
    std::vector<RulePtr> rules;
    for (const std::string& f : flows) {
        FlowSpec spec;
        FlowError err = parse_flow(f, kPorts, spec);
        if (err && skip_invalid) continue;
        INFO(f << ": " << err.message);
        REQUIRE_FALSE(err);
        rules.push_back(std::make_shared<Rule>(std::move(spec)));
    }
    return rules;
}

#define CHECK_SAME(a, b)                                    \
    do {                                                    \
        CHECK(acts(a) == acts(b));                          \
        CHECK((a).rules == (b).rules);                      \
        CHECK(mask_text((a).mask) == mask_text((b).mask)); \
        CHECK((a).mask == (b).mask);                        \
    } while (0)

FlowKey tcp_key(uint32_t in_port, uint8_t proto, uint16_t tp_dst, uint16_t dl_type = 0x0800) {
    FlowKey k;
    k.clear();
    k.in_port = in_port;
    k.dl_type = htons(dl_type);
    k.nw_src = ip(10, 0, 0, 1);
    k.nw_dst = ip(10, 0, 0, 2);
    k.nw_proto = proto;
    k.nw_ttl = 64;
    k.tp_src = htons(40000);
    k.tp_dst = htons(tp_dst);
    return k;
}

}  // namespace

TEST_CASE("table index: a subtable table masks exactly like the rule walk", "[ofproto][index]") {
    Threshold th(TableIndex::kDefaultSubtableMinRules);
    std::vector<std::string> flows;
    for (int n = 1; n <= 64; n++) flows.push_back("tcp,tp_dst=" + std::to_string(n) + ",actions=output:2");
    flows.push_back("priority=0,actions=output:3");
    auto tables = FlowTables().with_added(parse_all(flows));
    REQUIRE(tables->index(0));
    CHECK(tables->index(0)->uses_subtables());
    CHECK(tables->index(0)->n_subtables() == 2);

    // Hit: the winner's mask covers every failed rule (they differ on tp_dst).
    Translation t = fast(*tables, tcp_key(1, 6, 33));
    CHECK(acts(t) == "output:vm2");
    // (in_port: output skips the ingress port)
    CHECK(mask_text(t.mask) == "in_port(4294967295),eth_type(0xffff),ipv4(proto=255),l4(dst=65535)");
    CHECK_SAME(t, walk(*tables, tcp_key(1, 6, 33)));
    // TCP miss: the first rule fails on tp_dst (with its prerequisites), the rest are
    // covered by that.
    t = fast(*tables, tcp_key(1, 6, 1000));
    CHECK(acts(t) == "output:up0");
    CHECK(mask_text(t.mask) == "in_port(4294967295),eth_type(0xffff),ipv4(proto=255),l4(dst=65535)");
    CHECK_SAME(t, walk(*tables, tcp_key(1, 6, 1000)));
    // UDP: fails on nw_proto, ARP on dl_type: ports never looked at.
    t = fast(*tables, tcp_key(1, 17, 33));
    CHECK(mask_text(t.mask) == "in_port(4294967295),eth_type(0xffff),ipv4(proto=255)");
    CHECK_SAME(t, walk(*tables, tcp_key(1, 17, 33)));
    t = fast(*tables, tcp_key(2, 6, 33, 0x0806));
    CHECK(mask_text(t.mask) == "in_port(4294967295),eth_type(0xffff)");
    CHECK_SAME(t, walk(*tables, tcp_key(2, 6, 33, 0x0806)));
}

TEST_CASE("table index: the order of failures decides, as in the walk", "[ofproto][index]") {
    // Two masks, interleaved priorities. For a packet from port 1 to an unknown MAC:
    // the walk meets in_port=2,dl_dst=A first (fails on in_port: in_port is added),
    // then in_port=1,dl_dst=B (in_port agrees, dl_dst differs: dl_dst added), then the
    // ip rules (fail on dl_type? no: the key is IP; they fail on nw_dst).
    Threshold th(0);
    std::vector<std::string> flows;
    for (int i = 0; i < 8; i++) {
        flows.push_back("priority=" + std::to_string(100 - 2 * i) + ",in_port=" + std::to_string(2 - i % 2) +
                        ",dl_dst=52:54:00:00:00:0" + std::to_string(i) + ",actions=output:3");
        flows.push_back("priority=" + std::to_string(99 - 2 * i) + ",ip,nw_dst=10.9." + std::to_string(i) +
                        ".0/24,actions=output:4");
    }
    flows.push_back("priority=0,actions=drop");
    auto rules = parse_all(flows);
    auto tss = FlowTables().with_added(rules);
    th.set(kNever);
    auto lin = FlowTables().with_added(rules);
    REQUIRE(tss->index(0)->uses_subtables());
    REQUIRE_FALSE(lin->index(0)->uses_subtables());
    for (uint32_t port : {1u, 2u, 3u}) {
        for (uint8_t last : {0, 3, 9}) {
            for (uint32_t dst : {ip(10, 9, 3, 1), ip(10, 8, 0, 1)}) {
                FlowKey k = tcp_key(port, 6, 80);
                k.dl_dst[0] = 0x52, k.dl_dst[1] = 0x54, k.dl_dst[5] = last;
                k.nw_dst = dst;
                Translation ref = walk(*lin, k);
                INFO("port " << port << " mac " << int(last) << " mask " << mask_text(ref.mask));
                CHECK_SAME(fast(*lin, k), ref);
                CHECK_SAME(fast(*tss, k), ref);
            }
        }
    }
}

TEST_CASE("table index: a rule made moot by an earlier failure adds nothing", "[ofproto][index]") {
    // Subtable T (ip,nw_dst/24) comes first, S (in_port,ip,nw_dst/24) after. A packet
    // from port 1 to 10.8.0.1: T's first rule fails on nw_dst and adds it (with dl_type);
    // S's rules differ on in_port too, but nw_dst is covered by then, so in_port must stay
    // out of the mask (S's candidate was picked before T's failure covered nw_dst).
    Threshold th(0);
    auto rules = parse_all({"priority=100,ip,nw_dst=10.9.0.0/24,actions=output:3",
                            "priority=100,ip,nw_dst=10.9.1.0/24,actions=output:3",
                            "priority=100,ip,nw_dst=10.9.2.0/24,actions=output:3",
                            "priority=90,in_port=2,ip,nw_dst=10.9.0.0/24,actions=output:4",
                            "priority=90,in_port=3,ip,nw_dst=10.9.5.0/24,actions=output:4",
                            "priority=90,in_port=4,ip,nw_dst=10.9.6.0/24,actions=output:4",
                            "priority=0,actions=drop"});
    auto tss = FlowTables().with_added(rules);
    REQUIRE(tss->index(0)->n_subtables() == 3);
    FlowKey k = tcp_key(1, 6, 80);
    k.nw_dst = ip(10, 8, 0, 1);
    Translation t = fast(*tss, k);
    CHECK(mask_text(t.mask) == "eth_type(0xffff),ipv4(dst=255.255.255.0/255.255.255.0)");
    CHECK_SAME(t, walk(*tss, k));
}

namespace {

// Random pipelines: tables 0..2 of rules drawn from a few match shapes (so many rules
// share a mask) with values from small vocabularies (so keys often agree with them),
// actions that rewrite, load registers, resubmit and goto.
struct Gen {
    std::mt19937_64 rng;
    // Wide: a few match shapes with many values each (big subtables), rather than many
    // shapes with few values.
    bool wide = false;
    explicit Gen(uint64_t seed, bool wide_ = false) : rng(seed), wide(wide_) {}
    size_t pick(size_t n) { return rng() % n; }
    template <size_t N>
    const char* of(const char* const (&a)[N]) {
        return a[pick(N)];
    }

    std::string port() { return std::to_string(1 + pick(4)); }
    std::string mac() {
        char b[32];
        std::snprintf(b, sizeof b, "52:54:00:00:00:%02zx", pick(wide ? 64 : 3));
        return b;
    }
    std::string addr() {
        if (wide) return "10.1." + std::to_string(pick(16)) + ".3";
        const char* const a[] = {"10.1.2.3", "10.1.9.3", "10.7.2.3", "11.1.2.3"};
        return of(a);
    }
    std::string tp() {
        if (wide) return std::to_string(1 + pick(64));
        const char* const t[] = {"22", "80", "443"};
        return of(t);
    }

    std::string match() {
        if (wide) {
            const int shapes[] = {2, 4, 5, 8, 15};
            switch (shapes[pick(5)]) {
            case 2: return "in_port=" + port() + ",dl_dst=" + mac() + ",";
            case 4: return "tcp,tp_dst=" + tp() + ",";
            case 5: return "udp,nw_src=" + addr() + ",tp_dst=" + tp() + ",";
            case 8: return "reg0=" + std::to_string(pick(3)) + ",in_port=" + port() + ",";
            default: return "in_port=" + port() + ",tcp,tp_dst=" + tp() + ",";
            }
        }
        switch (pick(16)) {
        case 0: return "";
        case 1: return "in_port=" + port() + ",";
        case 2: return "in_port=" + port() + ",dl_dst=" + mac() + ",";
        case 3: {
            const char* const len[] = {"8", "16", "24", "32"};
            return "ip,nw_dst=" + addr() + "/" + of(len) + ",";
        }
        case 4: return "tcp,tp_dst=" + tp() + ",";
        case 5: return "udp,nw_src=" + addr() + ",tp_dst=" + tp() + ",";
        case 6: return "ip,nw_src=" + addr() + "/24,";
        case 7: return "reg0=" + std::to_string(pick(3)) + ",";
        case 8: return "reg0=" + std::to_string(pick(3)) + ",in_port=" + port() + ",";
        case 9: return "dl_vlan=" + std::to_string(5 + pick(2)) + ",";
        case 10: return "dl_src=" + mac() + ",";
        case 11: return std::string("ip,nw_ttl=") + (pick(2) ? "1" : "64") + ",";
        case 12: return "metadata=" + std::to_string(pick(3)) + "/0x3,";
        case 13: return "arp,nw_dst=" + addr() + ",";
        case 14: return "tcp,nw_dst=" + addr() + "/16,tp_src=" + tp() + ",";
        default: return "in_port=" + port() + ",tcp,tp_dst=" + tp() + ",";
        }
    }

    std::string action(int table) {
        const char* const a[] = {"output:vm1", "output:vm2", "output:up0", "IN_PORT", "mod_dl_dst:52:54:00:00:00:01",
                                 "mod_vlan_vid:5", "strip_vlan", "dec_ttl", "load:0x1->NXM_NX_REG0[]",
                                 "load:0x2->NXM_NX_REG0[]", "move:NXM_OF_IP_DST[0..7]->NXM_NX_REG1[]",
                                 "write_metadata:0x1/0x3", "resubmit(,1)", "resubmit(,2)", "resubmit(vm2,1)",
                                 "resubmit(up0,2)", "mod_nw_dst:10.1.2.3", "mod_tp_dst:22", "set_field:2->vlan_pcp"};
        std::string s = of(a);
        if (table == 2 && s.rfind("resubmit", 0) == 0) return "output:vm3";   // no loops back
        return s;
    }

    std::string flow(int table) {
        std::string f = "table=" + std::to_string(table) + ",priority=" + std::to_string(pick(6)) + "," + match() +
                        "actions=";
        int na = static_cast<int>(pick(4));
        for (int i = 0; i < na; i++) f += (i ? "," : "") + action(table);
        if (table < 2 && pick(5) == 0) f += std::string(na ? "," : "") + "goto_table:" + std::to_string(table + 1);
        return f;
    }

    std::vector<std::string> flows(size_t per_table_max) {
        std::vector<std::string> v;
        for (int t = 0; t < 3; t++) {
            size_t n = 1 + pick(t == 0 ? 12 : per_table_max);
            for (size_t i = 0; i < n; i++) v.push_back(flow(t));
        }
        return v;
    }

    FlowKey key() {
        FlowKey k;
        for (size_t w = 0; w < FlowKey::kWords; w++) k.set_word(w, rng());
        k.reserved0 = 0;
        k.recirc_id = 0;
        k.in_port = 1 + pick(4);
        const uint16_t types[] = {0x0800, 0x0800, 0x0806, 0x86dd};
        k.dl_type = htons(types[pick(4)]);
        k.nw_proto = pick(2) ? 6 : 17;
        k.nw_ttl = pick(2) ? 1 : 64;
        const uint32_t addrs[] = {ip(10, 1, 2, 3), ip(10, 1, 9, 3), ip(10, 7, 2, 3), ip(11, 1, 2, 3), ip(10, 1, 2, 9)};
        k.nw_dst = addrs[pick(5)];
        k.nw_src = wide ? ip(10, 1, static_cast<uint8_t>(pick(17)), 3) : addrs[pick(5)];
        const uint16_t tps[] = {22, 80, 443, 8080};
        k.tp_dst = htons(wide ? static_cast<uint16_t>(1 + pick(70)) : tps[pick(4)]);
        k.tp_src = htons(tps[pick(4)]);
        k.vlan_tci = pick(2) ? htons(kVlanCfi | static_cast<uint16_t>(5 + pick(2))) : 0;
        const uint8_t macs[][6] = {{0x52, 0x54, 0, 0, 0, 0}, {0x52, 0x54, 0, 0, 0, 1}, {0x52, 0x54, 0, 0, 0, 2}};
        if (pick(4)) std::memcpy(k.dl_dst, macs[pick(3)], 6);
        if (pick(4)) std::memcpy(k.dl_src, macs[pick(3)], 6);
        if (wide) k.dl_dst[5] = static_cast<uint8_t>(pick(70));
        return k;
    }
};

size_t subtable_tables(const FlowTables& t) {
    size_t n = 0;
    for (uint8_t i = 0; i < 3; i++)
        if (t.index(i) && t.index(i)->uses_subtables()) n++;
    return n;
}

}  // namespace

TEST_CASE("table index property: linear, subtables and the walk agree exactly",
          "[ofproto][index][property]") {
    Gen g(4242);
    Threshold th(0);
    size_t with_subtables = 0;
    for (int round = 0; round < 120; round++) {
        std::vector<std::string> flows = g.flows(round % 3 == 0 ? 80 : 25);
        auto rules = parse_all(flows, true);
        th.set(0);
        auto tss = FlowTables().with_added(rules);
        th.set(kNever);
        auto lin = FlowTables().with_added(rules);
        th.set(TableIndex::kDefaultSubtableMinRules);
        auto dflt = FlowTables().with_added(rules);
        with_subtables += subtable_tables(*tss);
        std::string table;
        for (auto& f : flows) table += f + "\n";
        INFO("flows:\n" << table);
        for (int p = 0; p < 40; p++) {
            FlowKey k = g.key();
            Translation ref = walk(*lin, k);
            INFO("key mask: " << mask_text(ref.mask) << " actions: " << acts(ref));
            CHECK_SAME(fast(*lin, k), ref);
            CHECK_SAME(fast(*tss, k), ref);
            CHECK_SAME(fast(*dflt, k), ref);
            CHECK_SAME(walk(*tss, k), ref);
        }
    }
    CHECK(with_subtables > 40);   // the subtable path was exercised (62 tables)
}

// Restores the default freeze size when a test ends.
struct Freeze {
    explicit Freeze(size_t n) { TableIndex::set_freeze_rules(n); }
    ~Freeze() { TableIndex::set_freeze_rules(TableIndex::kDefaultFreezeRules); }
};

TEST_CASE("table index property: flow-mods update subtables exactly", "[ofproto][index][property]") {
    // Many shapes and small tables, then few shapes and big tables (flow-mods patch
    // their subtables' hash indexes). With a small freeze size, subtables also change by
    // difference: a delta beside them, dead rules in them, merged again past a threshold.
    bool wide = GENERATE(false, true);
    size_t freeze = GENERATE(TableIndex::kDefaultFreezeRules, size_t{8});
    Gen g(wide ? 7 : 99, wide);
    Threshold th(4);
    Freeze fz(freeze);
    size_t deltas_seen = 0, dead_seen = 0;
    auto tables = FlowTables().with_added(parse_all(g.flows(wide ? 300 : 40), true));
    for (int step = 0; step < 300; step++) {
        switch (g.pick(4)) {
        case 0:
        case 1: {   // add a few (some replace an existing rule)
            std::vector<std::string> f;
            for (size_t i = 0, n = 1 + g.pick(4); i < n; i++) f.push_back(g.flow(static_cast<int>(g.pick(3))));
            tables = tables->with_added(parse_all(f, true));
            break;
        }
        case 2: {   // delete a few at random
            std::set<const Rule*> doomed;
            tables->for_each([&](const RulePtr& r) {
                if (g.pick(8) == 0) doomed.insert(r.get());
            });
            size_t n = 0;
            tables = tables->without([&](const Rule& r) { return doomed.count(&r) > 0; }, &n);
            CHECK(n == doomed.size());
            break;
        }
        default: {   // mod-flows: same matches, new actions
            size_t n = 0;
            OfActionList a;
            a.push_back(OutputAction{static_cast<uint32_t>(1 + g.pick(4))});
            uint16_t prio = static_cast<uint16_t>(g.pick(6));
            tables = tables->with_modified([&](const Rule& r) { return r.priority() == prio; }, a, &n);
            break;
        }
        }
        // The same rules indexed from scratch, and the walk.
        std::vector<RulePtr> all;
        tables->for_each([&](const RulePtr& r) { all.push_back(r); });
        auto fresh = FlowTables().with_added(all);
        for (uint8_t t = 0; t < 3; t++) {
            REQUIRE(tables->table(t).size() == fresh->table(t).size());
            REQUIRE(bool(tables->index(t)) == !tables->table(t).empty());
            if (tables->index(t)) {
                CHECK(tables->index(t)->n_masks() == fresh->index(t)->n_masks());
                CHECK(tables->index(t)->n_rules() == tables->table(t).size());
                deltas_seen += tables->index(t)->n_deltas();
                dead_seen += tables->index(t)->n_dead();
            }
        }
        for (int p = 0; p < 10; p++) {
            FlowKey k = g.key();
            Translation ref = walk(*tables, k);
            INFO("step " << step << " mask: " << mask_text(ref.mask));
            CHECK_SAME(fast(*tables, k), ref);
            CHECK_SAME(fast(*fresh, k), ref);
        }
    }
    // The small freeze size must have made the big tables change by difference.
    if (freeze < TableIndex::kDefaultFreezeRules && wide) {
        CHECK(deltas_seen > 0);
        CHECK(dead_seen > 0);
    }
}

// What scoped revalidation (Datapath::revalidate_tables) relies on: a translation reads
// only the rules of the tables it looked up, and a lookup cannot find a rule its key
// disagrees with. After random flow-mods through the API, every key whose recorded
// tables miss the changed ones (Ofproto::take_changes) and that cannot meet any of the
// changed rules (may_meet: its key, mask and rewritten words) keeps its megaflow's
// contract: packets that agree with it on its mask translate to the same actions and
// rules.
TEST_CASE("revalidation property: a change in tables a key did not look up leaves its translation alone",
          "[ofproto][index][property][revalidate]") {
    Gen g(2718);
    Ofproto ofp(kPorts, [] {});
    size_t installed = 0;
    for (const std::string& f : g.flows(20)) installed += !ofp.add_flows({f});   // some are invalid
    REQUIRE(installed > 10);
    // TCP keys from port 1 go on to table 1, UDP keys from port 2 to table 2 (the
    // generator's priorities are 0-5); the others go where its rules send them.
    REQUIRE_FALSE(ofp.add_flows({"table=0,priority=100,tcp,in_port=1,actions=resubmit(,1)",
                                 "table=0,priority=100,udp,in_port=2,actions=resubmit(,2)"}));
    std::vector<FlowKey> keys;
    for (int i = 0; i < 200; i++) keys.push_back(g.key());
    uint64_t bloom;
    ofp.take_changes(bloom);
    size_t skipped = 0, skipped_by_key = 0, checked_steps = 0, changed = 0, changed_in[3] = {0, 0, 0}, max_changes = 0;
    for (int step = 0; step < 300; step++) {
        std::vector<Translation> before(keys.size());
        for (size_t i = 0; i < keys.size(); i++) REQUIRE(ofp.translate(keys[i], before[i]));
        const std::string table = std::to_string(g.pick(3));
        std::string m = g.match();
        if (!m.empty()) m.pop_back();   // its trailing comma
        const std::string filter = "table=" + table + (m.empty() ? "" : "," + m);
        size_t n = 0;
        switch (g.pick(4)) {
        case 0: (void)ofp.add_flows({g.flow(std::stoi(table))}); break;
        case 3:   // a batch: 20-60 rules (the index's large-set path)
            for (uint32_t i = 0, n_add = 20 + g.pick(41); i < n_add; i++) (void)ofp.add_flows({g.flow(std::stoi(table))});
            break;
        case 1: REQUIRE_FALSE(ofp.del_flows(filter, false, &n)); break;
        default: (void)ofp.mod_flows(filter + ",actions=output:vm" + std::to_string(1 + g.pick(3)), false, &n); break;
        }
        std::vector<RuleChange> rules;
        if (ofp.take_changes(bloom, &rules)) continue;   // everything re-translated: nothing to check
        checked_steps++;
        max_changes = std::max(max_changes, rules.size());
        const RuleChangeSet set(rules);   // what the datapath asks
        for (size_t i = 0; i < keys.size(); i++) {
            const Translation& b = before[i];
            const bool meets = set.may_meet(b.tables, b.written, keys[i], b.mask);
            if (!meets && std::any_of(rules.begin(), rules.end(), [&](const RuleChange& c) { return b.tables & c.table_bit; }))
                skipped_by_key++;   // looked up a changed table, but cannot meet its changed rules
            if ((b.tables & bloom) || meets) {   // re-translated by the revalidation
                Translation after;
                REQUIRE(ofp.translate(keys[i], after));
                const bool ch = acts(after) != acts(before[i]) || after.rules != before[i].rules;
                changed += ch;
                if (ch) changed_in[std::stoi(table)]++;
                continue;
            }
            skipped++;
            // The megaflow's contract, which revalidation keeps by skipping it: every
            // packet that agrees with the key on the megaflow's mask still translates
            // to its actions and rules. (Not its mask: a rule the key cannot meet may,
            // come or gone, change which bits a fresh translation would fix.)
            INFO("step " << step << " change in table " << table << " key " << i);
            for (int v = 0; v < 3; v++) {
                FlowKey q = g.key(), in, out;
                flow_key_apply_mask(in, keys[i], b.mask);
                for (size_t w = 0; w < FlowKey::kWords; w++) out.set_word(w, q.word(w) & ~b.mask.word(w) | in.word(w));
                if (v == 0) out = keys[i];
                Translation after;
                REQUIRE(ofp.translate(out, after));
                CHECK(acts(after) == acts(b));
                CHECK(after.rules == b.rules);
            }
        }
    }
    // The property was exercised: many keys were skipped after real changes.
    CHECK(checked_steps > 100);
    CHECK(skipped > 1000);
    for (size_t n : changed_in) CHECK(n > 10);   // changes in every table did change keys
    CHECK(skipped_by_key > 1000);                // the rule-level check was exercised
    CHECK(max_changes > 16);                     // with batches of changed rules too
    printf("revalidation property: %zu steps checked, %zu keys skipped (%zu by their key), %zu re-translated keys changed (%zu %zu %zu), up to %zu rules per change\n",
           checked_steps, skipped, skipped_by_key, changed, changed_in[0], changed_in[1], changed_in[2], max_changes);
}
