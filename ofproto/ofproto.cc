// Ofproto: glue between the control API (parse, change, dump), the table snapshots
// and the datapath's upcalls. See ofproto.h for the threading contract.
#include "ofproto/ofproto.h"

#include <arpa/inet.h>
#include <rte_lcore.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "ofproto/field_syntax.h"
#include "ofproto/flow_format.h"
#include "ofproto/flow_parser.h"
#include "ofproto/flow_table.h"
#include "ofproto/group.h"
#include "ofproto/mac_learning.h"
#include "ofproto/neighbors.h"
#include "ofproto/translate.h"
#include "ofproto/value_syntax.h"
#include "switch/flow_key_format.h"

namespace vswitch {

using ofp::FlowTables;
using ofp::Rule;
using ofp::RulePtr;

namespace {

// A PMD thread: an EAL lcore other than the main one. Revalidation runs on the main
// lcore and on TBB workers (not EAL threads).
bool on_pmd_thread() {
    unsigned id = rte_lcore_id();
    return id != LCORE_ID_ANY && id != rte_get_main_lcore();
}

template <class F>
void for_each_action(const ofp::OfActionList& acts, F&& f) {
    for (const ofp::OfAction& a : acts) f(a);
}

bool uses_group(const Rule& r, uint32_t id) {
    for (const ofp::OfAction& a : r.actions())
        if (auto* g = std::get_if<ofp::GroupAction>(&a); g && g->id == id) return true;
    return false;
}

bool uses_meter(const Rule& r, uint32_t id) {
    for (const ofp::OfAction& a : r.actions())
        if (auto* m = std::get_if<ofp::MeterAction>(&a); m && m->id == id) return true;
    return false;
}

}  // namespace

struct Ofproto::Impl {
    const PortDirectory& ports;
    std::function<void()> rcu_synchronize;
    std::atomic<const FlowTables*> tables;
    std::atomic<uint64_t> version{0};
    ofp::TableStats stats;
    ofp::MacLearning ml;
    ofp::Neighbors neighbors;
    std::map<uint32_t, ofp::MeterSpec> meters;
    std::atomic<int> no_learning{0};
    // Since the last take_changes(): the tables whose rules changed (bit id % 64), or
    // everything (groups, ports, overlay, meters: what a translation reads beyond the
    // rules of the tables it looks up).
    uint64_t dirty_tables = 0;
    bool dirty_all = false;
    // The rules that came, went or changed in the other changed tables: revalidation
    // then re-translates only the megaflows that may meet one of them (RuleChangeSet, a
    // binary search per group of rules with one mask) instead of every megaflow that
    // looked the table up. A VPC batch of 1000 endpoints is 2000 rules. Past the cap
    // (a table rewritten wholesale, say) a table's changes go to dirty_tables: listing
    // them would cost more than it saves, and RuleChange is 200 bytes.
    static constexpr size_t kMaxRuleChanges = Ofproto::kMaxRuleChanges;
    std::vector<RuleChange> dirty_rules;

    Impl(const PortDirectory& p, std::function<void()> sync)
        : ports(p), rcu_synchronize(std::move(sync)), tables(new FlowTables) {}
    ~Impl() { delete tables.load(std::memory_order_relaxed); }

    const FlowTables& current() const { return *tables.load(std::memory_order_acquire); }

    // Readers (translate) may hold the old snapshot until their next quiescent state.
    void publish(std::unique_ptr<FlowTables> next) {
        note_changes(current(), *next);
        const FlowTables* old = tables.exchange(next.release(), std::memory_order_acq_rel);
        version.fetch_add(1, std::memory_order_release);
        if (rcu_synchronize) rcu_synchronize();
        delete old;
    }

    // Snapshots share what a change did not touch, so comparing pointers finds what it
    // did: O(tables + chunks), whatever the number of rules.
    void note_changes(const FlowTables& a, const FlowTables& b) {
        if (dirty_all) return;
        if (a.groups() != b.groups() || a.ports() != b.ports() || &a.overlay() != &b.overlay()) {
            dirty_all = true;
            return;
        }
        std::vector<const Rule*> changed;
        for (unsigned i = 0; i < ofp::kNumTables; i++) {
            const auto id = static_cast<uint8_t>(i);
            const bool same_rules = a.table(id).same_as(b.table(id));
            if (same_rules && a.index(id) == b.index(id)) continue;
            const uint64_t bit = uint64_t{1} << (i & 63);
            if (!same_rules && dirty_rules.size() < kMaxRuleChanges &&
                ofp::RuleSeq::diff(a.table(id), b.table(id), changed, kMaxRuleChanges - dirty_rules.size()) &&
                !changed.empty()) {
                for (const Rule* r : changed) dirty_rules.push_back({bit, r->match().value(), r->match().mask()});
            } else {
                dirty_tables |= bit;
            }
        }
    }

    // Rules selected by a filter, in dump order: table, then lookup order.
    std::vector<RulePtr> select(const ofp::FlowFilter& f, bool strict) const {
        std::vector<RulePtr> out;
        auto pick = [&](const RulePtr& r) {
            if (f.selects(r->table(), r->priority(), r->cookie(), r->match(), strict)) out.push_back(r);
        };
        if (f.table)
            current().table(*f.table).for_each([&](const RulePtr& r, uint64_t) { pick(r); });
        else
            current().for_each(pick);
        return out;
    }

    // The tables a filter can select rules from (null: all of them).
    static const ofp::TableSet* tables_of(const ofp::FlowFilter& f, ofp::TableSet& one) {
        if (!f.table) return nullptr;
        one.set(*f.table);
        return &one;
    }

    // Groups and meters named by actions must exist.
    FlowError check_refs(const ofp::OfActionList& acts, const FlowTables& t) const {
        for (const ofp::OfAction& a : acts) {
            if (auto* g = std::get_if<ofp::GroupAction>(&a); g && !t.group(g->id))
                return {"group " + std::to_string(g->id) + " does not exist",
                        "group:" + std::to_string(g->id)};
            if (auto* m = std::get_if<ofp::MeterAction>(&a); m && !meters.count(m->id))
                return {"meter " + std::to_string(m->id) + " does not exist",
                        "meter:" + std::to_string(m->id)};
        }
        return {};
    }
};

Ofproto::NoLearningScope::NoLearningScope(Ofproto& o) : o_(o) {
    o_.impl_->no_learning.fetch_add(1, std::memory_order_acq_rel);
}
Ofproto::NoLearningScope::~NoLearningScope() {
    o_.impl_->no_learning.fetch_sub(1, std::memory_order_acq_rel);
}

Ofproto::Ofproto(const PortDirectory& ports, std::function<void()> rcu_synchronize)
    : impl_(std::make_unique<Impl>(ports, std::move(rcu_synchronize))) {}

Ofproto::~Ofproto() = default;

bool Ofproto::translate(const FlowKey& key, Translation& out) const {
    bool may_learn = impl_->no_learning.load(std::memory_order_acquire) == 0 || on_pmd_thread();
    ofp::XlateEnv env{impl_->current(), &impl_->ml, &impl_->stats, may_learn, nullptr,
                      &impl_->neighbors};
    ofp::translate_key(env, key, out);
    return true;
}

FlowError Ofproto::add_flows(const std::vector<std::string>& flows) {
    // Parse everything before touching the tables: all or nothing.
    std::vector<RulePtr> rules;
    rules.reserve(flows.size());
    auto now = Rule::Clock::now();
    for (size_t i = 0; i < flows.size(); i++) {
        ofp::FlowSpec spec;
        FlowError err = ofp::parse_flow(flows[i], impl_->ports, spec);
        if (!err) err = impl_->check_refs(spec.actions, impl_->current());
        if (err) {
            if (flows.size() > 1) err.message = "flow " + std::to_string(i + 1) + ": " + err.message;
            return err;
        }
        rules.push_back(std::make_shared<Rule>(std::move(spec), now));
    }
    if (rules.empty()) return {};
    impl_->publish(impl_->current().with_added(rules));
    return {};
}

namespace {

// What identifies a rule in its table (add-flow replaces, del-flows --strict deletes by
// it): table, priority and match, as bytes (the match's values are masked).
std::string rule_identity(const ofp::FlowSpec& s) {
    std::string k;
    k.reserve(3 + 2 * sizeof(FlowKey) + 2 * sizeof(ofp::PipelineKey));
    k.push_back(static_cast<char>(s.table));
    k.push_back(static_cast<char>(s.priority >> 8));
    k.push_back(static_cast<char>(s.priority & 0xff));
    auto add = [&k](const auto& v) { k.append(reinterpret_cast<const char*>(&v), sizeof v); };
    add(s.match.value());
    add(s.match.mask());
    add(s.match.pipeline_value());
    add(s.match.pipeline_mask());
    return k;
}

}  // namespace

FlowError Ofproto::replace_flows(const std::vector<std::string>& flows, uint64_t keep_cookie,
                                 uint64_t keep_mask, bool dry_run, ReplaceResult& out,
                                 std::vector<std::string>* rejected) {
    out = {};
    // The file, parsed whole before anything changes; a later line with the identity of
    // an earlier one wins, as it would in add-flows.
    struct Wanted {
        RulePtr rule;
        std::string text;   // canonical
    };
    std::unordered_map<std::string, Wanted> wanted;
    const auto now = Rule::Clock::now();
    for (size_t i = 0; i < flows.size(); i++) {
        ofp::FlowSpec spec;
        FlowError err = ofp::parse_flow(flows[i], impl_->ports, spec);
        if (!err) err = impl_->check_refs(spec.actions, impl_->current());
        if (err && rejected) {
            rejected->push_back(flows[i]);
            continue;
        }
        if (err) {
            err.message = "flow " + std::to_string(i + 1) + ": " + err.message;
            return err;
        }
        if ((spec.cookie & keep_mask) == keep_cookie) {
            out.skipped++;
            continue;
        }
        std::string key = rule_identity(spec);
        std::string text = ofp::format_flow(spec, impl_->ports);
        wanted[std::move(key)] = {std::make_shared<Rule>(std::move(spec), now), std::move(text)};
    }
    // The switch's side: every rule not kept is unchanged, replaced or removed.
    struct Line {
        uint8_t table;
        uint16_t priority;
        std::string text;
        char sign;
    };
    std::vector<Line> diff;
    std::unordered_set<const Rule*> doomed;
    ofp::TableSet doomed_tables;
    std::vector<RulePtr> added;
    impl_->current().for_each([&](const RulePtr& r) {
        if ((r->cookie() & keep_mask) == keep_cookie) return;
        const std::string text = ofp::format_flow(r->spec(), impl_->ports);
        auto it = wanted.find(rule_identity(r->spec()));
        if (it == wanted.end()) {
            doomed.insert(r.get());
            doomed_tables.set(r->table());
            out.deleted++;
        } else if (it->second.text == text) {
            out.unchanged++;
            wanted.erase(it);
            return;
        } else {
            out.modified++;   // with_added replaces it
            diff.push_back({r->table(), r->priority(), it->second.text, '+'});
            added.push_back(std::move(it->second.rule));
            wanted.erase(it);
        }
        diff.push_back({r->table(), r->priority(), text, '-'});
    });
    for (auto& [key, w] : wanted) {
        out.added++;
        diff.push_back({w.rule->table(), w.rule->priority(), w.text, '+'});
        added.push_back(std::move(w.rule));
    }
    std::sort(diff.begin(), diff.end(), [](const Line& a, const Line& b) {
        if (a.table != b.table) return a.table < b.table;
        if (a.priority != b.priority) return a.priority > b.priority;
        if (a.sign != b.sign) return a.sign == '-';   // a replaced rule's old line first
        return a.text < b.text;
    });
    out.diff.reserve(diff.size());
    for (const Line& l : diff) out.diff.push_back(l.sign + l.text);
    if (dry_run || !out.changed()) return {};
    // The identities in `added` are distinct, so the order they go in does not matter.
    std::unique_ptr<ofp::FlowTables> next;
    size_t n = 0;
    if (!doomed.empty())
        next = impl_->current().without([&](const Rule& r) { return doomed.count(&r) > 0; }, &n, &doomed_tables);
    if (!added.empty()) next = (next ? *next : impl_->current()).with_added(added);
    impl_->publish(std::move(next));
    return {};
}

FlowError Ofproto::mod_flows(std::string_view text, bool strict, size_t* n_modified) {
    if (n_modified) *n_modified = 0;
    ofp::FlowFilter filter;
    ofp::OfActionList actions;
    if (FlowError err = ofp::parse_mod_flows(text, impl_->ports, filter, actions)) return err;
    if (FlowError err = impl_->check_refs(actions, impl_->current())) return err;
    // goto_table must go forward from every selected rule's table.
    for (const ofp::OfAction& a : actions)
        if (auto* g = std::get_if<ofp::GotoTableAction>(&a))
            for (const RulePtr& r : impl_->select(filter, strict))
                if (g->table <= r->table())
                    return {"goto_table: table " + std::to_string(g->table) +
                                " is not after the table " + std::to_string(r->table()) +
                                " of a selected flow",
                            "goto_table:" + std::to_string(g->table)};
    size_t n = 0;
    ofp::TableSet one;
    auto next = impl_->current().with_modified(
        [&](const Rule& r) {
            return filter.selects(r.table(), r.priority(), r.cookie(), r.match(), strict);
        },
        actions, &n, Impl::tables_of(filter, one));
    if (n) impl_->publish(std::move(next));
    if (n_modified) *n_modified = n;
    return {};
}

FlowError Ofproto::del_flows(std::string_view match, bool strict, size_t* n_deleted,
                             std::vector<uint64_t>* cookies) {
    if (n_deleted) *n_deleted = 0;
    ofp::FlowFilter filter;
    if (FlowError err = ofp::parse_filter(match, impl_->ports, filter)) return err;
    size_t n = 0;
    ofp::TableSet one;
    auto next = impl_->current().without(
        [&](const Rule& r) {
            if (!filter.selects(r.table(), r.priority(), r.cookie(), r.match(), strict)) return false;
            if (cookies) cookies->push_back(r.cookie());
            return true;
        },
        &n, Impl::tables_of(filter, one));
    if (n) impl_->publish(std::move(next));
    if (n_deleted) *n_deleted = n;
    return {};
}

Ofproto::Checkpoint Ofproto::checkpoint() const { return impl_->current().copy(); }

void Ofproto::rollback(const Checkpoint& cp) { impl_->publish(cp->copy()); }

FlowError Ofproto::dump_flows(std::string_view filter_text, std::vector<FlowDump>& out) const {
    ofp::FlowFilter filter;
    if (FlowError err = ofp::parse_filter(filter_text, impl_->ports, filter)) return err;
    out.clear();
    auto now = Rule::Clock::now();
    auto seconds = [](Rule::Clock::duration d) { return std::chrono::duration<double>(d).count(); };
    for (const RulePtr& r : impl_->select(filter, false)) {
        FlowDump d;
        d.cookie = r->cookie();
        d.table = r->table();
        d.priority = r->priority();
        d.duration_s = seconds(now - r->created());
        d.n_packets = r->n_packets();
        d.n_bytes = r->n_bytes();
        d.idle_age_s = seconds(now - std::max(r->last_used().value_or(r->created()), r->created()));
        d.match = ofp::format_match(r->match(), impl_->ports);
        d.actions = ofp::format_actions(r->actions(), impl_->ports);
        d.idle_timeout = r->spec().idle_timeout;
        d.hard_timeout = r->spec().hard_timeout;
        out.push_back(std::move(d));
    }
    return {};
}

void Ofproto::dump_tables(std::vector<TableDump>& out) const {
    out.clear();
    const FlowTables& t = impl_->current();
    for (unsigned i = 0; i < ofp::kNumTables; i++) {
        TableDump d{i, t.table(static_cast<uint8_t>(i)).size(),
                    impl_->stats.lookups[i]->packets.load(std::memory_order_relaxed),
                    impl_->stats.matches[i]->packets.load(std::memory_order_relaxed)};
        if (i == 0 || d.active || d.lookups) out.push_back(d);
    }
}

// ---------------------------------------------------------------- groups

FlowError Ofproto::add_group(std::string_view text, bool modify) {
    ofp::GroupSpec g;
    if (FlowError err = ofp::parse_group(text, impl_->ports, g)) return err;
    const FlowTables& cur = impl_->current();
    bool exists = cur.group(g.id) != nullptr;
    if (!modify && exists)
        return {"group " + std::to_string(g.id) + " already exists (use mod-group)",
                "group_id=" + std::to_string(g.id)};
    if (modify && !exists)
        return {"group " + std::to_string(g.id) + " does not exist",
                "group_id=" + std::to_string(g.id)};
    auto next = cur.copy();
    next->set_group(std::move(g));
    impl_->publish(std::move(next));
    return {};
}

FlowError Ofproto::del_groups(std::string_view text, size_t* n_deleted, size_t* n_flows) {
    std::optional<uint32_t> id;
    if (FlowError err = ofp::parse_group_id(text, id)) return err;
    const FlowTables& cur = impl_->current();
    std::vector<uint32_t> doomed;
    for (const auto& [gid, g] : cur.groups())
        if (!id || gid == *id) doomed.push_back(gid);
    if (n_deleted) *n_deleted = doomed.size();
    if (n_flows) *n_flows = 0;
    if (doomed.empty()) return {};
    size_t nf = 0;
    auto next = cur.without(
        [&](const Rule& r) {
            for (uint32_t g : doomed)
                if (uses_group(r, g)) return true;
            return false;
        },
        &nf);
    for (uint32_t g : doomed) next->erase_group(g);
    impl_->publish(std::move(next));
    if (n_flows) *n_flows = nf;
    return {};
}

FlowError Ofproto::dump_groups(std::string_view text, std::vector<GroupDump>& out) const {
    std::optional<uint32_t> id;
    if (FlowError err = ofp::parse_group_id(text, id)) return err;
    out.clear();
    const FlowTables& cur = impl_->current();
    for (const auto& [gid, g] : cur.groups()) {
        if (id && gid != *id) continue;
        uint64_t n = 0;
        cur.for_each([&](const RulePtr& r) { n += uses_group(*r, gid); });
        out.push_back({gid, ofp::format_group(*g, impl_->ports), n});
    }
    return {};
}

// ---------------------------------------------------------------- meters

FlowError Ofproto::add_meter(std::string_view text, bool modify, ofp::MeterSpec& out) {
    ofp::MeterSpec m;
    if (FlowError err = ofp::parse_meter(text, m)) return err;
    bool exists = impl_->meters.count(m.id) > 0;
    if (!modify && exists)
        return {"meter " + std::to_string(m.id) + " already exists (use mod-meter)",
                "meter=" + std::to_string(m.id)};
    if (modify && !exists)
        return {"meter " + std::to_string(m.id) + " does not exist", "meter=" + std::to_string(m.id)};
    impl_->meters[m.id] = m;
    impl_->dirty_all = true;
    out = m;
    return {};
}

FlowError Ofproto::del_meters(std::string_view text, std::vector<uint32_t>& deleted,
                              size_t* n_flows) {
    std::optional<uint32_t> id;
    deleted.clear();
    if (n_flows) *n_flows = 0;
    if (FlowError err = ofp::parse_meter_id(text, id)) return err;
    for (const auto& [mid, m] : impl_->meters)
        if (!id || mid == *id) deleted.push_back(mid);
    if (deleted.empty()) return {};
    size_t nf = 0;
    auto next = impl_->current().without(
        [&](const Rule& r) {
            for (uint32_t m : deleted)
                if (uses_meter(r, m)) return true;
            return false;
        },
        &nf);
    for (uint32_t m : deleted) impl_->meters.erase(m);
    impl_->dirty_all = true;
    if (nf) impl_->publish(std::move(next));
    if (n_flows) *n_flows = nf;
    return {};
}

FlowError Ofproto::find_meters(std::string_view text, std::vector<ofp::MeterSpec>& out) const {
    std::optional<uint32_t> id;
    if (FlowError err = ofp::parse_meter_id(text, id)) return err;
    out.clear();
    for (const auto& [mid, m] : impl_->meters)
        if (!id || mid == *id) out.push_back(m);
    return {};
}

std::string Ofproto::format_meter(const ofp::MeterSpec& m) const { return ofp::format_meter(m); }

// ---------------------------------------------------------------- ports, timeouts

void Ofproto::set_ports(std::vector<uint32_t> ports) {
    std::sort(ports.begin(), ports.end());
    ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
    if (ports == impl_->current().ports()) return;
    auto next = impl_->current().copy();
    next->set_ports(std::move(ports));
    impl_->publish(std::move(next));
}

void Ofproto::set_overlay(ofp::OverlayConfig cfg) {
    if (cfg == impl_->current().overlay()) return;
    auto next = impl_->current().copy();
    next->set_overlay(std::move(cfg));
    impl_->publish(std::move(next));
}

const ofp::OverlayConfig& Ofproto::overlay() const { return impl_->current().overlay(); }
ofp::Neighbors& Ofproto::neighbors() { return impl_->neighbors; }
const ofp::Neighbors& Ofproto::neighbors() const { return impl_->neighbors; }

size_t Ofproto::expire(std::chrono::steady_clock::time_point now, std::vector<std::string>* removed) {
    const ofp::FlowTables& cur = impl_->current();
    if (cur.n_timed() == 0) return 0;   // nothing can expire: no scan
    // Only the tables holding timed rules are walked: an operator's few timed flows next
    // to a million VPC rules cost their own table's walk per tick, not the switch's.
    ofp::TableSet timed;
    bool any = false;
    for (uint8_t t = 0; t < ofp::kNumTables; t++) {
        if (!cur.n_timed(t)) continue;
        timed.set(t);
        cur.table(t).for_each([&](const RulePtr& r, uint64_t) { any = any || r->expired(now); });
    }
    if (!any) return 0;
    size_t n = 0;
    auto next = impl_->current().without(
        [&](const Rule& r) {
            if (!r.expired(now)) return false;
            if (removed) {
                std::string m = ofp::format_match(r.match(), impl_->ports);
                removed->push_back("table=" + std::to_string(r.table()) + ",priority=" +
                                   std::to_string(r.priority()) + (m.empty() ? "" : "," + m));
            }
            return true;
        },
        &n, &timed);
    if (n) impl_->publish(std::move(next));
    return n;
}

// ---------------------------------------------------------------- trace

namespace {

class Tracer final : public ofp::XlateObserver {
public:
    Tracer(const PortDirectory& ports, std::vector<std::string>& lines) : ports_(ports), lines_(lines) {}

    void table_lookup(uint8_t, int depth) override { depth_ = depth; }
    void rule_examined(uint8_t table, const Rule& r, bool matched) override {
        if (!matched) return;
        std::string m = ofp::format_match(r.match(), ports_);
        line(depth_, "table " + std::to_string(table) + ": priority=" + std::to_string(r.priority()) +
                         (m.empty() ? "" : "," + m) + ", cookie=" + ofp::format_hex(r.cookie()) +
                         " actions=" + ofp::format_actions(r.actions(), ports_));
    }
    void table_miss(uint8_t table) override {
        line(depth_, "table " + std::to_string(table) + ": no match (table miss: drop)");
    }
    void action(const ofp::OfAction& a, int depth) override {
        line(depth + 1, ofp::format_action(a, ports_));
    }
    void note(const std::string& text, int depth) override { line(depth + 1, "-> " + text); }

private:
    void line(int depth, const std::string& s) {
        lines_.push_back(std::string(4 * static_cast<size_t>(depth), ' ') + s);
    }
    const PortDirectory& ports_;
    std::vector<std::string>& lines_;
    int depth_ = 0;
};

}  // namespace

FlowError Ofproto::trace(std::string_view packet, std::vector<std::string>& lines) const {
    ofp::FlowFilter f;
    if (FlowError err = ofp::parse_filter(packet, impl_->ports, f)) return err;
    if (f.table || f.cookie_mask)
        return {"a packet has no table or cookie", std::string(packet)};
    FlowKey key = f.match.value();
    uint16_t type = ntohs(key.dl_type);
    if ((type == ofp::kEthTypeIp || type == ofp::kEthTypeIpv6) && !f.match.has(ofp::Field::NwTtl))
        key.nw_ttl = 64;
    ofp::PipelineKey initial = f.match.pipeline_value();
    lines.clear();
    auto name = [this](uint32_t no) { return impl_->ports.port_name(no); };
    lines.push_back("Packet: " + ofp::format_match(f.match, impl_->ports));
    lines.push_back("");
    Translation t;
    Tracer tracer(impl_->ports, lines);
    ofp::XlateEnv env{impl_->current(), &impl_->ml, nullptr, false, &initial, &impl_->neighbors,
                      /*may_resolve=*/false};
    ofp::translate_key(env, key, t, &tracer);
    lines.push_back("");
    FlowKey masked;
    flow_key_apply_mask(masked, key, t.mask);
    lines.push_back(t.cache ? "Megaflow: " + format_masked_key(masked, t.mask, name)
                            : std::string("Megaflow: none (not cached: every such packet is translated)"));
    lines.push_back("Datapath actions: " + dp_actions_to_string(t.actions, name));
    return {};
}

ofp::MacLearning& Ofproto::mac_learning() { return impl_->ml; }
const ofp::MacLearning& Ofproto::mac_learning() const { return impl_->ml; }

uint64_t Ofproto::version() const { return impl_->version.load(std::memory_order_acquire); }

bool Ofproto::take_changes(uint64_t& tables, std::vector<RuleChange>* rules) {
    tables = impl_->dirty_tables;
    if (rules) {
        rules->swap(impl_->dirty_rules);
    } else {
        for (const RuleChange& c : impl_->dirty_rules) tables |= c.table_bit;
    }
    const bool all = impl_->dirty_all;
    impl_->dirty_tables = 0;
    impl_->dirty_rules.clear();
    impl_->dirty_all = false;
    return all;
}

size_t Ofproto::n_rules() const { return impl_->current().n_rules(); }

std::vector<std::string> Ofproto::serialize() const { return serialize(1, 0); }   // 0 & 0 != 1: none skipped

std::vector<std::string> Ofproto::serialize(uint64_t skip_cookie, uint64_t skip_mask) const {
    std::vector<std::string> out;
    impl_->current().for_each([&](const RulePtr& r) {
        if ((r->cookie() & skip_mask) != skip_cookie) out.push_back(ofp::format_flow(r->spec(), impl_->ports));
    });
    return out;
}

std::vector<std::string> Ofproto::serialize_groups() const {
    std::vector<std::string> out;
    for (const auto& [id, g] : impl_->current().groups()) out.push_back(ofp::format_group(*g, impl_->ports));
    return out;
}

std::vector<std::string> Ofproto::serialize_meters() const {
    std::vector<std::string> out;
    for (const auto& [id, m] : impl_->meters) out.push_back(ofp::format_meter(m));
    return out;
}

// ---------------------------------------------------------------- VPC overlay support
// apply_batch / cookie_counters (overlay/vpc). Kept apart from the rest of the file.

FlowError Ofproto::apply_batch(const std::vector<std::string>& add,
                               const std::vector<uint64_t>& del_cookies, size_t* n_deleted) {
    if (n_deleted) *n_deleted = 0;
    std::vector<RulePtr> rules;
    rules.reserve(add.size());
    auto now = Rule::Clock::now();
    for (size_t i = 0; i < add.size(); i++) {
        ofp::FlowSpec spec;
        FlowError err = ofp::parse_flow(add[i], impl_->ports, spec);
        if (!err) err = impl_->check_refs(spec.actions, impl_->current());
        if (err) {
            if (add.size() > 1) err.message = "flow " + std::to_string(i + 1) + ": " + err.message;
            return err;
        }
        rules.push_back(std::make_shared<Rule>(std::move(spec), now));
    }
    std::unique_ptr<FlowTables> next;
    size_t n = 0;
    if (!del_cookies.empty()) {
        next = impl_->current().without_cookies(del_cookies, &n);
        if (n == 0) next.reset();
    }
    if (!rules.empty()) next = (next ? *next : impl_->current()).with_added(rules);
    if (next) impl_->publish(std::move(next));
    if (n_deleted) *n_deleted = n;
    return {};
}

void Ofproto::cookie_counters(uint64_t value, uint64_t mask, std::vector<CookieCounters>& out) const {
    out.clear();
    impl_->current().for_each([&](const RulePtr& r) {
        if ((r->cookie() ^ value) & mask) return;
        out.push_back({r->cookie(), r->table(), r->priority(), r->n_packets(), r->n_bytes()});
    });
}

}  // namespace vswitch
