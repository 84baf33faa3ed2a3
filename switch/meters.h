// Meters (OpenFlow meters with one drop band) and the token-bucket arithmetic they
// share with the per-(PMD, port) upcall limiter.
//
// Token buckets in exact integers. Tokens are kept scaled by the clock rate hz: one
// token is `hz` scaled units and one clock tick refills `rate` scaled units (rate =
// tokens per second). Refill and cost are then a multiply and an add, with no division
// and no rounding, so pass/drop decisions are exact for any clock (the unit tests
// inject time with hz = 1e9). A bucket starts full.
//
// Thread-safety of a Meter (PMDs police concurrently): ONE shared bucket per meter, its
// state {last tick, tokens} packed in 16 bytes and updated with a 128-bit compare-and-
// swap once per batch (not per packet). Chosen over per-PMD buckets with the rate split
// between PMDs: a split is exact only when traffic is spread evenly over the PMDs (a
// flow pinned to one PMD would get rate/N), while the shared bucket is exact whatever
// the spread. Cost: the meter's cache line moves between PMDs that police it at the
// same time - one CAS (retried on conflict) per 32-packet batch - and a CAS cannot be
// stalled by a preempted holder the way a spinlock can (PMDs share cores here).
// Counters (packets/bytes in, dropped) are relaxed fetch_adds on the same line.
//
// Publication: the id -> Meter table is an immutable open-addressing snapshot swapped
// with an atomic pointer; the old snapshot (and a replaced or deleted Meter) is freed
// after an RCU grace period (the synchronize function given at construction, i.e.
// Datapath::synchronize()). PMDs look meters up inside their read-side section.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <rte_atomic.h>

namespace vswitch {

struct TokenRate {
    uint64_t rate = 0;         // tokens per second = scaled units per tick
    uint64_t capacity = 0;     // burst, scaled (burst tokens * hz)
    uint64_t unit = 0;         // one token, scaled (= hz)
    uint64_t fill_ticks = 0;   // ticks from empty to full; a longer gap means full

    // false if the numbers do not fit (burst * hz must stay below 2^62, rate below 2^40).
    bool init(uint64_t rate_per_s, uint64_t burst_tokens, uint64_t hz);

    // Tokens after refilling from `last` to `now` (no change if now <= last: clocks of
    // different PMDs are read at slightly different times).
    uint64_t refill(uint64_t tokens, uint64_t last, uint64_t now) const {
        if (now <= last) return tokens;
        const uint64_t dt = now - last;
        if (dt >= fill_ticks) return capacity;
        const uint64_t t = tokens + dt * rate;   // dt * rate < capacity + rate: no overflow
        return t < capacity ? t : capacity;
    }
};

// Upcall rate limit of one PMD: one bucket per input port, one token per upcall.
// Single-threaded (each PMD owns one); only consulted on megaflow misses.
class UpcallLimiter {
public:
    explicit UpcallLimiter(uint32_t n_ports) : st_(n_ports) {}
    // rate_per_s 0 = unlimited. burst 0 = rate / 10 (at least 1). Refills every bucket.
    void configure(uint32_t rate_per_s, uint32_t burst, uint64_t hz);
    bool allow(uint32_t port_no, uint64_t now) {
        if (!limited_) return true;
        State& s = st_[port_no < st_.size() ? port_no : 0];
        uint64_t t = tr_.refill(s.tokens, s.last, now);
        if (now > s.last) s.last = now;
        if (t < tr_.unit) {
            s.tokens = t;
            return false;
        }
        s.tokens = t - tr_.unit;
        return true;
    }

private:
    struct State {
        uint64_t tokens;
        uint64_t last;
    };
    bool limited_ = false;
    TokenRate tr_;
    std::vector<State> st_;
};

enum class MeterUnit : uint8_t { Kbps, Pps };

struct MeterConfig {
    MeterUnit unit = MeterUnit::Kbps;
    uint64_t rate = 0;    // kbit/s (1 kbit = 1000 bits) or packets/s; 1..1e9
    uint64_t burst = 0;   // kbit or packets; 0 = 100 ms worth of rate (at least one
                          // packet, or 80 kbit: one 9600-byte jumbo frame)
};

struct MeterStats {
    bool found = false;
    uint64_t packets_in = 0;   // packets that reached the meter
    uint64_t bytes_in = 0;
    uint64_t packets_dropped = 0;
    uint64_t bytes_dropped = 0;
};

class Meter {
public:
    Meter(const MeterConfig& cfg, const TokenRate& tr);
    Meter(const Meter&) = delete;
    Meter& operator=(const Meter&) = delete;

    // Polices n <= 64 packets of the given frame lengths (bytes) arriving at `now`
    // (ticks of the meter table's clock), in order: a packet passes if the bucket holds
    // its cost (1 token per packet, or 8 * length bits), which is then taken; otherwise
    // it is dropped and takes nothing. Returns the drop mask (bit i = packet i).
    uint64_t police(const uint32_t* lens, unsigned n, uint64_t now);

    MeterStats stats() const;
    const MeterConfig& config() const { return cfg_; }   // burst: the effective one
    void add_stats(const MeterStats& s);                 // carry-over on modify

private:
    const MeterConfig cfg_;
    const TokenRate tr_;
    const bool pps_;
    // The contended line: bucket state (last tick, scaled tokens) and counters.
    alignas(64) rte_int128_t state_;
    std::atomic<uint64_t> packets_in_{0};
    std::atomic<uint64_t> bytes_in_{0};
    std::atomic<uint64_t> packets_dropped_{0};
    std::atomic<uint64_t> bytes_dropped_{0};
};

// Immutable id -> Meter snapshot (open addressing, linear probing, id 0 = empty).
class MeterTable {
public:
    explicit MeterTable(const std::map<uint32_t, std::unique_ptr<Meter>>& meters);
    Meter* find(uint32_t id) const {
        if (id == 0) return nullptr;
        for (uint32_t i = slot_of(id);; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (s.id == id) return s.meter;
            if (s.id == 0) return nullptr;
        }
    }

private:
    struct Slot {
        uint32_t id;
        Meter* meter;
    };
    uint32_t slot_of(uint32_t id) const { return (id * 2654435761u) >> shift_ & mask_; }
    uint32_t mask_;
    uint32_t shift_;
    std::vector<Slot> slots_;   // at least twice the meters: probes stay short
};

// The meter set of a datapath. set/del/stats: control thread only.
class Meters {
public:
    static constexpr uint32_t kMaxMeters = 65536;
    static constexpr uint32_t kMaxId = 0xffff0000;   // OpenFlow OFPM_MAX
    static constexpr uint64_t kMaxRate = 1000000000;

    // hz: clock of the `now` given to police() (the PMDs' TSC). synchronize: waits an
    // RCU grace period of the threads that call table().
    Meters(uint64_t hz, std::function<void()> synchronize);
    ~Meters();
    Meters(const Meters&) = delete;
    Meters& operator=(const Meters&) = delete;

    // Adds or modifies meter `id`. A modified meter keeps its counters and starts with a
    // full bucket. false + err ("<field>: <problem>") if the config is invalid.
    bool set(uint32_t id, const MeterConfig& cfg, std::string& err);
    bool del(uint32_t id);   // false if there is no such meter
    MeterStats stats(uint32_t id) const;
    bool config(uint32_t id, MeterConfig& out) const;
    std::vector<std::pair<uint32_t, MeterConfig>> list() const;   // by id
    size_t size() const { return meters_.size(); }
    uint64_t hz() const { return hz_; }

    // Reader side (PMDs, inside their RCU read-side section). Never null.
    const MeterTable* table() const { return table_.load(std::memory_order_acquire); }

private:
    void publish();

    const uint64_t hz_;
    std::function<void()> synchronize_;
    std::map<uint32_t, std::unique_ptr<Meter>> meters_;
    std::atomic<const MeterTable*> table_;
};

}  // namespace vswitch
