// The state file and its journal (state_store.h): records come back in order after the
// snapshot, a snapshot empties the journal and a crash between the two replays nothing
// twice, a torn last record is dropped (and the next append follows the last whole
// one), damage elsewhere refuses the load and leaves the file alone.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "state_store.h"

using namespace vswitch;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path dir;
    TempDir() {
        char tmpl[] = "/tmp/vsw-store-XXXXXX";
        REQUIRE(mkdtemp(tmpl));
        dir = tmpl;
    }
    ~TempDir() { fs::remove_all(dir); }
    std::string db() const { return (dir / "state.db").string(); }
};

std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}
void spit(const std::string& p, const std::string& data) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << data;
}

// A VPC batch record naming endpoint `mac` (enough to tell records apart).
store::JournalRecord endpoint_rec(const std::string& mac) {
    store::JournalRecord r;
    auto* b = r.mutable_vpc_batch();
    b->set_generation(7);
    auto* e = b->add_ops()->mutable_add_endpoint();
    e->set_vpc("blue");
    e->mutable_endpoint()->set_mac(mac);
    return r;
}

std::vector<std::string> macs(const std::vector<store::JournalRecord>& j) {
    std::vector<std::string> out;
    for (const auto& r : j) out.push_back(r.vpc_batch().ops(0).add_endpoint().endpoint().mac());
    return out;
}

// A store at t's path with records for ...:01 and ...:02 appended (and then a snapshot
// if asked); the journal's bytes before the snapshot.
std::string two_records(const TempDir& t, bool then_save = false) {
    StateStore st(t.db());
    store::StoredState s;
    std::vector<store::JournalRecord> j;
    std::string err;
    REQUIRE(st.load(s, j, err));
    for (const char* m : {"02:00:00:00:00:01", "02:00:00:00:00:02"}) {
        auto r = endpoint_rec(m);
        REQUIRE(st.append(r, err));
    }
    std::string bytes = slurp(st.journal_path());
    if (then_save) REQUIRE(st.save(s, err));   // journal_seq 2
    return bytes;
}

}  // namespace

TEST_CASE("state store: journal records come back in order after the snapshot", "[ctl][store]") {
    TempDir t;
    {
        StateStore st(t.db());
        store::StoredState s;
        std::vector<store::JournalRecord> j;
        std::string err;
        REQUIRE(st.load(s, j, err));   // nothing yet: empty
        CHECK(j.empty());
        s.add_flows("priority=1 actions=drop");
        REQUIRE(st.save(s, err));
        for (const char* m : {"02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"}) {
            auto r = endpoint_rec(m);
            REQUIRE(st.append(r, err));
        }
        CHECK(st.journal_records() == 3);
        CHECK(st.journal_bytes() > 8);
    }
    StateStore st(t.db());
    store::StoredState s;
    std::vector<store::JournalRecord> j;
    std::string err, warning;
    REQUIRE(st.load(s, j, err, &warning));
    CHECK(warning.empty());
    CHECK(s.flows_size() == 1);
    CHECK(macs(j) == std::vector<std::string>{"02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"});
    CHECK(j[0].seq() == 1);
    CHECK(j[2].seq() == 3);

    // A snapshot includes them all: the journal is emptied and numbering goes on.
    REQUIRE(st.save(s, err));
    CHECK(st.journal_records() == 0);
    auto r = endpoint_rec("02:00:00:00:00:04");
    REQUIRE(st.append(r, err));
    CHECK(r.seq() == 4);
    StateStore again(t.db());
    REQUIRE(again.load(s, j, err));
    CHECK(s.journal_seq() == 3);
    CHECK(macs(j) == std::vector<std::string>{"02:00:00:00:00:04"});
}

TEST_CASE("state store: a crash between the snapshot and emptying the journal replays nothing twice",
          "[ctl][store]") {
    TempDir t;
    std::string err;
    const std::string old_journal = two_records(t, true);
    spit(t.db() + ".journal", old_journal);   // as if emptying it had not happened
    StateStore st(t.db());
    store::StoredState s;
    std::vector<store::JournalRecord> j;
    REQUIRE(st.load(s, j, err));
    CHECK(j.empty());
    auto r = endpoint_rec("02:00:00:00:00:03");
    REQUIRE(st.append(r, err));   // after the stale ones
    CHECK(r.seq() == 3);
    StateStore again(t.db());
    REQUIRE(again.load(s, j, err));
    CHECK(macs(j) == std::vector<std::string>{"02:00:00:00:00:03"});
}

TEST_CASE("state store: a torn last record is dropped, the next append follows the last whole one",
          "[ctl][store]") {
    TempDir t;
    std::string err;
    const std::string whole = two_records(t);
    // Every way an append can be cut short: in the frame, in the payload.
    for (size_t cut : {size_t{3}, size_t{8}, size_t{20}}) {
        auto r = endpoint_rec("02:00:00:00:00:09");
        std::string payload;
        r.set_seq(3);
        r.SerializeToString(&payload);
        std::string frame(8, '\0');
        frame[0] = static_cast<char>(payload.size());
        spit(t.db() + ".journal", whole + (frame + payload).substr(0, cut));
        StateStore st(t.db());
        store::StoredState s;
        std::vector<store::JournalRecord> j;
        std::string warning;
        REQUIRE(st.load(s, j, err, &warning));
        CHECK_THAT(warning, Catch::Contains("dropped a torn last record"));
        CHECK(macs(j) == std::vector<std::string>{"02:00:00:00:00:01", "02:00:00:00:00:02"});
        CHECK(slurp(t.db() + ".journal") == whole);
        auto next = endpoint_rec("02:00:00:00:00:03");
        REQUIRE(st.append(next, err));
        StateStore again(t.db());
        REQUIRE(again.load(s, j, err, &warning));
        CHECK(macs(j) == std::vector<std::string>{"02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"});
    }
}

TEST_CASE("state store: a damaged journal refuses the load and is left alone", "[ctl][store]") {
    TempDir t;
    std::string err;
    const std::string whole = two_records(t);
    // Loads the files as they are now; true when the load was refused (err says why).
    auto refused = [&] {
        StateStore st(t.db());
        store::StoredState s;
        std::vector<store::JournalRecord> j;
        return !st.load(s, j, err);
    };
    SECTION("a byte changed in a record that is not the last") {
        std::string bad = whole;
        bad[8 + 8 + 3] ^= 0x40;
        spit(t.db() + ".journal", bad);
        CHECK(refused());
        CHECK_THAT(err, Catch::Contains("damaged record at byte 8"));
        CHECK(slurp(t.db() + ".journal") == bad);
    }
    SECTION("not a journal") {
        spit(t.db() + ".journal", "hello, world");
        CHECK(refused());
        CHECK_THAT(err, Catch::Contains("not a switchd journal"));
        CHECK(slurp(t.db() + ".journal") == "hello, world");
    }
    SECTION("a record missing") {
        // The first record dropped: the second no longer follows the snapshot.
        const uint32_t len0 = static_cast<unsigned char>(whole[8]);
        std::string bad = whole.substr(0, 8) + whole.substr(8 + 8 + len0);
        spit(t.db() + ".journal", bad);
        CHECK(refused());
        CHECK_THAT(err, Catch::Contains("record 2 out of sequence"));
    }
}

TEST_CASE("state store: no path keeps nothing", "[ctl][store]") {
    StateStore st("");
    store::StoredState s;
    std::vector<store::JournalRecord> j;
    std::string err;
    REQUIRE(st.load(s, j, err));
    auto r = endpoint_rec("02:00:00:00:00:01");
    CHECK(st.append(r, err));
    CHECK(st.save(s, err));
    CHECK(st.journal_records() == 0);
}
