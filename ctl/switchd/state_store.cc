#include "state_store.h"

#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/crc.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vswitch {

namespace {

constexpr char kMagic[8] = {'v', 's', 'w', 'j', 'r', 'n', 'l', '1'};
constexpr size_t kFrame = 8;   // u32 length + u32 CRC-32

uint32_t crc32_of(const void* p, size_t n) {
    boost::crc_32_type c;
    c.process_bytes(p, n);
    return c.checksum();
}

void put_u32(char* p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = static_cast<char>(v >> (8 * i));
}
uint32_t get_u32(const char* p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= uint32_t{static_cast<unsigned char>(p[i])} << (8 * i);
    return v;
}

bool write_all(int fd, const char* p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

// false: the file exists but cannot be read (ENOENT leaves `out` empty, true).
bool read_file(const std::string& path, std::string& out, bool& exists, std::string& err) {
    out.clear();
    exists = false;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (errno == ENOENT) return true;
        err = "cannot read " + path + ": " + strerror(errno);
        return false;
    }
    exists = true;
    std::stringstream buf;
    buf << in.rdbuf();
    out = buf.str();
    return true;
}

void fsync_dir_of(const std::string& path) {
    std::string dir = path;
    int dfd = open(dirname(dir.data()), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

}  // namespace

StateStore::~StateStore() {
    if (jfd_ >= 0) close(jfd_);
}

bool StateStore::load(store::StoredState& out, std::vector<store::JournalRecord>& journal, std::string& err,
                      std::string* warning) {
    out.Clear();
    journal.clear();
    if (!enabled()) return true;
    std::string data;
    bool exists = false;
    if (!read_file(path_, data, exists, err)) return false;
    if (exists) {
        if (!out.ParseFromString(data)) {
            err = path_ + " is not a valid switchd state file (move it away to start empty)";
            return false;
        }
        if (out.version() != 1) {
            err = path_ + ": unsupported state format version " + std::to_string(out.version());
            return false;
        }
    }
    snapshot_bytes_ = data.size();
    last_seq_ = out.journal_seq();

    const std::string jpath = journal_path();
    if (!read_file(jpath, data, exists, err)) return false;
    journal_bytes_ = data.size();
    journal_records_ = 0;
    if (!exists) return true;
    auto corrupt = [&](size_t off, const std::string& what) {
        err = jpath + ": " + what + " at byte " + std::to_string(off) +
              " (the changes from there on would be lost: move the file away to start without them)";
        return false;
    };
    if (data.size() < sizeof kMagic) {
        // Cut short while being created: it holds no record.
        if (data.compare(0, data.size(), kMagic, data.size()) != 0) return corrupt(0, "not a switchd journal");
    } else if (data.compare(0, sizeof kMagic, kMagic, sizeof kMagic) != 0) {
        return corrupt(0, "not a switchd journal");
    }
    size_t off = std::min(data.size(), sizeof kMagic), good = off;
    uint64_t expect = 0;   // the seq the next kept record must have (0: not known yet)
    while (off < data.size()) {
        const size_t left = data.size() - off;
        if (left < kFrame) break;   // torn
        const uint32_t len = get_u32(&data[off]);
        if (left - kFrame < len) break;   // torn
        const char* payload = &data[off + kFrame];
        const bool last = off + kFrame + len == data.size();
        if (crc32_of(payload, len) != get_u32(&data[off + 4])) {
            if (last) break;   // torn: its bytes were not all written
            return corrupt(off, "damaged record");
        }
        store::JournalRecord r;
        if (!r.ParseFromArray(payload, static_cast<int>(len)) || r.seq() == 0)
            return corrupt(off, "unreadable record");
        if (r.seq() > last_seq_) {
            // Records the snapshot does not include follow it without a gap.
            if (r.seq() != (expect ? expect : out.journal_seq() + 1))
                return corrupt(off, "record " + std::to_string(r.seq()) + " out of sequence");
            expect = r.seq() + 1;
            last_seq_ = r.seq();
            journal.push_back(std::move(r));
        }
        journal_records_++;
        off += kFrame + len;
        good = off;
    }
    if (good < data.size()) {
        // Never acknowledged (its append did not return): cut off, so appends follow
        // the last whole record.
        if (warning)
            *warning = jpath + ": dropped a torn last record (" + std::to_string(data.size() - good) +
                       " bytes, never acknowledged)";
        if (truncate(jpath.c_str(), static_cast<off_t>(good)) != 0) {
            err = "cannot repair " + jpath + ": " + strerror(errno);
            return false;
        }
        journal_bytes_ = good;
    }
    return true;
}

bool StateStore::save(store::StoredState& s, std::string& err) {
    if (!enabled()) return true;
    std::string data;
    s.set_version(1);
    s.set_journal_seq(last_seq_);
    s.SerializeToString(&data);
    std::string tmp = path_ + ".tmp";
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        err = "cannot write " + tmp + ": " + strerror(errno);
        return false;
    }
    if (!write_all(fd, data.data(), data.size())) {
        err = "cannot write " + tmp + ": " + strerror(errno);
        close(fd);
        return false;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        err = "cannot flush " + tmp + ": " + strerror(errno);
        return false;
    }
    if (rename(tmp.c_str(), path_.c_str()) != 0) {
        err = "cannot replace " + path_ + ": " + strerror(errno);
        return false;
    }
    fsync_dir_of(path_);
    snapshot_bytes_ = data.size();
    // The snapshot holds every record now. Should emptying the journal fail, its
    // records stay behind, numbered at most journal_seq: load() skips them.
    std::string ignored;
    reset_journal(ignored);
    return true;
}

bool StateStore::open_journal(std::string& err) {
    if (jfd_ >= 0) return true;
    const std::string jpath = journal_path();
    jfd_ = open(jpath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (jfd_ < 0) {
        err = "cannot open " + jpath + ": " + strerror(errno);
        return false;
    }
    struct stat st;
    if (fstat(jfd_, &st) != 0) {
        err = "cannot stat " + jpath + ": " + strerror(errno);
        close(jfd_);
        jfd_ = -1;
        return false;
    }
    journal_bytes_ = static_cast<uint64_t>(st.st_size);
    if (st.st_size < static_cast<off_t>(sizeof kMagic)) {
        if (ftruncate(jfd_, 0) != 0 || !write_all(jfd_, kMagic, sizeof kMagic) || fdatasync(jfd_) != 0) {
            err = "cannot write " + jpath + ": " + strerror(errno);
            close(jfd_);
            jfd_ = -1;
            return false;
        }
        fsync_dir_of(jpath);
        journal_bytes_ = sizeof kMagic;
    }
    return true;
}

bool StateStore::reset_journal(std::string& err) {
    const std::string jpath = journal_path();
    if (jfd_ < 0 && access(jpath.c_str(), F_OK) != 0) {
        journal_bytes_ = journal_records_ = 0;
        return true;
    }
    if (!open_journal(err)) return false;
    if (ftruncate(jfd_, sizeof kMagic) != 0 || fdatasync(jfd_) != 0) {
        err = "cannot empty " + jpath + ": " + strerror(errno);
        return false;
    }
    journal_bytes_ = sizeof kMagic;
    journal_records_ = 0;
    broken_ = false;
    return true;
}

bool StateStore::append(store::JournalRecord& r, std::string& err) {
    if (!enabled()) return true;
    if (broken_) {
        err = journal_path() + " ends in a partial record: it takes a snapshot to go on";
        return false;
    }
    if (!open_journal(err)) return false;
    r.set_seq(last_seq_ + 1);
    std::string buf(kFrame, '\0');
    r.AppendToString(&buf);
    const size_t len = buf.size() - kFrame;
    put_u32(&buf[0], static_cast<uint32_t>(len));
    put_u32(&buf[4], crc32_of(buf.data() + kFrame, len));
    if (!write_all(jfd_, buf.data(), buf.size()) || fdatasync(jfd_) != 0) {
        err = "cannot append to " + journal_path() + ": " + strerror(errno);
        // Take back what may have been written, so the next record follows a whole
        // one; if even that fails, no record is appended after the debris until a
        // snapshot empties the file (the caller saves one instead).
        if (ftruncate(jfd_, static_cast<off_t>(journal_bytes_)) != 0) broken_ = true;
        return false;
    }
    last_seq_++;
    journal_bytes_ += buf.size();
    journal_records_++;
    return true;
}

}  // namespace vswitch
