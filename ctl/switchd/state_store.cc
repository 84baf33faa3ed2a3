#include "state_store.h"

#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vswitch {

bool StateStore::load(store::StoredState& out, std::string& err) const {
    out.Clear();
    if (!enabled()) return true;
    std::ifstream in(path_, std::ios::binary);
    if (!in) {
        if (errno == ENOENT) return true;
        err = "cannot read " + path_ + ": " + strerror(errno);
        return false;
    }
    std::stringstream buf;
    buf << in.rdbuf();
    if (!out.ParseFromString(buf.str())) {
        err = path_ + " is not a valid switchd state file (move it away to start empty)";
        return false;
    }
    if (out.version() != 1) {
        err = path_ + ": unsupported state format version " + std::to_string(out.version());
        return false;
    }
    return true;
}

bool StateStore::save(const store::StoredState& s, std::string& err) const {
    if (!enabled()) return true;
    std::string data;
    store::StoredState copy = s;
    copy.set_version(1);
    copy.SerializeToString(&data);
    std::string tmp = path_ + ".tmp";
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        err = "cannot write " + tmp + ": " + strerror(errno);
        return false;
    }
    ssize_t off = 0;
    while (off < static_cast<ssize_t>(data.size())) {
        ssize_t w = write(fd, data.data() + off, data.size() - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            err = "cannot write " + tmp + ": " + strerror(errno);
            close(fd);
            return false;
        }
        off += w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        err = "cannot flush " + tmp + ": " + strerror(errno);
        return false;
    }
    if (rename(tmp.c_str(), path_.c_str()) != 0) {
        err = "cannot replace " + path_ + ": " + strerror(errno);
        return false;
    }
    std::string dir = path_;
    int dfd = open(dirname(dir.data()), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return true;
}

}  // namespace vswitch
