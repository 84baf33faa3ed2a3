#include "controller.h"

#include <cstdio>

#include "switch/flow_key_format.h"

namespace vswitch {

void set_error(api::Response& resp, const std::string& prefix, const std::string& err) {
    auto* e = resp.mutable_error();
    size_t colon = err.find(": ");
    if (colon != std::string::npos && err.find(' ') > colon) {
        e->set_field(prefix + err.substr(0, colon));
    }
    e->set_message(err);
}

Controller::Controller(Datapath& dp, Ofproto& ofp, StateStore& store, std::string db_desc)
    : dp_(dp), ofp_(ofp), store_(store), db_desc_(std::move(db_desc)) {}

std::string Controller::port_name(uint32_t no) const {
    Port* p = dp_.port(no);
    return p ? p->name() : "";
}

bool Controller::persist(std::string& err) {
    store::StoredState s;
    for (const auto& p : port_cfgs_) *s.add_ports() = p;
    for (auto& f : ofp_.serialize()) s.add_flows(f);
    return store_.save(s, err);
}

void Controller::restore() {
    store::StoredState s;
    std::string err;
    if (!store_.load(s, err)) {
        fprintf(stderr, "switchd: %s\n", err.c_str());
        return;
    }
    for (const auto& pc : s.ports()) {
        PortOptions opts(pc.options().begin(), pc.options().end());
        uint32_t no = dp_.add_port(pc.name(), pc.type(), opts, pc.port_no(), err);
        if (!no) {
            fprintf(stderr, "switchd: stored port %s not restored: %s\n", pc.name().c_str(), err.c_str());
            continue;
        }
        api::PortConfig c = pc;
        c.set_port_no(no);
        port_cfgs_.push_back(c);
    }
    std::vector<std::string> flows(s.flows().begin(), s.flows().end());
    if (FlowError fe = ofp_.add_flows(flows)) {
        // All or nothing failed (a port is missing?): try one by one so the rest works.
        for (const auto& f : flows)
            if (FlowError e = ofp_.add_flows({f}))
                fprintf(stderr, "switchd: stored flow not restored: %s: %s\n", f.c_str(), e.message.c_str());
    }
    seen_version_ = ofp_.version();
    fprintf(stderr, "switchd: restored %zu ports and %zu flows from %s\n", port_cfgs_.size(),
            ofp_.n_rules(), store_.path().c_str());
}

void Controller::handle(const api::Request& req, api::Response& resp) {
    switch (req.body_case()) {
    case api::Request::kAddPort: return add_port(req.add_port(), resp);
    case api::Request::kDelPort: return del_port(req.del_port(), resp);
    case api::Request::kAddFlows: return add_flows(req.add_flows(), resp);
    case api::Request::kDelFlows: return del_flows(req.del_flows(), resp);
    case api::Request::kDumpFlows: return dump_flows(req.dump_flows(), resp);
    case api::Request::kDumpDpflows: return dump_dpflows(resp);
    case api::Request::kShow: return show(resp);
    case api::Request::kPortStats: return port_stats(req.port_stats(), resp);
    case api::Request::kPmdStats: return pmd_stats(req.pmd_stats(), resp);
    case api::Request::kPmdRxqShow: return pmd_rxq_show(resp);
    case api::Request::kPmdRebalance: return pmd_rebalance(resp);
    case api::Request::BODY_NOT_SET: break;
    }
    resp.mutable_error()->set_message("empty or unknown request (is switchctl newer than switchd?)");
    resp.mutable_error()->set_field("body");
}

void Controller::add_port(const api::AddPortRequest& r, api::Response& resp) {
    const api::PortConfig& pc = r.port();
    std::string err;
    PortOptions opts(pc.options().begin(), pc.options().end());
    uint32_t no = dp_.add_port(pc.name(), pc.type(), opts, pc.port_no(), err);
    if (!no) return set_error(resp, "port.", err);
    api::PortConfig c = pc;
    c.set_port_no(no);
    port_cfgs_.push_back(c);
    if (!persist(err)) {
        port_cfgs_.pop_back();
        std::string e2;
        dp_.del_port(no, e2);
        resp.mutable_error()->set_message("not saved, port not added: " + err);
        return;
    }
    resp.mutable_add_port()->set_port_no(no);
}

void Controller::del_port(const api::DelPortRequest& r, api::Response& resp) {
    Port* p = dp_.port_by_name(r.name());
    if (!p) {
        resp.mutable_error()->set_message("no port named '" + r.name() + "'");
        resp.mutable_error()->set_field("name");
        return;
    }
    uint32_t no = p->port_no();
    std::vector<api::PortConfig> keep;
    api::PortConfig removed;
    for (auto& c : port_cfgs_) (c.port_no() == no ? removed : keep.emplace_back()) = c;
    std::swap(port_cfgs_, keep);
    std::string err;
    if (!persist(err)) {
        std::swap(port_cfgs_, keep);
        resp.mutable_error()->set_message("not saved, port not deleted: " + err);
        return;
    }
    dp_.del_port(no, err);
    // Megaflows that output to it now count output_port_gone; re-translating drops them
    // out of the cache so the pipeline decides afresh.
    dp_.revalidate(true);
    resp.mutable_del_port();
}

void Controller::add_flows(const api::AddFlowsRequest& r, api::Response& resp) {
    std::vector<std::string> flows(r.flows().begin(), r.flows().end());
    if (flows.empty()) {
        resp.mutable_error()->set_message("no flows given");
        resp.mutable_error()->set_field("flows");
        return;
    }
    std::vector<std::string> before = ofp_.serialize();
    if (FlowError fe = ofp_.add_flows(flows)) {
        auto* e = resp.mutable_error();
        e->set_message(fe.message);
        e->set_token(fe.token);
        e->set_field("flows");
        return;
    }
    std::string err;
    if (!persist(err)) {
        ofp_.del_flows("", false, nullptr);
        ofp_.add_flows(before);
        resp.mutable_error()->set_message("not saved, flows not added: " + err);
        return;
    }
    dp_.revalidate(true);
    seen_version_ = ofp_.version();
    resp.mutable_add_flows();
}

void Controller::del_flows(const api::DelFlowsRequest& r, api::Response& resp) {
    std::vector<std::string> before = ofp_.serialize();
    size_t n = 0;
    if (FlowError fe = ofp_.del_flows(r.match(), r.strict(), &n)) {
        auto* e = resp.mutable_error();
        e->set_message(fe.message);
        e->set_token(fe.token);
        e->set_field("match");
        return;
    }
    std::string err;
    if (!persist(err)) {
        ofp_.del_flows("", false, nullptr);
        ofp_.add_flows(before);
        resp.mutable_error()->set_message("not saved, flows not deleted: " + err);
        return;
    }
    dp_.revalidate(true);
    seen_version_ = ofp_.version();
    resp.mutable_del_flows()->set_deleted(static_cast<uint32_t>(n));
}

void Controller::dump_flows(const api::DumpFlowsRequest& r, api::Response& resp) {
    dp_.revalidate(false);   // fresh counters
    std::vector<FlowDump> dumps;
    if (FlowError fe = ofp_.dump_flows(r.filter(), dumps)) {
        auto* e = resp.mutable_error();
        e->set_message(fe.message);
        e->set_token(fe.token);
        e->set_field("filter");
        return;
    }
    auto* out = resp.mutable_dump_flows();
    for (const FlowDump& d : dumps) {
        auto* f = out->add_flows();
        f->set_cookie(d.cookie);
        f->set_table(d.table);
        f->set_priority(d.priority);
        f->set_duration_s(d.duration_s);
        f->set_n_packets(d.n_packets);
        f->set_n_bytes(d.n_bytes);
        f->set_idle_age_s(d.idle_age_s);
        f->set_match(d.match);
        f->set_actions(d.actions);
    }
}

void Controller::dump_dpflows(api::Response& resp) {
    auto* out = resp.mutable_dump_dpflows();
    const uint64_t now = rte_rdtsc();
    const double hz = static_cast<double>(dp_.tsc_hz());
    auto name = [this](uint32_t no) { return port_name(no); };
    dp_.classifier().for_each([&](Megaflow& m) {
        auto* f = out->add_flows();
        f->set_id(m.id);
        f->set_match(format_masked_key(m.key, m.mask, name));
        f->set_actions(dp_actions_to_string(*m.actions.load(), name));
        f->set_packets(m.packets.load(std::memory_order_relaxed));
        f->set_bytes(m.bytes.load(std::memory_order_relaxed));
        uint64_t used = m.used_tsc.load(std::memory_order_relaxed);
        f->set_used_s(used == 0 ? -1.0 : (now > used ? (now - used) / hz : 0.0));
        f->set_pmd(m.pmd_id);
        std::string mask;
        char b[20];
        for (size_t i = 0; i < FlowKey::kWords; i++) {
            snprintf(b, sizeof(b), "%s%016llx", i ? "." : "", static_cast<unsigned long long>(m.mask.word(i)));
            mask += b;
        }
        f->set_mask(mask);
    });
}

void Controller::tick() {
    bool changed = ofp_.version() != seen_version_;
    seen_version_ = ofp_.version();
    dp_.revalidate(changed);
}

}  // namespace vswitch
