// The copy-on-write pieces of a pipeline snapshot: RuleSeq (a table's rules in shared
// chunks) against a plain ordered map through inserts, deletes, replacements and chunk
// splits, with earlier copies left untouched; and FlowTables' cookie index: deleting by
// cookie removes exactly what asking every rule would, also after a replacement changed
// a rule's cookie, and the count of rules with timeouts follows.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>

#include "ofproto/flow_parser.h"
#include "ofproto/flow_table.h"
#include "ofproto/rule_seq.h"
#include "ofproto_fake_ports.h"

using namespace vswitch;
using namespace vswitch::ofp;

namespace {

const vswitch::testing::FakePorts kPorts;

RulePtr rule(const std::string& text) {
    FlowSpec spec;
    FlowError err = parse_flow(text, kPorts, spec);
    INFO(text << ": " << err.message);
    REQUIRE_FALSE(err);
    return std::make_shared<Rule>(std::move(spec));
}

std::map<uint64_t, const Rule*> contents(const RuleSeq& s) {
    std::map<uint64_t, const Rule*> m;
    uint64_t last = 0;
    bool first = true;
    s.for_each([&](const RulePtr& r, uint64_t ord) {
        CHECK((first || ord > last));   // ascending
        first = false;
        last = ord;
        m[ord] = r.get();
    });
    return m;
}

// A table's worth of rules "in" (set by the caller), in one sequence.
std::multiset<std::string> texts(const FlowTables& t) {
    std::multiset<std::string> out;
    t.for_each([&](const RulePtr& r) {
        out.insert(std::to_string(r->table()) + "/" + std::to_string(r->priority()) + "/" +
                   std::to_string(r->cookie()) + "/" + std::to_string(r->match().value().word(0)));
    });
    return out;
}

}  // namespace

TEST_CASE("rule seq: edits agree with an ordered map, copies keep what they had", "[ofproto][ruleseq]") {
    std::mt19937_64 rng(42);
    RulePtr r1 = rule("priority=1,actions=drop"), r2 = rule("priority=2,actions=drop");
    RuleSeq seq;
    std::map<uint64_t, const Rule*> ref;
    std::vector<std::pair<RuleSeq, std::map<uint64_t, const Rule*>>> copies;
    size_t max_chunks = 0;
    for (int step = 0; step < 400; step++) {
        switch (rng() % 5) {
        case 0:
        case 1: {   // insert a sorted batch of new keys, small or big
            std::vector<std::pair<uint64_t, RulePtr>> add;
            const size_t n = rng() % 4 == 0 ? 1 + rng() % 3000 : 1 + rng() % 20;
            std::set<uint64_t> keys;
            while (keys.size() < n) {
                uint64_t k = (rng() % 100000) * 4 + 3;   // never reused below: odd keys
                if (!ref.count(k)) keys.insert(k);
            }
            for (uint64_t k : keys) add.emplace_back(k, (k & 4) ? r1 : r2), ref[k] = (k & 4) ? r1.get() : r2.get();
            seq.insert(add);
            break;
        }
        case 2: {   // erase some by key
            std::vector<uint64_t> keys;
            for (const auto& [k, r] : ref)
                if (rng() % 10 == 0) keys.push_back(k);
            std::vector<std::pair<uint64_t, RulePtr>> removed;
            seq.erase(keys, removed);
            CHECK(removed.size() == keys.size());
            for (uint64_t k : keys) ref.erase(k);
            break;
        }
        case 3: {   // erase some by predicate
            const Rule* doomed = rng() % 2 ? r1.get() : r2.get();
            std::vector<std::pair<uint64_t, RulePtr>> removed;
            size_t expect = 0;
            for (auto it = ref.begin(); it != ref.end();)
                if (it->second == doomed) it = ref.erase(it), expect++;
                else ++it;
            seq.erase_if([&](const Rule& r) { return &r == doomed; }, removed);
            CHECK(removed.size() == expect);
            break;
        }
        default: {   // replace one; keep a copy from before
            copies.emplace_back(seq, ref);
            if (!ref.empty()) {
                auto it = ref.begin();
                std::advance(it, static_cast<long>(rng() % ref.size()));
                RulePtr with = it->second == r1.get() ? r2 : r1;
                seq.replace(it->first, with);
                it->second = with.get();
                REQUIRE(seq.find(it->first));
                CHECK(seq.find(it->first)->get() == with.get());
            }
            break;
        }
        }
        max_chunks = std::max(max_chunks, seq.n_chunks());
        REQUIRE(seq.size() == ref.size());
        REQUIRE(contents(seq) == ref);
        CHECK_FALSE(seq.find(0));   // even keys are never there
    }
    CHECK(max_chunks > 3);   // inserts split chunks
    for (const auto& [s, m] : copies) CHECK(contents(s) == m);
}

TEST_CASE("rule seq: find answers for every key, present or not", "[ofproto][ruleseq]") {
    RulePtr r = rule("priority=1,actions=drop");
    for (size_t n = 0; n <= 40; n++) {
        RuleSeq seq;
        std::vector<std::pair<uint64_t, RulePtr>> add;
        for (size_t i = 1; i <= n; i++) add.emplace_back(2 * i, r);
        seq.insert(add);
        for (uint64_t k = 0; k <= 2 * n + 2; k++) {
            INFO("n " << n << " key " << k);
            CHECK(bool(seq.find(k)) == (k % 2 == 0 && k >= 2 && k <= 2 * n));
        }
    }
}

TEST_CASE("flow tables: deleting by cookie removes what asking every rule removes", "[ofproto][cookies]") {
    std::vector<RulePtr> rules;
    for (int i = 0; i < 3000; i++) {
        // Cookies 0..99 shared by 30 rules each, over three tables and two priorities.
        rules.push_back(rule("table=" + std::to_string(i % 3) + ",priority=" + std::to_string(10 + i % 2) +
                             ",cookie=" + std::to_string(i % 100) + ",ip,nw_dst=10.0." + std::to_string(i / 250) + "." +
                             std::to_string(i % 250) + ",actions=drop"));
    }
    rules.push_back(rule("cookie=7,priority=5,hard_timeout=30,actions=drop"));
    auto t = FlowTables().with_added(rules);
    CHECK(t->n_timed() == 1);
    // A replacement (same table, priority and match) with another cookie moves the rule
    // from cookie 5 to cookie 1000.
    t = t->with_added({rule("table=2,priority=11,cookie=1000,ip,nw_dst=10.0.0.5,actions=drop")});
    REQUIRE(t->n_rules() == 3001);

    const std::vector<uint64_t> doomed{5, 7, 42, 1000, 12345};
    size_t by_index = 0, by_scan = 0;
    auto a = t->without_cookies(doomed, &by_index);
    auto b = t->without(
        [&](const Rule& r) { return std::find(doomed.begin(), doomed.end(), r.cookie()) != doomed.end(); }, &by_scan);
    CHECK(by_index == by_scan);
    CHECK(by_index == 29 + 31 + 30 + 1);   // 5 lost a rule to 1000; 7 has the timed one too
    CHECK(texts(*a) == texts(*b));
    CHECK(a->n_rules() == 3001 - by_index);
    CHECK(a->n_timed() == 0);
    // Nothing left to find for those cookies; the rest still found.
    size_t again = 0;
    a->without_cookies(doomed, &again);
    CHECK(again == 0);
    size_t other = 0;
    a->without_cookies({6}, &other);
    CHECK(other == 30);
}
