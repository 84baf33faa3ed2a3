// The rx queue load window (switch/rxq_load.h): what pmd-rxq-show and pmd-rebalance
// weigh a queue by.
#include <catch2/catch.hpp>

#include "switch/rxq_load.h"

using namespace vswitch;

namespace {

constexpr uint64_t kInterval = 1000;

// Two queues of port 1; a's total and b's total are given by the test at each sample.
std::vector<RxqTotal> totals(uint64_t a, uint64_t b) { return {{1, 0, a}, {1, 1, b}}; }

}  // namespace

TEST_CASE("rxq load: a queue's weight is what it cost within the window", "[switch][rxq_load]") {
    RxqLoad w(kInterval, 3);   // 3 intervals
    uint64_t now = 1'000'000, a = 0, b = 0;
    // Before any sample: everything each queue ever counted.
    CHECK(w.recent(1, 0, 500) == 500);
    CHECK(w.window_tsc(now) == 0);

    // Queue 0 busy for 4 intervals, queue 1 idle.
    for (int i = 0; i < 4; i++) {
        REQUIRE(w.sample(now, totals(a, b)));
        now += kInterval;
        a += 900;
    }
    // The window: 3 whole intervals between the oldest and the newest sample, plus the
    // time since the newest (here a whole interval, not sampled yet).
    CHECK(w.window_tsc(now) == 4 * kInterval);
    CHECK(w.recent(1, 0, a) == 3600);
    CHECK(w.recent(1, 1, b) == 0);

    // Then the load moves to queue 1: within the window queue 0 fades out.
    for (int i = 0; i < 2; i++) {
        REQUIRE(w.sample(now, totals(a, b)));
        now += kInterval;
        b += 600;
    }
    CHECK(w.recent(1, 0, a) == 1800);   // two busy intervals still in the window
    CHECK(w.recent(1, 1, b) == 1200);
    for (int i = 0; i < 2; i++) {
        REQUIRE(w.sample(now, totals(a, b)));
        now += kInterval;
        b += 600;
    }
    CHECK(w.recent(1, 0, a) == 0);      // hours of past load would weigh nothing either
    CHECK(w.recent(1, 1, b) == 2400);   // all of its load is recent
    CHECK(a == 3600);                   // the totals the old code weighed by
}

TEST_CASE("rxq load: samples only once per interval", "[switch][rxq_load]") {
    RxqLoad w(kInterval, 2);
    CHECK(w.sample(5000, totals(10, 10)));
    CHECK_FALSE(w.sample(5000 + kInterval - 1, totals(99, 99)));   // ignored: too early
    CHECK(w.sample(5000 + kInterval, totals(20, 30)));
    CHECK(w.recent(1, 0, 25) == 15);   // since the first sample
    CHECK(w.sample(5000 + 2 * kInterval, totals(30, 50)));
    CHECK(w.recent(1, 0, 35) == 25);   // 35 - 10 (the oldest kept of 2 intervals)
    CHECK(w.recent(1, 1, 50) == 40);
}

TEST_CASE("rxq load: new, restarted and removed queues", "[switch][rxq_load]") {
    RxqLoad w(kInterval, 2);
    uint64_t now = 0;
    for (int i = 0; i < 3; i++, now += kInterval) w.sample(now, totals(100 * (i + 1), 100 * (i + 1)));
    CHECK(w.recent(1, 0, 400) == 300);   // 400 - its total at the oldest of 3 samples

    // A queue that appears: its whole total is recent until it has history.
    std::vector<RxqTotal> t = totals(400, 400);
    t.push_back({2, 0, 70});
    w.sample(now, t);
    now += kInterval;
    CHECK(w.recent(2, 0, 90) == 90);

    // Port 1 deleted and another port 1 added: its totals restart from 0.
    t = {{1, 0, 5}, {2, 0, 100}};
    w.sample(now, t);
    now += kInterval;
    CHECK(w.recent(1, 0, 8) == 8);
    CHECK(w.recent(1, 1, 3) == 3);   // queue 1 of port 1 is gone: forgotten
    CHECK(w.recent(2, 0, 130) == 130);   // not there at the window's start yet
    w.sample(now, t = {{1, 0, 9}, {2, 0, 130}});
    CHECK(w.recent(2, 0, 140) == 70);    // 140 - 70
}
