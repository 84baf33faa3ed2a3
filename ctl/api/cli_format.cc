// switchctl output rendering. See cli_format.h for the contract.
#include "ctl/api/cli_format.h"

#include "ctl/api/cli_vpc.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <utility>
#include <vector>

namespace vswitch::cli {

namespace {

using Body = api::Response::BodyCase;

__attribute__((format(printf, 1, 2))) std::string strf(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = std::vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) return {};
    if (static_cast<std::size_t>(n) < sizeof(small)) return std::string(small, n);
    std::string big(static_cast<std::size_t>(n), '\0');
    va_start(ap, fmt);
    std::vsnprintf(big.data(), big.size() + 1, fmt, ap);
    va_end(ap);
    return big;
}

using ull = unsigned long long;

// Protobuf maps iterate in an unspecified order; users diff and grep this output.
template <class V>
std::vector<std::pair<std::string, V>> sorted(const google::protobuf::Map<std::string, V>& m) {
    std::vector<std::pair<std::string, V>> v(m.begin(), m.end());
    std::sort(v.begin(), v.end());
    return v;
}

// "rx_runt=3, tx_full=2"; "" when every counter is zero.
std::string nonzero_drops(const google::protobuf::Map<std::string, std::uint64_t>& drops) {
    std::string s;
    for (const auto& [reason, n] : sorted(drops)) {
        if (n == 0) continue;
        if (!s.empty()) s += ", ";
        s += reason + "=" + std::to_string(n);
    }
    return s;
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
    return strf("%.1f%%", whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole)
                                : 0.0);
}

std::string plural(std::uint64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

// For add-flows: "FILE:LINE: " of the flow an error is about, compiler style, so editors
// and humans jump straight to it. Uses Error.field "flows[i]" when switchd names the
// flow, else the one flow containing Error.token; "" when neither identifies one line.
std::string error_location(const api::Error& e, const Options& opts, const api::Request& req) {
    if (!opts.flows_source.empty() && req.has_vpc_sync()) {
        // vpc sync FILE: the line of the object the field is in ("vpc.endpoints[3].mac").
        const std::string& f = e.field();
        unsigned line = 0;
        size_t best = 0;
        for (const auto& [path, l] : opts.vpc_lines)
            if (f.compare(0, path.size(), path) == 0 && (f.size() == path.size() || f[path.size()] == '.') &&
                path.size() > best) {
                best = path.size();
                line = l;
            }
        return line ? opts.flows_source + ":" + std::to_string(line) + ": " : std::string();
    }
    if (opts.flows_source.empty() || !(req.has_add_flows() || req.has_replace_flows())) return {};
    const auto& flows = req.has_add_flows() ? req.add_flows().flows() : req.replace_flows().flows();
    std::size_t index = SIZE_MAX;
    const std::string& field = e.field();
    if (field.rfind("flows[", 0) == 0) {
        char* end = nullptr;
        unsigned long i = std::strtoul(field.c_str() + 6, &end, 10);
        if (end != field.c_str() + 6 && *end == ']') index = i;
    } else if (!e.token().empty()) {
        for (int i = 0; i < flows.size(); i++) {
            if (flows[i].find(e.token()) == std::string::npos) continue;
            if (index != SIZE_MAX) return {};   // ambiguous
            index = static_cast<std::size_t>(i);
        }
    }
    if (index >= opts.flow_lines.size()) return {};
    return opts.flows_source + ":" + std::to_string(opts.flow_lines[index]) + ": ";
}

}  // namespace

// ---------------------------------------------------------------- body bookkeeping

Body expected_body(const api::Request& req) {
    switch (req.body_case()) {
    case api::Request::kAddPort: return Body::kAddPort;
    case api::Request::kDelPort: return Body::kDelPort;
    case api::Request::kAddFlows: return Body::kAddFlows;
    case api::Request::kDelFlows: return Body::kDelFlows;
    case api::Request::kReplaceFlows: return Body::kReplaceFlows;
    case api::Request::kDumpFlows: return Body::kDumpFlows;
    case api::Request::kDumpDpflows: return Body::kDumpDpflows;
    case api::Request::kShow: return Body::kShow;
    case api::Request::kPortStats: return Body::kPortStats;
    case api::Request::kPmdStats: return Body::kPmdStats;
    case api::Request::kPmdRxqShow: return Body::kPmdRxqShow;
    case api::Request::kPmdRebalance: return Body::kPmdRebalance;
    case api::Request::kModFlows: return Body::kModFlows;
    case api::Request::kDumpTables: return Body::kDumpTables;
    case api::Request::kTrace: return Body::kTrace;
    case api::Request::kFdbShow: return Body::kFdbShow;
    case api::Request::kFdbFlush: return Body::kFdbFlush;
    case api::Request::kDelDpflows: return Body::kDelDpflows;
    case api::Request::kAddGroup: return Body::kAddGroup;
    case api::Request::kDelGroups: return Body::kDelGroups;
    case api::Request::kDumpGroups: return Body::kDumpGroups;
    case api::Request::kAddMeter: return Body::kAddMeter;
    case api::Request::kDelMeters: return Body::kDelMeters;
    case api::Request::kDumpMeters: return Body::kDumpMeters;
    case api::Request::kSetUplink: return Body::kSetUplink;
    case api::Request::kDelUplink: return Body::kDelUplink;
    case api::Request::kAddNeighbor: return Body::kAddNeighbor;
    case api::Request::kDelNeighbor: return Body::kDelNeighbor;
    case api::Request::kShowUplink: return Body::kShowUplink;
    case api::Request::kVpcBatch: return Body::kVpcBatch;
    case api::Request::kVpcSync: return Body::kVpcSync;
    case api::Request::kVpcShow: return Body::kVpcShow;
    case api::Request::kVpcStats: return Body::kVpcStats;
    case api::Request::BODY_NOT_SET: break;
    }
    return Body::BODY_NOT_SET;
}

std::string body_name(Body body) {
    if (body == Body::BODY_NOT_SET) return "none";
    const auto* fd = api::Response::descriptor()->FindFieldByNumber(static_cast<int>(body));
    return fd ? fd->name() : "field " + std::to_string(static_cast<int>(body));
}

// ---------------------------------------------------------------- flows

std::string format_flow(const api::FlowEntry& f) {
    // ovs-ofctl dump-flows layout. FlowEntry.match never contains the priority.
    double idle = f.idle_age_s() > 0 ? f.idle_age_s() : 0.0;
    std::string s = strf(" cookie=0x%llx, duration=%.3fs, table=%u, n_packets=%llu, n_bytes=%llu, ",
                         static_cast<ull>(f.cookie()), f.duration_s(), f.table(),
                         static_cast<ull>(f.n_packets()), static_cast<ull>(f.n_bytes()));
    if (f.idle_timeout()) s += strf("idle_timeout=%u, ", f.idle_timeout());
    if (f.hard_timeout()) s += strf("hard_timeout=%u, ", f.hard_timeout());
    s += strf("idle_age=%llu, priority=%u", static_cast<ull>(idle), f.priority());
    if (!f.match().empty()) s += "," + f.match();
    s += " actions=" + (f.actions().empty() ? std::string("drop") : f.actions());
    return s + "\n";
}

std::string format_dump_flows(const api::DumpFlowsReply& reply) {
    std::string s;
    for (const auto& f : reply.flows()) s += format_flow(f);
    return s;
}

std::string format_dpflow(const api::DpFlow& f) {
    // ovs-appctl dpctl/dump-flows layout, prefixed with the installing PMD and the id.
    std::string s = strf("pmd=%u id=%llu ", f.pmd(), static_cast<ull>(f.id()));
    if (!f.match().empty()) s += f.match() + ", ";
    s += strf("packets:%llu, bytes:%llu, used:", static_cast<ull>(f.packets()),
              static_cast<ull>(f.bytes()));
    s += f.used_s() < 0 ? std::string("never") : strf("%.3fs", f.used_s());
    s += ", actions:" + (f.actions().empty() ? std::string("drop") : f.actions());
    return s + "\n";
}

std::string format_dump_dpflows(const api::DumpDpflowsReply& reply) {
    std::string s;
    for (const auto& f : reply.flows()) s += format_dpflow(f);
    return s;
}

std::string format_dump_tables(const api::DumpTablesReply& reply) {
    // ovs-ofctl dump-tables layout.
    std::string s;
    for (const auto& t : reply.tables())
        s += strf("  table %u: active=%llu, lookup=%llu, matched=%llu\n", t.table(),
                  static_cast<ull>(t.active()), static_cast<ull>(t.lookups()),
                  static_cast<ull>(t.matches()));
    return s;
}

std::string format_trace(const api::TraceReply& reply) {
    std::string s;
    for (const auto& l : reply.lines()) s += l + "\n";
    return s;
}

std::string format_fdb_show(const api::FdbShowReply& reply) {
    // ovs-appctl fdb/show layout.
    std::string s = " port  VLAN  MAC                Age\n";
    for (const auto& e : reply.entries()) {
        std::string port = e.port().empty() ? std::to_string(e.port_no()) : e.port();
        s += strf("%5s  %4u  %s  %3llu\n", port.c_str(), e.vlan(), e.mac().c_str(),
                  static_cast<ull>(e.age_s() > 0 ? e.age_s() : 0));
    }
    return s;
}

std::string format_show_uplink(const api::ShowUplinkReply& r) {
    if (!r.configured()) return "no uplink (set-uplink PORT local-ip=IP)\n";
    const auto& u = r.uplink();
    std::string s = "uplink " + u.port() + ": local-ip " + u.local_ip() + ", mac " + r.mac() +
                    strf(", mtu %u", r.mtu());
    if (!u.gateway().empty()) s += ", gateway " + u.gateway();
    s += "\n";
    for (const auto& t : r.tunnel_ports()) s += "  tunnel port " + t + "\n";
    s += strf("neighbors (%d, ARP requests sent: %llu, ", r.neighbors_size(),
              static_cast<ull>(r.arp_requests_sent()));
    s += r.neighbor_aging_s() > 0 ? strf("aging %.0fs, aged out: %llu):\n",
                                         r.neighbor_aging_s(), static_cast<ull>(r.neighbors_aged_out()))
                                  : std::string("no aging):\n");
    for (const auto& n : r.neighbors())
        s += strf("  %-15s  %s  %-7s  %.0fs%s\n", n.ip().c_str(), n.mac().c_str(),
                  n.is_static() ? "static" : "learned", n.age_s(), n.probing() ? "  probing" : "");
    return s;
}

std::string format_dump_groups(const api::DumpGroupsReply& reply) {
    std::string s;
    for (const auto& g : reply.groups())
        s += " " + g.group() + strf(" (flows=%llu)\n", static_cast<ull>(g.n_flows()));
    return s;
}

std::string format_dump_meters(const api::DumpMetersReply& reply) {
    std::string s;
    for (const auto& m : reply.meters())
        s += " " + m.meter() +
             strf(" packets_in=%llu, bytes_in=%llu, packets_dropped=%llu, bytes_dropped=%llu\n",
                  static_cast<ull>(m.packets_in()), static_cast<ull>(m.bytes_in()),
                  static_cast<ull>(m.packets_dropped()), static_cast<ull>(m.bytes_dropped()));
    return s;
}

// ---------------------------------------------------------------- ports

namespace {

std::vector<const api::PortInfo*> by_port_no(
    const google::protobuf::RepeatedPtrField<api::PortInfo>& ports) {
    std::vector<const api::PortInfo*> v;
    for (const auto& p : ports) v.push_back(&p);
    std::stable_sort(v.begin(), v.end(),
                     [](auto* a, auto* b) { return a->port_no() < b->port_no(); });
    return v;
}

// rx queues carry their PMD; tx queues their drops (rx-side drops are counted per
// port and reason, not per queue).
std::string queue_line(const char* dir, const api::QueueStats& q, bool with_pmd) {
    std::string s = strf("    %s %u: pkts=%llu, bytes=%llu", dir, q.queue(),
                         static_cast<ull>(q.packets()), static_cast<ull>(q.bytes()));
    if (with_pmd) s += strf(", pmd=%u", q.pmd());
    else s += strf(", drop=%llu", static_cast<ull>(q.drops()));
    if (q.retries()) s += strf(", retries=%llu", static_cast<ull>(q.retries()));
    if (!q.enabled()) s += ", disabled";
    return s + "\n";
}

}  // namespace

std::string format_show(const api::ShowReply& r) {
    std::string s = "switchd";
    if (!r.version().empty()) s += " " + r.version();
    s += "\n";
    if (!r.db().empty()) {
        s += "  db: " + r.db();
        if (r.db() != "none")
            s += strf(" (snapshot %llu bytes, journal %llu records, %llu bytes)", static_cast<ull>(r.db_snapshot_bytes()),
                      static_cast<ull>(r.db_journal_records()), static_cast<ull>(r.db_journal_bytes()));
        s += "\n";
    }
    std::string cores;
    for (auto c : r.pmd_cores()) cores += (cores.empty() ? "" : ",") + std::to_string(c);
    if (cores.empty()) cores = "none";
    s += "  pmd cores: ";
    s += cores;
    s += "\n";
    s += strf("  flows: %u\n", r.n_flows());
    s += strf("  megaflows: %u", r.n_megaflows());
    if (r.megaflow_capacity()) s += strf(" (capacity %u)", r.megaflow_capacity());
    s += "\n";
    for (const auto* p : by_port_no(r.ports())) {
        s += strf("  port %u: ", p->port_no()) + p->name() + "\n";
        s += "      type: " + p->type() + "\n";
        s += "      state: " + p->state() + "\n";
        if (!p->error().empty()) s += "      error: " + p->error() + "\n";
        if (!p->options().empty()) {
            std::string o;
            for (const auto& [k, v] : sorted(p->options()))
                o += (o.empty() ? "" : ", ") + k + "=" + v;
            s += "      options: {" + o + "}\n";
        }
        s += strf("      queues: rx %u, tx %u\n", p->n_rxq(), p->n_txq());
        if (!p->mac().empty()) s += "      mac: " + p->mac() + "\n";
        if (p->mtu()) s += strf("      mtu: %u\n", p->mtu());
    }
    return s;
}

std::string format_port_stats(const api::PortStatsReply& r) {
    std::string s;
    for (const auto* p : by_port_no(r.ports())) {
        s += strf("port %u: ", p->port_no()) + p->name() + " (" + p->type() + ", " +
             p->state() + ")\n";
        s += strf("    rx pkts=%llu, bytes=%llu, drop=%llu\n", static_cast<ull>(p->rx_packets()),
                  static_cast<ull>(p->rx_bytes()), static_cast<ull>(p->rx_dropped()));
        s += strf("    tx pkts=%llu, bytes=%llu, drop=%llu\n", static_cast<ull>(p->tx_packets()),
                  static_cast<ull>(p->tx_bytes()), static_cast<ull>(p->tx_dropped()));
        for (const auto& q : p->rxq()) s += queue_line("rxq", q, true);
        for (const auto& q : p->txq()) s += queue_line("txq", q, false);
        std::string drops = nonzero_drops(p->drops());
        if (!drops.empty()) s += "    drops: " + drops + "\n";
    }
    return s;
}

// ---------------------------------------------------------------- PMDs

std::string format_pmd_stats(const api::PmdStatsReply& r) {
    std::string s;
    for (const auto& p : r.pmds()) {
        std::uint64_t rx = p.rx_packets();
        // Lookups, not packets received: a decapsulated packet is looked up twice.
        const std::uint64_t lookups = rx + p.recirculated();
        auto share = [&](std::uint64_t n) {
            return lookups ? strf("%llu (%s)", static_cast<ull>(n), percent(n, lookups).c_str())
                           : std::to_string(n);
        };
        // cycles_per_packet is switchd's; recompute only if an older switchd left it out.
        double cpp = p.cycles_per_packet();
        if (cpp == 0 && rx) cpp = static_cast<double>(p.busy_cycles()) / static_cast<double>(rx);
        std::uint64_t total = p.busy_cycles() + p.idle_cycles();
        s += strf("pmd %u (core %u):\n", p.pmd(), p.core());
        s += strf("  packets received: %llu\n", static_cast<ull>(rx));
        s += strf("  packets sent: %llu\n", static_cast<ull>(p.tx_packets()));
        s += "  emc hits: " + share(p.emc_hits()) + "\n";
        if (p.emc_bypassed())
            s += "  emc bypassed: " + share(p.emc_bypassed()) + " (hit share below 1/10)\n";
        s += "  megaflow hits: " + share(p.megaflow_hits()) + "\n";
        s += "  upcalls: " + share(p.upcalls()) + "\n";
        s += strf("  megaflows installed: %llu\n", static_cast<ull>(p.megaflows_installed()));
        s += strf("  rx queues: %u\n", p.n_rxq());
        s += strf("  avg cycles/pkt: %.2f\n", cpp);
        s += "  busy: " + percent(p.busy_cycles(), total) +
             strf(" (%llu of %llu cycles)\n", static_cast<ull>(p.busy_cycles()),
                  static_cast<ull>(total));
        s += strf("  iterations: %llu\n", static_cast<ull>(p.iterations()));
        // The average burst: at a few packets per busy iteration, avg cycles/pkt is mostly
        // the iteration's fixed cost (the PMD is not loaded), not the cost of a packet.
        if (p.busy_iterations())
            s += strf("  packets per busy iteration: %.1f\n",
                      static_cast<double>(rx) / static_cast<double>(p.busy_iterations()));
        s += strf("  shared tx-queue locks: %llu\n", static_cast<ull>(p.tx_shared_locks()));
        if (p.megaflow_full())
            s += strf("  megaflow cache full: %llu upcalls not installed\n",
                      static_cast<ull>(p.megaflow_full()));
        if (p.recirculated())
            s += strf("  decapsulated: %llu (VM queue by flow affinity: %llu, by hash: %llu)\n",
                      static_cast<ull>(p.recirculated()), static_cast<ull>(p.affinity_hits()),
                      static_cast<ull>(p.affinity_misses()));
        if (p.injected())
            s += strf("  control packets sent: %llu\n", static_cast<ull>(p.injected()));
        std::string drops = nonzero_drops(p.drops());
        if (!drops.empty()) s += "  drops: " + drops + "\n";
    }
    if (r.has_revalidator()) {
        const auto& v = r.revalidator();
        s += strf("revalidator:\n  megaflows: %u (capacity %u)\n  runs: %llu, flows checked: %llu, re-translated: %llu\n"
                  "  evicted idle: %llu, removed changed: %llu, actions updated: %llu\n"
                  "  last run: %llu flows (%llu re-translated) in %llu us (max %llu us)\n",
                  v.megaflows(), v.megaflow_capacity(), static_cast<ull>(v.runs()),
                  static_cast<ull>(v.flows_checked()), static_cast<ull>(v.retranslated()),
                  static_cast<ull>(v.evicted_idle()), static_cast<ull>(v.removed_changed()),
                  static_cast<ull>(v.actions_updated()), static_cast<ull>(v.last_flows()),
                  static_cast<ull>(v.last_retranslated()), static_cast<ull>(v.last_duration_us()),
                  static_cast<ull>(v.max_duration_us()));
    }
    return s;
}

std::string format_pmd_rxq_show(const api::PmdRxqShowReply& r) {
    // Group by PMD (ascending), keeping switchd's queue order within a PMD.
    std::map<std::uint32_t, std::vector<const api::RxqInfo*>> by_pmd;
    std::size_t width = 0;
    for (const auto& q : r.rxqs()) {
        by_pmd[q.pmd()].push_back(&q);
        width = std::max(width, q.port().size());
    }
    std::string s;
    if (r.window_s() > 0) s += strf("usage: share of each PMD's busy cycles in the last %.0f s\n", r.window_s());
    for (const auto& [pmd, queues] : by_pmd) {
        s += strf("pmd %u (core %u):\n", pmd, queues.front()->core());
        bool any_tx = false;
        for (const auto* q : queues) {
            s += strf("  port %-*s  queue %-3u %-9s usage %5.1f%%\n", static_cast<int>(width),
                      q->port().c_str(), q->queue(), q->enabled() ? "enabled" : "disabled",
                      q->usage_pct());
            any_tx |= q->tx_size() > 0;
        }
        if (!any_tx) continue;
        s += "  tx mapping:\n";
        for (const auto* q : queues) {
            if (q->tx().empty()) continue;
            s += strf("    port %s queue %u -> ", q->port().c_str(), q->queue());
            bool first = true;
            for (const auto& t : q->tx()) {
                // switchd reports txq = UINT32_MAX when the port has no usable tx queue.
                std::string txq = t.txq() == UINT32_MAX ? "none" : strf("txq%u", t.txq());
                s += strf("%s%s:%s%s", first ? "" : ", ", t.port().c_str(), txq.c_str(),
                          t.shared() ? " (shared)" : "");
                first = false;
            }
            s += "\n";
        }
    }
    return s;
}

std::string format_pmd_rebalance(const api::PmdRebalanceReply& r) {
    // switchd's summary says what moved (and how many); the count is the fallback.
    if (r.summary().empty()) return "moved " + plural(r.moved(), "rx queue", "rx queues") + "\n";
    std::string s = r.summary();
    if (s.back() != '\n') s += "\n";
    return s;
}

// ---------------------------------------------------------------- dispatch

std::string format_text(const api::Response& resp) {
    switch (resp.body_case()) {
    case Body::kDumpFlows: return format_dump_flows(resp.dump_flows());
    case Body::kDumpDpflows: return format_dump_dpflows(resp.dump_dpflows());
    case Body::kShow: return format_show(resp.show());
    case Body::kPortStats: return format_port_stats(resp.port_stats());
    case Body::kPmdStats: return format_pmd_stats(resp.pmd_stats());
    case Body::kPmdRxqShow: return format_pmd_rxq_show(resp.pmd_rxq_show());
    case Body::kPmdRebalance: return format_pmd_rebalance(resp.pmd_rebalance());
    case Body::kDumpTables: return format_dump_tables(resp.dump_tables());
    case Body::kTrace: return format_trace(resp.trace());
    case Body::kFdbShow: return format_fdb_show(resp.fdb_show());
    case Body::kShowUplink: return format_show_uplink(resp.show_uplink());
    case Body::kVpcBatch: return format_vpc_batch(resp.vpc_batch());
    case Body::kVpcSync: return format_vpc_batch(resp.vpc_sync());
    case Body::kVpcShow: return format_vpc_show(resp.vpc_show());
    case Body::kVpcStats: return format_vpc_stats(resp.vpc_stats());
    case Body::kDumpGroups: return format_dump_groups(resp.dump_groups());
    case Body::kDumpMeters: return format_dump_meters(resp.dump_meters());
    // diff-flows: the differences, one per line (nothing: the same); replace-flows gets
    // no diff back, and prints nothing, as the other changes.
    case Body::kReplaceFlows: {
        std::string s;
        for (const auto& l : resp.replace_flows().diff()) s += l + "\n";
        return s;
    }
    // Changes print nothing on success, like ovs-vsctl/ovs-ofctl; --format json shows
    // their replies (add-port's port number, del-flows' count).
    case Body::kSetUplink:
    case Body::kDelUplink:
    case Body::kAddNeighbor:
    case Body::kDelNeighbor:
    case Body::kAddPort:
    case Body::kDelPort:
    case Body::kAddFlows:
    case Body::kDelFlows:
    case Body::kModFlows:
    case Body::kAddGroup:
    case Body::kDelGroups:
    case Body::kAddMeter:
    case Body::kDelMeters:
    case Body::kFdbFlush:
    case Body::kDelDpflows:
    case Body::BODY_NOT_SET:
        break;
    }
    return {};
}

bool format_json(const api::Response& resp, std::string& out, std::string& err) {
    const auto* refl = resp.GetReflection();
    const auto* oneof = api::Response::descriptor()->FindOneofByName("body");
    const auto* field = refl->GetOneofFieldDescriptor(resp, oneof);
    api::Empty empty;
    const google::protobuf::Message& body =
        field ? refl->GetMessage(resp, field) : static_cast<const google::protobuf::Message&>(empty);
    google::protobuf::util::JsonPrintOptions jo;
    jo.always_print_primitive_fields = true;
    jo.preserve_proto_field_names = true;
    out.clear();
    auto status = google::protobuf::util::MessageToJsonString(body, &out, jo);
    if (!status.ok()) {
        err = "cannot render reply as JSON: " + status.ToString();
        return false;
    }
    out += "\n";
    return true;
}

std::string format_error(const api::Error& e, const Options& opts, const api::Request& req) {
    std::string s = "switchctl: ";
    s += error_location(e, opts, req);
    s += e.message().empty() ? std::string("switchd rejected the request") : e.message();
    if (!e.token().empty()) s += " near '" + e.token() + "'";
    if (!e.field().empty()) s += " (field: " + e.field() + ")";
    return s;
}

}  // namespace vswitch::cli
