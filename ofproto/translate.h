// Translation: runs one packet key through a FlowTables snapshot and produces what the
// datapath caches as a megaflow: datapath actions, the rules to credit, and a mask.
//
// The mask contract: every key that agrees with the translated key on the mask bits
// translates to the same actions and rules. So the mask must cover everything the
// outcome depended on, and should cover nothing else (wider megaflows = fewer upcalls).
//
// The walk. The packet enters table 0. A matching rule's actions run in order;
// resubmit(PORT,TABLE) looks the packet up again in TABLE (in_port = PORT meanwhile)
// and then carries on, goto_table:T (always last) continues in T. A table miss ends the
// current lookup (it drops only what has not been output yet). Resubmits nest at most
// kMaxResubmitDepth deep and at most kMaxResubmits happen per packet: past either limit
// (a loop) the whole translation is dropped.
//
// State. Actions work on a copy of the key (the working key) plus the pipeline key
// (registers, metadata; all zero at entry). The datapath packet is only brought up to
// date when it is output ("commit"): the set/push/pop/dec_ttl datapath actions needed
// to turn the last committed state into the working state are emitted before the
// Output. Each packet field carries a flag "its value no longer comes from the packet"
// (written by an action): such a field costs no mask bits when read, and committing it
// needs no comparison with the packet's value.
//
// How the mask is built, per table lookup (rules walked in priority order):
//  - the matching rule contributes its whole match mask: any key that agrees there
//    matches it too;
//  - each higher-priority rule that failed contributes ONE field on which the key
//    disagrees with it (plus that field's prerequisites, e.g. dl_type for nw_dst):
//    any key agreeing on those bits disagrees with the rule the same way, so fails it
//    too. Fields already in the mask (or written by actions) are preferred (they cost
//    nothing); otherwise the first mismatching field in a fixed coarse-to-fine order
//    (in_port, tunnel, dl_type, ...). Prefix fields contribute the rule's whole prefix,
//    not just the bits up to the first difference: that would be wider but would create
//    one datapath mask per prefix length, and each distinct mask is one more subtable
//    every datapath lookup probes;
//  - a rule that fails on pipeline-only state (registers, metadata) costs nothing:
//    that state comes from actions, whose own inputs are already in the mask;
//  - actions add what they read: output:P / ALL / FLOOD / in_port read in_port (output
//    to the ingress port is skipped); move reads its source bits; dec_ttl reads the TTL
//    and dl_type; writing part of a field reads the rest of it; writes of fields with
//    prerequisites (mod_nw_*, mod_tp_*) read dl_type (and nw_proto); VLAN actions read
//    whether the packet is tagged; a select group reads the fields it hashes (dl_src,
//    dl_dst, dl_type, nw_src, nw_dst, nw_proto, tp_src, tp_dst); NORMAL adds what
//    normal.h says. A field written by an action and then read costs nothing.
//
// The overlay (overlay_config.h). Before table 0, a packet received on the underlay
// port is checked against the VTEP: an ARP request for the local IP is answered
// (ArpReply + output to in_port; cached per asker, with a NeighborConfirm in the rules),
// an ARP reply to it is learned (neighbors.h) and consumed (not cached), and IPv4 to the local IP carried by VXLAN (UDP to a VXLAN port's dst_port) or
// GRE becomes TunnelPop(that tunnel port), after which the datapath looks the inner
// packet up again as received on the tunnel port with tun_id/tun_src/tun_dst set. Other
// packets go to table 0. Output to a tunnel port encapsulates: the remote comes from the
// port's remote_ip or tun_dst, the VNI/key from its key or tun_id (both read into the
// mask when taken from the packet), the outer MACs from the underlay and the neighbor
// table; the result is TunnelPush(template) + Output(underlay port). A tunnel output
// that cannot be built (no underlay, no remote, unresolved next hop: an ARP request is
// then asked for) is left out; if nothing else was output the packet is dropped under
// that reason. tun_id, tun_src and tun_dst are writable and never committed to the inner
// packet: they only parameterize tunnel outputs.
//
// Lookups run on each table's TableIndex (table_index.h: rules compiled to words at
// snapshot build, tuple space search for big tables), which accounts exactly the mask
// described above; with an observer, the rules are walked one by one instead (the
// reference the tests compare the index against).
//
// Thread safety: reads the snapshot only; allocates nothing beyond growing out's
// vectors (which callers reuse). Safe to run concurrently.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include "ofproto/flow_table.h"
#include "ofproto/mac_learning.h"
#include "ofproto/neighbors.h"
#include "switch/upcall.h"

namespace vswitch::ofp {

inline constexpr int kMaxResubmitDepth = 64;
inline constexpr int kMaxResubmits = 4096;

// Per-table lookup/match counters, credited per packet by the datapath: translation
// appends the counter of every table it looked up (and of every table where a rule
// matched) to Translation::rules, next to the rules.
struct TableCounter final : StatsSink {
    std::atomic<uint64_t> packets{0};
    void credit(uint64_t p, uint64_t, uint64_t) override {
        packets.fetch_add(p, std::memory_order_relaxed);
    }
};
struct TableStats {
    std::array<std::shared_ptr<TableCounter>, kNumTables> lookups, matches;
    TableStats() {
        for (auto& c : lookups) c = std::make_shared<TableCounter>();
        for (auto& c : matches) c = std::make_shared<TableCounter>();
    }
};

// Optional hook for trace-style tools: told about the walk, in order. depth = resubmit
// / group nesting (0 = table 0's lookup).
class XlateObserver {
public:
    virtual ~XlateObserver() = default;
    virtual void rule_examined(uint8_t table, const Rule& rule, bool matched) = 0;
    virtual void table_miss(uint8_t table) = 0;
    virtual void table_lookup(uint8_t table, int depth) {}
    virtual void action(const OfAction& a, int depth) {}
    // Something worth saying: a drop and its reason, NORMAL's verdict, a group's bucket.
    virtual void note(const std::string& text, int depth) {}
};

struct XlateEnv {
    const FlowTables& tables;
    MacLearning* mac_learning = nullptr;   // NORMAL; null = NORMAL drops
    const TableStats* stats = nullptr;     // null = not counted
    bool may_learn = true;                 // false when re-translating (normal.h)
    const PipelineKey* initial = nullptr;  // registers/metadata at entry (trace); null = 0
    Neighbors* neighbors = nullptr;        // underlay next hops; null = tunnels cannot resolve
    // Ask for unresolved next hops (Neighbors::want). True also when re-translating:
    // a megaflow that lost its next hop keeps its mask, so its packets never upcall
    // again and only re-translation can ask. False for trace (no side effects).
    bool may_resolve = true;
};

// Resets out, then fills it. Table-miss = drop.
void translate_key(const XlateEnv& env, const FlowKey& key, Translation& out,
                   XlateObserver* observer = nullptr);
void translate_key(const FlowTables& tables, const FlowKey& key, Translation& out,
                   XlateObserver* observer = nullptr);

}  // namespace vswitch::ofp
