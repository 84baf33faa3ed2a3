// SigTable, the classifier's narrow index: lookups single and bulk, the second bucket and
// its flag, signature collisions resolved by the key, both buckets full, pointer checks,
// occupancy at capacity, and a reader racing the writer.
#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "eal_fixture.h"
#include "megaflow.h"
#include "sig_table.h"

using namespace vswitch;

namespace {

NarrowKey key_of(uint32_t i, uint32_t tag = 1) {
    NarrowKey k{};
    k.tag = tag;
    k.h[0] = i;
    k.h[1] = i * 2654435761u;
    return k;
}

// Megaflows owned by the test, with their keys set as the classifier sets them.
struct Flows {
    std::vector<std::unique_ptr<Megaflow>> v;
    Megaflow* add(const NarrowKey& k) {
        v.push_back(std::make_unique<Megaflow>());
        v.back()->nkey = k;
        return v.back().get();
    }
};

// lookup() and lookup_bulk() must agree; returns what they found.
Megaflow* find(const SigTable& t, const NarrowKey& k, uint64_t h) {
    Megaflow* single = t.lookup(k, h);
    const NarrowKey* kp[1] = {&k};
    Megaflow* out[1] = {reinterpret_cast<Megaflow*>(1)};
    const uint64_t hits = t.lookup_bulk(kp, &h, 1, out);
    CHECK(out[0] == single);
    CHECK(hits == (single != nullptr ? 1u : 0u));
    return single;
}

}  // namespace

TEST_CASE("sig table: insert, find, remove", "[switch][sig_table]") {
    vsw_test_eal();
    SigTable t(1000);
    CHECK(t.n_buckets() >= 500);   // >= 4 slots per megaflow of capacity
    CHECK((t.n_buckets() & (t.n_buckets() - 1)) == 0);
    Flows fl;
    std::vector<Megaflow*> f;
    for (uint32_t i = 0; i < 1000; i++) {
        f.push_back(fl.add(key_of(i)));
        REQUIRE(t.insert(narrow_key_hash(f[i]->nkey), f[i]));
    }
    for (uint32_t i = 0; i < 1000; i++) CHECK(find(t, key_of(i), narrow_key_hash(key_of(i))) == f[i]);
    // Same words, another tag (another subtable): not found.
    CHECK(find(t, key_of(5, 2), narrow_key_hash(key_of(5, 2))) == nullptr);
    CHECK(find(t, key_of(5000), narrow_key_hash(key_of(5000))) == nullptr);

    // Bulk over a mix of hits and misses, 64 at a time.
    NarrowKey keys[64];
    const NarrowKey* kp[64];
    uint64_t hs[64];
    Megaflow* out[64];
    for (uint32_t j = 0; j < 64; j++) {
        keys[j] = key_of(j % 2 ? j * 7 : 100000 + j);
        kp[j] = &keys[j];
        hs[j] = narrow_key_hash(keys[j]);
    }
    const uint64_t hits = t.lookup_bulk(kp, hs, 64, out);
    for (uint32_t j = 0; j < 64; j++) {
        INFO("j " << j);
        CHECK(out[j] == (j % 2 ? f[j * 7] : nullptr));
        CHECK(((hits >> j) & 1) == (j % 2));
    }

    for (uint32_t i = 0; i < 1000; i += 2) REQUIRE(t.remove(narrow_key_hash(f[i]->nkey), f[i]));
    CHECK_FALSE(t.remove(narrow_key_hash(f[0]->nkey), f[0]));   // already gone
    for (uint32_t i = 0; i < 1000; i++)
        CHECK(find(t, key_of(i), narrow_key_hash(key_of(i))) == (i % 2 ? f[i] : nullptr));
    // A freed slot is reused.
    REQUIRE(t.insert(narrow_key_hash(f[0]->nkey), f[0]));
    CHECK(find(t, key_of(0), narrow_key_hash(key_of(0))) == f[0]);
}

TEST_CASE("sig table: the second bucket, its flag, and both buckets full", "[switch][sig_table]") {
    vsw_test_eal();
    SigTable t(2);   // the smallest table: 2 buckets of 8, each the other's second
    REQUIRE(t.n_buckets() == 2);
    Flows fl;
    // Every key hashed to bucket 0 with its own signature.
    auto h_of = [](uint32_t i) { return (uint64_t(i + 1) << 48) | 0; };
    std::vector<Megaflow*> f;
    for (uint32_t i = 0; i < 16; i++) {
        f.push_back(fl.add(key_of(i)));
        REQUIRE(t.insert(h_of(i), f[i]));
    }
    CHECK(t.n_in_second() == 8);
    for (uint32_t i = 0; i < 16; i++) CHECK(find(t, key_of(i), h_of(i)) == f[i]);
    // Both buckets full.
    Megaflow* extra = fl.add(key_of(16));
    CHECK_FALSE(t.insert(h_of(16), extra));
    CHECK(find(t, key_of(16), h_of(16)) == nullptr);

    // Emptying the first bucket keeps the second's entries reachable (the flag stays).
    for (uint32_t i = 0; i < 8; i++) REQUIRE(t.remove(h_of(i), f[i]));
    for (uint32_t i = 8; i < 16; i++) CHECK(find(t, key_of(i), h_of(i)) == f[i]);
    // With the second bucket's entries gone the flag clears: a key of bucket 1 that is
    // absent is looked up in bucket 1 only, and the counts are back to zero.
    for (uint32_t i = 8; i < 16; i++) REQUIRE(t.remove(h_of(i), f[i]));
    CHECK(t.n_in_second() == 0);
    for (uint32_t i = 0; i < 16; i++) CHECK(find(t, key_of(i), h_of(i)) == nullptr);
    // And the first bucket takes keys again.
    REQUIRE(t.insert(h_of(3), f[3]));
    CHECK(t.n_in_second() == 0);
    CHECK(find(t, key_of(3), h_of(3)) == f[3]);
}

TEST_CASE("sig table: equal signatures are told apart by the key", "[switch][sig_table]") {
    vsw_test_eal();
    SigTable t(64);
    Flows fl;
    const uint64_t h = 0xabcd000000000005ull;   // one bucket, one signature for all
    std::vector<Megaflow*> f;
    for (uint32_t i = 0; i < 12; i++) {   // 8 in the first bucket, 4 in the second
        f.push_back(fl.add(key_of(i)));
        REQUIRE(t.insert(h, f[i]));
    }
    for (uint32_t i = 0; i < 12; i++) CHECK(find(t, key_of(i), h) == f[i]);
    CHECK(find(t, key_of(99), h) == nullptr);
    // Removing by pointer takes exactly that entry.
    REQUIRE(t.remove(h, f[6]));
    for (uint32_t i = 0; i < 12; i++) CHECK(find(t, key_of(i), h) == (i == 6 ? nullptr : f[i]));
}

TEST_CASE("sig table: refuses a pointer it cannot store", "[switch][sig_table]") {
    vsw_test_eal();
    SigTable t(8);
    alignas(64) static unsigned char raw[2 * sizeof(Megaflow)];
    auto* misaligned = reinterpret_cast<Megaflow*>(raw + 8);
    CHECK_FALSE(t.insert(1, misaligned));
    auto* high = reinterpret_cast<Megaflow*>(uint64_t(1) << 50);
    CHECK_FALSE(t.insert(1, high));
    CHECK(t.lookup(NarrowKey{}, 1) == nullptr);   // nothing was stored
}

TEST_CASE("sig table: full capacity of sequential and random keys fits", "[switch][sig_table]") {
    vsw_test_eal();
    constexpr uint32_t kN = 200000;
    for (const bool sequential : {true, false}) {
        INFO("sequential " << sequential);
        SigTable t(kN);
        Flows fl;
        fl.v.reserve(kN);
        std::mt19937 rng(7);
        uint32_t failed = 0;
        for (uint32_t i = 0; i < kN; i++) {
            NarrowKey k{};
            k.tag = 3;
            // Like a flow scan: consecutive addresses and ports, or random 5-tuples.
            k.h[0] = sequential ? 0x0a000000u + i / 64 : rng();
            k.h[1] = sequential ? (i % 64) << 16 | 80 : rng();
            failed += !t.insert(narrow_key_hash(k), fl.add(k));
        }
        CHECK(failed == 0);
        // At <= 25% occupancy few keys overflow to their second bucket.
        CHECK(t.n_in_second() < kN / 100);
        uint32_t found = 0;
        for (auto& f : fl.v) found += t.lookup(f->nkey, narrow_key_hash(f->nkey)) == f.get();
        CHECK(found == kN);
    }
}

TEST_CASE("sig table: a reader never finds a wrong megaflow while the writer churns",
          "[switch][sig_table]") {
    vsw_test_eal();
    // A small table so that second buckets, their flags and slot reuse all happen.
    SigTable t(64);
    Flows fl;
    constexpr uint32_t kKeys = 256, kStable = 16;
    std::vector<Megaflow*> f;
    for (uint32_t i = 0; i < kKeys; i++) f.push_back(fl.add(key_of(i)));
    // Keys [0, kStable) stay in the table throughout: the reader must always find them.
    for (uint32_t i = 0; i < kStable; i++) REQUIRE(t.insert(narrow_key_hash(f[i]->nkey), f[i]));
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> wrong{0}, lost{0}, lookups{0};
    std::thread reader([&] {
        std::mt19937 rng(3);
        NarrowKey keys[32];
        const NarrowKey* kp[32];
        uint64_t hs[32];
        Megaflow* out[32];
        while (!stop.load(std::memory_order_relaxed)) {
            for (int j = 0; j < 32; j++) {
                keys[j] = key_of(rng() % kKeys);
                kp[j] = &keys[j];
                hs[j] = narrow_key_hash(keys[j]);
            }
            t.lookup_bulk(kp, hs, 32, out);
            for (int j = 0; j < 32; j++) {
                if (out[j] != nullptr && !(out[j]->nkey == keys[j])) wrong++;
                if (keys[j].h[0] < kStable && out[j] == nullptr) lost++;
            }
            lookups += 32;
        }
    });
    std::mt19937 rng(11);
    std::vector<bool> in(kKeys, false);
    for (uint32_t i = 0; i < kStable; i++) in[i] = true;
    for (int op = 0; op < 400000 || lookups.load() < 100000; op++) {
        const uint32_t i = kStable + rng() % (kKeys - kStable);
        const uint64_t h = narrow_key_hash(f[i]->nkey);
        if (in[i]) {
            REQUIRE(t.remove(h, f[i]));
            in[i] = false;
        } else {
            in[i] = t.insert(h, f[i]);
        }
    }
    stop = true;
    reader.join();
    CHECK(lookups.load() >= 100000);
    CHECK(wrong.load() == 0);
    CHECK(lost.load() == 0);
}
