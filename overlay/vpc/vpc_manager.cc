#include "overlay/vpc/vpc_manager.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace vswitch::vpc {

namespace {

// Inverse steps of the model changes made so far, undone in reverse order.
class UndoLog {
public:
    void push(std::function<void()> f) { steps_.push_back(std::move(f)); }
    void rollback() {
        while (!steps_.empty()) {
            steps_.back()();
            steps_.pop_back();
        }
    }
    void clear() { steps_.clear(); }

private:
    std::vector<std::function<void()>> steps_;
};

// Ids: the lowest free one first, so ids stay compact and a model rebuilt in the same
// order (restore, a VPC deleted and created again) gets the same ids and cookies.
class IdAlloc {
public:
    explicit IdAlloc(uint32_t max) : max_(max) {}
    uint32_t take(UndoLog& u) {
        if (!free_.empty()) {
            uint32_t id = *free_.begin();
            free_.erase(free_.begin());
            u.push([this, id] { free_.insert(id); });
            return id;
        }
        uint32_t id = next_++;
        u.push([this] { next_--; });
        return id;
    }
    void give(uint32_t id, UndoLog& u) {
        free_.insert(id);
        u.push([this, id] { free_.erase(id); });
    }
    bool exhausted() const { return free_.empty() && next_ > max_; }

private:
    uint32_t max_;
    uint32_t next_ = 1;
    std::set<uint32_t> free_;
};

// The rule changes of one batch, net: deletes (by cookie) happen before adds in
// Ofproto::apply_batch, so an add of cookie C followed by a delete of C in the same
// batch must drop that add; an add after the delete is kept.
class ChangeSet final : public RuleSink {
public:
    void add(uint64_t cookie, std::string flow) override {
        index_[cookie].push_back(static_cast<uint32_t>(adds_.size()));
        adds_.emplace_back(cookie, std::move(flow));
        live_.push_back(true);
    }
    void del(uint64_t cookie) override {
        if (auto it = index_.find(cookie); it != index_.end()) {
            for (uint32_t i : it->second) live_[i] = false;
            index_.erase(it);
        }
        if (dels_set_.insert(cookie).second) dels_.push_back(cookie);
    }
    std::vector<std::string> take_adds() {
        std::vector<std::string> out;
        out.reserve(adds_.size());
        for (size_t i = 0; i < adds_.size(); i++)
            if (live_[i]) out.push_back(std::move(adds_[i].second));
        return out;
    }
    const std::vector<uint64_t>& dels() const { return dels_; }
    bool empty() const { return adds_.empty() && dels_.empty(); }
    // The changes of `later` made after these: its deletes cancel adds of the same
    // cookie made here, its live adds follow.
    void merge(ChangeSet&& later) {
        for (uint64_t c : later.dels_) del(c);
        for (size_t i = 0; i < later.adds_.size(); i++)
            if (later.live_[i]) add(later.adds_[i].first, std::move(later.adds_[i].second));
    }

private:
    std::vector<std::pair<uint64_t, std::string>> adds_;
    std::vector<bool> live_;
    std::unordered_map<uint64_t, std::vector<uint32_t>> index_;
    std::vector<uint64_t> dels_;
    std::unordered_set<uint64_t> dels_set_;
};

// "ops[2].add_endpoint" + "endpoint.mac", or for an op with an origin
// ("vpc.endpoints[3]") the origin + the field without its object part.
std::string locate(size_t i, const Op& op, const std::string& field) {
    if (op.origin.empty()) {
        std::string base = "ops[" + std::to_string(i) + "]." + op_name(op.kind);
        return field.empty() ? base : base + "." + field;
    }
    if (op.kind == OpKind::CreateVpc) return op.origin + "." + (field == "vpc" ? "name" : field);
    size_t dot = field.find('.');
    if (dot == std::string::npos) return op.origin;
    return op.origin + field.substr(dot);
}

}  // namespace

struct VpcManager::Impl {
    IdAlloc ids{0xffffffffu};
    IdAlloc indexes{kMaxVpcs};
    bool deferring = false;
    ChangeSet deferred;   // rule changes of the batches applied while deferring
};

VpcManager::VpcManager(Ofproto& ofp, PortExists exists, CompilerOptions opts)
    : ofp_(ofp), compiler_(std::move(opts), std::move(exists)), impl_(std::make_unique<Impl>()) {}

VpcManager::~VpcManager() = default;

namespace {

// Applies one op to the model (validated first), recording undo steps and rule changes.
class OpRunner {
public:
    OpRunner(Model& m, const Compiler& c, IdAlloc& ids, IdAlloc& indexes, uint64_t generation,
             UndoLog& undo, RuleSink& out)
        : m_(m), c_(c), ids_(ids), indexes_(indexes), gen_(generation), undo_(undo), out_(out) {}

    VpcError run(const Op& op) {
        if (op.kind == OpKind::CreateVpc) return create(op);
        Vpc* v = nullptr;
        if (VpcError e = check_vpc(m_, op, v)) return e;
        switch (op.kind) {
        case OpKind::CreateVpc: break;
        case OpKind::DeleteVpc: return destroy(*v);
        case OpKind::AddSubnet: return add_subnet(*v, op.subnet);
        case OpKind::DelSubnet: return del_subnet(*v, op.subnet);
        case OpKind::Bind: return bind(*v, op.binding);
        case OpKind::Unbind: return unbind(*v, op.binding);
        case OpKind::AddEndpoint: return add_endpoint(*v, op.endpoint);
        case OpKind::DelEndpoint: return del_endpoint(*v, op.endpoint);
        case OpKind::AddRule: return add_rule(*v, op.rule);
        case OpKind::DelRule: return del_rule(*v, op.rule);
        }
        return {"", "unknown op"};
    }

private:
    VpcError create(const Op& op) {
        uint32_t vni;
        Encap encap;
        if (VpcError e = check_create(m_, op, vni, encap)) return e;
        if (indexes_.exhausted()) return {"vpc", "vpc: too many VPCs (at most 65535)"};
        auto v = std::make_unique<Vpc>();
        v->name = op.vpc;
        v->vni = vni;
        v->encap = encap;
        v->index = static_cast<uint16_t>(indexes_.take(undo_));
        Vpc& ref = *v;
        m_.vpcs.emplace(op.vpc, std::move(v));
        m_.vni_owner[vni] = op.vpc;
        std::string name = op.vpc;
        undo_.push([this, name, vni] {
            m_.vpcs.erase(name);
            m_.vni_owner.erase(vni);
        });
        if (auto it = m_.tombstones.find(name); it != m_.tombstones.end()) {
            uint64_t old = it->second;
            m_.tombstones.erase(it);
            undo_.push([this, name, old] { m_.tombstones[name] = old; });
        }
        // The first VPC brings the unknown-VNI drops on both tunnel ports.
        if (m_.vpcs.size() == 1)
            for (Encap e : {Encap::Vxlan, Encap::Gre}) c_.global(e, out_);
        c_.vpc(ref, out_);
        return {};
    }

    VpcError destroy(Vpc& v) {
        c_.del_all(v, out_);
        if (m_.vpcs.size() == 1)
            for (Encap e : {Encap::Vxlan, Encap::Gre}) out_.del(Compiler::global_cookie(e));
        for (const auto& [c, s] : v.subnets) ids_.give(s.id, undo_);
        for (const auto& [p, b] : v.bindings) ids_.give(b.id, undo_);
        for (const auto& [mac, e] : v.endpoints) ids_.give(e.id, undo_);
        for (const auto& [ip, h] : v.hosts) ids_.give(h.id, undo_);
        for (const auto& [k, r] : v.rules) ids_.give(r.id, undo_);
        indexes_.give(v.index, undo_);
        for (const auto& [p, b] : v.bindings) m_.port_owner.erase(p);
        m_.vni_owner.erase(v.vni);
        std::string name = v.name;
        auto it = m_.vpcs.find(name);
        // The object itself is kept (same address: undo steps of earlier ops of this
        // batch point at it) until the batch commits.
        auto holder = std::make_shared<std::unique_ptr<Vpc>>(std::move(it->second));
        m_.vpcs.erase(it);
        std::optional<uint64_t> old_tomb;
        if (auto t = m_.tombstones.find(name); t != m_.tombstones.end()) old_tomb = t->second;
        m_.tombstones[name] = gen_ ? gen_ : (*holder)->generation;
        undo_.push([this, holder, name, old_tomb] {
            if (old_tomb) m_.tombstones[name] = *old_tomb;
            else m_.tombstones.erase(name);
            Vpc& back = **holder;
            m_.vni_owner[back.vni] = name;
            for (const auto& [p, b] : back.bindings) m_.port_owner[p] = name;
            m_.vpcs.emplace(name, std::move(*holder));
        });
        return {};
    }

    VpcError add_subnet(Vpc& v, const SubnetSpec& spec) {
        Subnet s;
        if (VpcError e = check_add_subnet(v, spec, s)) return e;
        s.id = ids_.take(undo_);
        v.subnets.emplace(s.cidr, s);
        Vpc* vp = &v;
        Cidr key = s.cidr;
        undo_.push([vp, key] { vp->subnets.erase(key); });
        c_.subnet(v, s, out_);
        return {};
    }

    VpcError del_subnet(Vpc& v, const SubnetSpec& spec) {
        Cidr key;
        if (VpcError e = check_del_subnet(v, spec, key)) return e;
        Subnet s = v.subnets.at(key);
        out_.del(Compiler::subnet_cookie(v, s));
        ids_.give(s.id, undo_);
        v.subnets.erase(key);
        Vpc* vp = &v;
        undo_.push([vp, s] { vp->subnets.emplace(s.cidr, s); });
        return {};
    }

    VpcError bind(Vpc& v, const BindingSpec& spec) {
        Binding b;
        if (VpcError e = check_bind(m_, v, spec, b)) return e;
        b.id = ids_.take(undo_);
        auto [it, ok] = v.bindings.emplace(b.port, b);
        v.binding_mac[b.mac] = b.port;
        for (uint32_t ip : b.ips) v.ip_owner[ip] = b.mac;
        m_.port_owner[b.port] = v.name;
        Vpc* vp = &v;
        undo_.push([this, vp, b] {
            vp->bindings.erase(b.port);
            vp->binding_mac.erase(b.mac);
            for (uint32_t ip : b.ips) vp->ip_owner.erase(ip);
            m_.port_owner.erase(b.port);
        });
        c_.binding(v, it->second, out_);
        c_.egress_default(v, it->second, out_);
        c_.dhcp(v, it->second, out_);
        return {};
    }

    VpcError unbind(Vpc& v, const BindingSpec& spec) {
        if (VpcError e = check_unbind(v, spec)) return e;
        // The port's security rules go with it.
        auto it = v.rules.lower_bound(RuleKey{spec.port, Direction::Ingress, Proto::Any, Cidr{}, 0, 0});
        std::vector<RuleKey> doomed;
        for (; it != v.rules.end() && it->first.port == spec.port; ++it) doomed.push_back(it->first);
        for (const RuleKey& k : doomed) remove_rule(v, k);
        Binding b = v.bindings.at(spec.port);
        out_.del(Compiler::binding_cookie(v, b));
        out_.del(Compiler::egress_default_cookie(v, b));
        out_.del(Compiler::dhcp_cookie(v, b));
        ids_.give(b.id, undo_);
        v.bindings.erase(b.port);
        v.binding_mac.erase(b.mac);
        for (uint32_t ip : b.ips) v.ip_owner.erase(ip);
        m_.port_owner.erase(b.port);
        Vpc* vp = &v;
        undo_.push([this, vp, b] {
            vp->bindings.emplace(b.port, b);
            vp->binding_mac[b.mac] = b.port;
            for (uint32_t ip : b.ips) vp->ip_owner[ip] = b.mac;
            m_.port_owner[b.port] = vp->name;
        });
        return {};
    }

    VpcError add_endpoint(Vpc& v, const EndpointSpec& spec) {
        Endpoint e;
        if (VpcError err = check_add_endpoint(v, spec, e)) return err;
        e.id = ids_.take(undo_);
        v.endpoints.emplace(e.mac, e);
        v.ip_owner[e.ip] = e.mac;
        Vpc* vp = &v;
        undo_.push([vp, e] {
            vp->endpoints.erase(e.mac);
            vp->ip_owner.erase(e.ip);
        });
        auto h = v.hosts.find(e.host);
        if (h == v.hosts.end()) {
            HostRef ref{ids_.take(undo_), 1};
            h = v.hosts.emplace(e.host, ref).first;
            uint32_t host = e.host;
            undo_.push([vp, host] { vp->hosts.erase(host); });
            c_.host(v, e.host, ref, out_);
        } else {
            h->second.refs++;
            uint32_t host = e.host;
            undo_.push([vp, host] { vp->hosts.at(host).refs--; });
        }
        c_.endpoint(v, e, out_);
        return {};
    }

    VpcError del_endpoint(Vpc& v, const EndpointSpec& spec) {
        Mac mac;
        if (VpcError err = check_del_endpoint(v, spec, mac)) return err;
        Endpoint e = v.endpoints.at(mac);
        out_.del(Compiler::endpoint_cookie(v, e));
        ids_.give(e.id, undo_);
        v.endpoints.erase(mac);
        v.ip_owner.erase(e.ip);
        Vpc* vp = &v;
        undo_.push([vp, e] {
            vp->endpoints.emplace(e.mac, e);
            vp->ip_owner[e.ip] = e.mac;
        });
        HostRef& h = v.hosts.at(e.host);
        if (--h.refs == 0) {
            HostRef ref = h;
            out_.del(Compiler::host_cookie(v, ref));
            ids_.give(ref.id, undo_);
            v.hosts.erase(e.host);
            uint32_t host = e.host;
            undo_.push([vp, host, ref] { vp->hosts.emplace(host, HostRef{ref.id, 1}); });
        } else {
            uint32_t host = e.host;
            undo_.push([vp, host] { vp->hosts.at(host).refs++; });
        }
        return {};
    }

    // The binding's egress default follows whether it has egress rules.
    void egress_count(Vpc& v, Binding& b, int delta) {
        uint32_t before = b.n_egress;
        b.n_egress = static_cast<uint32_t>(static_cast<int>(b.n_egress) + delta);
        Vpc* vp = &v;
        std::string port = b.port;
        undo_.push([vp, port, delta] {
            Binding& x = vp->bindings.at(port);
            x.n_egress = static_cast<uint32_t>(static_cast<int>(x.n_egress) - delta);
        });
        if ((before == 0) != (b.n_egress == 0)) {
            out_.del(Compiler::egress_default_cookie(v, b));
            c_.egress_default(v, b, out_);
        }
    }

    VpcError add_rule(Vpc& v, const RuleSpec& spec) {
        RuleKey k;
        if (VpcError e = check_rule(v, spec, false, k)) return e;
        SecurityRule r{k, ids_.take(undo_)};
        v.rules.emplace(k, r);
        Binding& b = v.bindings.at(k.port);
        b.n_rules++;
        Vpc* vp = &v;
        undo_.push([vp, k] {
            vp->rules.erase(k);
            vp->bindings.at(k.port).n_rules--;
        });
        if (k.dir == Direction::Egress) egress_count(v, b, +1);
        c_.rule(v, b, r, out_);
        return {};
    }

    void remove_rule(Vpc& v, const RuleKey& k) {
        SecurityRule r = v.rules.at(k);
        out_.del(Compiler::rule_cookie(v, r));
        ids_.give(r.id, undo_);
        v.rules.erase(k);
        Binding& b = v.bindings.at(k.port);
        b.n_rules--;
        Vpc* vp = &v;
        undo_.push([vp, r] {
            vp->rules.emplace(r.key, r);
            vp->bindings.at(r.key.port).n_rules++;
        });
        if (k.dir == Direction::Egress) egress_count(v, b, -1);
    }

    VpcError del_rule(Vpc& v, const RuleSpec& spec) {
        RuleKey k;
        if (VpcError e = check_rule(v, spec, true, k)) return e;
        remove_rule(v, k);
        return {};
    }

    Model& m_;
    const Compiler& c_;
    IdAlloc& ids_;
    IdAlloc& indexes_;
    uint64_t gen_;
    UndoLog& undo_;
    RuleSink& out_;
};

std::string op_vpc(const Op& op) { return op.vpc; }

}  // namespace

VpcError VpcManager::apply(uint64_t generation, const std::vector<Op>& ops, BatchResult& result,
                           const Commit& commit) {
    result = BatchResult{};
    if (ops.empty()) return {"ops", "ops: the batch is empty"};
    // Which VPCs the batch names, and which of them already saw this generation (decided
    // on the state before the batch, so a create followed by ops on the same VPC works).
    std::vector<std::string> names;
    std::unordered_map<std::string, bool> skip;
    for (const Op& op : ops) {
        std::string n = op_vpc(op);
        if (skip.count(n)) continue;
        names.push_back(n);
        skip[n] = generation && model_.generation_of(n) >= generation;
    }
    UndoLog undo;
    ChangeSet changes;
    OpRunner runner(model_, compiler_, impl_->ids, impl_->indexes, generation, undo, changes);
    std::set<std::string> touched;
    for (size_t i = 0; i < ops.size(); i++) {
        const Op& op = ops[i];
        if (skip[op.vpc]) continue;
        if (VpcError e = runner.run(op)) {
            undo.rollback();
            e.field = locate(i, op, e.field);
            return e;
        }
        touched.insert(op.vpc);
        result.ops_applied++;
    }
    if (generation)
        for (const std::string& n : touched)
            if (Vpc* v = model_.find(n); v && v->generation != generation) {
                uint64_t old = v->generation;
                v->generation = generation;
                undo.push([v, old] { v->generation = old; });
            }
    std::string err;
    if (commit && result.ops_applied && !commit(err)) {
        undo.rollback();
        return {"", "not saved, VPC change not applied: " + err};
    }
    if (!changes.empty() && impl_->deferring) {
        impl_->deferred.merge(std::move(changes));
    } else if (!changes.empty()) {
        std::vector<std::string> adds = changes.take_adds();
        size_t n_del = 0;
        if (FlowError fe = ofp_.apply_batch(adds, changes.dels(), &n_del)) {
            undo.rollback();
            std::string e2;
            if (commit) commit(e2);   // save the old state again
            return {"", "pipeline refused the VPC rules: " + fe.message +
                            (fe.token.empty() ? "" : " near '" + fe.token + "'")};
        }
        result.rules_added = adds.size();
        result.rules_deleted = n_del;
    }
    undo.clear();
    for (const std::string& n : names)
        result.vpcs.push_back({n, !skip[n], model_.generation_of(n)});
    return {};
}

std::vector<Op> VpcManager::diff(const VpcSpec& spec) const {
    std::vector<Op> ops;
    const Vpc* v = model_.find(spec.name);
    auto op = [&](OpKind k, std::string origin) -> Op& {
        Op& o = ops.emplace_back();
        o.kind = k;
        o.vpc = spec.name;
        o.origin = std::move(origin);
        return o;
    };
    auto idx = [](const char* what, size_t i) {
        return std::string("vpc.") + what + "[" + std::to_string(i) + "]";
    };
    std::string encap = spec.encap.empty() ? "vxlan" : spec.encap;
    bool recreate = !v || v->vni != spec.vni || encap != encap_name(v->encap);
    if (recreate) {
        if (v) op(OpKind::DeleteVpc, "vpc");
        Op& c = op(OpKind::CreateVpc, "vpc");
        c.vni = spec.vni;
        c.encap = spec.encap;
        for (size_t i = 0; i < spec.subnets.size(); i++) op(OpKind::AddSubnet, idx("subnets", i)).subnet = spec.subnets[i];
        for (size_t i = 0; i < spec.bindings.size(); i++) op(OpKind::Bind, idx("bindings", i)).binding = spec.bindings[i];
        for (size_t i = 0; i < spec.endpoints.size(); i++) op(OpKind::AddEndpoint, idx("endpoints", i)).endpoint = spec.endpoints[i];
        for (size_t i = 0; i < spec.rules.size(); i++) op(OpKind::AddRule, idx("rules", i)).rule = spec.rules[i];
        return ops;
    }

    // Desired objects, parsed where possible (what does not parse is "new": its add op
    // reports the error at its origin).
    std::map<Cidr, std::pair<uint32_t, std::vector<uint32_t>>> want_subnets;   // cidr -> gateway, DNS
    std::vector<bool> subnet_same(spec.subnets.size(), false);
    for (size_t i = 0; i < spec.subnets.size(); i++) {
        Cidr c;
        bool hb = false;
        uint32_t gw = 0;
        const SubnetSpec& s = spec.subnets[i];
        if (!parse_cidr(s.cidr, c, &hb) || hb || s.cidr.find('/') == std::string::npos) continue;
        if (s.gateway.empty()) gw = c.addr + 1;
        else if (!parse_ip(s.gateway, gw)) continue;
        std::vector<uint32_t> dns;
        bool dns_ok = true;
        for (const std::string& d : s.dns) {
            uint32_t ip = 0;
            dns_ok = dns_ok && parse_ip(d, ip);
            dns.push_back(ip);
        }
        if (!dns_ok) continue;
        auto it = v->subnets.find(c);
        subnet_same[i] = it != v->subnets.end() && it->second.gateway == gw && it->second.dns == dns;
        want_subnets[c] = {gw, std::move(dns)};
    }
    // Current subnets that go or change; their users are re-added too.
    std::vector<Cidr> dirty_subnets;
    for (const auto& [c, s] : v->subnets) {
        auto it = want_subnets.find(c);
        if (it == want_subnets.end() || it->second.first != s.gateway || it->second.second != s.dns)
            dirty_subnets.push_back(c);
    }
    auto in_dirty = [&](uint32_t ip) {
        for (const Cidr& c : dirty_subnets)
            if (c.contains(ip)) return true;
        return false;
    };

    // Bindings: same port, MAC and IPs (in order), none in a dirty subnet.
    std::set<std::string> keep_bindings;
    std::vector<bool> binding_same(spec.bindings.size(), false);
    for (size_t i = 0; i < spec.bindings.size(); i++) {
        const BindingSpec& s = spec.bindings[i];
        auto it = v->bindings.find(s.port);
        if (it == v->bindings.end()) continue;
        const Binding& b = it->second;
        Mac mac;
        if (!parse_mac(s.mac, mac) || mac != b.mac || s.ips.size() != b.ips.size()) continue;
        bool same = true;
        for (size_t j = 0; j < s.ips.size() && same; j++) {
            uint32_t ip;
            same = parse_ip(s.ips[j], ip) && ip == b.ips[j] && !in_dirty(ip);
        }
        if (!same) continue;
        binding_same[i] = keep_bindings.insert(s.port).second;
    }
    // Endpoints: same MAC, IP and host, not in a dirty subnet.
    std::unordered_set<Mac> keep_endpoints;
    std::vector<bool> endpoint_same(spec.endpoints.size(), false);
    for (size_t i = 0; i < spec.endpoints.size(); i++) {
        const EndpointSpec& s = spec.endpoints[i];
        Mac mac;
        uint32_t ip, host;
        if (!parse_mac(s.mac, mac) || !parse_ip(s.ip, ip) || !parse_ip(s.host, host)) continue;
        auto it = v->endpoints.find(mac);
        if (it == v->endpoints.end() || it->second.ip != ip || it->second.host != host || in_dirty(ip)) continue;
        endpoint_same[i] = keep_endpoints.insert(mac).second;
    }
    // Rules: same key, on a binding that stays.
    std::set<RuleKey> keep_rules;
    std::vector<bool> rule_same(spec.rules.size(), false);
    for (size_t i = 0; i < spec.rules.size(); i++) {
        RuleKey k;
        if (parse_rule(spec.rules[i], k) || !keep_bindings.count(k.port) || !v->rules.count(k)) continue;
        rule_same[i] = keep_rules.insert(k).second;
    }

    // Deletions (rules on bindings that go are removed with them), then additions.
    for (const auto& [k, r] : v->rules)
        if (keep_bindings.count(k.port) && !keep_rules.count(k)) op(OpKind::DelRule, "vpc").rule = to_spec(k);
    for (const auto& [mac, e] : v->endpoints)
        if (!keep_endpoints.count(mac)) op(OpKind::DelEndpoint, "vpc").endpoint.mac = format_mac(mac);
    for (const auto& [port, b] : v->bindings)
        if (!keep_bindings.count(port)) op(OpKind::Unbind, "vpc").binding.port = port;
    for (const Cidr& c : dirty_subnets) op(OpKind::DelSubnet, "vpc").subnet.cidr = format_cidr(c);
    for (size_t i = 0; i < spec.subnets.size(); i++)
        if (!subnet_same[i]) op(OpKind::AddSubnet, idx("subnets", i)).subnet = spec.subnets[i];
    for (size_t i = 0; i < spec.bindings.size(); i++)
        if (!binding_same[i]) op(OpKind::Bind, idx("bindings", i)).binding = spec.bindings[i];
    for (size_t i = 0; i < spec.endpoints.size(); i++)
        if (!endpoint_same[i]) op(OpKind::AddEndpoint, idx("endpoints", i)).endpoint = spec.endpoints[i];
    for (size_t i = 0; i < spec.rules.size(); i++)
        if (!rule_same[i]) op(OpKind::AddRule, idx("rules", i)).rule = spec.rules[i];
    return ops;
}

VpcError VpcManager::sync(uint64_t generation, const VpcSpec& spec, BatchResult& result,
                          const Commit& commit) {
    result = BatchResult{};
    if (generation && model_.generation_of(spec.name) >= generation) {
        result.vpcs.push_back({spec.name, false, model_.generation_of(spec.name)});
        return {};
    }
    std::vector<Op> ops = diff(spec);
    if (!ops.empty()) return apply(generation, ops, result, commit);
    // Nothing differs: only the generation moves.
    Vpc* v = model_.find(spec.name);
    uint64_t old = v->generation;
    if (generation) v->generation = generation;
    std::string err;
    if (commit && generation != old && !commit(err)) {
        v->generation = old;
        return {"", "not saved, VPC change not applied: " + err};
    }
    result.vpcs.push_back({spec.name, true, v->generation});
    return {};
}

FlowError VpcManager::port_changed(std::string_view port, bool* changed) {
    if (changed) *changed = false;
    ChangeSet cs;
    for (Encap e : {Encap::Vxlan, Encap::Gre}) {
        if (compiler_.tunnel_port(e) != port) continue;
        if (!model_.vpcs.empty()) {
            cs.del(Compiler::global_cookie(e));
            compiler_.global(e, cs);
        }
        for (const auto& [name, vp] : model_.vpcs) {
            const Vpc& v = *vp;
            if (v.encap != e) continue;
            cs.del(Compiler::vpc_cookie(v));
            compiler_.vpc(v, cs);
            for (const auto& [ip, h] : v.hosts) {
                cs.del(Compiler::host_cookie(v, h));
                compiler_.host(v, ip, h, cs);
            }
            for (const auto& [mac, ep] : v.endpoints) {
                cs.del(Compiler::endpoint_cookie(v, ep));
                compiler_.endpoint(v, ep, cs);
            }
        }
    }
    if (auto it = model_.port_owner.find(std::string(port)); it != model_.port_owner.end()) {
        const Vpc& v = *model_.find(it->second);
        const Binding& b = v.bindings.at(std::string(port));
        cs.del(Compiler::binding_cookie(v, b));
        cs.del(Compiler::egress_default_cookie(v, b));
        cs.del(Compiler::dhcp_cookie(v, b));
        compiler_.binding(v, b, cs);
        compiler_.egress_default(v, b, cs);
        compiler_.dhcp(v, b, cs);
        auto r = v.rules.lower_bound(RuleKey{b.port, Direction::Ingress, Proto::Any, Cidr{}, 0, 0});
        for (; r != v.rules.end() && r->first.port == b.port; ++r) {
            cs.del(Compiler::rule_cookie(v, r->second));
            compiler_.rule(v, b, r->second, cs);
        }
    }
    if (cs.empty()) return {};
    std::vector<std::string> adds = cs.take_adds();
    size_t n = 0;
    if (FlowError fe = ofp_.apply_batch(adds, cs.dels(), &n)) return fe;
    if (changed) *changed = !adds.empty() || n > 0;
    return {};
}

void VpcManager::defer_pipeline() { impl_->deferring = true; }

FlowError VpcManager::apply_deferred() {
    impl_->deferring = false;
    ChangeSet cs = std::move(impl_->deferred);
    impl_->deferred = ChangeSet{};
    if (cs.empty()) return {};
    return ofp_.apply_batch(cs.take_adds(), cs.dels());
}

FlowError VpcManager::set_underlay_mtu(uint16_t mtu) {
    if (mtu == compiler_.underlay_mtu()) return {};
    compiler_.set_underlay_mtu(mtu);
    ChangeSet cs;
    for (const auto& [name, v] : model_.vpcs)
        for (const auto& [port, b] : v->bindings) {
            cs.del(Compiler::dhcp_cookie(*v, b));
            compiler_.dhcp(*v, b, cs);
        }
    if (impl_->deferring) {
        impl_->deferred.merge(std::move(cs));
        return {};
    }
    if (cs.empty()) return {};
    return ofp_.apply_batch(cs.take_adds(), cs.dels());
}

FlowError VpcManager::reinstall() {
    RecordingSink all;
    for (Encap e : {Encap::Vxlan, Encap::Gre})
        if (!model_.vpcs.empty()) compiler_.global(e, all);
    for (const auto& [name, v] : model_.vpcs) compiler_.all(*v, all);
    std::vector<std::string> adds;
    adds.reserve(all.added.size());
    for (auto& [c, f] : all.added) adds.push_back(std::move(f));
    if (adds.empty()) return {};
    return ofp_.apply_batch(adds, {});
}

namespace {

void count(VpcStats& s, const CookieCounters& r, const std::unordered_map<uint32_t, bool>& egress_deny) {
    const uint64_t n = r.n_packets;
    s.n_rules++;
    auto drop = [&](const char* reason) { s.drops[reason] += n; };
    switch (cookie_kind(r.cookie)) {
    case Kind::Global: drop("vpc_unknown_vni"); break;
    case Kind::Vpc:
        if (r.table == kTableClassify) drop("vpc_unknown_host");
        else if (r.table == kTableArp || r.table == kTableForward) drop("vpc_no_route");
        else if (r.table == kTableRoute && r.priority == kPrioObject) s.routed += n;
        break;
    case Kind::Subnet:
        if (r.table == kTableArp) s.arp_answered += n;
        else if (r.priority == kPrioTtl) s.ttl_expired += n;
        else s.pings_answered += n;
        break;
    case Kind::Dhcp: s.dhcp_answered += n; break;
    case Kind::Binding:
        if (r.table == kTableClassify) {
            if (r.priority == kPrioAllow) s.from_vm += n;
            else drop("vpc_spoofed");
        } else if (r.table == kTableArp) {
            s.arp_answered += n;
        } else if (r.table == kTableIngress) {
            drop("vpc_security_denied");
        }
        break;
    case Kind::EgressDefault: {
        auto it = egress_deny.find(cookie_id(r.cookie));
        if (it != egress_deny.end() && it->second) drop("vpc_security_denied");
        break;
    }
    case Kind::Endpoint:
        if (r.table == kTableArp) s.arp_answered += n;
        else s.to_remote += n;
        break;
    case Kind::Host: s.from_tunnel += n; break;
    case Kind::Rule:
        if (r.table == kTableIngress) s.to_local += n;
        break;
    }
}

}  // namespace

VpcStats VpcManager::stats(const Vpc& v) const {
    VpcStats s;
    for (const char* r : {"vpc_spoofed", "vpc_unknown_host", "vpc_security_denied", "vpc_no_route"})
        s.drops[r] = 0;
    std::unordered_map<uint32_t, bool> deny;
    for (const auto& [p, b] : v.bindings) deny[b.id] = b.n_egress > 0;
    std::vector<CookieCounters> rules;
    ofp_.cookie_counters(make_cookie(v.index, Kind::Global, 0), kCookieVpcMask, rules);
    for (const CookieCounters& r : rules) count(s, r, deny);
    return s;
}

VpcStats VpcManager::global_stats() const {
    VpcStats s;
    s.drops["vpc_unknown_vni"] = 0;
    std::vector<CookieCounters> rules;
    ofp_.cookie_counters(make_cookie(0, Kind::Global, 0), kCookieVpcMask, rules);
    for (const CookieCounters& r : rules) count(s, r, {});
    return s;
}

}  // namespace vswitch::vpc
