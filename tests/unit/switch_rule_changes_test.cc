// RuleChangeSet: the indexed answer to "may this megaflow meet one of these changed
// rules?" against the definition, may_meet() over every change.
#include <catch2/catch.hpp>

#include <endian.h>

#include <algorithm>
#include <random>

#include "switch/rule_changes.h"

using namespace vswitch;

namespace {

// The masks of the changes: the shapes of real rules (a VPC endpoint's nw_dst, a prefix
// with its eth_type, an L4 port with its protocol, a port and MAC, nothing at all).
FlowKey shape(unsigned i) {
    FlowKey m;
    m.clear();
    switch (i) {
    case 0: m.nw_dst = ~0u; m.dl_type = 0xffff; break;
    case 1: m.nw_dst = htobe32(0xffffff00); m.dl_type = 0xffff; break;
    case 2: m.tp_dst = 0xffff; m.nw_proto = 0xff; break;
    case 3: m.in_port = ~0u; std::fill(std::begin(m.dl_src), std::end(m.dl_src), 0xff); break;
    default: break;   // fixes no bit of the key
    }
    return m;
}
constexpr unsigned kShapes = 5;

struct Gen {
    std::mt19937_64 rng;
    explicit Gen(uint64_t seed) : rng(seed) {}
    uint32_t pick(uint32_t n) { return static_cast<uint32_t>(rng() % n); }
    // Values from small pools, so that keys and rules often agree.
    FlowKey key() {
        FlowKey k;
        k.clear();
        k.in_port = 1 + pick(3);
        k.dl_type = pick(2) ? htobe16(0x0800) : htobe16(0x0806);
        k.nw_dst = htobe32(0x0a000000 + pick(300));
        k.nw_proto = pick(2) ? 6 : 17;
        k.tp_dst = htobe16(static_cast<uint16_t>(20 + pick(4)));
        k.dl_src[5] = static_cast<uint8_t>(pick(4));
        return k;
    }
    RuleChange change(unsigned shape_i) {
        RuleChange c;
        c.table_bit = uint64_t{1} << pick(3);
        c.mask = shape(shape_i);
        const FlowKey k = key();
        flow_key_apply_mask(c.value, k, c.mask);
        return c;
    }
    // A megaflow: its packet, the shapes its lookups fixed (some of them, or a part of
    // one), the tables it looked up, and sometimes a rewritten word.
    struct Megaflow {
        FlowKey key, mask;
        uint64_t tables;
        uint32_t written;
    };
    Megaflow megaflow() {
        Megaflow f;
        f.key = key();
        megaflow_mask(f.mask, f.tables, f.written);
        return f;
    }
    void megaflow_mask(FlowKey& mask, uint64_t& tables, uint32_t& written) {
        mask.clear();
        for (unsigned s = 0; s < kShapes; s++) {
            if (!pick(3)) continue;
            const FlowKey m = shape(s);
            for (size_t w = 0; w < FlowKey::kWords; w++) mask.set_word(w, mask.word(w) | m.word(w));
        }
        if (!pick(4)) mask.nw_dst = htobe32(0xffff0000);   // a prefix narrower than the rules'
        tables = rng() & 0x7;
        written = pick(3) ? 0 : 1u << pick(FlowKey::kWords);
    }
};

bool linear(const std::vector<RuleChange>& changes, uint64_t tables, uint32_t written, const FlowKey& key,
            const FlowKey& mask) {
    return std::any_of(changes.begin(), changes.end(),
                       [&](const RuleChange& c) { return may_meet(tables, written, key, mask, c); });
}

}  // namespace

TEST_CASE("rule changes: never misses a rule a megaflow may meet; exact while groups are small",
          "[switch][revalidate][property]") {
    Gen g(4242);
    size_t met = 0, not_met = 0;
    for (int round = 0; round < 200; round++) {
        std::vector<RuleChange> changes;
        const uint32_t n = 1 + g.pick(RuleChangeSet::kLinearMax);   // each group at most kLinearMax
        for (uint32_t i = 0; i < n; i++) changes.push_back(g.change(g.pick(kShapes)));
        const RuleChangeSet set(changes);
        REQUIRE(set.size() == n);
        for (int m = 0; m < 200; m++) {
            const Gen::Megaflow f = g.megaflow();
            const bool want = linear(changes, f.tables, f.written, f.key, f.mask);
            INFO("round " << round << " megaflow " << m);
            CHECK(set.may_meet(f.tables, f.written, f.key, f.mask) == want);
            (want ? met : not_met)++;
        }
    }
    CHECK(met > 5000);       // both answers were exercised
    CHECK(not_met > 5000);
}

TEST_CASE("rule changes: large groups, exact where the anchor decides, met where it cannot",
          "[switch][revalidate][property]") {
    Gen g(99);
    std::vector<RuleChange> changes;
    for (int i = 0; i < 3000; i++) changes.push_back(g.change(g.pick(4)));   // shapes with bits
    const RuleChangeSet set(changes);
    CHECK(set.groups() == 4 * 3);   // (table, mask) pairs
    size_t exact = 0, over = 0;
    for (int m = 0; m < 20000; m++) {
        const Gen::Megaflow f = g.megaflow();
        const FlowKey& mask = f.mask;
        const bool want = linear(changes, f.tables, f.written, f.key, mask);
        const bool got = set.may_meet(f.tables, f.written, f.key, mask);
        INFO("megaflow " << m);
        if (want) CHECK(got);   // never a miss: a skipped megaflow must not meet a rule
        // A megaflow that fixes every bit the rules fix, with nothing rewritten: the
        // anchors decide every group, exactly.
        bool covers = f.written == 0;
        for (unsigned s = 0; s < 4; s++)
            for (size_t w = 0; w < FlowKey::kWords; w++)
                covers = covers && (mask.word(w) & shape(s).word(w)) == shape(s).word(w);
        if (covers) {
            CHECK(got == want);
            exact++;
        }
        over += got && !want;
    }
    CHECK(exact > 100);
    // Over-counting happens only where an anchor cannot decide (a narrower prefix, a
    // rewritten anchor word); it is the price of not walking 3000 rules.
    CHECK(over < 20000 / 2);
}

TEST_CASE("rule changes: a large group is ruled out by the bits all its rules fix alike", "[switch][revalidate]") {
    // 200 rules for port 2, one per source MAC (the anchor: the MACs differ), and a
    // megaflow of port 1 that fixed its in_port but not its MAC (a higher-priority rule
    // matched first): the anchor cannot decide, the in_port all the rules share can.
    std::vector<RuleChange> changes;
    RuleChange c;
    c.table_bit = 1;
    c.mask = shape(3);
    for (int i = 0; i < 200; i++) {
        c.value.clear();
        c.value.in_port = 2;
        c.value.dl_src[4] = static_cast<uint8_t>(i >> 8);
        c.value.dl_src[5] = static_cast<uint8_t>(i);
        changes.push_back(c);
    }
    const RuleChangeSet set(changes);
    FlowKey k, m;
    k.clear();
    m.clear();
    k.in_port = 1;
    m.in_port = ~0u;
    CHECK_FALSE(set.may_meet(1, 0, k, m));
    k.in_port = 2;   // the rules' port: it may meet any of them
    CHECK(set.may_meet(1, 0, k, m));
    k.in_port = 1;   // a rewritten in_port tells nothing
    CHECK(set.may_meet(1, 1u << 0, k, m));
}

TEST_CASE("rule changes: past kMaxGroups shapes, the tables alone decide", "[switch][revalidate]") {
    // Destination port ranges as masks: one group per (value, mask) shape.
    std::vector<RuleChange> changes;
    RuleChange c;
    c.table_bit = uint64_t{1} << 44;
    for (unsigned bits = 0; bits <= RuleChangeSet::kMaxGroups; bits++) {
        c.mask.clear();
        c.mask.tp_dst = htobe16(static_cast<uint16_t>(0xffff << (bits % 16)));
        c.mask.nw_proto = static_cast<uint8_t>(0xff >> (bits / 16));   // still distinct shapes
        c.value.clear();
        changes.push_back(c);
    }
    FlowKey k, m;
    k.clear();
    m.clear();
    k.nw_proto = 17;
    m.nw_proto = 0xff;   // disagrees with every rule: only the tables can say it might meet
    const RuleChangeSet many(changes);
    CHECK(many.groups() == RuleChangeSet::kMaxGroups + 1);
    CHECK(many.may_meet(uint64_t{1} << 44, 0, k, m));
    CHECK_FALSE(many.may_meet(uint64_t{1} << 43, 0, k, m));
    changes.pop_back();
    const RuleChangeSet fewer(changes);
    CHECK(fewer.groups() == RuleChangeSet::kMaxGroups);
    CHECK_FALSE(fewer.may_meet(uint64_t{1} << 44, 0, k, m));   // each group ruled out
}

TEST_CASE("rule changes: tables and empty sets", "[switch][revalidate]") {
    const RuleChangeSet none;
    FlowKey k, m;
    k.clear();
    m.clear();
    CHECK_FALSE(none.may_meet(~uint64_t(0), 0, k, m));
    RuleChange c;
    c.table_bit = uint64_t{1} << 7;
    c.mask = shape(4);   // fixes nothing: meets whatever looked its table up
    c.value.clear();
    const RuleChangeSet any({c});
    CHECK(any.tables() == uint64_t{1} << 7);
    CHECK(any.may_meet(uint64_t{1} << 7 | 1, 0, k, m));
    CHECK_FALSE(any.may_meet(uint64_t{1} << 6, 0, k, m));
    // An unmasked value bit does not hide a match: values are masked on entry.
    c.mask = shape(0);
    c.value.clear();
    c.value.dl_type = htobe16(0x0800);
    c.value.nw_dst = htobe32(0x0a000001);
    c.value.vlan_tci = 0x1234;   // outside the mask, in the words the anchor may be
    c.value.nw_src = 0x5678;
    const RuleChangeSet one({c});
    k.dl_type = htobe16(0x0800);
    k.nw_dst = htobe32(0x0a000001);
    m = shape(0);
    CHECK(one.may_meet(uint64_t{1} << 7, 0, k, m));
    k.nw_dst = htobe32(0x0a000002);
    CHECK_FALSE(one.may_meet(uint64_t{1} << 7, 0, k, m));
}
