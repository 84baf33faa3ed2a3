// The switch's control logic: one handler per API request, run on the control thread
// (switchd's io_context). It owns the order of operations that keeps promises:
//  - validate fully before changing anything (a rejected request changes nothing);
//  - apply to the datapath/pipeline, then persist (VPC and flow changes: one journal
//    record; the rest: the whole state), then acknowledge; if persisting fails the
//    change is rolled back and the request fails;
//  - after any flow change, revalidate the megaflows before answering, so the reply
//    means "traffic now follows the new flows".
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ofproto/ofproto.h"
#include "ofproto/overlay_config.h"
#include "state_store.h"
#include "switch/datapath.h"
#include "vpc_service.h"
#include "vswitch.pb.h"

namespace vswitch {

class Controller {
public:
    Controller(Datapath& dp, Ofproto& ofp, StateStore& store, std::string db_desc);

    // Replays the stored state (ports, then meters, groups, flows). What fails to come
    // back (a device gone) is logged and kept in unrestored_, which is saved with every
    // later change and retried at the next start: nothing acknowledged is lost.
    // false + err when the state file itself cannot be read (switchd then refuses to start).
    bool restore(std::string& err);

    // The journal is compacted (a snapshot written, the journal emptied) once it holds
    // more than this many bytes; 0 = the snapshot's size, at least kMinJournalMax.
    void set_journal_max(uint64_t bytes) { journal_max_ = bytes; }
    static constexpr uint64_t kMinJournalMax = 4u << 20;

    void handle(const api::Request& req, api::Response& resp);

    // Periodic housekeeping (every 100 ms): rx queue load samples (every 5 s), stats
    // push to rules, idle megaflow expiry, flow timeouts, MAC aging, and revalidation
    // when the tables or the MAC table changed since the last look.
    void tick();

private:
    void add_port(const api::AddPortRequest& r, api::Response& resp);
    void del_port(const api::DelPortRequest& r, api::Response& resp);
    void add_flows(const api::AddFlowsRequest& r, api::Response& resp);
    void del_flows(const api::DelFlowsRequest& r, api::Response& resp);
    void replace_flows(const api::ReplaceFlowsRequest& r, api::Response& resp);
    void fdb_flush(const api::FdbFlushRequest& r, api::Response& resp);
    // fdb-show/fdb-flush's PORT ("" = all: port stays empty); false: an error in resp.
    bool fdb_port(const std::string& name, std::optional<uint32_t>& port, api::Response& resp);
    void dump_flows(const api::DumpFlowsRequest& r, api::Response& resp);
    void mod_flows(const api::ModFlowsRequest& r, api::Response& resp);
    void dump_tables(api::Response& resp);
    void trace(const api::TraceRequest& r, api::Response& resp);
    void fdb_show(const api::FdbShowRequest& r, api::Response& resp);
    void add_group(const api::AddGroupRequest& r, api::Response& resp);
    void del_groups(const api::DelGroupsRequest& r, api::Response& resp);
    void dump_groups(const api::DumpGroupsRequest& r, api::Response& resp);
    void add_meter(const api::AddMeterRequest& r, api::Response& resp);
    void del_meters(const api::DelMetersRequest& r, api::Response& resp);
    void dump_meters(const api::DumpMetersRequest& r, api::Response& resp);
    void dump_dpflows(api::Response& resp);
    void show(api::Response& resp);
    void port_stats(const api::PortStatsRequest& r, api::Response& resp);
    void pmd_stats(const api::PmdStatsRequest& r, api::Response& resp);
    void pmd_rxq_show(api::Response& resp);
    void pmd_rebalance(api::Response& resp);

    // Overlay (controller_overlay.cc).
    void set_uplink(const api::SetUplinkRequest& r, api::Response& resp);
    void del_uplink(api::Response& resp);
    void add_neighbor(const api::AddNeighborRequest& r, api::Response& resp);
    void del_neighbor(const api::DelNeighborRequest& r, api::Response& resp);
    void show_uplink(api::Response& resp);
    bool parse_uplink(const api::UplinkConfig& c, ofp::Underlay& u, std::string& field,
                      std::string& err) const;
    bool ensure_tunnel_port(const std::string& name, const std::string& type, std::string& err);
    void sync_overlay();
    void resolve_neighbors();
    void restore_overlay(const store::StoredState& s);
    void save_overlay(store::StoredState& s) const;

    // Saves the whole state (a snapshot; the journal is emptied). Port, group, meter and
    // underlay changes do this: a journal record may then name only ports the snapshot
    // has.
    bool persist(std::string& err);
    // Saves one VPC or flow change: appended to the journal, or a snapshot when the
    // journal is full or cannot be written.
    bool journal(store::JournalRecord& rec, std::string& err);
    // journal() for a flow request: on failure, the pipeline goes back to `before` and
    // resp gets "not saved, flows not <what>: ...".
    bool journal_flows(store::JournalRecord& rec, const Ofproto::Checkpoint& before, api::Response& resp,
                       const char* what);
    // Whether a deletion took VPC rules (by their cookies), which then go back in.
    static bool took_vpc_rules(const std::vector<uint64_t>& cookies);
    // The journal's records in order (restore): runs of VPC records through
    // VpcService::replay, flow records one by one. Returns how many applied.
    size_t replay(const std::vector<store::JournalRecord>& journal);
    // One flow record; "" or why it did not apply (an added flow naming a port that is
    // gone is kept in unrestored_ instead).
    std::string replay_flow_change(const store::JournalRecord& rec);
    // The pipeline part of the stored state (meters, groups, flows).
    store::StoredState pipeline_state() const;
    void add_pipeline_state(store::StoredState& s) const;
    // Replaces meters, groups and flows by those of s (rollback and restore); what does
    // not apply is logged and skipped.
    void load_pipeline(const store::StoredState& s, store::StoredState* failed = nullptr);
    bool program_meter(uint32_t id, std::string& err);
    // Tells the pipeline which ports exist (output:all, flood, NORMAL).
    void sync_ports();
    // Revalidates megaflows (retranslating all if force), without MAC learning, and
    // records the versions it saw.
    void revalidate(bool force);
    // After flow and VPC changes: re-translates only the megaflows that looked up a
    // table whose rules changed (Ofproto::take_changes), or all if more changed.
    void revalidate_changed();
    void flow_error(api::Response& resp, const FlowError& fe, const char* field);
    void fill_port(const Port& p, api::PortInfo& out) const;
    std::string port_name(uint32_t no) const;

    Datapath& dp_;
    Ofproto& ofp_;
    StateStore& store_;
    std::string db_desc_;
    uint64_t journal_max_ = 0;
    std::vector<api::PortConfig> port_cfgs_;   // desired ports, as acknowledged
    // What the state file held but could not be brought back at start (a device gone, a
    // flow naming such a port): kept and saved again, so nothing acknowledged is lost;
    // retried at the next start.
    store::StoredState unrestored_;
    uint64_t seen_version_ = 0;
    uint64_t seen_ml_version_ = 0;
    uint64_t seen_nb_version_ = 0;
    std::chrono::steady_clock::time_point last_reval_{};
    api::UplinkConfig uplink_;                         // port "" = none
    std::vector<api::AddNeighborRequest> static_neighbors_;
    // pmd-stats --clear baselines, per PMD.
    std::vector<api::PmdStats> baseline_;
    // VPC requests, state and rules (vpc_service.h). Last: it uses the members above.
    VpcService vpc_;
};

// "field: message" (datapath errors) -> Error{field, message}.
void set_error(api::Response& resp, const std::string& prefix, const std::string& err);

}  // namespace vswitch
