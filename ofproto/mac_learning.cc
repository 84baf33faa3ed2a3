#include "ofproto/mac_learning.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <unordered_map>

namespace vswitch::ofp {
namespace {

// 64 shards: with the default 65536 entries a shard holds ~1k, so the longest lock an
// upcall can wait for (age() or dump() walking one shard) is a few microseconds.
constexpr size_t kShardBits = 6;
constexpr size_t kShards = size_t{1} << kShardBits;

// (VLAN, MAC) packed into one word: VID in bits 48..59, MAC big-endian below. A u64 key
// hashes and compares without touching memory beyond itself.
uint64_t pack(uint16_t vlan, const uint8_t mac[6]) {
    uint64_t k = vlan & 0x0fff;
    for (int i = 0; i < 6; i++) k = (k << 8) | mac[i];
    return k;
}

uint16_t key_vlan(uint64_t k) { return static_cast<uint16_t>(k >> 48); }

MacLearning::Mac key_mac(uint64_t k) {
    MacLearning::Mac m;
    for (int i = 5; i >= 0; i--, k >>= 8) m[i] = static_cast<uint8_t>(k);
    return m;
}

// Fibonacci hashing: the shard index comes from the high bits of the product, so it is
// unrelated to the low bits the shard's own hash map buckets on (libstdc++ hashes a u64
// to itself).
size_t shard_of(uint64_t k) { return (k * 0x9e3779b97f4a7c15ull) >> (64 - kShardBits); }

struct Slot {
    uint32_t port;
    uint64_t seen_ns;   // last learn/refresh
};

}  // namespace

struct alignas(64) MacLearning::Shard {
    mutable std::mutex mu;
    std::unordered_map<uint64_t, Slot> map;
};

// Occupancy accounting across shards. Its own mutex, always taken inside a shard's (never
// the other way round), and only when an entry is created, moved or removed: a refresh,
// the common case, never touches it.
struct MacLearning::Counters {
    std::mutex mu;
    size_t entries = 0;
    std::unordered_map<uint32_t, size_t> per_port;

    std::atomic<uint64_t> learned{0}, moved{0}, aged{0}, flushed{0};
    std::atomic<uint64_t> not_learned_limit{0}, not_learned_full{0};
};

MacLearning::MacLearning() : MacLearning(Config{}) {}

MacLearning::MacLearning(Config cfg)
    : cfg_(std::move(cfg)),
      idle_ns_(static_cast<uint64_t>(std::max(0.0, cfg_.idle_age_s) * 1e9)),
      shards_(new Shard[kShards]),
      ctr_(new Counters) {}

MacLearning::~MacLearning() = default;

uint64_t MacLearning::now_ns() const {
    if (cfg_.clock) return cfg_.clock();
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
}

// Claims room for one more entry on `port` (and in the table if new_entry). On refusal
// says why and counts it.
bool MacLearning::reserve(uint32_t port, bool new_entry, LearnResult& why) {
    std::lock_guard lk(ctr_->mu);
    size_t& n = ctr_->per_port[port];
    if (n >= cfg_.max_per_port) {
        if (n == 0) ctr_->per_port.erase(port);   // max_per_port == 0: keep the map clean
        ctr_->not_learned_limit.fetch_add(1, std::memory_order_relaxed);
        why = LearnResult::NotLearnedLimit;
        return false;
    }
    if (new_entry && ctr_->entries >= cfg_.max_entries) {
        if (n == 0) ctr_->per_port.erase(port);
        ctr_->not_learned_full.fetch_add(1, std::memory_order_relaxed);
        why = LearnResult::NotLearnedFull;
        return false;
    }
    n++;
    if (new_entry) ctr_->entries++;
    return true;
}

void MacLearning::release(uint32_t port, bool entry_gone) {
    std::lock_guard lk(ctr_->mu);
    auto it = ctr_->per_port.find(port);
    if (it != ctr_->per_port.end() && --it->second == 0) ctr_->per_port.erase(it);
    if (entry_gone) ctr_->entries--;
}

LearnResult MacLearning::learn(uint16_t vlan, const uint8_t mac[6], uint32_t port) {
    if (mac[0] & 0x01) return LearnResult::Ignored;
    const uint64_t k = pack(vlan, mac);
    const uint64_t now = now_ns();
    Shard& s = shards_[shard_of(k)];
    std::lock_guard lk(s.mu);
    auto it = s.map.find(k);
    LearnResult why;
    if (it != s.map.end()) {
        Slot& slot = it->second;
        if (slot.port == port) {
            slot.seen_ns = now;
            return LearnResult::Refreshed;
        }
        if (!reserve(port, false, why)) return why;
        release(slot.port, false);
        slot = Slot{port, now};
        ctr_->moved.fetch_add(1, std::memory_order_relaxed);
        bump();
        return LearnResult::Moved;
    }
    if (!reserve(port, true, why)) return why;
    s.map.emplace(k, Slot{port, now});
    ctr_->learned.fetch_add(1, std::memory_order_relaxed);
    bump();
    return LearnResult::Learned;
}

std::optional<uint32_t> MacLearning::lookup(uint16_t vlan, const uint8_t mac[6]) const {
    const uint64_t k = pack(vlan, mac);
    const Shard& s = shards_[shard_of(k)];
    std::lock_guard lk(s.mu);
    auto it = s.map.find(k);
    if (it == s.map.end()) return std::nullopt;
    return it->second.port;
}

size_t MacLearning::age() {
    const uint64_t now = now_ns();
    size_t n = 0;
    for (size_t i = 0; i < kShards; i++) {
        Shard& s = shards_[i];
        std::lock_guard lk(s.mu);
        for (auto it = s.map.begin(); it != s.map.end();) {
            // now < seen: a learn raced in after `now` was read; not idle.
            if (now > it->second.seen_ns && now - it->second.seen_ns > idle_ns_) {
                release(it->second.port, true);
                it = s.map.erase(it);
                n++;
            } else {
                ++it;
            }
        }
    }
    if (n) {
        ctr_->aged.fetch_add(n, std::memory_order_relaxed);
        bump();
    }
    return n;
}

size_t MacLearning::flush_port(uint32_t port) {
    size_t n = 0;
    for (size_t i = 0; i < kShards; i++) {
        Shard& s = shards_[i];
        std::lock_guard lk(s.mu);
        n += std::erase_if(s.map, [&](const auto& kv) {
            if (kv.second.port != port) return false;
            release(port, true);
            return true;
        });
    }
    if (n) {
        ctr_->flushed.fetch_add(n, std::memory_order_relaxed);
        bump();
    }
    return n;
}

size_t MacLearning::flush() {
    size_t n = 0;
    for (size_t i = 0; i < kShards; i++) {
        Shard& s = shards_[i];
        std::lock_guard lk(s.mu);
        for (const auto& kv : s.map) release(kv.second.port, true);
        n += s.map.size();
        s.map.clear();
    }
    if (n) {
        ctr_->flushed.fetch_add(n, std::memory_order_relaxed);
        bump();
    }
    return n;
}

std::vector<MacLearning::Entry> MacLearning::dump(std::optional<uint32_t> port) const {
    const uint64_t now = now_ns();
    std::vector<Entry> out;
    for (size_t i = 0; i < kShards; i++) {
        const Shard& s = shards_[i];
        std::lock_guard lk(s.mu);
        for (const auto& [k, slot] : s.map) {
            if (port && slot.port != *port) continue;
            double age = now > slot.seen_ns ? (now - slot.seen_ns) / 1e9 : 0.0;
            out.push_back(Entry{key_vlan(k), key_mac(k), slot.port, age});
        }
    }
    std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
        if (a.port != b.port) return a.port < b.port;
        if (a.vlan != b.vlan) return a.vlan < b.vlan;
        return a.mac < b.mac;
    });
    return out;
}

MacLearning::Stats MacLearning::stats() const {
    Stats st{};
    st.learned = ctr_->learned.load(std::memory_order_relaxed);
    st.moved = ctr_->moved.load(std::memory_order_relaxed);
    st.aged = ctr_->aged.load(std::memory_order_relaxed);
    st.flushed = ctr_->flushed.load(std::memory_order_relaxed);
    st.not_learned_limit = ctr_->not_learned_limit.load(std::memory_order_relaxed);
    st.not_learned_full = ctr_->not_learned_full.load(std::memory_order_relaxed);
    std::lock_guard lk(ctr_->mu);
    st.entries = ctr_->entries;
    return st;
}

}  // namespace vswitch::ofp
