// VpcManager: holds the VPC model, applies changes to it atomically and keeps the
// pipeline (Ofproto) in line with it, incrementally.
//
// A batch (apply) is a list of Ops. It is applied all or nothing:
//  1. each op is validated against the model as the earlier ops of the batch left it,
//     then applied to the model, recording its inverse (an undo log), and its rule
//     changes are collected (a ChangeSet: "delete every rule with cookie C", "add this
//     flow"; an add followed by a delete of the same cookie within the batch cancels
//     out). The first invalid op undoes the ones before it: the model is unchanged and
//     the pipeline was never touched;
//  2. `commit` runs (switchd persists the new model there); if it fails, the model is
//     undone. (It runs once per batch that applied ops, and once more only if step 3
//     fails: then to save the old state again.)
//  3. the rule changes go to Ofproto::apply_batch: one new pipeline snapshot, deletes
//     by exact cookie. (If the pipeline refuses them, a bug, the model is undone and
//     commit runs again to save the old state.)
// One endpoint added or deleted changes O(1) rules: its own (cookie) and, for the first
// / last endpoint on a remote host, that host's tunnel classification rule.
//
// Generations (idempotent replay). Every VPC has a generation (0 = never set). A batch
// carries one generation G (0 = none: applied unconditionally, generations untouched).
// For G > 0, the ops of a VPC whose generation is already >= G are skipped ("already
// applied"), the others applied, and every VPC the applied ops touched then has
// generation G. A deleted VPC leaves a tombstone with its generation, so a replayed old
// batch does not resurrect it; creating it again needs a higher generation. Replaying
// any acknowledged batch is therefore harmless.
//
// Full sync (sync): the desired complete content of one VPC with a generation. If the
// VPC's generation is >= G it is acknowledged without changes; otherwise the manager
// computes the ops between the current and desired content (diff(): only objects that
// differ are deleted/re-added, so their rules alone change, and counters of the rest
// survive) and applies them as one batch: one pipeline snapshot, all or nothing. A
// different VNI or encapsulation recreates the VPC.
//
// Ports: rules that name a port exist only while the port does (vpc_compiler.h). The
// switch calls port_changed() when a port is added or deleted.
//
// Control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ofproto/ofproto.h"
#include "overlay/vpc/vpc_compiler.h"
#include "overlay/vpc/vpc_model.h"

namespace vswitch::vpc {

struct VpcResult {
    std::string name;
    bool applied = false;      // false: its generation was already >= the batch's
    uint64_t generation = 0;   // the VPC's generation now
};

struct BatchResult {
    std::vector<VpcResult> vpcs;   // every VPC the batch named, in first-mention order
    size_t rules_added = 0;
    size_t rules_deleted = 0;
    size_t ops_applied = 0;
};

// Packet counters of a VPC's rules, by what the rule does (docs/vpc.md#statistics).
struct VpcStats {
    uint64_t from_vm = 0;          // admitted from local VMs (table 0)
    uint64_t from_tunnel = 0;      // admitted from remote hosts (table 0)
    uint64_t arp_answered = 0;     // ARP requests answered locally (table 40)
    uint64_t pings_answered = 0;   // pings of a gateway answered (table 42)
    uint64_t ttl_expired = 0;      // TTL 1 at the router: ICMP time exceeded sent (table 42)
    uint64_t dhcp_answered = 0;    // DHCP requests taken by the VPC's server (table 0;
                                   // releases too: they are counted dhcp_consumed)
    uint64_t routed = 0;           // routed by the VPC router (table 42)
    uint64_t to_remote = 0;        // sent into the tunnel (table 43)
    uint64_t to_local = 0;         // delivered to a local VM (table 44)
    std::map<std::string, uint64_t> drops;   // drop reason -> packets
    size_t n_rules = 0;
};

class VpcManager {
public:
    using PortExists = Compiler::PortExists;
    // Runs after the model changed and before the pipeline does; false + err undoes
    // the change (switchd saves the state here).
    using Commit = std::function<bool(std::string& err)>;

    VpcManager(Ofproto& ofp, PortExists exists, CompilerOptions opts = {});
    ~VpcManager();

    // Errors: VpcError.field is the full path of the offending field, e.g.
    // "ops[2].add_endpoint.endpoint.mac" (batch) or "vpc.endpoints[3].mac" (sync).
    VpcError apply(uint64_t generation, const std::vector<Op>& ops, BatchResult& result,
                   const Commit& commit = {});
    VpcError sync(uint64_t generation, const VpcSpec& spec, BatchResult& result,
                  const Commit& commit = {});
    // The ops turning the current content of VPC spec.name into spec (sync's plan).
    std::vector<Op> diff(const VpcSpec& spec) const;

    // A port appeared or disappeared: (re)compiles the rules naming it. *changed = the
    // pipeline changed.
    FlowError port_changed(std::string_view port, bool* changed = nullptr);
    // Adds every VPC rule again (after something cleared the pipeline).
    FlowError reinstall();
    // The underlay's MTU (set-uplink mtu=) changed: the DHCP answers, which tell VMs
    // their MTU, are compiled again (one rule per bound port).
    FlowError set_underlay_mtu(uint16_t mtu);

    // Replaying many batches (switchd's journal at start): after defer_pipeline(),
    // apply() and sync() change the model and collect their rule changes without
    // touching the pipeline; apply_deferred() then makes them in one snapshot (instead
    // of one per batch) and ends the deferral. Errors of the pipeline show there.
    void defer_pipeline();
    FlowError apply_deferred();

    const Model& model() const { return model_; }
    const Compiler& compiler() const { return compiler_; }
    // Restoring persisted state: the tombstones of deleted VPCs.
    void set_tombstones(std::map<std::string, uint64_t, std::less<>> t) { model_.tombstones = std::move(t); }

    VpcStats stats(const Vpc& v) const;
    // Rules not owned by one VPC (unknown-VNI drops per tunnel port).
    VpcStats global_stats() const;

private:
    struct Impl;
    Ofproto& ofp_;
    Compiler compiler_;
    Model model_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace vswitch::vpc
