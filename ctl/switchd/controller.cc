#include "controller.h"

#include <cstdio>

#include <algorithm>
#include <chrono>
#include <span>

#include <google/protobuf/arena.h>

#include "ofproto/group.h"
#include "ofproto/mac_learning.h"
#include "ofproto/neighbors.h"
#include "ofproto/value_syntax.h"
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
    : dp_(dp), ofp_(ofp), store_(store), db_desc_(std::move(db_desc)),
      vpc_(ofp, [this](std::string_view n) { return dp_.port_by_name(std::string(n)) != nullptr; },
           [this](std::string& err) { return persist(err); }) {
    vpc_.set_journal([this](store::JournalRecord& rec, std::string& err) { return journal(rec, err); });
}

std::string Controller::port_name(uint32_t no) const {
    Port* p = dp_.port(no);
    return p ? p->name() : "";
}

store::StoredState Controller::pipeline_state() const {
    store::StoredState s;
    add_pipeline_state(s);
    return s;
}

void Controller::add_pipeline_state(store::StoredState& s) const {
    for (auto& m : ofp_.serialize_meters()) s.add_meters(m);
    for (auto& g : ofp_.serialize_groups()) s.add_groups(g);
    // VPC rules are saved as VPCs: left out before they are formatted (a million
    // endpoints make two million of them).
    for (auto& f : ofp_.serialize(vpc::kCookieTag << 56, vpc::kCookieTagMask)) s.add_flows(std::move(f));
}

bool Controller::persist(std::string& err) {
    // On an arena: with a million endpoints the state is millions of small messages,
    // and freeing them one by one was a fifth of the save.
    google::protobuf::Arena arena;
    store::StoredState& s = *google::protobuf::Arena::CreateMessage<store::StoredState>(&arena);
    add_pipeline_state(s);
    for (const auto& p : port_cfgs_) *s.add_ports() = p;
    for (const auto& p : unrestored_.ports()) *s.add_ports() = p;
    for (const auto& m : unrestored_.meters()) s.add_meters(m);
    for (const auto& g : unrestored_.groups()) s.add_groups(g);
    for (const auto& f : unrestored_.flows()) s.add_flows(f);
    save_overlay(s);
    vpc_.save(s);
    for (const auto& v : unrestored_.vpcs()) *s.add_vpcs() = v;
    return store_.save(s, err);
}

bool Controller::journal(store::JournalRecord& rec, std::string& err) {
    if (!store_.enabled()) return true;
    const uint64_t limit = journal_max_ ? journal_max_ : std::max(kMinJournalMax, store_.snapshot_bytes());
    // Full: a snapshot, which holds this change too (the model has it already).
    if (store_.journal_bytes() >= limit) return persist(err);
    std::string jerr;
    if (store_.append(rec, jerr)) return true;
    if (!persist(err)) {
        err = jerr + "; " + err;
        return false;
    }
    fprintf(stderr, "switchd: %s; saved the whole state instead\n", jerr.c_str());
    return true;
}

bool Controller::program_meter(uint32_t id, std::string& err) {
    std::vector<ofp::MeterSpec> ms;
    ofp_.find_meters("meter=" + std::to_string(id), ms);
    if (ms.empty()) return dp_.del_meter(id), true;
    MeterConfig c;
    c.unit = ms[0].pktps ? MeterUnit::Pps : MeterUnit::Kbps;
    c.rate = ms[0].rate;
    c.burst = ms[0].burst_size;
    return dp_.set_meter(id, c, err);
}

void Controller::load_pipeline(const store::StoredState& s, store::StoredState* failed) {
    std::vector<uint32_t> gone;
    ofp_.del_flows("", false, nullptr);
    ofp_.del_groups("", nullptr, nullptr);
    ofp_.del_meters("", gone, nullptr);
    for (uint32_t id : gone) dp_.del_meter(id);
    vpc_.reinstall();   // the VPC rules are the VPCs' (not in s.flows)
    for (const auto& m : s.meters()) {
        ofp::MeterSpec spec;
        std::string err;
        if (FlowError e = ofp_.add_meter(m, false, spec)) {
            fprintf(stderr, "switchd: stored meter not restored: %s: %s\n", m.c_str(), e.message.c_str());
            if (failed) failed->add_meters(m);
        }
        else if (!program_meter(spec.id, err))
            fprintf(stderr, "switchd: meter %u not programmed: %s\n", spec.id, err.c_str());
    }
    for (const auto& g : s.groups())
        if (FlowError e = ofp_.add_group(g, false)) {
            fprintf(stderr, "switchd: stored group not restored: %s: %s\n", g.c_str(), e.message.c_str());
            if (failed) failed->add_groups(g);
        }
    std::vector<std::string> flows(s.flows().begin(), s.flows().end());
    if (flows.empty()) return;
    if (FlowError fe = ofp_.add_flows(flows)) {
        // All or nothing failed (a port is missing?): try one by one so the rest works.
        for (const auto& f : flows)
            if (FlowError e = ofp_.add_flows({f})) {
                fprintf(stderr, "switchd: stored flow not restored: %s: %s\n", f.c_str(), e.message.c_str());
                if (failed) failed->add_flows(f);
            }
    }
}

void Controller::sync_ports() {
    // Tunnel ports are not flooded to (output:all, flood, NORMAL): an overlay decides
    // per destination where a packet is encapsulated to.
    std::vector<uint32_t> nos;
    for (Port* p : dp_.ports())
        if (p->type() != PortType::Tunnel) nos.push_back(p->port_no());
    ofp_.set_ports(std::move(nos));
    sync_overlay();
}

void Controller::revalidate(bool force) {
    Ofproto::NoLearningScope no_learning(ofp_);
    // Read before: a change made while revalidating is caught by the next tick.
    uint64_t v = ofp_.version(), mv = ofp_.mac_learning().version(), nv = ofp_.neighbors().version();
    uint64_t ignored;
    if (force) ofp_.take_changes(ignored);   // all of them are re-translated now
    dp_.revalidate(force);
    if (force) {
        seen_version_ = v;
        seen_ml_version_ = mv;
        seen_nb_version_ = nv;
    }
}

void Controller::revalidate_changed() {
    uint64_t tables = 0;
    std::vector<RuleChange> rules;
    if (ofp_.take_changes(tables, &rules) || ofp_.mac_learning().version() != seen_ml_version_ ||
        ofp_.neighbors().version() != seen_nb_version_)
        return revalidate(true);
    Ofproto::NoLearningScope no_learning(ofp_);
    const uint64_t v = ofp_.version();
    // With a million megaflows a full pass takes most of a second; a flow-mod in a table
    // that most of them never look up, or a rule that their keys cannot meet (one VPC
    // endpoint among many), now costs a walk over their bits and keys.
    if (tables || !rules.empty()) dp_.revalidate_tables(tables, std::move(rules));
    seen_version_ = v;
}

void Controller::flow_error(api::Response& resp, const FlowError& fe, const char* field) {
    auto* e = resp.mutable_error();
    e->set_message(fe.message);
    e->set_token(fe.token);
    e->set_field(field);
}

bool Controller::restore(std::string& err) {
    store::StoredState s;
    std::vector<store::JournalRecord> journal;
    std::string warning;
    // A state file that cannot be read stops the start: starting empty would overwrite
    // it at the first change and lose what it holds.
    if (!store_.load(s, journal, err, &warning)) return false;
    if (!warning.empty()) fprintf(stderr, "switchd: %s\n", warning.c_str());
    for (const auto& pc : s.ports()) {
        PortOptions opts(pc.options().begin(), pc.options().end());
        uint32_t no = dp_.add_port(pc.name(), pc.type(), opts, pc.port_no(), err);
        if (!no) {
            fprintf(stderr, "switchd: stored port %s not restored (kept in the state file): %s\n",
                    pc.name().c_str(), err.c_str());
            *unrestored_.add_ports() = pc;
            err.clear();
            continue;
        }
        api::PortConfig c = pc;
        c.set_port_no(no);
        port_cfgs_.push_back(c);
    }
    sync_ports();
    restore_overlay(s);
    load_pipeline(s, &unrestored_);
    vpc_.restore(s, unrestored_);
    if (!journal.empty()) {
        // Left in the journal (compacted when it fills): a record that does not apply
        // now is still there at the next start.
        size_t n = replay(journal);
        fprintf(stderr, "switchd: replayed %zu of %zu changes from %s\n", n, journal.size(),
                store_.journal_path().c_str());
    }
    seen_version_ = ofp_.version();
    seen_ml_version_ = ofp_.mac_learning().version();
    if (store_.enabled())
        fprintf(stderr, "switchd: restored %zu ports and %zu flows from %s (%d ports, %d flows kept unrestored)\n",
                port_cfgs_.size(), ofp_.n_rules(), store_.path().c_str(), unrestored_.ports_size(),
                unrestored_.flows_size());
    else
        fprintf(stderr, "switchd: no state file (--db none): nothing restored, nothing saved\n");
    if (s.vpcs_size())
        fprintf(stderr, "switchd: restored %zu VPCs (%d kept unrestored)\n",
                vpc_.manager().model().vpcs.size(), unrestored_.vpcs_size());
    return true;
}

size_t Controller::replay(const std::vector<store::JournalRecord>& journal) {
    auto is_vpc = [](const store::JournalRecord& r) { return r.has_vpc_batch() || r.has_vpc_sync(); };
    size_t applied = 0;
    for (size_t i = 0; i < journal.size();) {
        // A run of VPC records changes the pipeline once, at its end; a flow record then
        // applies on top of it, as it did when it was acknowledged.
        size_t j = i;
        while (j < journal.size() && is_vpc(journal[j])) j++;
        if (j > i) {
            applied += vpc_.replay(std::span(journal).subspan(i, j - i));
            i = j;
            continue;
        }
        if (std::string err = replay_flow_change(journal[i]); err.empty())
            applied++;
        else
            fprintf(stderr, "switchd: journal record %llu not replayed: %s\n",
                    static_cast<unsigned long long>(journal[i].seq()), err.c_str());
        i++;
    }
    return applied;
}

bool Controller::took_vpc_rules(const std::vector<uint64_t>& cookies) {
    return std::any_of(cookies.begin(), cookies.end(),
                       [](uint64_t c) { return (c & vpc::kCookieTagMask) == vpc::kCookieTag << 56; });
}

std::string Controller::replay_flow_change(const store::JournalRecord& rec) {
    std::vector<uint64_t> cookies;
    FlowError fe;
    if (rec.has_add_flows()) {
        std::vector<std::string> flows(rec.add_flows().flows().begin(), rec.add_flows().flows().end());
        if (!(fe = ofp_.add_flows(flows))) return "";
        // As at restore: what applies goes in, what does not (a port gone) is kept in
        // unrestored_, saved with the next snapshot and retried at the next start.
        for (const auto& f : flows)
            if (FlowError e = ofp_.add_flows({f})) {
                fprintf(stderr, "switchd: journaled flow not restored: %s: %s\n", f.c_str(), e.message.c_str());
                unrestored_.add_flows(f);
            }
        return "";   // applied as far as it can be, the rest kept
    } else if (rec.has_del_flows()) {
        fe = ofp_.del_flows(rec.del_flows().match(), rec.del_flows().strict(), nullptr, &cookies);
    } else if (rec.has_mod_flows()) {
        fe = ofp_.mod_flows(rec.mod_flows().flow(), rec.mod_flows().strict(), nullptr);
    } else if (rec.has_replace_flows()) {
        // As when it was acknowledged, the flows kept unrestored go too; a line that
        // names a port not restored this time is kept in their place, as add_flows'.
        std::vector<std::string> flows(rec.replace_flows().flows().begin(), rec.replace_flows().flows().end());
        std::vector<std::string> rejected;
        Ofproto::ReplaceResult r;
        fe = ofp_.replace_flows(flows, vpc::kCookieTag << 56, vpc::kCookieTagMask, false, r, &rejected);
        unrestored_.clear_flows();
        for (const auto& f : rejected) {
            fprintf(stderr, "switchd: journaled flow not restored: %s\n", f.c_str());
            unrestored_.add_flows(f);
        }
    } else if (rec.has_expired_flows()) {
        for (const auto& m : rec.expired_flows().flows())
            if (FlowError e = ofp_.del_flows(m, true, nullptr, &cookies)) fe = e;
    } else {
        return "no change in the record";
    }
    // VPC rules belong to the VPCs: a del-flows that took some puts them back (as live).
    if (took_vpc_rules(cookies)) vpc_.reinstall();
    return fe ? fe.message : "";
}

bool Controller::journal_flows(store::JournalRecord& rec, const Ofproto::Checkpoint& before,
                               api::Response& resp, const char* what) {
    std::string err;
    if (journal(rec, err)) return true;
    ofp_.rollback(before);
    resp.mutable_error()->set_message(std::string("not saved, flows not ") + what + ": " + err);
    return false;
}

void Controller::handle(const api::Request& req, api::Response& resp) {
    if (req.body_case() == api::Request::kVpcStats) revalidate(false);   // fresh counters
    if (bool changed = false; vpc_.handle(req, resp, &changed)) {
        if (changed) revalidate_changed();
        return;
    }
    switch (req.body_case()) {
    case api::Request::kSetUplink: return set_uplink(req.set_uplink(), resp);
    case api::Request::kDelUplink: return del_uplink(resp);
    case api::Request::kAddNeighbor: return add_neighbor(req.add_neighbor(), resp);
    case api::Request::kDelNeighbor: return del_neighbor(req.del_neighbor(), resp);
    case api::Request::kShowUplink: return show_uplink(resp);
    case api::Request::kAddPort: return add_port(req.add_port(), resp);
    case api::Request::kDelPort: return del_port(req.del_port(), resp);
    case api::Request::kAddFlows: return add_flows(req.add_flows(), resp);
    case api::Request::kReplaceFlows: return replace_flows(req.replace_flows(), resp);
    case api::Request::kDelFlows: return del_flows(req.del_flows(), resp);
    case api::Request::kDumpFlows: return dump_flows(req.dump_flows(), resp);
    case api::Request::kDumpDpflows: return dump_dpflows(resp);
    case api::Request::kDelDpflows:
        resp.mutable_del_dpflows()->set_deleted(static_cast<uint32_t>(dp_.flush_megaflows()));
        return;
    case api::Request::kShow: return show(resp);
    case api::Request::kPortStats: return port_stats(req.port_stats(), resp);
    case api::Request::kPmdStats: return pmd_stats(req.pmd_stats(), resp);
    case api::Request::kPmdRxqShow: return pmd_rxq_show(resp);
    case api::Request::kPmdRebalance: return pmd_rebalance(resp);
    case api::Request::kModFlows: return mod_flows(req.mod_flows(), resp);
    case api::Request::kDumpTables: return dump_tables(resp);
    case api::Request::kTrace: return trace(req.trace(), resp);
    case api::Request::kFdbShow: return fdb_show(req.fdb_show(), resp);
    case api::Request::kFdbFlush: return fdb_flush(req.fdb_flush(), resp);
    case api::Request::kAddGroup: return add_group(req.add_group(), resp);
    case api::Request::kDelGroups: return del_groups(req.del_groups(), resp);
    case api::Request::kDumpGroups: return dump_groups(req.dump_groups(), resp);
    case api::Request::kAddMeter: return add_meter(req.add_meter(), resp);
    case api::Request::kDelMeters: return del_meters(req.del_meters(), resp);
    case api::Request::kDumpMeters: return dump_meters(req.dump_meters(), resp);
    case api::Request::kVpcBatch:   // vpc_ (above)
    case api::Request::kVpcSync:
    case api::Request::kVpcShow:
    case api::Request::kVpcStats:
    case api::Request::BODY_NOT_SET: break;
    }
    resp.mutable_error()->set_message("empty or unknown request (is switchctl newer than switchd?)");
    resp.mutable_error()->set_field("body");
}

void Controller::add_port(const api::AddPortRequest& r, api::Response& resp) {
    const api::PortConfig& pc = r.port();
    std::string err;
    // A port kept from the state file (not restored at start) holds its name and its
    // number: a port added under its name takes its place (and by default its number);
    // another port gets neither, or the kept one could never come back.
    int kept = -1;
    uint32_t want = pc.port_no();
    for (int i = 0; i < unrestored_.ports_size(); i++) {
        const api::PortConfig& k = unrestored_.ports(i);
        if (k.name() == pc.name()) {
            kept = i;
            if (!want) want = k.port_no();
        } else if (want && k.port_no() == want) {
            resp.mutable_error()->set_message("port_no " + std::to_string(want) + " is kept for port '" +
                                              k.name() + "' (in the state file, not restored)");
            resp.mutable_error()->set_field("port.port_no");
            return;
        }
    }
    if (!want) {
        for (uint32_t p = 1; p < kMaxPorts && !want; p++) {
            bool taken = dp_.port(p) != nullptr;
            for (const auto& k : unrestored_.ports()) taken = taken || k.port_no() == p;
            if (!taken) want = p;
        }
    }
    PortOptions opts(pc.options().begin(), pc.options().end());
    uint32_t no = dp_.add_port(pc.name(), pc.type(), opts, want, err);
    if (!no) return set_error(resp, "port.", err);
    api::PortConfig c = pc;
    c.set_port_no(no);
    port_cfgs_.push_back(c);
    api::PortConfig replaced;
    if (kept >= 0) {
        replaced = unrestored_.ports(kept);
        unrestored_.mutable_ports()->DeleteSubrange(kept, 1);
    }
    if (!persist(err)) {
        port_cfgs_.pop_back();
        if (kept >= 0) *unrestored_.add_ports() = replaced;
        std::string e2;
        dp_.del_port(no, e2);
        resp.mutable_error()->set_message("not saved, port not added: " + err);
        return;
    }
    sync_ports();
    vpc_.port_changed(pc.name());
    revalidate(true);
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
    if (!uplink_.port().empty() && uplink_.port() == r.name()) {
        resp.mutable_error()->set_message("port '" + r.name() + "' is the uplink (del-uplink first)");
        resp.mutable_error()->set_field("name");
        return;
    }
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
    sync_ports();
    vpc_.port_changed(r.name());
    ofp_.mac_learning().flush_port(no);
    // Megaflows that output to it now count output_port_gone; re-translating drops them
    // out of the cache so the pipeline decides afresh.
    revalidate(true);
    resp.mutable_del_port();
}

void Controller::add_flows(const api::AddFlowsRequest& r, api::Response& resp) {
    std::vector<std::string> flows(r.flows().begin(), r.flows().end());
    if (flows.empty()) {
        resp.mutable_error()->set_message("no flows given");
        resp.mutable_error()->set_field("flows");
        return;
    }
    const Ofproto::Checkpoint before = ofp_.checkpoint();
    if (FlowError fe = ofp_.add_flows(flows)) return flow_error(resp, fe, "flows");
    store::JournalRecord rec;
    *rec.mutable_add_flows() = r;
    if (!journal_flows(rec, before, resp, "added")) return;
    revalidate_changed();
    resp.mutable_add_flows();
}

void Controller::replace_flows(const api::ReplaceFlowsRequest& r, api::Response& resp) {
    std::vector<std::string> flows(r.flows().begin(), r.flows().end());
    const Ofproto::Checkpoint before = r.dry_run() ? nullptr : ofp_.checkpoint();
    Ofproto::ReplaceResult res;
    if (FlowError fe = ofp_.replace_flows(flows, vpc::kCookieTag << 56, vpc::kCookieTagMask, r.dry_run(), res))
        return flow_error(resp, fe, "flows");
    // FILE is the whole set: the flows kept from the state file for ports that were not
    // restored go too (they would come back with their port otherwise), and a dry run
    // says so.
    const auto kept = static_cast<size_t>(unrestored_.flows_size());
    res.deleted += kept;
    if (!r.dry_run() && (res.changed() || kept)) {
        store::JournalRecord rec;
        *rec.mutable_replace_flows()->mutable_flows() = r.flows();
        if (!journal_flows(rec, before, resp, "replaced")) return;
        unrestored_.clear_flows();
        revalidate_changed();
    }
    auto* out = resp.mutable_replace_flows();
    out->set_added(static_cast<uint32_t>(res.added));
    out->set_modified(static_cast<uint32_t>(res.modified));
    out->set_deleted(static_cast<uint32_t>(res.deleted));
    out->set_unchanged(static_cast<uint32_t>(res.unchanged));
    out->set_skipped(static_cast<uint32_t>(res.skipped));
    if (!r.dry_run()) return;   // a real replace can be large; what changed is in the counts
    for (auto& l : res.diff) out->add_diff(std::move(l));
    for (const auto& f : unrestored_.flows()) out->add_diff("-" + f);   // as stored, after the tables
}

void Controller::del_flows(const api::DelFlowsRequest& r, api::Response& resp) {
    const Ofproto::Checkpoint before = ofp_.checkpoint();
    size_t n = 0;
    std::vector<uint64_t> cookies;
    if (FlowError fe = ofp_.del_flows(r.match(), r.strict(), &n, &cookies)) return flow_error(resp, fe, "match");
    store::JournalRecord rec;
    *rec.mutable_del_flows() = r;
    if (n && !journal_flows(rec, before, resp, "deleted")) return;
    // VPC rules belong to the VPCs: a del-flows that took some of them puts them back.
    if (took_vpc_rules(cookies)) vpc_.reinstall();
    revalidate_changed();
    resp.mutable_del_flows()->set_deleted(static_cast<uint32_t>(n));
}

void Controller::mod_flows(const api::ModFlowsRequest& r, api::Response& resp) {
    const Ofproto::Checkpoint before = ofp_.checkpoint();
    size_t n = 0;
    if (FlowError fe = ofp_.mod_flows(r.flow(), r.strict(), &n)) return flow_error(resp, fe, "flow");
    store::JournalRecord rec;
    *rec.mutable_mod_flows() = r;
    if (n && !journal_flows(rec, before, resp, "modified")) return;
    revalidate_changed();
    resp.mutable_mod_flows()->set_modified(static_cast<uint32_t>(n));
}

void Controller::dump_flows(const api::DumpFlowsRequest& r, api::Response& resp) {
    revalidate(false);   // fresh counters
    std::vector<FlowDump> dumps;
    if (FlowError fe = ofp_.dump_flows(r.filter(), dumps)) return flow_error(resp, fe, "filter");
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
        f->set_idle_timeout(d.idle_timeout);
        f->set_hard_timeout(d.hard_timeout);
    }
}

void Controller::dump_tables(api::Response& resp) {
    revalidate(false);   // fresh counters
    std::vector<TableDump> tables;
    ofp_.dump_tables(tables);
    auto* out = resp.mutable_dump_tables();
    for (const TableDump& t : tables) {
        auto* e = out->add_tables();
        e->set_table(t.table);
        e->set_active(t.active);
        e->set_lookups(t.lookups);
        e->set_matches(t.matches);
    }
}

void Controller::trace(const api::TraceRequest& r, api::Response& resp) {
    std::vector<std::string> lines;
    if (FlowError fe = ofp_.trace(r.packet(), lines)) return flow_error(resp, fe, "packet");
    auto* out = resp.mutable_trace();
    for (auto& l : lines) out->add_lines(std::move(l));
}

bool Controller::fdb_port(const std::string& name, std::optional<uint32_t>& port, api::Response& resp) {
    if (name.empty()) return true;
    Port* p = dp_.port_by_name(name);
    if (!p) {
        resp.mutable_error()->set_message("no port named '" + name + "'");
        resp.mutable_error()->set_field("port");
        return false;
    }
    port = p->port_no();
    return true;
}

void Controller::fdb_flush(const api::FdbFlushRequest& r, api::Response& resp) {
    std::optional<uint32_t> port;
    if (!fdb_port(r.port(), port, resp)) return;
    ofp::MacLearning& ml = ofp_.mac_learning();
    const size_t n = port ? ml.flush_port(*port) : ml.flush();
    // NORMAL's megaflows carry what the table said: re-translated, they flood again.
    revalidate_changed();
    resp.mutable_fdb_flush()->set_flushed(static_cast<uint32_t>(n));
}

void Controller::fdb_show(const api::FdbShowRequest& r, api::Response& resp) {
    std::optional<uint32_t> port;
    if (!fdb_port(r.port(), port, resp)) return;
    auto* out = resp.mutable_fdb_show();
    for (const auto& e : ofp_.mac_learning().dump(port)) {
        auto* f = out->add_entries();
        f->set_port(port_name(e.port));
        f->set_port_no(e.port);
        f->set_vlan(e.vlan);
        f->set_mac(ofp::format_mac(e.mac.data()));
        f->set_age_s(e.age_s);
    }
}

void Controller::add_group(const api::AddGroupRequest& r, api::Response& resp) {
    store::StoredState before = pipeline_state();
    if (FlowError fe = ofp_.add_group(r.group(), r.modify())) return flow_error(resp, fe, "group");
    std::string err;
    if (!persist(err)) {
        load_pipeline(before);
        resp.mutable_error()->set_message("not saved, group not changed: " + err);
        return;
    }
    revalidate(true);
    resp.mutable_add_group();
}

void Controller::del_groups(const api::DelGroupsRequest& r, api::Response& resp) {
    store::StoredState before = pipeline_state();
    size_t n = 0, nf = 0;
    if (FlowError fe = ofp_.del_groups(r.group(), &n, &nf)) return flow_error(resp, fe, "group");
    std::string err;
    if (n && !persist(err)) {
        load_pipeline(before);
        resp.mutable_error()->set_message("not saved, groups not deleted: " + err);
        return;
    }
    revalidate(true);
    auto* out = resp.mutable_del_groups();
    out->set_deleted(static_cast<uint32_t>(n));
    out->set_flows_deleted(static_cast<uint32_t>(nf));
}

void Controller::dump_groups(const api::DumpGroupsRequest& r, api::Response& resp) {
    std::vector<GroupDump> groups;
    if (FlowError fe = ofp_.dump_groups(r.group(), groups)) return flow_error(resp, fe, "group");
    auto* out = resp.mutable_dump_groups();
    for (const GroupDump& g : groups) {
        auto* e = out->add_groups();
        e->set_group_id(g.id);
        e->set_group(g.text);
        e->set_n_flows(g.n_flows);
    }
}

void Controller::add_meter(const api::AddMeterRequest& r, api::Response& resp) {
    store::StoredState before = pipeline_state();
    ofp::MeterSpec m;
    if (FlowError fe = ofp_.add_meter(r.meter(), r.modify(), m)) return flow_error(resp, fe, "meter");
    std::string err;
    if (!program_meter(m.id, err)) {
        load_pipeline(before);
        resp.mutable_error()->set_message("meter not added: " + err);
        resp.mutable_error()->set_field("meter");
        return;
    }
    if (!persist(err)) {
        load_pipeline(before);
        resp.mutable_error()->set_message("not saved, meter not changed: " + err);
        return;
    }
    resp.mutable_add_meter();
}

void Controller::del_meters(const api::DelMetersRequest& r, api::Response& resp) {
    store::StoredState before = pipeline_state();
    std::vector<uint32_t> gone;
    size_t nf = 0;
    if (FlowError fe = ofp_.del_meters(r.meter(), gone, &nf)) return flow_error(resp, fe, "meter");
    std::string err;
    if (!gone.empty() && !persist(err)) {
        load_pipeline(before);
        resp.mutable_error()->set_message("not saved, meters not deleted: " + err);
        return;
    }
    revalidate(true);
    // After revalidation no megaflow names them any more.
    for (uint32_t id : gone) dp_.del_meter(id);
    auto* out = resp.mutable_del_meters();
    out->set_deleted(static_cast<uint32_t>(gone.size()));
    out->set_flows_deleted(static_cast<uint32_t>(nf));
}

void Controller::dump_meters(const api::DumpMetersRequest& r, api::Response& resp) {
    std::vector<ofp::MeterSpec> ms;
    if (FlowError fe = ofp_.find_meters(r.meter(), ms)) return flow_error(resp, fe, "meter");
    auto* out = resp.mutable_dump_meters();
    for (const auto& m : ms) {
        auto* e = out->add_meters();
        e->set_meter_id(m.id);
        e->set_meter(ofp_.format_meter(m));
        MeterStats st = dp_.meter_stats(m.id);
        e->set_packets_in(st.packets_in);
        e->set_bytes_in(st.bytes_in);
        e->set_packets_dropped(st.packets_dropped);
        e->set_bytes_dropped(st.bytes_dropped);
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
        f->set_packets(m.n_packets());
        f->set_bytes(m.n_bytes());
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
    dp_.sample_rxq_load();
    // Stats first: idle timeouts look at the rules' last-used time the push stamps.
    const bool changed = ofp_.version() != seen_version_ ||
                         ofp_.mac_learning().version() != seen_ml_version_ ||
                         ofp_.neighbors().version() != seen_nb_version_;
    // A pass that only pushes stats and expires idle megaflows walks every megaflow: with
    // a million of them that is most of a second. Keep such passes to at most a tenth of
    // the control thread's time (pipeline changes still revalidate at once): where that
    // thread shares the PMD's core, a fifth was measured at ~10% of the core taken from
    // the PMD at 1M megaflows; a tenth still pushes rule counters every ~5 s there.
    const auto now = std::chrono::steady_clock::now();
    const auto last_us = dp_.revalidator_stats().last_duration_us;
    if (changed || now - last_reval_ >= std::chrono::microseconds(10 * last_us)) {
        last_reval_ = now;
        revalidate(changed);
    }
    resolve_neighbors();
    ofp_.mac_learning().age();
    std::vector<std::string> removed;
    if (size_t n = ofp_.expire(std::chrono::steady_clock::now(), &removed)) {
        store::JournalRecord rec;
        for (auto& m : removed) rec.mutable_expired_flows()->add_flows(std::move(m));
        std::string err;
        if (!journal(rec, err)) fprintf(stderr, "switchd: %zu expired flow(s) not saved: %s\n", n, err.c_str());
        revalidate_changed();
    }
}

}  // namespace vswitch
