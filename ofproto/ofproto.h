// ofproto: the OpenFlow-style pipeline. It owns the flow tables, groups, meters (their
// configuration; the datapath runs them) and NORMAL's MAC learning table, parses and
// prints the ovs-ofctl syntax, and answers the datapath's upcalls (FlowTranslator) by
// running a packet key through the tables into datapath actions plus a megaflow mask.
//
// Threading:
//  - Control-thread methods (add/mod/del/dump, groups, meters, expire, trace, version)
//    are called from one thread only.
//  - translate() is called concurrently by PMD threads. It reads an immutable snapshot
//    (rules, groups, ports) published through an atomic pointer; after publishing a new
//    snapshot the control side calls the injected rcu_synchronize() and only then frees
//    the old.
//  - Rules are shared between snapshots (shared_ptr) so their counters and creation
//    time survive unrelated changes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switch/upcall.h"

namespace vswitch {

namespace ofp {
class FlowTables;
class MacLearning;
class Neighbors;
struct MeterSpec;
struct OverlayConfig;
}

// Port names <-> datapath/OpenFlow port numbers; implemented by switchd's wiring.
class PortDirectory {
public:
    virtual ~PortDirectory() = default;
    virtual std::optional<uint32_t> port_number(std::string_view name) const = 0;
    virtual std::string port_name(uint32_t port_no) const = 0;   // "" if unknown
};

// Error from the parser or a table operation. token = the offending token.
struct FlowError {
    std::string message;
    std::string token;
    explicit operator bool() const { return !message.empty(); }
};

struct FlowDump {
    uint64_t cookie;
    uint32_t table;
    uint32_t priority;
    double duration_s;
    uint64_t n_packets;
    uint64_t n_bytes;
    double idle_age_s;
    std::string match;    // canonical form, names for ports
    std::string actions;  // canonical form
    uint32_t idle_timeout = 0;
    uint32_t hard_timeout = 0;
};

struct TableDump {
    uint32_t table;
    uint64_t active;    // rules
    uint64_t lookups;   // packets looked up in the table
    uint64_t matches;   // of which matched a rule
};

// Counters of one rule, selected by cookie (Ofproto::cookie_counters).
struct CookieCounters {
    uint64_t cookie;
    uint32_t table;
    uint32_t priority;
    uint64_t n_packets;
    uint64_t n_bytes;
};

struct GroupDump {
    uint32_t id;
    std::string text;   // canonical add-group form
    uint64_t n_flows;   // rules whose actions name the group
};

class Ofproto final : public FlowTranslator {
public:
    Ofproto(const PortDirectory& ports, std::function<void()> rcu_synchronize);
    ~Ofproto() override;

    // FlowTranslator (PMD threads; the control thread while revalidating).
    bool translate(const FlowKey& key, Translation& out) const override;

    // While one of these lives (the control thread holds it around Datapath::
    // revalidate()), translate() learns MAC addresses only on PMD threads (EAL worker
    // lcores): revalidation replays old keys, on the control thread and TBB workers,
    // and must not learn from them (normal.h).
    class NoLearningScope {
    public:
        explicit NoLearningScope(Ofproto& o);
        ~NoLearningScope();
        NoLearningScope(const NoLearningScope&) = delete;
        NoLearningScope& operator=(const NoLearningScope&) = delete;

    private:
        Ofproto& o_;
    };

    // Control thread. All-or-nothing: on error nothing changed. A filter that names its
    // table (`table=N`) looks at that table's rules only; without, at every rule.
    FlowError add_flows(const std::vector<std::string>& flows);
    // mod-flows: the selected rules get the given actions, keeping counters and age.
    FlowError mod_flows(std::string_view text, bool strict, size_t* n_modified);
    // With `cookies`, appends the cookie of each deleted rule.
    FlowError del_flows(std::string_view match, bool strict, size_t* n_deleted,
                        std::vector<uint64_t>* cookies = nullptr);

    // replace-flows (and diff-flows, dry_run): the rules whose cookie & keep_mask !=
    // keep_cookie become exactly `flows`, as ovs-ofctl replace-flows: a rule with the
    // table, priority and match of a line is kept as it is (counters too) when the line
    // says the same (cookie, timeouts, actions), replaced (counters reset, as add-flow)
    // when it does not; the other rules go, the other lines are added. The kept rules
    // (the VPC manager's) are not looked at, and lines with such a cookie are skipped
    // (counted): a dump-flows output fed back must not fail on them. One snapshot, all
    // or nothing. `diff`: "-FLOW" for each rule removed or replaced, "+FLOW" for each one
    // added or replacing, in table and priority order.
    struct ReplaceResult {
        size_t added = 0, modified = 0, deleted = 0, unchanged = 0, skipped = 0;
        std::vector<std::string> diff;
        bool changed() const { return added || modified || deleted; }
    };
    // With `rejected` (journal replay), a line that does not parse (a port not restored)
    // is appended there and left out instead of failing the whole change.
    FlowError replace_flows(const std::vector<std::string>& flows, uint64_t keep_cookie, uint64_t keep_mask,
                            bool dry_run, ReplaceResult& out, std::vector<std::string>* rejected = nullptr);

    // The flow tables as they are now (rules with their counters, groups), to go back to
    // with rollback() when a change cannot be saved. Costs a copy of the tables' chunk
    // lists, not of their rules (snapshots share them).
    using Checkpoint = std::shared_ptr<const ofp::FlowTables>;
    Checkpoint checkpoint() const;
    void rollback(const Checkpoint& cp);
    FlowError dump_flows(std::string_view filter, std::vector<FlowDump>& out) const;
    void dump_tables(std::vector<TableDump>& out) const;

    // Groups: add (modify = replace an existing one, else it must not exist), delete
    // ("" = all; rules using a deleted group are deleted too), dump.
    FlowError add_group(std::string_view text, bool modify);
    FlowError del_groups(std::string_view text, size_t* n_deleted, size_t* n_flows_deleted);
    FlowError dump_groups(std::string_view text, std::vector<GroupDump>& out) const;

    // Meters: configuration only (the caller programs the datapath). add replaces an
    // existing one when modify. del returns the deleted ids (rules using them go too).
    FlowError add_meter(std::string_view text, bool modify, ofp::MeterSpec& out);
    FlowError del_meters(std::string_view text, std::vector<uint32_t>& deleted,
                         size_t* n_flows_deleted);
    FlowError find_meters(std::string_view text, std::vector<ofp::MeterSpec>& out) const;
    std::string format_meter(const ofp::MeterSpec& m) const;

    // The ports output:all, flood and NORMAL may use (the switch's ports).
    void set_ports(std::vector<uint32_t> ports);

    // The underlay and the tunnel ports (overlay_config.h); switchd's wiring keeps it in
    // line with the ports and set-uplink. A change is a new snapshot (revalidate after).
    void set_overlay(ofp::OverlayConfig cfg);
    const ofp::OverlayConfig& overlay() const;
    // Underlay next hops; its version() moves on every change (revalidate after).
    ofp::Neighbors& neighbors();
    const ofp::Neighbors& neighbors() const;

    // Removes rules whose idle_timeout or hard_timeout passed; returns how many. With
    // `removed`, appends for each one the match that deletes exactly it with
    // `del_flows(match, strict=true)` ("table=T,priority=P,..."), for the journal.
    size_t expire(std::chrono::steady_clock::time_point now, std::vector<std::string>* removed = nullptr);

    // Runs a packet described in match syntax (fields not given are zero; an IP packet
    // without nw_ttl gets 64; reg/metadata set the pipeline's initial state) through the
    // pipeline without learning or counting. Lines: see docs/trace.md.
    FlowError trace(std::string_view packet, std::vector<std::string>& lines) const;

    ofp::MacLearning& mac_learning();
    const ofp::MacLearning& mac_learning() const;

    // Bumped by every change that can alter translation; the datapath revalidates its
    // megaflows when it moves.
    uint64_t version() const;
    // What changed since the last call, for revalidation: true if anything beyond the
    // rules of tables did (groups, meters, ports, the overlay: re-translate everything);
    // else `tables` is the bloom (bit = table id % 64, as Translation::tables) of the
    // tables whose rules changed and, with `rules`, those rules while there are at most
    // kMaxRuleChanges in all (their tables' bits are then not in `tables`; without
    // `rules` they are). Control thread.
    bool take_changes(uint64_t& tables, std::vector<RuleChange>* rules = nullptr);
    static constexpr size_t kMaxRuleChanges = 4096;
    size_t n_rules() const;

    // Canonical text of every rule / group / meter (the persistent store replays them:
    // meters, then groups, then flows).
    std::vector<std::string> serialize() const;
    // The same without the rules whose cookie & skip_mask == skip_cookie.
    std::vector<std::string> serialize(uint64_t skip_cookie, uint64_t skip_mask) const;
    std::vector<std::string> serialize_groups() const;
    std::vector<std::string> serialize_meters() const;

    // ---------------------------------------------------------------- VPC overlay
    // (overlay/vpc compiles VPC objects into rules, one cookie per object.)

    // One change, all or nothing, published as ONE new snapshot: every rule whose
    // cookie equals one of del_cookies is removed (found through the cookie index), then the
    // `add` flows (add-flow syntax, parsed completely first; same replacement rules as
    // add_flows) are installed. On error nothing changed. *n_deleted = rules removed.
    FlowError apply_batch(const std::vector<std::string>& add,
                          const std::vector<uint64_t>& del_cookies, size_t* n_deleted = nullptr);
    // Counters of the rules with cookie & mask == value & mask, without formatting
    // their text (per-VPC statistics over millions of rules).
    void cookie_counters(uint64_t value, uint64_t mask, std::vector<CookieCounters>& out) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace vswitch
