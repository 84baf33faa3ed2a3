// Ofproto: glue between the control API (parse, change, dump), the table snapshots
// and the datapath's upcalls. See ofproto.h for the threading contract.
#include "ofproto/ofproto.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include "ofproto/flow_format.h"
#include "ofproto/flow_parser.h"
#include "ofproto/flow_table.h"
#include "ofproto/translate.h"

namespace vswitch {

using ofp::FlowTables;
using ofp::Rule;
using ofp::RulePtr;

struct Ofproto::Impl {
    const PortDirectory& ports;
    std::function<void()> rcu_synchronize;
    std::atomic<const FlowTables*> tables;
    std::atomic<uint64_t> version{0};

    Impl(const PortDirectory& p, std::function<void()> sync)
        : ports(p), rcu_synchronize(std::move(sync)), tables(new FlowTables) {}
    ~Impl() { delete tables.load(std::memory_order_relaxed); }

    const FlowTables& current() const { return *tables.load(std::memory_order_acquire); }

    // Readers (translate) may hold the old snapshot until their next quiescent state.
    void publish(std::unique_ptr<FlowTables> next) {
        const FlowTables* old = tables.exchange(next.release(), std::memory_order_acq_rel);
        version.fetch_add(1, std::memory_order_release);
        if (rcu_synchronize) rcu_synchronize();
        delete old;
    }

    // Rules selected by a filter, in dump order: table, then lookup order.
    std::vector<RulePtr> select(const ofp::FlowFilter& f, bool strict) const {
        std::vector<RulePtr> out;
        current().for_each([&](const RulePtr& r) {
            if (f.selects(r->table(), r->priority(), r->cookie(), r->match(), strict))
                out.push_back(r);
        });
        return out;
    }
};

Ofproto::Ofproto(const PortDirectory& ports, std::function<void()> rcu_synchronize)
    : impl_(std::make_unique<Impl>(ports, std::move(rcu_synchronize))) {}

Ofproto::~Ofproto() = default;

bool Ofproto::translate(const FlowKey& key, Translation& out) const {
    ofp::translate_key(impl_->current(), key, out);
    return true;
}

FlowError Ofproto::add_flows(const std::vector<std::string>& flows) {
    // Parse everything before touching the tables: all or nothing.
    std::vector<RulePtr> rules;
    rules.reserve(flows.size());
    auto now = Rule::Clock::now();
    for (size_t i = 0; i < flows.size(); i++) {
        ofp::FlowSpec spec;
        if (FlowError err = ofp::parse_flow(flows[i], impl_->ports, spec)) {
            if (flows.size() > 1) err.message = "flow " + std::to_string(i + 1) + ": " + err.message;
            return err;
        }
        rules.push_back(std::make_shared<Rule>(std::move(spec), now));
    }
    if (rules.empty()) return {};
    impl_->publish(impl_->current().with_added(rules));
    return {};
}

FlowError Ofproto::del_flows(std::string_view match, bool strict, size_t* n_deleted) {
    if (n_deleted) *n_deleted = 0;
    ofp::FlowFilter filter;
    if (FlowError err = ofp::parse_filter(match, impl_->ports, filter)) return err;
    size_t n = 0;
    auto next = impl_->current().without(
        [&](const Rule& r) {
            return filter.selects(r.table(), r.priority(), r.cookie(), r.match(), strict);
        },
        &n);
    if (n) impl_->publish(std::move(next));
    if (n_deleted) *n_deleted = n;
    return {};
}

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
        d.idle_age_s = seconds(now - r->last_used().value_or(r->created()));
        d.match = ofp::format_match(r->match(), impl_->ports);
        d.actions = ofp::format_actions(r->actions(), impl_->ports);
        out.push_back(std::move(d));
    }
    return {};
}

uint64_t Ofproto::version() const { return impl_->version.load(std::memory_order_acquire); }

size_t Ofproto::n_rules() const { return impl_->current().n_rules(); }

std::vector<std::string> Ofproto::serialize() const {
    std::vector<std::string> out;
    impl_->current().for_each(
        [&](const RulePtr& r) { out.push_back(ofp::format_flow(r->spec(), impl_->ports)); });
    return out;
}

}  // namespace vswitch
