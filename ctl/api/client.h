// ApiClient: blocking client of the control API (switchctl, tests, scripts' helpers).
//
// Contract:
//  - connect(path) then any number of call()s on the same connection; each call sends one
//    Request frame and waits for its one Response frame.
//  - Every failure throws ApiClientError, whose message is ready to show to a user, e.g.
//    "cannot connect to /run/vswitch/switchd.sock: No such file or directory (is switchd
//    running?)". kind() lets a caller add advice of its own (e.g. a CLI option to use).
//  - The timeout bounds each call() as a whole (send + wait + receive) and connect().
//    0 = wait forever. After a timeout or any I/O/protocol failure the connection is
//    closed, because a late reply would otherwise be taken as the answer to the next call.
//  - Never raises SIGPIPE. Not thread-safe: one thread per client.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

#include "ctl/api/framing.h"
#include "vswitch.pb.h"

namespace vswitch::api {

class ApiClientError : public std::runtime_error {
public:
    enum class Kind {
        kConnect,    // could not connect (not running, permissions, bad path)
        kTimeout,    // no (complete) reply within the timeout
        kClosed,     // switchd closed the connection, or call() without connect()
        kIo,         // socket error while sending or receiving
        kProtocol,   // oversize or unparsable reply, or a request too large to send
    };
    ApiClientError(Kind kind, const std::string& msg) : std::runtime_error(msg), kind_(kind) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

class ApiClient {
public:
    static constexpr std::chrono::milliseconds kDefaultTimeout{30000};

    explicit ApiClient(std::chrono::milliseconds timeout = kDefaultTimeout);
    ~ApiClient();
    ApiClient(const ApiClient&) = delete;
    ApiClient& operator=(const ApiClient&) = delete;
    ApiClient(ApiClient&& other) noexcept;
    ApiClient& operator=(ApiClient&& other) noexcept;

    void connect(const std::string& path);
    void call(const Request& req, Response& resp);
    void close();

    bool connected() const { return fd_ >= 0; }
    void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
    std::chrono::milliseconds timeout() const { return timeout_; }

private:
    using Clock = std::chrono::steady_clock;
    [[noreturn]] void fail(ApiClientError::Kind kind, const std::string& msg);
    // Waits for `events` on the socket until `deadline` (time_point::max() = forever).
    void wait(short events, Clock::time_point deadline);
    std::string timeout_text() const;

    int fd_ = -1;
    std::string path_;
    std::chrono::milliseconds timeout_;
    FrameDecoder decoder_;
};

}  // namespace vswitch::api
