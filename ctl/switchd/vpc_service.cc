#include "vpc_service.h"

#include <algorithm>
#include <cstdio>

namespace vswitch {

using namespace vpc;

namespace {

SubnetSpec from(const api::VpcSubnet& s) {
    return {s.cidr(), s.gateway(), std::vector<std::string>(s.dns().begin(), s.dns().end())};
}
BindingSpec from(const api::VpcBinding& b) {
    return {b.port(), b.mac(), std::vector<std::string>(b.ips().begin(), b.ips().end())};
}
EndpointSpec from(const api::VpcEndpoint& e) { return {e.mac(), e.ip(), e.host()}; }
RuleSpec from(const api::VpcRule& r) {
    return {r.port(), r.direction(), r.protocol(), r.cidr(), r.port_min(), r.port_max()};
}

void to(const SubnetSpec& s, api::VpcSubnet& o) {
    o.set_cidr(s.cidr);
    o.set_gateway(s.gateway);
    for (const auto& d : s.dns) o.add_dns(d);
}
void to(const BindingSpec& b, api::VpcBinding& o) {
    o.set_port(b.port);
    o.set_mac(b.mac);
    for (const auto& ip : b.ips) o.add_ips(ip);
}
void to(const EndpointSpec& e, api::VpcEndpoint& o) {
    o.set_mac(e.mac);
    o.set_ip(e.ip);
    o.set_host(e.host);
}
void to(const RuleSpec& r, api::VpcRule& o) {
    o.set_port(r.port);
    o.set_direction(r.direction);
    o.set_protocol(r.protocol);
    o.set_cidr(r.cidr);
    o.set_port_min(r.port_min);
    o.set_port_max(r.port_max);
}

void fail(api::Response& resp, const std::string& field, const std::string& message) {
    resp.mutable_error()->set_field(field);
    resp.mutable_error()->set_message(message);
}

void fill(const BatchResult& r, api::VpcBatchReply& out) {
    for (const VpcResult& v : r.vpcs) {
        auto* g = out.add_vpcs();
        g->set_vpc(v.name);
        g->set_applied(v.applied);
        g->set_generation(v.generation);
    }
    out.set_ops_applied(static_cast<uint32_t>(r.ops_applied));
    out.set_rules_added(static_cast<uint32_t>(r.rules_added));
    out.set_rules_deleted(static_cast<uint32_t>(r.rules_deleted));
}

void fill(const std::string& name, const VpcStats& s, api::VpcStats& out) {
    out.set_name(name);
    out.set_from_vm(s.from_vm);
    out.set_from_tunnel(s.from_tunnel);
    out.set_arp_answered(s.arp_answered);
    out.set_pings_answered(s.pings_answered);
    out.set_dhcp_answered(s.dhcp_answered);
    out.set_ttl_expired(s.ttl_expired);
    out.set_routed(s.routed);
    out.set_to_remote(s.to_remote);
    out.set_to_local(s.to_local);
    for (const auto& [reason, n] : s.drops) (*out.mutable_drops())[reason] = n;
    out.set_n_rules(static_cast<uint32_t>(s.n_rules));
}

}  // namespace

VpcSpec vpc_spec_from_proto(const api::VpcConfig& c) {
    VpcSpec s;
    s.name = c.name();
    s.vni = c.vni();
    s.encap = c.encap();
    for (const auto& x : c.subnets()) s.subnets.push_back(from(x));
    for (const auto& x : c.bindings()) s.bindings.push_back(from(x));
    for (const auto& x : c.endpoints()) s.endpoints.push_back(from(x));
    for (const auto& x : c.rules()) s.rules.push_back(from(x));
    return s;
}

void vpc_to_proto(const Vpc& v, api::VpcConfig& out) {
    out.Clear();
    out.set_name(v.name);
    out.set_vni(v.vni);
    out.set_encap(encap_name(v.encap));
    for (const auto& [c, sub] : v.subnets) to(to_spec(sub), *out.add_subnets());
    for (const auto& [p, b] : v.bindings) to(to_spec(b), *out.add_bindings());
    // The bulk (a million endpoints): formatted straight into the message, in the order
    // to_spec gives them (by IP), without an EndpointSpec of three strings each.
    std::vector<const Endpoint*> eps;
    eps.reserve(v.endpoints.size());
    for (const auto& [m, e] : v.endpoints) eps.push_back(&e);
    std::sort(eps.begin(), eps.end(), [](auto* a, auto* b) { return a->ip < b->ip; });
    out.mutable_endpoints()->Reserve(static_cast<int>(eps.size()));
    char buf[17];
    for (const Endpoint* e : eps) {
        api::VpcEndpoint& o = *out.add_endpoints();
        o.set_mac(buf, static_cast<size_t>(format_mac_to(e->mac, buf) - buf));
        o.set_ip(buf, static_cast<size_t>(format_ip_to(e->ip, buf) - buf));
        o.set_host(buf, static_cast<size_t>(format_ip_to(e->host, buf) - buf));
    }
    for (const auto& [k, r] : v.rules) to(to_spec(k), *out.add_rules());
}

void vpc_spec_to_proto(const VpcSpec& s, api::VpcConfig& out) {
    out.Clear();
    out.set_name(s.name);
    out.set_vni(s.vni);
    out.set_encap(s.encap);
    for (const auto& x : s.subnets) to(x, *out.add_subnets());
    for (const auto& x : s.bindings) to(x, *out.add_bindings());
    for (const auto& x : s.endpoints) to(x, *out.add_endpoints());
    for (const auto& x : s.rules) to(x, *out.add_rules());
}

bool vpc_op_from_proto(const api::VpcOp& in, Op& o) {
    o = Op{};
    switch (in.op_case()) {
    case api::VpcOp::kCreateVpc:
        o.kind = OpKind::CreateVpc;
        o.vpc = in.create_vpc().vpc();
        o.vni = in.create_vpc().vni();
        o.encap = in.create_vpc().encap();
        return true;
    case api::VpcOp::kDeleteVpc:
        o.kind = OpKind::DeleteVpc;
        o.vpc = in.delete_vpc().vpc();
        return true;
    case api::VpcOp::kAddSubnet:
    case api::VpcOp::kDelSubnet: {
        const auto& x = in.has_add_subnet() ? in.add_subnet() : in.del_subnet();
        o.kind = in.has_add_subnet() ? OpKind::AddSubnet : OpKind::DelSubnet;
        o.vpc = x.vpc();
        o.subnet = from(x.subnet());
        return true;
    }
    case api::VpcOp::kBind:
        o.kind = OpKind::Bind;
        o.vpc = in.bind().vpc();
        o.binding = from(in.bind().binding());
        return true;
    case api::VpcOp::kUnbind:
        o.kind = OpKind::Unbind;
        o.vpc = in.unbind().vpc();
        o.binding = from(in.unbind().binding());
        return true;
    case api::VpcOp::kAddEndpoint:
    case api::VpcOp::kDelEndpoint: {
        const auto& x = in.has_add_endpoint() ? in.add_endpoint() : in.del_endpoint();
        o.kind = in.has_add_endpoint() ? OpKind::AddEndpoint : OpKind::DelEndpoint;
        o.vpc = x.vpc();
        o.endpoint = from(x.endpoint());
        return true;
    }
    case api::VpcOp::kAddRule:
    case api::VpcOp::kDelRule: {
        const auto& x = in.has_add_rule() ? in.add_rule() : in.del_rule();
        o.kind = in.has_add_rule() ? OpKind::AddRule : OpKind::DelRule;
        o.vpc = x.vpc();
        o.rule = from(x.rule());
        return true;
    }
    case api::VpcOp::OP_NOT_SET: break;
    }
    return false;
}

VpcService::VpcService(Ofproto& ofp, VpcManager::PortExists exists, Persist persist, Log log)
    : ofp_(ofp), mgr_(ofp, std::move(exists)), persist_(std::move(persist)), log_(std::move(log)) {
    if (!log_) log_ = [](const std::string& m) { fprintf(stderr, "switchd: %s\n", m.c_str()); };
}

bool VpcService::handle(const api::Request& req, api::Response& resp, bool* changed) {
    *changed = false;
    switch (req.body_case()) {
    case api::Request::kVpcBatch: batch(req.vpc_batch(), resp, changed); return true;
    case api::Request::kVpcSync: sync(req.vpc_sync(), resp, changed); return true;
    case api::Request::kVpcShow: show(req.vpc_show(), resp); return true;
    case api::Request::kVpcStats: stats(req.vpc_stats(), resp); return true;
    default: return false;
    }
}

void VpcService::batch(const api::VpcBatchRequest& r, api::Response& resp, bool* changed) {
    std::vector<Op> ops(static_cast<size_t>(r.ops_size()));
    for (int i = 0; i < r.ops_size(); i++)
        if (!vpc_op_from_proto(r.ops(i), ops[static_cast<size_t>(i)]))
            return fail(resp, "ops[" + std::to_string(i) + "]",
                        "ops[" + std::to_string(i) + "]: empty op (set one of create_vpc, delete_vpc, "
                        "add_subnet, del_subnet, bind, unbind, add_endpoint, del_endpoint, add_rule, del_rule)");
    BatchResult res;
    auto commit = committer([&r](store::JournalRecord& rec) { *rec.mutable_vpc_batch() = r; });
    if (VpcError e = mgr_.apply(r.generation(), ops, res, commit)) return fail(resp, e.field, e.message);
    fill(res, *resp.mutable_vpc_batch());
    *changed = res.rules_added || res.rules_deleted;
}

void VpcService::sync(const api::VpcSyncRequest& r, api::Response& resp, bool* changed) {
    if (!r.has_vpc() || r.vpc().name().empty()) return fail(resp, "vpc.name", "name: missing VPC name");
    BatchResult res;
    auto commit = committer([&r](store::JournalRecord& rec) { *rec.mutable_vpc_sync() = r; });
    if (VpcError e = mgr_.sync(r.generation(), vpc_spec_from_proto(r.vpc()), res, commit))
        return fail(resp, e.field, e.message);
    fill(res, *resp.mutable_vpc_sync());
    *changed = res.rules_added || res.rules_deleted;
}

VpcManager::Commit VpcService::committer(const std::function<void(store::JournalRecord&)>& fill_rec) {
    if (!journal_) return persist_;
    return [this, fill_rec, calls = 0](std::string& err) mutable {
        if (calls++) return persist_(err);
        store::JournalRecord rec;
        fill_rec(rec);
        return journal_(rec, err);
    };
}

void VpcService::show(const api::VpcShowRequest& r, api::Response& resp) const {
    const Model& m = mgr_.model();
    if (!r.name().empty() && !m.find(r.name())) return fail(resp, "name", "no VPC named '" + r.name() + "'");
    auto* out = resp.mutable_vpc_show();
    const Compiler& c = mgr_.compiler();
    for (const auto& [name, vp] : m.vpcs) {
        if (!r.name().empty() && name != r.name()) continue;
        const Vpc& v = *vp;
        auto* info = out->add_vpcs();
        vpc_to_proto(v, *info->mutable_config());
        info->set_generation(v.generation);
        info->set_index(v.index);
        info->set_router_mac(format_mac(v.rmac()));
        info->set_vm_mtu(vm_mtu(mgr_.compiler().underlay_mtu(), v.encap));
        info->set_tunnel_port(c.tunnel_port(v.encap));
        info->set_tunnel_port_present(c.port_exists(c.tunnel_port(v.encap)));
        for (const auto& [port, b] : v.bindings)
            if (!c.port_exists(port)) info->add_pending_ports(port);
        info->set_n_hosts(static_cast<uint32_t>(v.hosts.size()));
        info->set_n_rules(static_cast<uint32_t>(mgr_.stats(v).n_rules));
    }
    if (r.name().empty())
        for (const auto& [name, gen] : m.tombstones) out->add_tombstones(name + "@" + std::to_string(gen));
}

void VpcService::stats(const api::VpcStatsRequest& r, api::Response& resp) const {
    const Model& m = mgr_.model();
    if (!r.name().empty() && !m.find(r.name())) return fail(resp, "name", "no VPC named '" + r.name() + "'");
    auto* out = resp.mutable_vpc_stats();
    for (const auto& [name, v] : m.vpcs)
        if (r.name().empty() || name == r.name()) fill(name, mgr_.stats(*v), *out->add_vpcs());
    for (const auto& [reason, n] : mgr_.global_stats().drops) (*out->mutable_global_drops())[reason] = n;
}

void VpcService::save(store::StoredState& s) const {
    for (const auto& [name, v] : mgr_.model().vpcs) {
        auto* sv = s.add_vpcs();
        vpc_to_proto(*v, *sv->mutable_config());
        sv->set_generation(v->generation);
    }
    for (const auto& [name, gen] : mgr_.model().tombstones) (*s.mutable_vpc_tombstones())[name] = gen;
}

void VpcService::restore(const store::StoredState& s, store::StoredState& failed) {
    mgr_.set_tombstones({s.vpc_tombstones().begin(), s.vpc_tombstones().end()});
    for (const auto& sv : s.vpcs()) {
        BatchResult res;
        if (VpcError e = mgr_.sync(sv.generation(), vpc_spec_from_proto(sv.config()), res)) {
            log_("stored VPC " + sv.config().name() + " not restored (kept in the state file): " +
                 (e.field.empty() ? "" : e.field + ": ") + e.message);
            *failed.add_vpcs() = sv;
            continue;
        }
        // sync with a generation leaves a VPC created at generation 0 at 0: as stored.
    }
}

size_t VpcService::replay(std::span<const store::JournalRecord> records) {
    size_t applied = 0;
    mgr_.defer_pipeline();
    for (const store::JournalRecord& rec : records) {
        BatchResult res;
        VpcError e;
        if (rec.has_vpc_batch()) {
            const api::VpcBatchRequest& r = rec.vpc_batch();
            std::vector<Op> ops(static_cast<size_t>(r.ops_size()));
            bool ok = true;
            for (int i = 0; ok && i < r.ops_size(); i++) ok = vpc_op_from_proto(r.ops(i), ops[static_cast<size_t>(i)]);
            e = ok ? mgr_.apply(r.generation(), ops, res) : VpcError{"ops", "an empty op"};
        } else if (rec.has_vpc_sync()) {
            e = mgr_.sync(rec.vpc_sync().generation(), vpc_spec_from_proto(rec.vpc_sync().vpc()), res);
        } else {
            e = {"", "no change in the record"};
        }
        if (e) {
            log_("journal record " + std::to_string(rec.seq()) + " not replayed: " +
                 (e.field.empty() ? "" : e.field + ": ") + e.message);
            continue;
        }
        applied++;
    }
    if (FlowError fe = mgr_.apply_deferred()) log_("VPC rules of the journal not installed: " + fe.message);
    return applied;
}

void VpcService::port_changed(const std::string& name) {
    if (FlowError e = mgr_.port_changed(name))
        log_("VPC rules for port " + name + " not updated: " + e.message);
}

size_t VpcService::pipeline_rules() const {
    if (mgr_.model().vpcs.empty()) return 0;
    std::vector<CookieCounters> rules;
    ofp_.cookie_counters(kCookieTag << 56, kCookieTagMask, rules);
    return rules.size();
}

void VpcService::reinstall() {
    if (FlowError e = mgr_.reinstall()) log_("VPC rules not reinstalled: " + e.message);
}

}  // namespace vswitch
