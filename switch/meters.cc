// Meters and token buckets (contract and design in meters.h).
#ifndef ALLOW_EXPERIMENTAL_API
#define ALLOW_EXPERIMENTAL_API 1   // rte_atomic128_cmp_exchange is experimental in 22.11
#endif

#include "meters.h"

#include <algorithm>

namespace vswitch {

namespace {

constexpr uint64_t kScaledMax = uint64_t(1) << 62;
constexpr uint64_t kRateMax = uint64_t(1) << 40;
constexpr uint64_t kDefaultKbitBurstMin = 80;   // one 9600-byte jumbo frame, rounded up

uint64_t default_burst(const MeterConfig& c) {
    const uint64_t b = c.rate / 10;   // 100 ms worth
    if (c.unit == MeterUnit::Pps) return std::max<uint64_t>(b, 1);
    return std::max<uint64_t>(b, kDefaultKbitBurstMin);
}

}  // namespace

bool TokenRate::init(uint64_t rate_per_s, uint64_t burst_tokens, uint64_t hz) {
    if (rate_per_s == 0 || rate_per_s >= kRateMax || hz == 0 || hz >= kScaledMax) return false;
    const unsigned __int128 cap = static_cast<unsigned __int128>(burst_tokens) * hz;
    if (burst_tokens == 0 || cap >= kScaledMax) return false;
    rate = rate_per_s;
    unit = hz;
    capacity = static_cast<uint64_t>(cap);
    fill_ticks = (capacity + rate - 1) / rate;
    return true;
}

// ------------------------------------------------------------------ upcall limiter

void UpcallLimiter::configure(uint32_t rate_per_s, uint32_t burst, uint64_t hz) {
    limited_ = false;
    if (rate_per_s == 0) return;
    uint64_t b = burst ? burst : std::max<uint64_t>(rate_per_s / 10, 1);
    if (!tr_.init(rate_per_s, b, hz)) return;   // cannot happen for 32-bit inputs
    for (State& s : st_) s = {tr_.capacity, 0};
    limited_ = true;
}

// --------------------------------------------------------------------------- meter

Meter::Meter(const MeterConfig& cfg, const TokenRate& tr)
    : cfg_(cfg), tr_(tr), pps_(cfg.unit == MeterUnit::Pps) {
    state_.val[0] = 0;               // last tick: "long ago", the first police() fills
    state_.val[1] = tr.capacity;     // scaled tokens
}

uint64_t Meter::police(const uint32_t* lens, unsigned n, uint64_t now) {
    // Costs once, outside the CAS loop.
    uint64_t cost[64];
    uint64_t bytes = 0;
    for (unsigned i = 0; i < n; i++) {
        cost[i] = pps_ ? tr_.unit : uint64_t(lens[i]) * 8 * tr_.unit;
        bytes += lens[i];
    }
    // A torn read of the two halves only makes the first CAS fail, which then returns
    // the real value.
    rte_int128_t expect, want;
    expect.val[0] = __atomic_load_n(&state_.val[0], __ATOMIC_RELAXED);
    expect.val[1] = __atomic_load_n(&state_.val[1], __ATOMIC_RELAXED);
    uint64_t drops;
    do {
        const uint64_t last = expect.val[0];
        uint64_t tok = tr_.refill(expect.val[1], last, now);
        drops = 0;
        for (unsigned i = 0; i < n; i++) {
            if (tok >= cost[i]) tok -= cost[i];
            else drops |= uint64_t(1) << i;
        }
        want.val[0] = now > last ? now : last;
        want.val[1] = tok;
        // Always CAS, even when nothing changed: the decisions are only valid if
        // `expect` was not a torn read.
    } while (!rte_atomic128_cmp_exchange(&state_, &expect, &want, 0, __ATOMIC_RELAXED,
                                         __ATOMIC_RELAXED));

    packets_in_.fetch_add(n, std::memory_order_relaxed);
    bytes_in_.fetch_add(bytes, std::memory_order_relaxed);
    if (drops) {
        uint64_t dbytes = 0;
        for (uint64_t d = drops; d; d &= d - 1) dbytes += lens[__builtin_ctzll(d)];
        packets_dropped_.fetch_add(static_cast<uint64_t>(__builtin_popcountll(drops)),
                                   std::memory_order_relaxed);
        bytes_dropped_.fetch_add(dbytes, std::memory_order_relaxed);
    }
    return drops;
}

MeterStats Meter::stats() const {
    MeterStats s;
    s.found = true;
    s.packets_in = packets_in_.load(std::memory_order_relaxed);
    s.bytes_in = bytes_in_.load(std::memory_order_relaxed);
    s.packets_dropped = packets_dropped_.load(std::memory_order_relaxed);
    s.bytes_dropped = bytes_dropped_.load(std::memory_order_relaxed);
    return s;
}

void Meter::add_stats(const MeterStats& s) {
    packets_in_.fetch_add(s.packets_in, std::memory_order_relaxed);
    bytes_in_.fetch_add(s.bytes_in, std::memory_order_relaxed);
    packets_dropped_.fetch_add(s.packets_dropped, std::memory_order_relaxed);
    bytes_dropped_.fetch_add(s.bytes_dropped, std::memory_order_relaxed);
}

// --------------------------------------------------------------------- meter table

MeterTable::MeterTable(const std::map<uint32_t, std::unique_ptr<Meter>>& meters) {
    uint32_t bits = 3;
    while ((uint64_t(1) << bits) < 2 * uint64_t(meters.size())) bits++;
    mask_ = (uint32_t(1) << bits) - 1;
    shift_ = 32 - bits;
    slots_.assign(size_t(mask_) + 1, Slot{0, nullptr});
    for (const auto& [id, m] : meters) {
        uint32_t i = slot_of(id);
        while (slots_[i].id != 0) i = (i + 1) & mask_;
        slots_[i] = {id, m.get()};
    }
}

// -------------------------------------------------------------------------- meters

Meters::Meters(uint64_t hz, std::function<void()> synchronize)
    : hz_(hz), synchronize_(std::move(synchronize)), table_(new MeterTable(meters_)) {}

// No reader may be left (the datapath's PMDs are stopped).
Meters::~Meters() { delete table_.load(std::memory_order_relaxed); }

void Meters::publish() {
    const MeterTable* old = table_.exchange(new MeterTable(meters_), std::memory_order_acq_rel);
    if (synchronize_) synchronize_();
    delete old;
}

bool Meters::set(uint32_t id, const MeterConfig& cfg_in, std::string& err) {
    if (id == 0 || id > kMaxId) {
        err = "id: meter ids are 1.." + std::to_string(kMaxId);
        return false;
    }
    if (cfg_in.unit != MeterUnit::Kbps && cfg_in.unit != MeterUnit::Pps) {
        err = "unit: must be kbps or pps";
        return false;
    }
    if (cfg_in.rate == 0 || cfg_in.rate > kMaxRate) {
        err = "rate: must be 1.." + std::to_string(kMaxRate);
        return false;
    }
    MeterConfig cfg = cfg_in;
    if (cfg.burst == 0) cfg.burst = default_burst(cfg);
    const bool kbps = cfg.unit == MeterUnit::Kbps;
    TokenRate tr;
    // kbps: tokens are bits (1 kbit = 1000 bits), so a packet costs 8 * length.
    if (cfg.burst > kMaxRate || !tr.init(kbps ? cfg.rate * 1000 : cfg.rate,
                                         kbps ? cfg.burst * 1000 : cfg.burst, hz_)) {
        err = "burst: too large";
        return false;
    }
    auto it = meters_.find(id);
    if (it == meters_.end() && meters_.size() >= kMaxMeters) {
        err = "id: the meter table is full (" + std::to_string(kMaxMeters) + " meters)";
        return false;
    }
    auto fresh = std::make_unique<Meter>(cfg, tr);
    if (it == meters_.end()) {
        meters_.emplace(id, std::move(fresh));
        publish();
        return true;
    }
    // Modify: after the grace period nobody counts into the old meter any more, so its
    // final counters can be carried over exactly.
    std::unique_ptr<Meter> old = std::move(it->second);
    it->second = std::move(fresh);
    publish();
    it->second->add_stats(old->stats());
    return true;
}

bool Meters::del(uint32_t id) {
    auto it = meters_.find(id);
    if (it == meters_.end()) return false;
    std::unique_ptr<Meter> old = std::move(it->second);
    meters_.erase(it);
    publish();   // old is freed after the grace period, here
    return true;
}

MeterStats Meters::stats(uint32_t id) const {
    auto it = meters_.find(id);
    return it == meters_.end() ? MeterStats{} : it->second->stats();
}

bool Meters::config(uint32_t id, MeterConfig& out) const {
    auto it = meters_.find(id);
    if (it == meters_.end()) return false;
    out = it->second->config();
    return true;
}

std::vector<std::pair<uint32_t, MeterConfig>> Meters::list() const {
    std::vector<std::pair<uint32_t, MeterConfig>> out;
    out.reserve(meters_.size());
    for (const auto& [id, m] : meters_) out.emplace_back(id, m->config());
    return out;
}

}  // namespace vswitch
