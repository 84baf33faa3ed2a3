// switchctl vpc: see cli_vpc.h.
#include "ctl/api/cli_vpc.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

namespace vswitch::cli {

namespace {

bool parse_num(const std::string& s, uint64_t max, uint64_t& out) {
    if (s.empty() || s.size() > 20 || !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); }))
        return false;
    errno = 0;
    unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
    if (errno || v > max) return false;
    out = v;
    return true;
}

// KEY=VALUE arguments: each key at most once, only the allowed ones; repeatable keys
// (bind's ip=) collect all their values.
struct KeyValues {
    std::map<std::string, std::vector<std::string>> kv;
    const std::string* get(const std::string& k) const {
        auto it = kv.find(k);
        return it == kv.end() ? nullptr : &it->second.front();
    }
};

bool parse_kv(const std::string& sub, const std::vector<std::string>& args, size_t from,
              const std::vector<std::string>& allowed, const std::set<std::string>& repeatable,
              KeyValues& out, std::string& err) {
    for (size_t i = from; i < args.size(); i++) {
        const std::string& a = args[i];
        size_t eq = a.find('=');
        if (eq == std::string::npos || eq == 0) {
            err = sub + ": '" + a + "' is not KEY=VALUE";
            return false;
        }
        std::string k = a.substr(0, eq), v = a.substr(eq + 1);
        if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
            std::string known;
            for (auto& x : allowed) known += (known.empty() ? "" : ", ") + x;
            err = sub + ": unknown key '" + k + "' (known: " + known + ")";
            return false;
        }
        if (v.empty()) {
            err = sub + ": '" + k + "' has no value";
            return false;
        }
        if (out.kv.count(k) && !repeatable.count(k)) {
            err = sub + ": '" + k + "' given more than once";
            return false;
        }
        out.kv[k].push_back(v);
    }
    return true;
}

bool require(const std::string& sub, const KeyValues& kv, const std::string& key, const char* example,
             std::string& err) {
    if (kv.get(key)) return true;
    err = sub + ": missing " + key + "=" + example;
    return false;
}

// "tcp 22 from 10.1.0.0/16", "udp 1000-2000", "any to 10.2.0.0/16", "icmp".
bool parse_rule_args(const std::string& sub, const std::vector<std::string>& a, size_t i,
                     api::VpcRule& r, std::string& err) {
    const std::string& dir = a[i];
    if (dir != "ingress" && dir != "egress") {
        err = sub + ": expected ingress or egress, not '" + dir + "'";
        return false;
    }
    r.set_direction(dir);
    if (++i >= a.size()) {
        err = sub + ": missing PROTOCOL (tcp, udp, icmp or any)";
        return false;
    }
    const std::string& proto = a[i];
    if (proto != "tcp" && proto != "udp" && proto != "icmp" && proto != "any") {
        err = sub + ": unknown protocol '" + proto + "' (tcp, udp, icmp or any)";
        return false;
    }
    r.set_protocol(proto);
    i++;
    if (i < a.size() && !a[i].empty() && std::isdigit(static_cast<unsigned char>(a[i][0]))) {
        const std::string& p = a[i];
        size_t dash = p.find('-');
        uint64_t lo, hi;
        if (!parse_num(p.substr(0, dash), 65535, lo) ||
            (dash != std::string::npos && !parse_num(p.substr(dash + 1), 65535, hi))) {
            err = sub + ": '" + p + "' is not a port or port range (0-65535, e.g. 22 or 8000-8080)";
            return false;
        }
        if (dash == std::string::npos) hi = lo;
        r.set_port_min(static_cast<uint32_t>(lo));
        r.set_port_max(static_cast<uint32_t>(hi));
        i++;
    }
    if (i < a.size()) {
        const char* want = dir == "ingress" ? "from" : "to";
        if (a[i] != want) {
            err = sub + ": expected '" + want + " CIDR' (" + dir + " rules name the " +
                  (dir == "ingress" ? "source" : "destination") + "), not '" + a[i] + "'";
            return false;
        }
        if (i + 1 >= a.size()) {
            err = sub + ": missing CIDR after '" + want + "'";
            return false;
        }
        r.set_cidr(a[i + 1]);
        i += 2;
    }
    if (i < a.size()) {
        err = sub + ": unexpected argument '" + a[i] + "'";
        return false;
    }
    return true;
}

std::string usage_of(const std::string& sub) {
    for (const auto& s : vpc_subcommands())
        if (sub == s.name) return std::string("vpc ") + s.name + " " + s.synopsis;
    return {};
}

// One change subcommand (args[0] = its name) into an op. err names the subcommand.
bool build_op(const std::vector<std::string>& a, api::VpcOp& op, std::string& err) {
    const std::string& sub = a[0];
    const std::string where = "vpc " + sub;
    auto need = [&](size_t n) {
        if (a.size() >= n) return true;
        err = where + ": missing arguments (usage: " + usage_of(sub) + ")";
        return false;
    };
    auto none_after = [&](size_t n) {
        if (a.size() <= n) return true;
        err = where + ": unexpected argument '" + a[n] + "'";
        return false;
    };
    if (usage_of(sub).empty() || sub == "show" || sub == "stats" || sub == "sync") {
        err = "vpc: unknown subcommand '" + sub + "'";
        return false;
    }
    if (!need(2)) return false;
    const std::string& vpc = a[1];
    if (vpc.find('=') != std::string::npos) {
        err = where + ": expected a VPC NAME before '" + vpc + "'";
        return false;
    }
    KeyValues kv;
    if (sub == "create") {
        if (!parse_kv(where, a, 2, {"vni", "encap"}, {}, kv, err) || !require(where, kv, "vni", "N", err)) return false;
        uint64_t vni;
        if (!parse_num(*kv.get("vni"), 0xffffffffu, vni)) {
            err = where + ": vni '" + *kv.get("vni") + "' is not a number";
            return false;
        }
        auto* c = op.mutable_create_vpc();
        c->set_vpc(vpc);
        c->set_vni(static_cast<uint32_t>(vni));
        if (kv.get("encap")) c->set_encap(*kv.get("encap"));
    } else if (sub == "delete") {
        if (!none_after(2)) return false;
        op.mutable_delete_vpc()->set_vpc(vpc);
    } else if (sub == "add-subnet" || sub == "del-subnet") {
        if (!need(3)) return false;
        auto* s = sub == "add-subnet" ? op.mutable_add_subnet() : op.mutable_del_subnet();
        s->set_vpc(vpc);
        s->mutable_subnet()->set_cidr(a[2]);
        if (sub == "add-subnet") {
            if (!parse_kv(where, a, 3, {"gateway", "dns"}, {}, kv, err)) return false;
            if (kv.get("gateway")) s->mutable_subnet()->set_gateway(*kv.get("gateway"));
            if (kv.get("dns")) {
                std::stringstream ss(*kv.get("dns"));
                std::string ip;
                while (std::getline(ss, ip, ',')) s->mutable_subnet()->add_dns(ip);
            }
        } else if (!none_after(3)) {
            return false;
        }
    } else if (sub == "bind") {
        if (!need(3)) return false;
        if (!parse_kv(where, a, 3, {"mac", "ip"}, {"ip"}, kv, err) || !require(where, kv, "mac", "MAC", err) ||
            !require(where, kv, "ip", "IP", err))
            return false;
        auto* b = op.mutable_bind();
        b->set_vpc(vpc);
        b->mutable_binding()->set_port(a[2]);
        b->mutable_binding()->set_mac(*kv.get("mac"));
        for (const std::string& v : kv.kv["ip"]) {
            std::stringstream ss(v);
            std::string ip;
            while (std::getline(ss, ip, ',')) b->mutable_binding()->add_ips(ip);
        }
    } else if (sub == "unbind") {
        if (!need(3) || !none_after(3)) return false;
        op.mutable_unbind()->set_vpc(vpc);
        op.mutable_unbind()->mutable_binding()->set_port(a[2]);
    } else if (sub == "add-endpoint") {
        if (!parse_kv(where, a, 2, {"mac", "ip", "host"}, {}, kv, err) || !require(where, kv, "mac", "MAC", err) ||
            !require(where, kv, "ip", "IP", err) || !require(where, kv, "host", "IP", err))
            return false;
        auto* e = op.mutable_add_endpoint();
        e->set_vpc(vpc);
        e->mutable_endpoint()->set_mac(*kv.get("mac"));
        e->mutable_endpoint()->set_ip(*kv.get("ip"));
        e->mutable_endpoint()->set_host(*kv.get("host"));
    } else if (sub == "del-endpoint") {
        if (!parse_kv(where, a, 2, {"mac"}, {}, kv, err) || !require(where, kv, "mac", "MAC", err)) return false;
        auto* e = op.mutable_del_endpoint();
        e->set_vpc(vpc);
        e->mutable_endpoint()->set_mac(*kv.get("mac"));
    } else if (sub == "add-rule" || sub == "del-rule") {
        if (!need(4)) {
            if (a.size() == 3) err = where + ": missing ingress|egress (usage: " + usage_of(sub) + ")";
            return false;
        }
        auto* r = sub == "add-rule" ? op.mutable_add_rule() : op.mutable_del_rule();
        r->set_vpc(vpc);
        r->mutable_rule()->set_port(a[2]);
        if (!parse_rule_args(where, a, 3, *r->mutable_rule(), err)) return false;
    } else {
        err = "vpc: unknown subcommand '" + sub + "'";
        return false;
    }
    return true;
}

bool read_input(const std::string& file, std::istream& in, std::string& text, std::string& err) {
    if (file == "-") {
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        if (in.bad()) {
            err = "cannot read the VPC from standard input";
            return false;
        }
        return true;
    }
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec)) {
        err = "cannot read " + file + ": Is a directory";
        return false;
    }
    std::ifstream f(file, std::ios::binary);
    if (!f) {
        err = "cannot read " + file + ": " + std::strerror(errno);
        return false;
    }
    text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    return true;
}

std::vector<std::string> words(std::string_view line) {
    std::vector<std::string> w;
    std::string cur;
    for (char c : line) {
        if (c == ' ' || c == '\t' || c == '\r') {
            if (!cur.empty()) w.push_back(std::move(cur));
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) w.push_back(std::move(cur));
    return w;
}

std::string ports_text(uint32_t lo, uint32_t hi) {
    if (lo == 0 && hi == 0) return "";
    if (hi == 0 || hi == lo) return " " + std::to_string(lo);
    return " " + std::to_string(lo) + "-" + std::to_string(hi);
}

std::string rule_text(const api::VpcRule& r) {
    std::string s = r.port() + " " + r.direction() + " " + (r.protocol().empty() ? "any" : r.protocol()) +
                    ports_text(r.port_min(), r.port_max());
    if (!r.cidr().empty() && r.cidr() != "0.0.0.0/0")
        s += std::string(r.direction() == "egress" ? " to " : " from ") + r.cidr();
    return s;
}

}  // namespace

const std::vector<VpcSubcommand>& vpc_subcommands() {
    static const std::vector<VpcSubcommand> v = {
        {"create", "NAME vni=N [encap=vxlan|gre]", "create a VPC"},
        {"delete", "NAME", "delete a VPC, all in it"},
        {"add-subnet", "NAME CIDR [gateway=IP] [dns=IP[,IP]...]", "add a subnet"},
        {"del-subnet", "NAME CIDR", "remove an unused subnet"},
        {"bind", "NAME PORT mac=MAC ip=IP[,IP]...", "bind a VM port"},
        {"unbind", "NAME PORT", "unbind port and rules"},
        {"add-endpoint", "NAME mac=MAC ip=IP host=IP", "add a remote VM"},
        {"del-endpoint", "NAME mac=MAC", "remove a remote VM"},
        {"add-rule", "NAME PORT DIR PROTO [P[-P]] [from|to CIDR]", "allow traffic"},
        {"del-rule", "NAME PORT DIR PROTO [P[-P]] [from|to CIDR]", "remove a rule"},
        {"show", "[NAME]", "configuration, state"},
        {"stats", "[NAME]", "packet/drop counters"},
        {"sync", "FILE", "replace a VPC by FILE"},
    };
    return v;
}

ParseStatus build_vpc_request(const std::vector<std::string>& args, uint64_t generation,
                              api::Request& req, Options& opts, std::string& err, std::istream& in) {
    if (args.empty()) {
        err = "vpc: missing SUBCOMMAND (create, delete, add-subnet, del-subnet, bind, unbind, "
              "add-endpoint, del-endpoint, add-rule, del-rule, show, stats, sync)";
        return ParseStatus::kUsageError;
    }
    const std::string& sub = args[0];
    if (sub == "show" || sub == "stats") {
        if (args.size() > 2) {
            err = "vpc " + sub + ": unexpected argument '" + args[2] + "'";
            return ParseStatus::kUsageError;
        }
        std::string name = args.size() > 1 ? args[1] : "";
        if (sub == "show") req.mutable_vpc_show()->set_name(name);
        else req.mutable_vpc_stats()->set_name(name);
        return ParseStatus::kOk;
    }
    if (sub == "sync") {
        if (args.size() != 2) {
            err = args.size() < 2 ? "vpc sync: missing FILE" : "vpc sync: unexpected argument '" + args[2] + "'";
            return ParseStatus::kUsageError;
        }
        std::string text, ferr;
        if (!read_input(args[1], in, text, ferr)) {
            err = ferr;
            return ParseStatus::kInputError;
        }
        auto* s = req.mutable_vpc_sync();
        s->set_generation(generation);
        opts.flows_source = args[1] == "-" ? std::string("<stdin>") : args[1];
        if (!parse_vpc_file(text, *s->mutable_vpc(), ferr, &opts.vpc_lines)) {
            err = opts.flows_source + ":" + ferr;
            return ParseStatus::kInputError;
        }
        return ParseStatus::kOk;
    }
    api::VpcOp op;
    if (!build_op(args, op, err)) return ParseStatus::kUsageError;
    auto* b = req.mutable_vpc_batch();
    b->set_generation(generation);
    *b->add_ops() = op;
    return ParseStatus::kOk;
}

bool parse_vpc_file(std::string_view text, api::VpcConfig& out, std::string& err,
                    std::vector<std::pair<std::string, unsigned>>* lines) {
    out.Clear();
    if (lines) lines->clear();
    unsigned line_no = 0;
    auto at_line = [&](const std::string& path) {
        if (lines) lines->emplace_back(path, line_no);
    };
    size_t pos = 0;
    bool created = false;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        line_no++;
        std::vector<std::string> w = words(line);
        if (w.empty() || w[0][0] == '#') continue;
        if (w[0] == "vpc") w.erase(w.begin());   // "vpc create ..." is fine too
        const std::string at = std::to_string(line_no) + ": ";
        if (w.empty() || w[0] == "show" || w[0] == "stats" || w[0] == "sync" || w[0] == "delete" ||
            w[0].rfind("del-", 0) == 0 || w[0] == "unbind") {
            err = at + "'" + (w.empty() ? std::string("vpc") : w[0]) +
                  "' does not describe a VPC (create, add-subnet, bind, add-endpoint, add-rule)";
            return false;
        }
        api::VpcOp op;
        std::string e;
        if (!build_op(w, op, e)) {
            err = at + e;
            return false;
        }
        if (op.has_create_vpc()) {
            if (created) {
                err = at + "a second 'create' (the file describes one VPC)";
                return false;
            }
            created = true;
            out.set_name(op.create_vpc().vpc());
            out.set_vni(op.create_vpc().vni());
            out.set_encap(op.create_vpc().encap());
            at_line("vpc");
            continue;
        }
        if (!created) {
            err = at + "the first line must be 'create NAME vni=N [encap=vxlan|gre]'";
            return false;
        }
        std::string name;
        auto idx = [](const char* what, int n) { return std::string("vpc.") + what + "[" + std::to_string(n) + "]"; };
        if (op.has_add_subnet()) {
            name = op.add_subnet().vpc();
            at_line(idx("subnets", out.subnets_size()));
            *out.add_subnets() = op.add_subnet().subnet();
        } else if (op.has_bind()) {
            name = op.bind().vpc();
            at_line(idx("bindings", out.bindings_size()));
            *out.add_bindings() = op.bind().binding();
        } else if (op.has_add_endpoint()) {
            name = op.add_endpoint().vpc();
            at_line(idx("endpoints", out.endpoints_size()));
            *out.add_endpoints() = op.add_endpoint().endpoint();
        } else if (op.has_add_rule()) {
            name = op.add_rule().vpc();
            at_line(idx("rules", out.rules_size()));
            *out.add_rules() = op.add_rule().rule();
        }
        if (name != out.name()) {
            err = at + "names VPC '" + name + "', the file describes '" + out.name() + "'";
            return false;
        }
    }
    if (!created) {
        err = std::to_string(line_no ? line_no : 1) + ": no 'create NAME vni=N' line";
        return false;
    }
    return true;
}

std::string format_vpc_file(const api::VpcConfig& c) {
    const std::string& n = c.name();
    std::string s = "create " + n + " vni=" + std::to_string(c.vni()) + " encap=" + (c.encap().empty() ? "vxlan" : c.encap()) + "\n";
    for (const auto& x : c.subnets()) {
        s += "add-subnet " + n + " " + x.cidr();
        if (!x.gateway().empty()) s += " gateway=" + x.gateway();
        for (int i = 0; i < x.dns_size(); i++) s += (i ? "," : " dns=") + x.dns(i);
        s += "\n";
    }
    for (const auto& x : c.bindings()) {
        s += "bind " + n + " " + x.port() + " mac=" + x.mac() + " ip=";
        for (int i = 0; i < x.ips_size(); i++) s += (i ? "," : "") + x.ips(i);
        s += "\n";
    }
    for (const auto& x : c.endpoints())
        s += "add-endpoint " + n + " mac=" + x.mac() + " ip=" + x.ip() + " host=" + x.host() + "\n";
    for (const auto& x : c.rules()) s += "add-rule " + n + " " + rule_text(x) + "\n";
    return s;
}

std::string format_vpc_batch(const api::VpcBatchReply& r) {
    std::string s;
    for (const auto& v : r.vpcs())
        if (!v.applied())
            s += "vpc " + v.vpc() + ": already at generation " + std::to_string(v.generation()) +
                 ", not applied\n";
    return s;
}

std::string format_vpc_show(const api::VpcShowReply& r) {
    std::string s;
    for (const auto& v : r.vpcs()) {
        const auto& c = v.config();
        s += "vpc " + c.name() + ": vni " + std::to_string(c.vni()) + ", " + c.encap() + " (" + v.tunnel_port() +
             (v.tunnel_port_present() ? "" : ", missing: run set-uplink") + "), generation " +
             std::to_string(v.generation()) + "\n";
        s += "  router mac " + v.router_mac() + ", index " + std::to_string(v.index()) + ", " +
             std::to_string(v.n_rules()) + " pipeline rules, " + std::to_string(v.n_hosts()) + " remote hosts, VM MTU " +
             std::to_string(v.vm_mtu()) + "\n";
        if (v.pending_ports_size()) {
            s += "  pending ports (not on the switch, no rules yet):";
            for (const auto& p : v.pending_ports()) s += " " + p;
            s += "\n";
        }
        std::stringstream f(format_vpc_file(c));
        std::string line;
        while (std::getline(f, line)) s += "  " + line + "\n";
    }
    if (r.tombstones_size()) {
        s += "deleted (name@generation):";
        for (const auto& t : r.tombstones()) s += " " + t;
        s += "\n";
    }
    return s;
}

std::string format_vpc_stats(const api::VpcStatsReply& r) {
    auto drops = [](const google::protobuf::Map<std::string, uint64_t>& m) {
        std::vector<std::pair<std::string, uint64_t>> v(m.begin(), m.end());
        std::sort(v.begin(), v.end());
        std::string s;
        for (const auto& [k, n] : v) s += (s.empty() ? "" : ", ") + k + "=" + std::to_string(n);
        return s;
    };
    std::string s;
    for (const auto& v : r.vpcs()) {
        s += "vpc " + v.name() + " (" + std::to_string(v.n_rules()) + " rules):\n";
        s += "  from VMs: " + std::to_string(v.from_vm()) + ", from remote hosts: " + std::to_string(v.from_tunnel()) + "\n";
        s += "  ARP answered: " + std::to_string(v.arp_answered()) + ", pings answered: " +
             std::to_string(v.pings_answered()) + ", DHCP answered: " + std::to_string(v.dhcp_answered()) + "\n";
        s += "  routed: " + std::to_string(v.routed()) + ", TTL expired at the router: " +
             std::to_string(v.ttl_expired()) + "\n";
        s += "  to remote hosts: " + std::to_string(v.to_remote()) + ", to local VMs: " + std::to_string(v.to_local()) + "\n";
        s += "  drops: " + drops(v.drops()) + "\n";
    }
    if (!r.global_drops().empty()) s += "not in any VPC: " + drops(r.global_drops()) + "\n";
    return s;
}

}  // namespace vswitch::cli
