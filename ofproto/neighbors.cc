#include "ofproto/neighbors.h"

#include <chrono>
#include <cstring>
#include <mutex>

namespace vswitch::ofp {

int64_t Neighbors::steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

bool Neighbors::lookup(uint32_t ip, uint8_t mac[6]) const {
    std::shared_lock lk(mu_);
    auto it = map_.find(ip);
    if (it == map_.end()) return false;
    std::memcpy(mac, it->second.mac, 6);
    return true;
}

void Neighbors::learn(uint32_t ip, const uint8_t mac[6]) {
    if (ip == 0 || (mac[0] & 1)) return;   // probes (sender 0.0.0.0) and nonsense
    {
        std::shared_lock lk(mu_);
        auto it = map_.find(ip);
        if (it != map_.end() && it->second.is_static) return;
        if (it != map_.end() && std::memcmp(it->second.mac, mac, 6) == 0) {
            it->second.since_ns.store(now_ns(), std::memory_order_relaxed);   // confirmed
            return;   // the common case: nothing else changes, no exclusive lock
        }
    }
    std::unique_lock lk(mu_);
    Entry& e = map_[ip];
    if (e.is_static) return;
    std::memcpy(e.mac, mac, 6);
    e.since_ns.store(now_ns(), std::memory_order_relaxed);
    e.probes = 0;
    pending_.erase(ip);
    version_.fetch_add(1, std::memory_order_acq_rel);
}

void Neighbors::want(uint32_t ip) {
    std::unique_lock lk(mu_);
    auto [it, fresh] = pending_.try_emplace(ip, Pending{0, 0});
    it->second.wanted_ns = now_ns();
}

void Neighbors::set_static(uint32_t ip, const uint8_t mac[6]) {
    std::unique_lock lk(mu_);
    Entry& e = map_[ip];
    std::memcpy(e.mac, mac, 6);
    e.is_static = true;
    e.since_ns.store(now_ns(), std::memory_order_relaxed);
    e.probes = 0;
    pending_.erase(ip);
    version_.fetch_add(1, std::memory_order_acq_rel);
}

bool Neighbors::remove(uint32_t ip) {
    std::unique_lock lk(mu_);
    if (!map_.erase(ip)) return false;
    version_.fetch_add(1, std::memory_order_acq_rel);
    return true;
}

void Neighbors::clear_learned() {
    std::unique_lock lk(mu_);
    size_t n = std::erase_if(map_, [](const auto& kv) { return !kv.second.is_static; });
    if (n) version_.fetch_add(1, std::memory_order_acq_rel);
}

std::vector<NeighborEntry> Neighbors::dump() const {
    const int64_t now = now_ns();
    std::vector<NeighborEntry> out;
    std::shared_lock lk(mu_);
    for (const auto& [ip, en] : map_) {
        NeighborEntry e;
        e.ip = ip;
        std::memcpy(e.mac, en.mac, 6);
        e.is_static = en.is_static;
        e.age_s = double(now - en.since_ns.load(std::memory_order_relaxed)) / 1e9;
        e.probing = en.probes > 0;
        out.push_back(e);
    }
    return out;
}

std::vector<uint32_t> Neighbors::due_requests() {
    const int64_t now = now_ns();
    std::vector<uint32_t> due;
    std::unique_lock lk(mu_);
    for (auto it = pending_.begin(); it != pending_.end();) {
        Pending& p = it->second;
        if (double(now - p.wanted_ns) / 1e9 > kGiveUpS) {
            // Megaflows still needing it no longer upcall (their drop is cached): the
            // version change makes the control thread re-translate them, and those
            // that still need it want it again.
            it = pending_.erase(it);
            version_.fetch_add(1, std::memory_order_acq_rel);
            continue;
        }
        if (p.requested_ns == 0 || double(now - p.requested_ns) / 1e9 >= kRequestIntervalS) {
            p.requested_ns = now;
            due.push_back(it->first);
        }
        ++it;
    }
    if (aging_ns_ > 0) {
        for (auto it = map_.begin(); it != map_.end();) {
            Entry& e = it->second;
            if (e.is_static || now - e.since_ns.load(std::memory_order_relaxed) < aging_ns_) {
                e.probes = 0;   // fresh, or confirmed since the last probe
                ++it;
                continue;
            }
            if (e.probes && double(now - e.probed_ns) / 1e9 < kRequestIntervalS) {
                ++it;
                continue;
            }
            if (e.probes >= kProbes) {   // a second after the last probe, unanswered
                it = map_.erase(it);
                aged_out_++;
                version_.fetch_add(1, std::memory_order_acq_rel);
                continue;
            }
            e.probes++;
            e.probed_ns = now;
            due.push_back(it->first);
            ++it;
        }
    }
    requests_sent_ += due.size();
    return due;
}

}  // namespace vswitch::ofp
