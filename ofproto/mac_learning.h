// MacLearning: the per-VLAN MAC table behind the NORMAL action (normal.h).
//
// Maps (VLAN, MAC) -> port, learned from the source addresses of frames NORMAL
// translates. Entries age out after Config::idle_age_s without being seen; a MAC seen
// on another port moves there; a port may own at most Config::max_per_port entries and
// the table at most Config::max_entries (beyond that, new MACs are simply not learned:
// their frames are still forwarded, and traffic towards them is flooded).
//
// Threading (all methods are thread-safe):
//  - learn() and lookup() run on PMD threads during upcalls, concurrently;
//  - age(), flush*(), dump(), stats() and the refresh path (normal.h) run on the
//    control thread.
// The table is split into shards, each behind its own mutex held for a few hash-map
// operations only, so an upcall never waits behind a whole-table walk: age()/dump()
// take one shard at a time. lookup() allocates nothing.
//
// Revalidation: version() bumps on every change that can alter a translation (a MAC
// learned, moved, aged out or flushed). A refresh of an entry already on the same port
// does not bump it (the translation is unchanged). The control thread compares it with
// the value it saw last and, when it moved, re-translates every megaflow.
//
// Time: every method reads Config::clock (nanoseconds, monotonic) itself, so callers do
// not thread a timestamp through translation; tests inject a fake clock.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace vswitch::ofp {

struct MacLearningConfig {
    double idle_age_s = 300;       // an entry not seen for this long is removed by age()
    size_t max_entries = 65536;    // whole table
    size_t max_per_port = 4096;    // per port (a port flooding random sources cannot
                                   // evict everyone else's entries)
    // Monotonic nanoseconds. Empty = std::chrono::steady_clock.
    std::function<uint64_t()> clock;
};

enum class LearnResult : uint8_t {
    Refreshed,         // already known on this port: its age was reset (no version bump)
    Learned,           // new entry (version bumped)
    Moved,             // was on another port, now on this one (version bumped)
    NotLearnedLimit,   // new or moving MAC, but the port already owns max_per_port
    NotLearnedFull,    // new MAC, but the table holds max_entries
    Ignored,           // multicast/broadcast source: never learned
};

// True if the result changed the table in a way that needs revalidation.
inline bool changed(LearnResult r) { return r == LearnResult::Learned || r == LearnResult::Moved; }

class MacLearning {
public:
    using Config = MacLearningConfig;
    using Mac = std::array<uint8_t, 6>;

    struct Entry {
        uint16_t vlan;    // VID, 0..4095 (0 = untagged or priority-tagged)
        Mac mac;
        uint32_t port;
        double age_s;     // seconds since last learned/refreshed
    };

    struct Stats {
        uint64_t learned;            // new entries
        uint64_t moved;              // port changes (MAC moves)
        uint64_t aged;               // removed by age()
        uint64_t flushed;            // removed by flush()/flush_port()
        uint64_t not_learned_limit;  // learning attempts refused by max_per_port
        uint64_t not_learned_full;   // learning attempts refused by max_entries
        size_t entries;              // current size
    };

    MacLearning();
    explicit MacLearning(Config cfg);
    ~MacLearning();
    MacLearning(const MacLearning&) = delete;
    MacLearning& operator=(const MacLearning&) = delete;

    // Records that `mac` was seen as a source on (vlan, port) now. vlan is masked to 12
    // bits. A move into a port that is at its limit is refused (the entry stays where it
    // was): the per-port limit is a hard invariant.
    LearnResult learn(uint16_t vlan, const uint8_t mac[6], uint32_t port);

    // The port `mac` was learned on in `vlan`, if any (whatever its age: only age()
    // removes entries, so what translation saw stays true until the version moves).
    std::optional<uint32_t> lookup(uint16_t vlan, const uint8_t mac[6]) const;

    // Removes entries idle for more than idle_age_s. Returns how many (bumps version if
    // any). Control thread, every revalidation tick or so.
    size_t age();

    // Removes the entries on `port` (port deleted) / every entry. Return how many
    // (bump version if any).
    size_t flush_port(uint32_t port);
    size_t flush();

    // Entries sorted by (port, vlan, mac); only those on `port` if given. For
    // `switchctl fdb-show [PORT]`.
    std::vector<Entry> dump(std::optional<uint32_t> port = {}) const;

    // Bumped by every change that can alter a translation (see top of file).
    uint64_t version() const { return version_.load(std::memory_order_acquire); }

    Stats stats() const;
    const Config& config() const { return cfg_; }

private:
    struct Shard;
    struct Counters;
    uint64_t now_ns() const;
    void bump() { version_.fetch_add(1, std::memory_order_acq_rel); }
    bool reserve(uint32_t port, bool new_entry, LearnResult& why);
    void release(uint32_t port, bool entry_gone);

    Config cfg_;
    uint64_t idle_ns_;
    std::unique_ptr<Shard[]> shards_;
    std::unique_ptr<Counters> ctr_;
    std::atomic<uint64_t> version_{0};
};

}  // namespace vswitch::ofp
