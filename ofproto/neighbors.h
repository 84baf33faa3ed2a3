// The underlay's neighbor table: IPv4 address -> MAC of the hosts the VTEP talks to
// directly (remote VTEPs on the local subnet, or the gateway).
//
// Entries are static (add-neighbor) or learned from ARP received on the uplink (requests
// and replies addressed to the local IP; the sender's address and Ethernet source). A
// static entry is never overwritten by learning.
//
// Aging: an ARP from a learned neighbor with the MAC it has confirms it. One that has
// not been confirmed for aging() seconds (default 900, OVS's tunnel neighbor idle time)
// is asked for again, kProbes broadcast requests a second apart, while it keeps its
// entry, so traffic to a live neighbor never stops; if none is answered it is removed
// (version() moves: its megaflows are re-translated, and those still needing it want
// it again). A MAC that changed meanwhile is simply learned from the answer.
// ARP replies to the local IP (the answers to those probes, a few a second at most) are
// never cached in a megaflow (Translation::cache), so each one reaches translation and
// is learned at once. ARP requests to the local IP are cached, one megaflow per asker
// (sender IP and Ethernet source are in its mask): anyone on the underlay may send them
// at any rate, and uncached each took an upcall, a storm of them spending the uplink's
// upcall budget (new tunnel flows then dropped as upcall_limit). A cached request
// confirms its sender through a NeighborConfirm in the megaflow's rules, when the
// revalidator pushes the megaflow's packet counts (every tick; with many megaflows
// every few seconds), as OVS's xlate cache refreshes its tunnel neighbors.
//
// Resolution: a translation that needs a next hop it does not know records it with
// want(); the control thread (every tick) collects the addresses to ask for with
// due_requests() and sends one ARP request per address at most once a second, for as
// long as it keeps being wanted (up to kGiveUpS after the last want). Upcalls want, and
// so does re-translation (revalidation), since a megaflow whose translation is
// drop(tunnel_no_neighbor) keeps its packets from upcalling. Giving up on an address
// moves version(): the revalidation that follows re-translates those megaflows, and
// the ones that still need the address want it again. So an address is asked for
// about once a second while some megaflow needs it, with a pause at each give-up.
//
// Threading: lookup/learn/want from PMD threads during translation, the rest from the
// control thread. One reader-writer lock, held only for a hash lookup or insert (never
// across anything else); lookups share it. Translation runs on upcalls only, not per
// packet, so this is off the fast path. version() moves when a mapping changes, so the control
// thread revalidates megaflows built on the old one.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <shared_mutex>
#include <unordered_map>

#include "switch/upcall.h"

namespace vswitch::ofp {

struct NeighborEntry {
    uint32_t ip = 0;          // network order
    uint8_t mac[6] = {};
    bool is_static = false;
    double age_s = 0;         // since added (static) or last learned or confirmed
    bool probing = false;     // aged: being asked for again
};

class Neighbors {
public:
    static constexpr double kRequestIntervalS = 1.0;
    static constexpr double kGiveUpS = 30.0;
    static constexpr double kDefaultAgingS = 900.0;
    static constexpr unsigned kProbes = 3;

    // Monotonic nanoseconds; tests substitute their own clock.
    using Clock = int64_t (*)();
    static int64_t steady_ns();
    explicit Neighbors(Clock clock = &steady_ns) : clock_(clock) {}

    // PMD threads (translation).
    bool lookup(uint32_t ip, uint8_t mac[6]) const;
    void learn(uint32_t ip, const uint8_t mac[6]);
    void want(uint32_t ip);

    // Control thread.
    void set_aging(double s) { aging_ns_ = static_cast<int64_t>(s * 1e9); }   // 0 = never
    double aging() const { return double(aging_ns_) / 1e9; }
    void set_static(uint32_t ip, const uint8_t mac[6]);
    bool remove(uint32_t ip);     // false if absent
    void clear_learned();
    std::vector<NeighborEntry> dump() const;
    // Addresses to send an ARP request for now (marks them requested): the wanted ones,
    // and the aged ones being probed. Removes the aged ones that did not answer.
    std::vector<uint32_t> due_requests();
    uint64_t version() const { return version_.load(std::memory_order_acquire); }
    uint64_t requests_sent() const { return requests_sent_; }
    uint64_t aged_out() const { return aged_out_; }   // learned entries removed unanswered

private:
    struct Entry {
        uint8_t mac[6] = {};
        bool is_static = false;
        // Added, learned or confirmed. Confirmations store it under the shared lock
        // (they change nothing else), hence atomic.
        std::atomic<int64_t> since_ns{0};
        unsigned probes = 0;       // requests sent since it aged (control thread)
        int64_t probed_ns = 0;     // the last one
    };
    struct Pending {
        int64_t wanted_ns;      // last want()
        int64_t requested_ns;   // last ARP request, 0 = never
    };
    int64_t now_ns() const { return clock_(); }

    const Clock clock_;
    mutable std::shared_mutex mu_;
    std::unordered_map<uint32_t, Entry> map_;
    std::unordered_map<uint32_t, Pending> pending_;
    std::atomic<uint64_t> version_{0};
    uint64_t requests_sent_ = 0;
    uint64_t aged_out_ = 0;
    int64_t aging_ns_ = static_cast<int64_t>(kDefaultAgingS * 1e9);
};

// In the rules of the megaflow of a neighbor's ARP requests to the local IP: packets
// pushed to it confirm (learn) the neighbor. Control thread (the revalidator's stats
// push). The Neighbors outlives every megaflow: switchd removes megaflows first.
class NeighborConfirm : public StatsSink {
public:
    NeighborConfirm(Neighbors& nb, uint32_t ip, const uint8_t mac[6]) : nb_(nb), ip_(ip) {
        for (int i = 0; i < 6; i++) mac_[i] = mac[i];
    }
    void credit(uint64_t packets, uint64_t, uint64_t) override {
        if (packets != 0) nb_.learn(ip_, mac_);
    }

private:
    Neighbors& nb_;
    uint32_t ip_;
    uint8_t mac_[6];
};

}  // namespace vswitch::ofp
