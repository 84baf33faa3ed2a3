// ApiClient: see client.h. Plain POSIX sockets + poll(): a one-shot CLI needs deadlines,
// which Asio's synchronous operations do not offer.
#include "ctl/api/client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <utility>

namespace vswitch::api {

namespace {

using Kind = ApiClientError::Kind;

std::string connect_hint(int err) {
    switch (err) {
    case ENOENT:
    case ECONNREFUSED:
        return " (is switchd running?)";
    case EACCES:
    case EPERM:
        return " (run as root or as a member of the socket's group)";
    case EAGAIN:
        return " (switchd is not accepting connections)";
    default:
        return "";
    }
}

}  // namespace

ApiClient::ApiClient(std::chrono::milliseconds timeout) : timeout_(timeout) {}

ApiClient::~ApiClient() { close(); }

ApiClient::ApiClient(ApiClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      timeout_(other.timeout_),
      decoder_(std::move(other.decoder_)) {}

ApiClient& ApiClient::operator=(ApiClient&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
        path_ = std::move(other.path_);
        timeout_ = other.timeout_;
        decoder_ = std::move(other.decoder_);
    }
    return *this;
}

void ApiClient::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    decoder_.reset();
}

void ApiClient::fail(Kind kind, const std::string& msg) {
    close();
    throw ApiClientError(kind, msg);
}

std::string ApiClient::timeout_text() const {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g s", static_cast<double>(timeout_.count()) / 1000.0);
    return buf;
}

void ApiClient::connect(const std::string& path) {
    close();
    path_ = path;
    const std::string prefix = "cannot connect to " + path + ": ";
    sockaddr_un addr{};
    if (path.empty()) throw ApiClientError(Kind::kConnect, "cannot connect: empty socket path");
    if (path.size() >= sizeof(addr.sun_path))
        throw ApiClientError(Kind::kConnect, prefix + "path too long (max " +
                                                 std::to_string(sizeof(addr.sun_path) - 1) +
                                                 " bytes)");
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw ApiClientError(Kind::kConnect, prefix + std::strerror(errno));
    // A unix-socket connect() blocks only while the server's backlog is full; SO_SNDTIMEO
    // bounds that wait (the kernel uses the send timeout for it).
    if (timeout_.count() > 0) {
        timeval tv{};
        tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
        tv.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    int rc;
    do {
        rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        int err = errno;
        ::close(fd);
        if (err == EAGAIN || err == EINPROGRESS)
            throw ApiClientError(Kind::kTimeout, prefix + "timed out after " + timeout_text() +
                                                     connect_hint(EAGAIN));
        throw ApiClientError(Kind::kConnect, prefix + std::strerror(err) + connect_hint(err));
    }
    // From here on deadlines are enforced with poll(); a blocking send/recv could not be.
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        int err = errno;
        ::close(fd);
        throw ApiClientError(Kind::kConnect, prefix + std::strerror(err));
    }
    fd_ = fd;
    decoder_.reset();
}

void ApiClient::wait(short events, Clock::time_point deadline) {
    for (;;) {
        int ms = -1;
        if (deadline != Clock::time_point::max()) {
            auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0)
                fail(Kind::kTimeout, "timed out after " + timeout_text() +
                                         " waiting for a reply from switchd");
            ms = left.count() > INT_MAX ? INT_MAX : static_cast<int>(left.count());
        }
        pollfd p{fd_, events, 0};
        int rc = ::poll(&p, 1, ms);
        if (rc > 0) return;   // ready, or an error/hangup the next send/recv reports
        if (rc < 0 && errno != EINTR)
            fail(Kind::kIo, std::string("poll: ") + std::strerror(errno));
    }
}

void ApiClient::call(const Request& req, Response& resp) {
    if (fd_ < 0) throw ApiClientError(Kind::kClosed, "not connected to switchd");
    std::string frame, err;
    if (!append_message_frame(frame, req, err)) throw ApiClientError(Kind::kProtocol, err);

    auto deadline = timeout_.count() > 0 ? Clock::now() + timeout_ : Clock::time_point::max();

    std::size_t sent = 0;
    while (sent < frame.size()) {
        ssize_t n = ::send(fd_, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
        if (n >= 0) {
            sent += static_cast<std::size_t>(n);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            wait(POLLOUT, deadline);
        } else if (errno == EPIPE || errno == ECONNRESET) {
            fail(Kind::kClosed, "switchd closed the connection");
        } else if (errno != EINTR) {
            fail(Kind::kIo, std::string("cannot send to switchd: ") + std::strerror(errno));
        }
    }

    std::array<char, 64 * 1024> buf;
    for (;;) {
        std::string_view payload;
        switch (decoder_.next(payload)) {
        case FrameDecoder::Status::kFrame:
            resp.Clear();
            if (!resp.ParseFromArray(payload.data(), static_cast<int>(payload.size())))
                fail(Kind::kProtocol, "malformed reply from switchd");
            return;
        case FrameDecoder::Status::kOversize:
            fail(Kind::kProtocol, "reply from switchd rejected: " + decoder_.error());
        case FrameDecoder::Status::kNeedMore:
            break;
        }
        ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
        if (n > 0) {
            decoder_.feed(buf.data(), static_cast<std::size_t>(n));
        } else if (n == 0) {
            fail(Kind::kClosed, "switchd closed the connection before replying");
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            wait(POLLIN, deadline);
        } else if (errno == ECONNRESET) {
            fail(Kind::kClosed, "switchd closed the connection before replying");
        } else if (errno != EINTR) {
            fail(Kind::kIo, std::string("cannot receive from switchd: ") + std::strerror(errno));
        }
    }
}

}  // namespace vswitch::api
