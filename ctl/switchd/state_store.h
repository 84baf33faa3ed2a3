// Persistent desired state of switchd (--db FILE), replayed on start, so a restart or
// crash keeps ports, their numbers, flows, groups, meters, the underlay and the VPCs.
// Nothing is acknowledged before it is on disk.
//
// Two files (store.proto):
//  - FILE, the snapshot: the whole state. save() writes it atomically (temporary file,
//    fsync, rename, fsync of the directory), then empties the journal.
//  - FILE.journal: the changes acknowledged since the snapshot, appended one record at a
//    time (append(): write + fdatasync). A VPC or flow change costs the size of the
//    request, not of the state: with a million endpoints the snapshot is ~50 MB.
// Each record carries a sequence number; the snapshot says the last one it includes, so
// a crash between the snapshot's rename and the journal's truncation replays nothing
// twice. Journal format: the 8 bytes "vswjrnl1", then per record a little-endian u32
// length, a u32 CRC-32 of the payload and the payload (a JournalRecord). A record cut
// short by a crash during its append is the file's last: load() reports it as a warning
// and cuts it off (it was never acknowledged). Damage anywhere else refuses the start,
// like a corrupt snapshot: starting without those changes would lose them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store.pb.h"

namespace vswitch {

class StateStore {
public:
    explicit StateStore(std::string path) : path_(std::move(path)) {}
    ~StateStore();
    StateStore(const StateStore&) = delete;
    StateStore& operator=(const StateStore&) = delete;

    // Empty path = no persistence (tests of the volatile mode).
    bool enabled() const { return !path_.empty(); }
    const std::string& path() const { return path_; }
    std::string journal_path() const { return path_ + ".journal"; }

    // The snapshot, and in `journal` the records after it, in order. Missing files =
    // empty state (first start). false + err on a corrupt file; `warning` is set when a
    // torn last record was dropped.
    bool load(store::StoredState& out, std::vector<store::JournalRecord>& journal, std::string& err,
              std::string* warning = nullptr);
    // A new snapshot of everything (it includes every record appended so far), then an
    // empty journal. Sets s's version and journal_seq (s is not copied: with a million
    // VPC endpoints a copy costs as much as the serialization).
    bool save(store::StoredState& s, std::string& err);
    // Appends r (its seq is set here); on disk when this returns true. On false nothing
    // was added.
    bool append(store::JournalRecord& r, std::string& err);

    // Sizes in bytes as last written (for the controller's compaction choice).
    uint64_t snapshot_bytes() const { return snapshot_bytes_; }
    uint64_t journal_bytes() const { return journal_bytes_; }
    uint64_t journal_records() const { return journal_records_; }

private:
    bool open_journal(std::string& err);
    bool reset_journal(std::string& err);

    std::string path_;
    int jfd_ = -1;                 // the journal, open for appending
    uint64_t last_seq_ = 0;        // of the last record appended (or included in the snapshot)
    uint64_t snapshot_bytes_ = 0;
    uint64_t journal_bytes_ = 0;   // header included
    uint64_t journal_records_ = 0;
    bool broken_ = false;          // a failed append left bytes it could not take back
};

}  // namespace vswitch
