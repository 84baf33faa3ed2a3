// CookieIndex: which rules (table, order key) carry a cookie, as an immutable value that
// is cheap to copy and to change a little (FlowTables keeps one per snapshot).
//
// The VPC compiler gives every object's rules a cookie of their own and deletes them by
// cookie (Ofproto::apply_batch): with this, a delete finds its rules without asking
// every rule of the switch. Entries live in kBuckets buckets by a hash of the cookie,
// each bucket shared between the snapshots that did not change it; a copy costs one
// pointer per bucket, a change copies the buckets it touches (about n / kBuckets
// entries each).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

namespace vswitch::ofp {

class CookieIndex {
public:
    static constexpr size_t kBuckets = 1024;

    struct Entry {
        uint64_t cookie;
        uint64_t ord;
        uint8_t table;
        bool operator==(const Entry&) const = default;
    };

    void add(const Entry& e) { own(e.cookie).push_back(e); }
    void remove(const Entry& e) {
        std::vector<Entry>& b = own(e.cookie);
        for (size_t i = 0; i < b.size(); i++)
            if (b[i] == e) {
                b[i] = b.back();
                b.pop_back();
                return;
            }
    }
    // Appends the rules carrying `cookie`.
    void find(uint64_t cookie, std::vector<Entry>& out) const {
        const auto& b = buckets_[bucket_of(cookie)];
        if (!b) return;
        for (const Entry& e : *b)
            if (e.cookie == cookie) out.push_back(e);
    }

private:
    static size_t bucket_of(uint64_t cookie) { return (cookie * 0x9e3779b97f4a7c15ull) >> 54; }   // top 10 bits
    std::vector<Entry>& own(uint64_t cookie) {
        auto& b = buckets_[bucket_of(cookie)];
        // Shared with another snapshot (or none yet): this one gets its own copy.
        if (!b) b = std::make_shared<std::vector<Entry>>();
        else if (b.use_count() > 1) b = std::make_shared<std::vector<Entry>>(*b);
        return *b;
    }
    std::array<std::shared_ptr<std::vector<Entry>>, kBuckets> buckets_;
};

}  // namespace vswitch::ofp
