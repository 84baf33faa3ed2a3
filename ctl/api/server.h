// ApiServer: the control API endpoint of switchd, a unix stream socket served with
// Boost.Asio on an io_context the caller owns and runs.
//
// Contract:
//  - Everything (accepting, reading, the Handler, writing) runs on the thread that runs
//    the io_context. switchd runs it on its single control thread, so the Handler touches
//    control state without locks. Do not run this io_context on more than one thread.
//  - start(), stop(), set_handler() and the destructor must be called on that thread, or
//    while the io_context is not running (e.g. before io.run(), after it returned). From
//    another thread use boost::asio::post(io, [&] { server.stop(); }).
//  - Each frame is parsed as a vswitch.api.Request and answered with exactly one
//    Response frame; one client's requests are answered in the order sent. Clients are
//    independent: a slow or stuck client never blocks another.
//  - A payload that does not parse gets Response{error: "malformed request"} and the
//    connection keeps being served. A Request with no body set (empty, or a request
//    type this switchd does not know) gets "unsupported request" without calling the
//    Handler. A Handler that throws gets "internal error: ..." and the server goes on.
//  - A frame header announcing more than 16 MiB gets an error Response, then the
//    connection is closed (the stream can no longer be resynchronised).
//  - A Response too large for one frame is replaced by an error Response.
//  - start(): creates the parent directory, refuses to steal the socket of a live
//    server, unlinks a stale socket, binds, chmods (default 0660), optionally chowns to a
//    group, listens. Throws std::runtime_error with a message naming the path and cause.
//  - stop(): closes the acceptor and every session (unanswered requests are dropped) and
//    removes the socket file if it is still the one we created. Idempotent; also run by
//    the destructor. Safe to call from inside the Handler.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ctl/api/endpoint.h"
#include "ctl/api/framing.h"
#include "vswitch.pb.h"

namespace vswitch::api {

struct ApiServerOptions {
    std::string socket_path = kDefaultSocketPath;
    mode_t mode = 0660;
    std::string group;                     // chown the socket to this group; "" = leave as is
    std::size_t max_frame = kMaxFrameSize;
    std::size_t max_sessions = 256;        // further connections are accepted and closed
    // Once this many response bytes are queued for a client that is not reading them, stop
    // answering and reading its requests until it catches up: a client pipelining dumps
    // cannot grow our memory without bound.
    std::size_t max_pending_output = 64u * 1024 * 1024;
    // Diagnostics (accept failures, protocol errors, dropped clients). Default: none.
    std::function<void(std::string_view)> log;
};

class ApiServer {
public:
    using Handler = std::function<void(const Request&, Response&)>;

    ApiServer(boost::asio::io_context& io, ApiServerOptions options);
    ~ApiServer();
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    // The Handler fills `resp` (its body, or resp.mutable_error()) for `req`. It receives
    // a cleared Response. Set it before start(); it may be replaced later.
    void set_handler(Handler handler);

    void start();
    void stop();

    bool running() const;
    const std::string& socket_path() const;
    std::size_t session_count() const;

    struct Core;   // shared with sessions so late completions never touch a dead server

private:
    std::shared_ptr<Core> core_;
};

}  // namespace vswitch::api
