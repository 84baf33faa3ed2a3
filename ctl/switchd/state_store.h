// Persistent desired state of switchd (--db). The control thread saves the whole state
// after each acknowledged change (it is small: ports and flow lines) and switchd replays
// it on start, so a restart or crash keeps ports, their numbers and flows.
#pragma once

#include <string>

#include "store.pb.h"

namespace vswitch {

class StateStore {
public:
    explicit StateStore(std::string path) : path_(std::move(path)) {}
    // Empty path = no persistence (tests of the volatile mode).
    bool enabled() const { return !path_.empty(); }
    const std::string& path() const { return path_; }
    // Missing file = empty state (first start). false + err on a corrupt file.
    bool load(store::StoredState& out, std::string& err) const;
    // Atomic: temp file, fsync, rename, fsync of the directory.
    bool save(const store::StoredState& s, std::string& err) const;

private:
    std::string path_;
};

}  // namespace vswitch
