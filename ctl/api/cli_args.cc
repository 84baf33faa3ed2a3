// switchctl command line -> Request. See cli_args.h for the contract.
#include "ctl/api/cli_args.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <sstream>

#include "ctl/api/cli_vpc.h"
#include "ctl/api/endpoint.h"

namespace vswitch::cli {

namespace {

struct Parsed {
    std::vector<std::string> pos;   // arguments after the command word
    bool strict = false;
    bool clear = false;
    bool has_generation = false;   // --generation (vpc)
    std::uint64_t generation = 0;
};

using Builder = ParseStatus (*)(const Parsed&, api::Request&, Options&, std::string&,
                                std::istream&);

struct Command {
    CommandInfo info;
    std::size_t min_args;
    std::size_t max_args;
    Builder build;
};

constexpr const char* kPortTypes[] = {"vhost-user", "dpdk", "vxlan", "gre"};

std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

bool parse_u32(const std::string& s, std::uint32_t& out) {
    if (s.empty() || s.size() > 10 || !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); })) return false;
    unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
    if (v > UINT32_MAX) return false;
    out = static_cast<std::uint32_t>(v);
    return true;
}

// ---------------------------------------------------------------- builders

ParseStatus build_add_port(const Parsed& p, api::Request& req, Options& opts, std::string& err,
                           std::istream&) {
    const std::string& name = p.pos[0];
    if (name.find('=') != std::string::npos) {
        err = "add-port: expected a port NAME before '" + name + "'";
        return ParseStatus::kUsageError;
    }
    if (name.empty()) {
        err = "add-port: empty port name";
        return ParseStatus::kUsageError;
    }
    auto* port = req.mutable_add_port()->mutable_port();
    port->set_name(name);
    std::set<std::string> seen;
    for (std::size_t i = 1; i < p.pos.size(); i++) {
        const std::string& kv = p.pos[i];
        auto eq = kv.find('=');
        if (eq == std::string::npos) {
            err = "add-port: '" + kv + "' is not KEY=VALUE";
            return ParseStatus::kUsageError;
        }
        std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
        if (key.empty()) {
            err = "add-port: missing key in '" + kv + "'";
            return ParseStatus::kUsageError;
        }
        if (value.empty()) {
            err = "add-port: option '" + key + "' has no value";
            return ParseStatus::kUsageError;
        }
        if (!seen.insert(key).second) {
            err = "add-port: option '" + key + "' given more than once";
            return ParseStatus::kUsageError;
        }
        if (key == "type") {
            if (std::find(std::begin(kPortTypes), std::end(kPortTypes), value) ==
                std::end(kPortTypes)) {
                err = "add-port: unknown port type '" + value + "' (expected vhost-user, dpdk, vxlan or gre)";
                return ParseStatus::kUsageError;
            }
            port->set_type(value);
        } else if (key == "port_no") {
            std::uint32_t no;
            if (!parse_u32(value, no)) {
                err = "add-port: port_no must be a non-negative integer, not '" + value + "'";
                return ParseStatus::kUsageError;
            }
            port->set_port_no(no);
        } else {
            (*port->mutable_options())[key] = value;
        }
    }
    if (port->type().empty()) {
        err = "add-port: missing type=vhost-user|dpdk|vxlan|gre";
        return ParseStatus::kUsageError;
    }
    return ParseStatus::kOk;
}

ParseStatus build_del_port(const Parsed& p, api::Request& req, Options&, std::string& err,
                           std::istream&) {
    if (p.pos[0].empty()) {
        err = "del-port: empty port name";
        return ParseStatus::kUsageError;
    }
    req.mutable_del_port()->set_name(p.pos[0]);
    return ParseStatus::kOk;
}

ParseStatus build_add_flow(const Parsed& p, api::Request& req, Options&, std::string& err,
                           std::istream&) {
    std::string flow = trim(p.pos[0]);
    if (flow.empty()) {
        err = "add-flow: empty flow";
        return ParseStatus::kUsageError;
    }
    req.mutable_add_flows()->add_flows(flow);
    return ParseStatus::kOk;
}

// FILE ('-': standard input) as flow lines, for add-flows, replace-flows, diff-flows.
ParseStatus read_flows_file(const Parsed& p, Options& opts, std::string& err, std::istream& in,
                            std::vector<std::string>& flows) {
    const std::string& file = p.pos[0];
    std::string text;
    if (file == "-") {
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        if (in.bad()) {
            err = "cannot read flows from standard input";
            return ParseStatus::kInputError;
        }
    } else {
        std::error_code ec;
        if (std::filesystem::is_directory(file, ec)) {
            err = "cannot read " + file + ": Is a directory";
            return ParseStatus::kInputError;
        }
        std::ifstream f(file, std::ios::binary);
        if (!f) {
            err = "cannot read " + file + ": " + std::strerror(errno);
            return ParseStatus::kInputError;
        }
        text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
        if (f.bad()) {
            err = "cannot read " + file + ": " + std::strerror(errno);
            return ParseStatus::kInputError;
        }
    }
    split_flow_lines(text, flows, opts.flow_lines);
    opts.flows_source = file == "-" ? "<stdin>" : file;
    return ParseStatus::kOk;
}

ParseStatus build_add_flows(const Parsed& p, api::Request& req, Options& opts,
                            std::string& err, std::istream& in) {
    std::vector<std::string> flows;
    if (ParseStatus st = read_flows_file(p, opts, err, in, flows); st != ParseStatus::kOk) return st;
    if (flows.empty()) {
        // Almost always the wrong file; switchd would refuse an empty request anyway.
        err = opts.flows_source + ": no flows (only blank lines and comments)";
        return ParseStatus::kInputError;
    }
    auto* add = req.mutable_add_flows();
    for (auto& f : flows) add->add_flows(std::move(f));
    return ParseStatus::kOk;
}

// replace-flows FILE: an empty FILE is allowed (as with ovs-ofctl): it deletes every
// flow but the VPCs'. diff-flows FILE: the same, as a dry run.
ParseStatus build_replace_flows(const Parsed& p, api::Request& req, Options& opts,
                                std::string& err, std::istream& in, bool dry_run) {
    std::vector<std::string> flows;
    if (ParseStatus st = read_flows_file(p, opts, err, in, flows); st != ParseStatus::kOk) return st;
    auto* r = req.mutable_replace_flows();
    for (auto& f : flows) r->add_flows(std::move(f));
    r->set_dry_run(dry_run);
    return ParseStatus::kOk;
}

ParseStatus build_replace(const Parsed& p, api::Request& req, Options& opts, std::string& err, std::istream& in) {
    return build_replace_flows(p, req, opts, err, in, false);
}

ParseStatus build_diff(const Parsed& p, api::Request& req, Options& opts, std::string& err, std::istream& in) {
    return build_replace_flows(p, req, opts, err, in, true);
}

ParseStatus build_del_flows(const Parsed& p, api::Request& req, Options&, std::string&,
                            std::istream&) {
    auto* del = req.mutable_del_flows();
    if (!p.pos.empty()) del->set_match(trim(p.pos[0]));
    del->set_strict(p.strict);
    return ParseStatus::kOk;
}

ParseStatus build_dump_flows(const Parsed& p, api::Request& req, Options&, std::string&,
                             std::istream&) {
    auto* dump = req.mutable_dump_flows();
    if (!p.pos.empty()) dump->set_filter(trim(p.pos[0]));
    return ParseStatus::kOk;
}

ParseStatus build_mod_flows(const Parsed& p, api::Request& req, Options&, std::string& err,
                            std::istream&) {
    std::string flow = trim(p.pos[0]);
    if (flow.empty()) {
        err = "mod-flows: empty flow";
        return ParseStatus::kUsageError;
    }
    auto* m = req.mutable_mod_flows();
    m->set_flow(flow);
    m->set_strict(p.strict);
    return ParseStatus::kOk;
}

ParseStatus build_dump_tables(const Parsed&, api::Request& req, Options&, std::string&,
                              std::istream&) {
    req.mutable_dump_tables();
    return ParseStatus::kOk;
}

ParseStatus build_trace(const Parsed& p, api::Request& req, Options&, std::string& err,
                        std::istream&) {
    std::string pkt = trim(p.pos[0]);
    if (pkt.empty()) {
        err = "trace: empty packet description";
        return ParseStatus::kUsageError;
    }
    req.mutable_trace()->set_packet(pkt);
    return ParseStatus::kOk;
}

ParseStatus build_fdb_show(const Parsed& p, api::Request& req, Options&, std::string&,
                           std::istream&) {
    auto* f = req.mutable_fdb_show();
    if (!p.pos.empty()) f->set_port(p.pos[0]);
    return ParseStatus::kOk;
}

ParseStatus build_fdb_flush(const Parsed& p, api::Request& req, Options&, std::string&, std::istream&) {
    auto* f = req.mutable_fdb_flush();
    if (!p.pos.empty()) f->set_port(p.pos[0]);
    return ParseStatus::kOk;
}

ParseStatus build_set_uplink(const Parsed& p, api::Request& req, Options& opts, std::string& err,
                             std::istream&) {
    auto* u = req.mutable_set_uplink()->mutable_uplink();
    if (p.pos[0].find('=') != std::string::npos) {
        err = "set-uplink: expected a PORT before '" + p.pos[0] + "'";
        return ParseStatus::kUsageError;
    }
    u->set_port(p.pos[0]);
    std::set<std::string> seen;
    for (size_t i = 1; i < p.pos.size(); i++) {
        const std::string& a = p.pos[i];
        const size_t eq = a.find('=');
        const std::string k = a.substr(0, eq), v = eq == std::string::npos ? "" : a.substr(eq + 1);
        if (eq == std::string::npos || v.empty()) {
            err = "set-uplink: '" + a + "' is not KEY=VALUE (local-ip, gateway, mtu)";
            return ParseStatus::kUsageError;
        }
        if (!seen.insert(k).second) {
            err = "set-uplink: '" + k + "' given more than once";
            return ParseStatus::kUsageError;
        }
        if (k == "local-ip") {
            u->set_local_ip(v);
        } else if (k == "gateway") {
            u->set_gateway(v);
        } else if (k == "mtu") {
            char* end = nullptr;
            const unsigned long m = std::strtoul(v.c_str(), &end, 10);
            if (*end || m < 576 || m > 9600) {
                err = "set-uplink: mtu '" + v + "' is not a number in 576..9600";
                return ParseStatus::kUsageError;
            }
            u->set_mtu(static_cast<uint32_t>(m));
        } else {
            err = "set-uplink: unknown key '" + k + "' (local-ip, gateway, mtu)";
            return ParseStatus::kUsageError;
        }
    }
    if (u->local_ip().empty()) {
        err = opts.command + ": local-ip=A.B.C.D[/LEN] is required";
        return ParseStatus::kUsageError;
    }
    return ParseStatus::kOk;
}

ParseStatus build_del_uplink(const Parsed&, api::Request& req, Options&, std::string&,
                             std::istream&) {
    req.mutable_del_uplink();
    return ParseStatus::kOk;
}

ParseStatus build_add_neighbor(const Parsed& p, api::Request& req, Options&, std::string&,
                               std::istream&) {
    auto* n = req.mutable_add_neighbor();
    n->set_port(p.pos[0]);
    n->set_ip(p.pos[1]);
    n->set_mac(p.pos[2]);
    return ParseStatus::kOk;
}

ParseStatus build_del_neighbor(const Parsed& p, api::Request& req, Options&, std::string&,
                               std::istream&) {
    auto* n = req.mutable_del_neighbor();
    n->set_port(p.pos[0]);
    n->set_ip(p.pos[1]);
    return ParseStatus::kOk;
}

ParseStatus build_show_uplink(const Parsed&, api::Request& req, Options&, std::string&,
                              std::istream&) {
    req.mutable_show_uplink();
    return ParseStatus::kOk;
}

ParseStatus build_add_group(const Parsed& p, api::Request& req, Options& opts, std::string& err,
                            std::istream&) {
    std::string g = trim(p.pos[0]);
    if (g.empty()) {
        err = opts.command + ": empty group";
        return ParseStatus::kUsageError;
    }
    auto* a = req.mutable_add_group();
    a->set_group(g);
    a->set_modify(opts.command == "mod-group");
    return ParseStatus::kOk;
}

ParseStatus build_del_groups(const Parsed& p, api::Request& req, Options&, std::string&,
                             std::istream&) {
    auto* d = req.mutable_del_groups();
    if (!p.pos.empty()) d->set_group(trim(p.pos[0]));
    return ParseStatus::kOk;
}

ParseStatus build_dump_groups(const Parsed& p, api::Request& req, Options&, std::string&,
                              std::istream&) {
    auto* d = req.mutable_dump_groups();
    if (!p.pos.empty()) d->set_group(trim(p.pos[0]));
    return ParseStatus::kOk;
}

ParseStatus build_add_meter(const Parsed& p, api::Request& req, Options& opts, std::string& err,
                            std::istream&) {
    std::string m = trim(p.pos[0]);
    if (m.empty()) {
        err = opts.command + ": empty meter";
        return ParseStatus::kUsageError;
    }
    auto* a = req.mutable_add_meter();
    a->set_meter(m);
    a->set_modify(opts.command == "mod-meter");
    return ParseStatus::kOk;
}

ParseStatus build_del_meters(const Parsed& p, api::Request& req, Options&, std::string&,
                             std::istream&) {
    auto* d = req.mutable_del_meters();
    if (!p.pos.empty()) d->set_meter(trim(p.pos[0]));
    return ParseStatus::kOk;
}

ParseStatus build_dump_meters(const Parsed& p, api::Request& req, Options&, std::string&,
                              std::istream&) {
    auto* d = req.mutable_dump_meters();
    if (!p.pos.empty()) d->set_meter(trim(p.pos[0]));
    return ParseStatus::kOk;
}

ParseStatus build_del_dpflows(const Parsed&, api::Request& req, Options&, std::string&, std::istream&) {
    req.mutable_del_dpflows();
    return ParseStatus::kOk;
}

ParseStatus build_dump_dpflows(const Parsed&, api::Request& req, Options&, std::string&,
                               std::istream&) {
    req.mutable_dump_dpflows();
    return ParseStatus::kOk;
}

ParseStatus build_show(const Parsed&, api::Request& req, Options&, std::string&, std::istream&) {
    req.mutable_show();
    return ParseStatus::kOk;
}

ParseStatus build_port_stats(const Parsed& p, api::Request& req, Options&, std::string&,
                             std::istream&) {
    auto* ps = req.mutable_port_stats();
    if (!p.pos.empty()) ps->set_name(p.pos[0]);
    return ParseStatus::kOk;
}

ParseStatus build_pmd_stats(const Parsed& p, api::Request& req, Options&, std::string&,
                            std::istream&) {
    req.mutable_pmd_stats()->set_clear(p.clear);
    return ParseStatus::kOk;
}

ParseStatus build_pmd_rxq_show(const Parsed&, api::Request& req, Options&, std::string&,
                               std::istream&) {
    req.mutable_pmd_rxq_show();
    return ParseStatus::kOk;
}

ParseStatus build_pmd_rebalance(const Parsed&, api::Request& req, Options&, std::string&,
                                std::istream&) {
    req.mutable_pmd_rebalance();
    return ParseStatus::kOk;
}

ParseStatus build_vpc(const Parsed& p, api::Request& req, Options& opts, std::string& err,
                      std::istream& in) {
    return build_vpc_request(p.pos, p.generation, req, opts, err, in);
}

// The one list of commands: dispatch, --help and docs/cli.md all follow it.
const std::vector<Command>& table() {
    // Summaries stay short enough for --help to fit 80 columns.
    static const std::vector<Command> t = {
        {{"add-port", "NAME type=vhost-user|dpdk|vxlan|gre [KEY=VALUE]...", "add a port", "Ports"}, 1,
         SIZE_MAX, build_add_port},
        {{"del-port", "NAME", "remove a port", "Ports"}, 1, 1, build_del_port},
        {{"show", "", "ports, PMDs, flow counts", "Ports"}, 0, 0, build_show},
        {{"port-stats", "[PORT]", "port/queue counters, drops", "Ports"}, 0, 1, build_port_stats},
        {{"add-flow", "FLOW", "add or modify one flow", "Flows"}, 1, 1, build_add_flow},
        {{"add-flows", "FILE", "add flows from FILE", "Flows"}, 1, 1, build_add_flows},
        {{"replace-flows", "FILE", "make the flows those of FILE", "Flows"}, 1, 1, build_replace},
        {{"diff-flows", "FILE", "print how the flows differ from FILE", "Flows"}, 1, 1, build_diff},
        {{"del-flows", "[--strict] [MATCH]", "delete matching flows", "Flows"}, 0, 1,
         build_del_flows},
        {{"mod-flows", "[--strict] FLOW", "change actions of matching flows", "Flows"}, 1, 1,
         build_mod_flows},
        {{"dump-flows", "[FILTER]", "print flows", "Flows"}, 0, 1, build_dump_flows},
        {{"dump-tables", "", "per-table rules, lookups, matches", "Flows"}, 0, 0,
         build_dump_tables},
        {{"trace", "PACKET", "show a packet's walk through the tables", "Flows"}, 1, 1,
         build_trace},
        {{"add-group", "GROUP", "add a group", "Groups and meters"}, 1, 1, build_add_group},
        {{"mod-group", "GROUP", "replace a group", "Groups and meters"}, 1, 1, build_add_group},
        {{"del-groups", "[group_id=N]", "delete groups (and flows using them)", "Groups and meters"},
         0, 1, build_del_groups},
        {{"dump-groups", "[group_id=N]", "print groups", "Groups and meters"}, 0, 1,
         build_dump_groups},
        {{"add-meter", "METER", "add a meter", "Groups and meters"}, 1, 1, build_add_meter},
        {{"mod-meter", "METER", "replace a meter", "Groups and meters"}, 1, 1, build_add_meter},
        {{"del-meters", "[meter=N]", "delete meters (and flows using them)", "Groups and meters"},
         0, 1, build_del_meters},
        {{"dump-meters", "[meter=N]", "print meters and their counters", "Groups and meters"}, 0,
         1, build_dump_meters},
        {{"fdb-show", "[PORT]", "MAC learning table of NORMAL", "Datapath"}, 0, 1,
         build_fdb_show},
        {{"fdb-flush", "[PORT]", "forget learned MACs (of PORT)", "Datapath"}, 0, 1, build_fdb_flush},
        {{"dump-dpflows", "", "print datapath megaflows", "Datapath"}, 0, 0, build_dump_dpflows},
        {{"del-dpflows", "", "empty the megaflow cache", "Datapath"}, 0, 0, build_del_dpflows},
        {{"set-uplink", "PORT local-ip=IP[/LEN] [gateway=IP] [mtu=N]",
          "make PORT the VTEP (creates vxlan0, gre0)", "Overlay"}, 2, 4, build_set_uplink},
        {{"del-uplink", "", "remove the VTEP configuration", "Overlay"}, 0, 0, build_del_uplink},
        {{"add-neighbor", "PORT IP MAC", "static underlay neighbor", "Overlay"}, 3, 3,
         build_add_neighbor},
        {{"del-neighbor", "PORT IP", "remove an underlay neighbor", "Overlay"}, 2, 2,
         build_del_neighbor},
        {{"show-uplink", "", "VTEP, tunnel ports, neighbors", "Overlay"}, 0, 0, build_show_uplink},
        {{"pmd-stats", "[--clear]", "PMD packet, cache, cycles", "PMDs"}, 0, 0, build_pmd_stats},
        {{"pmd-rxq-show", "", "rx queues per PMD, tx map", "PMDs"}, 0, 0, build_pmd_rxq_show},
        {{"pmd-rebalance", "", "rebalance rx queues", "PMDs"}, 0, 0,
         build_pmd_rebalance},
        {{"vpc", "SUBCOMMAND [ARG]...", "VPC overlay (subcommands below)", "VPC overlay"}, 1,
         SIZE_MAX, build_vpc},
    };
    return t;
}

const Command* find_command(std::string_view name) {
    // ovs-ofctl spells these in the plural; the singular is accepted too.
    if (name == "del-group") name = "del-groups";
    if (name == "del-meter") name = "del-meters";
    for (const auto& c : table())
        if (name == c.info.name) return &c;
    return nullptr;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); j++) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); i++) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); j++) {
            std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
            diag = up;
        }
    }
    return row[b.size()];
}

// "dump-flow" -> "dump-flows", "pmd-stats-show" -> "pmd-stats": a hint for OVS habits
// and typos.
std::string suggest(std::string_view word) {
    const Command* best = nullptr;
    std::size_t best_d = 3;
    for (const auto& c : table()) {
        std::string_view name = c.info.name;
        std::size_t d = edit_distance(word, name);
        if (word.size() > name.size() && word.substr(0, name.size()) == name) d = std::min<std::size_t>(d, 2);
        if (d < best_d) {
            best_d = d;
            best = &c;
        }
    }
    return best ? std::string(" (did you mean '") + best->info.name + "'?)" : "";
}

bool parse_timeout(const std::string& s, std::chrono::milliseconds& out) {
    if (s.empty()) return false;
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(s.c_str(), &end);
    if (errno != 0 || *end != '\0' || !std::isfinite(v) || v < 0 || v > 1e9) return false;
    out = std::chrono::milliseconds(static_cast<long long>(std::ceil(v * 1000.0)));
    return true;
}

}  // namespace

const std::vector<CommandInfo>& commands() {
    static const std::vector<CommandInfo> infos = [] {
        std::vector<CommandInfo> v;
        for (const auto& c : table()) v.push_back(c.info);
        return v;
    }();
    return infos;
}

std::string default_socket_path(const char* env_value) {
    if (env_value && *env_value) return env_value;
    return api::kDefaultSocketPath;
}

std::string command_usage(std::string_view command) {
    const Command* c = find_command(command);
    if (!c) return {};
    std::string s = std::string("usage: switchctl [OPTIONS] ") + c->info.name;
    if (*c->info.synopsis) s += std::string(" ") + c->info.synopsis;
    return s;
}

std::string usage_text() {
    std::ostringstream o;
    o << "usage: switchctl [OPTIONS] COMMAND [ARG...]\n"
         "Control and inspect a running switchd.\n";
    // Summaries in one column; a command line too long for it (add-port, set-uplink)
    // gets its summary on the next line, so the help fits 80 columns.
    constexpr std::size_t kMaxLeft = 34;
    auto left_of = [](const Command& c) {
        std::string left = c.info.name;
        if (*c.info.synopsis) left += std::string(" ") + c.info.synopsis;
        return left;
    };
    std::size_t width = 0;
    for (const auto& c : table())
        if (std::size_t n = left_of(c).size(); n <= kMaxLeft) width = std::max(width, n);
    std::string group;
    for (const auto& c : table()) {
        if (group != c.info.group) {
            group = c.info.group;
            o << "\n" << group << ":\n";
        }
        const std::string left = left_of(c);
        if (left.size() > width)
            o << "  " << left << "\n" << std::string(width + 4, ' ') << c.info.summary << "\n";
        else
            o << "  " << left << std::string(width - left.size() + 2, ' ') << c.info.summary << "\n";
        if (std::string_view(c.info.name) == "vpc") {
            std::size_t w = 0;
            for (const auto& v : vpc_subcommands()) w = std::max(w, std::strlen(v.name) + 1 + std::strlen(v.synopsis));
            for (const auto& v : vpc_subcommands()) {
                std::string l = std::string(v.name) + " " + v.synopsis;
                o << "    " << l << std::string(w - l.size() + 2, ' ') << v.summary << "\n";
            }
        }
    }
    o << "\nOptions (before or after COMMAND):\n"
         "  --socket PATH       control socket (default: $VSWITCH_SOCKET, else\n"
         "                      "
      << api::kDefaultSocketPath
      << ")\n"
         "  --format text|json  output format (json: the reply message, one object)\n"
         "  --timeout S         seconds to wait for switchd (default 30, 0 = forever)\n"
         "  --generation N      vpc changes: apply only where a VPC is below N\n"
         "  -h, --help          show this help\n"
         "\nadd-flows FILE: one flow per line, '#' comments; '-' reads standard input;\n"
         "all flows are applied atomically. replace-flows FILE: the same, and the flows\n"
         "FILE lacks are deleted (not the VPCs'); diff-flows FILE prints -FLOW for those\n"
         "and +FLOW for FILE's flows the switch lacks or has otherwise.\n"
         "MATCH and FILTER use the flow syntax without actions; empty = all flows.\n"
         "vpc: DIR is ingress|egress, PROTO tcp|udp|icmp|any; vpc sync FILE: the VPC as\n"
         "its create/add-subnet/bind/add-endpoint/add-rule lines (docs/vpc.md).\n"
         "\nExit status: 0 success, 1 error (reported by switchd, connection, input),\n"
         "2 usage error.\n";
    return o.str();
}

void split_flow_lines(std::string_view text, std::vector<std::string>& flows,
                      std::vector<unsigned>& lines) {
    flows.clear();
    lines.clear();
    unsigned line_no = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        std::string_view line =
            text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        line_no++;
        std::string flow = trim(line);
        if (flow.empty() || flow[0] == '#') continue;
        flows.push_back(std::move(flow));
        lines.push_back(line_no);
    }
}

ParseStatus build_request(const std::vector<std::string>& args, api::Request& req,
                          Options& opts, std::string& err, std::istream& in) {
    req.Clear();
    err.clear();
    Parsed parsed;
    std::vector<std::string> words;
    bool options_done = false;
    for (std::size_t i = 0; i < args.size(); i++) {
        const std::string& a = args[i];
        if (options_done || a.size() < 2 || a[0] != '-') {
            words.push_back(a);
            continue;
        }
        if (a == "--") {
            options_done = true;
            continue;
        }
        std::string name = a, value;
        bool has_value = false;
        if (auto eq = a.find('='); a.compare(0, 2, "--") == 0 && eq != std::string::npos) {
            name = a.substr(0, eq);
            value = a.substr(eq + 1);
            has_value = true;
        }
        auto take_value = [&]() -> bool {
            if (has_value) return true;
            if (i + 1 >= args.size()) {
                err = "option " + name + " needs a value";
                return false;
            }
            value = args[++i];
            return true;
        };
        auto no_value = [&]() -> bool {
            if (has_value) err = "option " + name + " takes no value";
            return !has_value;
        };
        if (name == "-h" || name == "--help") {
            return ParseStatus::kHelp;
        } else if (name == "--socket") {
            if (!take_value()) return ParseStatus::kUsageError;
            if (value.empty()) {
                err = "option --socket needs a non-empty PATH";
                return ParseStatus::kUsageError;
            }
            opts.socket_path = value;
        } else if (name == "--format") {
            if (!take_value()) return ParseStatus::kUsageError;
            if (value == "text") {
                opts.format = Format::kText;
            } else if (value == "json") {
                opts.format = Format::kJson;
            } else {
                err = "unknown format '" + value + "' (expected text or json)";
                return ParseStatus::kUsageError;
            }
        } else if (name == "--timeout") {
            if (!take_value()) return ParseStatus::kUsageError;
            if (!parse_timeout(value, opts.timeout)) {
                err = "invalid --timeout '" + value + "' (seconds, >= 0; 0 = wait forever)";
                return ParseStatus::kUsageError;
            }
        } else if (name == "--strict") {
            if (!no_value()) return ParseStatus::kUsageError;
            parsed.strict = true;
        } else if (name == "--clear") {
            if (!no_value()) return ParseStatus::kUsageError;
            parsed.clear = true;
        } else if (name == "--generation") {
            if (!take_value()) return ParseStatus::kUsageError;
            char* end = nullptr;
            errno = 0;
            unsigned long long g = std::strtoull(value.c_str(), &end, 10);
            if (value.empty() || !std::isdigit(static_cast<unsigned char>(value[0])) || *end || errno) {
                err = "invalid --generation '" + value + "' (a number, 0 = unconditional)";
                return ParseStatus::kUsageError;
            }
            parsed.has_generation = true;
            parsed.generation = g;
        } else {
            err = "unknown option '" + name + "'";
            return ParseStatus::kUsageError;
        }
    }

    if (words.empty()) {
        err = "missing COMMAND";
        return ParseStatus::kUsageError;
    }
    const Command* cmd = find_command(words[0]);
    if (!cmd) {
        err = "unknown command '" + words[0] + "'" + suggest(words[0]);
        return ParseStatus::kUsageError;
    }
    opts.command = cmd->info.name;
    if (parsed.strict && opts.command != "del-flows" && opts.command != "mod-flows") {
        err = "option --strict is only valid with del-flows and mod-flows";
        return ParseStatus::kUsageError;
    }
    if (parsed.clear && opts.command != "pmd-stats") {
        err = "option --clear is only valid with pmd-stats";
        return ParseStatus::kUsageError;
    }
    if (parsed.has_generation && opts.command != "vpc") {
        err = "option --generation is only valid with vpc";
        return ParseStatus::kUsageError;
    }
    parsed.pos.assign(words.begin() + 1, words.end());
    if (parsed.pos.size() < cmd->min_args) {
        // Name what is missing from the synopsis: "del-port: missing NAME".
        std::istringstream syn(cmd->info.synopsis);
        std::string tok, missing;
        for (std::size_t n = 0; syn >> tok;) {
            if (tok[0] == '[') continue;
            if (n++ >= parsed.pos.size()) missing += (missing.empty() ? "" : " ") + tok;
        }
        err = opts.command + ": missing " + missing;
        return ParseStatus::kUsageError;
    }
    if (parsed.pos.size() > cmd->max_args) {
        err = opts.command + ": unexpected argument '" + parsed.pos[cmd->max_args] + "'";
        // ovs-ofctl habits: an unquoted flow splits at its space before "actions=".
        if (opts.command == "add-flow" || opts.command == "del-flows" ||
            opts.command == "dump-flows" || opts.command == "mod-flows" ||
            opts.command == "trace" || opts.command == "add-group" ||
            opts.command == "mod-group" || opts.command == "add-meter" ||
            opts.command == "mod-meter")
            err += " (quote the flow: it is one argument)";
        return ParseStatus::kUsageError;
    }
    return cmd->build(parsed, req, opts, err, in);
}

ParseStatus build_request(const std::vector<std::string>& args, api::Request& req,
                          Options& opts, std::string& err) {
    return build_request(args, req, opts, err, std::cin);
}

}  // namespace vswitch::cli
