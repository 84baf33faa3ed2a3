// ApiServer: see server.h for the contract. One Session per connected client; all state
// is touched only from the io_context thread, so there is no locking anywhere here.
#include "ctl/api/server.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <stdexcept>
#include <unordered_set>
#include <vector>

namespace vswitch::api {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;
using boost::system::error_code;

namespace server_detail {

class Session;

std::string errno_text(int e) { return std::strerror(e); }

// Asio does not open descriptors with O_CLOEXEC; switchd may spawn helpers, which must
// not inherit the control socket.
void set_cloexec(int fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

}  // namespace server_detail

using server_detail::Session;

struct ApiServer::Core : std::enable_shared_from_this<ApiServer::Core> {
    Core(asio::io_context& io_, ApiServerOptions o)
        : io(io_), opts(std::move(o)), acceptor(io_), retry_timer(io_) {}

    asio::io_context& io;
    ApiServerOptions opts;
    Handler handler;
    stream::acceptor acceptor;
    asio::steady_timer retry_timer;
    std::unordered_set<std::shared_ptr<Session>> sessions;
    std::uint64_t next_session_id = 1;
    bool running = false;
    // Identity of the socket file we bound, so stop() never unlinks a socket that a newer
    // switchd has since created at the same path.
    bool own_socket = false;
    dev_t sock_dev = 0;
    ino_t sock_ino = 0;

    void log(const std::string& msg) const {
        if (opts.log) opts.log(msg);
    }
    void start();
    void stop();
    void accept();
    void on_accept(const error_code& ec, stream::socket sock);
    void remove(const std::shared_ptr<Session>& s) { sessions.erase(s); }
    void handle(std::string_view payload, Response& resp);
    std::string encode(const Response& resp);

private:
    void prepare_path();
    void apply_ownership();
    void unlink_if_ours();
    [[noreturn]] void fail(const std::string& msg);
};

namespace server_detail {

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(std::shared_ptr<ApiServer::Core> core, stream::socket sock, std::uint64_t id)
        : core_(std::move(core)),
          sock_(std::move(sock)),
          id_(id),
          dec_(core_->opts.max_frame),
          max_pending_(std::max<std::size_t>(core_->opts.max_pending_output, 1)) {}

    void start() { read(); }

    // Immediate close: pending output is dropped. Outstanding async operations complete
    // with operation_aborted and find closed_ set.
    void close() {
        if (closed_) return;
        closed_ = true;
        error_code ignored;
        sock_.shutdown(stream::socket::shutdown_both, ignored);
        sock_.close(ignored);
        outq_.clear();
        out_bytes_ = 0;
        core_->remove(shared_from_this());
    }

private:
    void read() {
        if (closed_ || read_closed_ || reading_) return;
        if (out_bytes_ >= max_pending_) return;   // resumed by on_write
        reading_ = true;
        sock_.async_read_some(asio::buffer(rbuf_),
                              [self = shared_from_this()](const error_code& ec, std::size_t n) {
                                  self->on_read(ec, n);
                              });
    }

    void on_read(const error_code& ec, std::size_t n) {
        reading_ = false;
        if (closed_) return;
        if (ec) {
            if (ec == asio::error::eof) {
                // The client may half-close after its last request: answer what is queued.
                read_closed_ = true;
                finish_if_done();
            } else {
                close();
            }
            return;
        }
        dec_.feed(rbuf_.data(), n);
        process();
        if (closed_) return;
        read();
        finish_if_done();
    }

    // Answers the complete frames buffered, in order. Stops while the client has
    // max_pending_ reply bytes unread: one 64 KiB read can hold thousands of small
    // requests, each of which may produce a large reply (a dump), so pausing reads alone
    // would not bound memory. on_write() resumes here.
    void process() {
        auto self = shared_from_this();   // the Handler may stop the server under us
        std::string_view payload;
        while (!closed_ && !protocol_error_ && out_bytes_ < max_pending_) {
            auto st = dec_.next(payload);
            if (st == FrameDecoder::Status::kNeedMore) break;
            if (st == FrameDecoder::Status::kOversize) {
                core_->log("api client " + std::to_string(id_) + ": " + dec_.error() +
                           "; closing the connection");
                Response resp;
                resp.mutable_error()->set_message(dec_.error());
                queue(core_->encode(resp));
                protocol_error_ = true;   // the stream cannot be resynchronised
                read_closed_ = true;
                break;
            }
            Response resp;
            core_->handle(payload, resp);
            if (closed_) return;
            queue(core_->encode(resp));
        }
    }

    void queue(std::string frame) {
        out_bytes_ += frame.size();
        outq_.push_back(std::move(frame));
        write();
    }

    void write() {
        if (closed_ || writing_ || outq_.empty()) return;
        writing_ = true;
        // deque::push_back never moves existing elements, so front() stays valid while
        // more responses are queued behind it.
        asio::async_write(sock_, asio::buffer(outq_.front()),
                          [self = shared_from_this()](const error_code& ec, std::size_t) {
                              self->on_write(ec);
                          });
    }

    void on_write(const error_code& ec) {
        writing_ = false;
        if (closed_) return;
        if (ec) {
            close();
            return;
        }
        out_bytes_ -= outq_.front().size();
        outq_.pop_front();
        process();
        if (closed_) return;
        write();
        read();
        finish_if_done();
    }

    void finish_if_done() {
        // With no output queued, process() has answered every complete frame: what is
        // left in the decoder is a partial frame the client will never finish.
        if (read_closed_ && !reading_ && !writing_ && outq_.empty()) close();
    }

    std::shared_ptr<ApiServer::Core> core_;
    stream::socket sock_;
    std::uint64_t id_;
    FrameDecoder dec_;
    std::size_t max_pending_;
    std::array<char, 64 * 1024> rbuf_;
    std::deque<std::string> outq_;   // encoded Response frames, oldest first
    std::size_t out_bytes_ = 0;
    bool reading_ = false;
    bool writing_ = false;
    bool read_closed_ = false;      // EOF or protocol error: read no more, close once flushed
    bool protocol_error_ = false;   // oversize frame: answer nothing more
    bool closed_ = false;
};

}  // namespace server_detail

// ---------------------------------------------------------------- Core

void ApiServer::Core::handle(std::string_view payload, Response& resp) {
    Request req;
    if (!req.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
        resp.mutable_error()->set_message("malformed request");
        return;
    }
    if (req.body_case() == Request::BODY_NOT_SET) {
        resp.mutable_error()->set_message(
            "unsupported request (empty, or a request type this switchd does not know)");
        return;
    }
    // Copy: the handler may replace itself (set_handler) while it runs.
    Handler h = handler;
    if (!h) {
        resp.mutable_error()->set_message("switchd is not ready to serve requests");
        return;
    }
    try {
        h(req, resp);
    } catch (const std::exception& e) {
        resp.Clear();
        resp.mutable_error()->set_message(std::string("internal error: ") + e.what());
        log("api handler threw: " + std::string(e.what()));
    } catch (...) {
        resp.Clear();
        resp.mutable_error()->set_message("internal error");
        log("api handler threw a non-standard exception");
    }
}

std::string ApiServer::Core::encode(const Response& resp) {
    std::string frame, err;
    if (append_message_frame(frame, resp, err, opts.max_frame)) return frame;
    // Typically a dump of a huge flow table: tell the client instead of sending a frame it
    // must reject.
    Response small;
    small.mutable_error()->set_message(
        "response too large for one frame (" + err +
        "); narrow the request, e.g. with a dump-flows filter");
    frame.clear();
    if (!append_message_frame(frame, small, err, opts.max_frame)) frame.clear();
    return frame;
}

void ApiServer::Core::fail(const std::string& msg) {
    error_code ignored;
    acceptor.close(ignored);
    unlink_if_ours();
    throw std::runtime_error(msg);
}

void ApiServer::Core::prepare_path() {
    const std::string& path = opts.socket_path;
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(parent, ec);
        if (ec) fail("cannot create directory " + parent.string() + ": " + ec.message());
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return;
        fail("cannot stat " + path + ": " + server_detail::errno_text(errno));
    }
    if (!S_ISSOCK(st.st_mode)) fail(path + " exists and is not a socket; refusing to replace it");

    // A socket file survives a crash. Only a refused connection proves nobody listens;
    // unlinking a live server's socket would silently cut it off from every client.
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket: " + server_detail::errno_text(errno));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    int err = errno;
    ::close(fd);
    if (rc == 0 || err == EAGAIN) fail("another server is already listening on " + path);
    if (err != ECONNREFUSED && err != ENOENT)
        fail("cannot probe existing socket " + path + ": " + server_detail::errno_text(err));
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        fail("cannot remove stale socket " + path + ": " + server_detail::errno_text(errno));
}

void ApiServer::Core::apply_ownership() {
    const std::string& path = opts.socket_path;
    // bind() created the file with umask-derived permissions; nobody can connect before
    // listen(), so fixing them up now leaves no window where the wrong users get in.
    if (::chmod(path.c_str(), opts.mode) != 0)
        fail("cannot chmod " + path + ": " + server_detail::errno_text(errno));
    if (opts.group.empty()) return;
    std::vector<char> buf(1024);
    group grp{};
    group* result = nullptr;
    int rc;
    while ((rc = ::getgrnam_r(opts.group.c_str(), &grp, buf.data(), buf.size(), &result)) ==
               ERANGE &&
           buf.size() < (1u << 20))
        buf.resize(buf.size() * 2);
    if (rc != 0) fail("cannot look up group '" + opts.group + "': " + server_detail::errno_text(rc));
    if (!result) fail("unknown group '" + opts.group + "' for " + path);
    if (::chown(path.c_str(), static_cast<uid_t>(-1), grp.gr_gid) != 0)
        fail("cannot chown " + path + " to group " + opts.group + ": " +
             server_detail::errno_text(errno));
}

void ApiServer::Core::unlink_if_ours() {
    if (!own_socket) return;
    own_socket = false;
    struct stat st {};
    if (::lstat(opts.socket_path.c_str(), &st) == 0 && st.st_dev == sock_dev &&
        st.st_ino == sock_ino)
        ::unlink(opts.socket_path.c_str());
}

void ApiServer::Core::start() {
    if (running) return;
    const std::string& path = opts.socket_path;
    if (path.empty()) throw std::runtime_error("control socket path is empty");
    if (path.size() >= sizeof(sockaddr_un::sun_path))
        throw std::runtime_error("control socket path too long (max " +
                                 std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                                 " bytes): " + path);
    prepare_path();

    error_code ec;
    acceptor.open(stream(), ec);
    if (ec) fail("cannot create socket for " + path + ": " + ec.message());
    server_detail::set_cloexec(acceptor.native_handle());
    acceptor.bind(stream::endpoint(path), ec);
    if (ec) fail("cannot bind " + path + ": " + ec.message());
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        own_socket = true;
        sock_dev = st.st_dev;
        sock_ino = st.st_ino;
    }
    apply_ownership();
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) fail("cannot listen on " + path + ": " + ec.message());
    running = true;
    accept();
}

void ApiServer::Core::stop() {
    running = false;
    error_code ignored;
    acceptor.close(ignored);
    retry_timer.cancel();
    // Unlink before closing sessions: a client that sees its connection drop must not
    // find the dead socket file when it retries.
    unlink_if_ours();
    // close() removes the session from the set: iterate over a copy.
    std::vector<std::shared_ptr<Session>> all(sessions.begin(), sessions.end());
    for (auto& s : all) s->close();
    sessions.clear();
}

void ApiServer::Core::accept() {
    if (!running) return;
    acceptor.async_accept([self = shared_from_this()](const error_code& ec, stream::socket sock) {
        self->on_accept(ec, std::move(sock));
    });
}

void ApiServer::Core::on_accept(const error_code& ec, stream::socket sock) {
    if (!running || ec == asio::error::operation_aborted) return;
    if (ec) {
        log("accept on " + opts.socket_path + " failed: " + ec.message());
        int e = ec.value();
        if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
            // Retrying at once would spin at 100% CPU on the control thread until a
            // descriptor frees up; back off instead.
            retry_timer.expires_after(std::chrono::milliseconds(100));
            retry_timer.async_wait([self = shared_from_this()](const error_code& tec) {
                if (!tec) self->accept();
            });
            return;
        }
        accept();
        return;
    }
    server_detail::set_cloexec(sock.native_handle());
    if (sessions.size() >= opts.max_sessions) {
        log("api: " + std::to_string(sessions.size()) + " clients connected (max " +
            std::to_string(opts.max_sessions) + "); refusing a new one");
        error_code ignored;
        sock.close(ignored);
    } else {
        auto s = std::make_shared<Session>(shared_from_this(), std::move(sock), next_session_id++);
        sessions.insert(s);
        s->start();
    }
    accept();
}

// ---------------------------------------------------------------- ApiServer

ApiServer::ApiServer(boost::asio::io_context& io, ApiServerOptions options)
    : core_(std::make_shared<Core>(io, std::move(options))) {}

ApiServer::~ApiServer() {
    core_->stop();
    // Sessions with completions still queued keep Core alive; make sure they can no longer
    // reach whatever the handler captured.
    core_->handler = nullptr;
}

void ApiServer::set_handler(Handler handler) { core_->handler = std::move(handler); }
void ApiServer::start() { core_->start(); }
void ApiServer::stop() { core_->stop(); }
bool ApiServer::running() const { return core_->running; }
const std::string& ApiServer::socket_path() const { return core_->opts.socket_path; }
std::size_t ApiServer::session_count() const { return core_->sessions.size(); }

}  // namespace vswitch::api
