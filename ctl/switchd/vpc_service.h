// The VPC requests of the control API (ctl/proto/vpc.proto) on top of vpc::VpcManager:
// conversion between the protobuf messages and the model, persistence of the VPC state
// (store.proto: vpcs, vpc_tombstones) and its restore at start. The Controller hands it
// the VPC requests, tells it about port changes, and asks it to put the VPC rules back
// whenever it rebuilt the pipeline (rollback, restore).
//
// Order of operations for a change (as every controller handler): validate the whole
// request against the model; apply it to the model; persist; only then change the
// pipeline. A failure at any step leaves model, state file and pipeline as they were.
// Persisting a change appends the request to the journal (the Journal callback, when
// set: a record the size of the request) or else saves the whole state (Persist); the
// state is saved whole also when a change must be taken back after it was journaled.
#pragma once

#include <functional>
#include <span>
#include <string>

#include "overlay/vpc/vpc_manager.h"
#include "store.pb.h"
#include "vswitch.pb.h"

namespace vswitch {

class VpcService {
public:
    using Persist = std::function<bool(std::string& err)>;
    using Log = std::function<void(const std::string&)>;
    // Appends one record (switchd: to the state file's journal). false + err: the
    // change is not made.
    using Journal = std::function<bool(store::JournalRecord& rec, std::string& err)>;

    VpcService(Ofproto& ofp, vpc::VpcManager::PortExists exists, Persist persist, Log log = {});

    // True if req is a VPC request; resp is then filled. *pipeline_changed: the rules
    // changed (the caller revalidates megaflows before answering).
    bool handle(const api::Request& req, api::Response& resp, bool* pipeline_changed);

    void set_journal(Journal j) { journal_ = std::move(j); }

    // Adds the VPC state to s (Controller::persist).
    void save(store::StoredState& s) const;
    // Rebuilds the VPCs of s (after ports and flows). A VPC that does not validate any
    // more is logged and copied to `failed` (saved again, retried at the next start).
    void restore(const store::StoredState& s, store::StoredState& failed);
    // Then the journal's records, in order (after restore): the model as each record
    // left it, the pipeline changed once at the end. A record that no longer applies is
    // logged and skipped. Returns how many applied.
    size_t replay(std::span<const store::JournalRecord> records);
    // A port was added or deleted; logs what it could not do.
    void port_changed(const std::string& name);
    // Every VPC rule again (after the pipeline was cleared).
    void reinstall();
    // VPC rules in the pipeline now (cookie 0x56...).
    size_t pipeline_rules() const;

    vpc::VpcManager& manager() { return mgr_; }
    const vpc::VpcManager& manager() const { return mgr_; }

private:
    void batch(const api::VpcBatchRequest& r, api::Response& resp, bool* changed);
    void sync(const api::VpcSyncRequest& r, api::Response& resp, bool* changed);
    void show(const api::VpcShowRequest& r, api::Response& resp) const;
    void stats(const api::VpcStatsRequest& r, api::Response& resp) const;

    Ofproto& ofp_;
    vpc::VpcManager mgr_;
    // The commit callback of one change: the first call journals `rec` (built by
    // fill_rec), a second one (taking the change back) saves the whole state.
    vpc::VpcManager::Commit committer(const std::function<void(store::JournalRecord&)>& fill_rec);

    Persist persist_;
    Log log_;
    Journal journal_;
};

// Conversions (exposed for tests).
vpc::VpcSpec vpc_spec_from_proto(const api::VpcConfig& c);
void vpc_spec_to_proto(const vpc::VpcSpec& s, api::VpcConfig& out);
// vpc_spec_to_proto(to_spec(v)) without the spec in between (the state file's save).
void vpc_to_proto(const vpc::Vpc& v, api::VpcConfig& out);
// false + err ("ops[i]: ...") for an op with nothing set.
bool vpc_op_from_proto(const api::VpcOp& in, vpc::Op& out);

}  // namespace vswitch
