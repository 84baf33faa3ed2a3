// ApiServer + ApiClient over a real unix socket in a temp directory, with a fake handler
// and the io_context running on its own thread (as switchd's control thread does).
#include <catch2/catch.hpp>

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <future>
#include <thread>
#include <vector>

#include "ctl/api/client.h"
#include "ctl/api/framing.h"
#include "ctl/api/server.h"

namespace asio = boost::asio;
using namespace vswitch::api;

namespace {

std::string make_temp_dir() {
    char tmpl[] = "/tmp/vsw_ctl_test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    return tmpl;
}

// Echoes requests back so tests can tell answers apart; a few magic names misbehave.
void fake_handler(const Request& req, Response& resp) {
    switch (req.body_case()) {
    case Request::kDumpFlows: {
        auto* f = resp.mutable_dump_flows()->add_flows();
        f->set_match(req.dump_flows().filter());
        break;
    }
    case Request::kDelPort:
        if (req.del_port().name() == "boom") throw std::runtime_error("kaboom");
        if (req.del_port().name() == "missing") {
            resp.mutable_error()->set_message("no such port");
            resp.mutable_error()->set_field("name");
            break;
        }
        resp.mutable_del_port();
        break;
    default:
        resp.mutable_error()->set_message("not implemented in fake");
    }
}

struct Served {
    std::string dir = make_temp_dir();
    std::string path = dir + "/run/vswitch/switchd.sock";   // parent dirs do not exist yet
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
    std::unique_ptr<ApiServer> server;
    std::thread thread;
    std::thread::id io_thread_id;

    explicit Served(ApiServer::Handler h = fake_handler, ApiServerOptions opts = {}) {
        opts.socket_path = path;
        server = std::make_unique<ApiServer>(io, opts);
        server->set_handler(std::move(h));
        server->start();
        thread = std::thread([this] {
            io_thread_id = std::this_thread::get_id();
            io.run();
        });
    }

    // Runs f on the io thread and waits for it.
    template <class F>
    auto on_io(F f) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto fut = task.get_future();
        asio::post(io, [&task] { task(); });
        return fut.get();
    }

    ~Served() {
        on_io([this] { server->stop(); });
        guard.reset();
        io.stop();
        thread.join();
        server.reset();
        std::filesystem::remove_all(dir);
    }
};

int connect_raw(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, path.c_str());
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

void send_all(int fd, const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        REQUIRE(n > 0);
        off += static_cast<std::size_t>(n);
    }
}

// Reads one Response; returns false on EOF.
bool read_response(int fd, FrameDecoder& dec, Response& resp) {
    std::string_view p;
    char buf[4096];
    while (dec.next(p) != FrameDecoder::Status::kFrame) {
        ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) return false;
        dec.feed(buf, static_cast<std::size_t>(n));
    }
    REQUIRE(resp.ParseFromArray(p.data(), static_cast<int>(p.size())));
    return true;
}

Request dump(const std::string& filter) {
    Request r;
    r.mutable_dump_flows()->set_filter(filter);
    return r;
}

}  // namespace

TEST_CASE("request/response over the socket; socket is 0660 in a created dir", "[ctl][server]") {
    Served s;
    struct stat st {};
    REQUIRE(::stat(s.path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 07777) == 0660);

    ApiClient c;
    c.connect(s.path);
    Response resp;
    c.call(dump("in_port=vm1"), resp);
    REQUIRE(resp.has_dump_flows());
    CHECK(resp.dump_flows().flows(0).match() == "in_port=vm1");

    // Same connection, several calls; errors come back as Response.error.
    Request del;
    del.mutable_del_port()->set_name("missing");
    c.call(del, resp);
    CHECK(resp.error().message() == "no such port");
    CHECK(resp.error().field() == "name");
    c.call(dump("second"), resp);
    CHECK(resp.dump_flows().flows(0).match() == "second");
}

TEST_CASE("handler runs on the io_context thread", "[ctl][server]") {
    std::thread::id seen;
    Served* sp = nullptr;
    Served s([&](const Request&, Response& resp) {
        seen = std::this_thread::get_id();
        resp.mutable_show();
    });
    sp = &s;
    ApiClient c;
    c.connect(s.path);
    Request r;
    r.mutable_show();
    Response resp;
    c.call(r, resp);
    CHECK(resp.has_show());
    CHECK(seen == sp->io_thread_id);
}

TEST_CASE("pipelined requests are answered in order", "[ctl][server]") {
    Served s;
    int fd = connect_raw(s.path);
    std::string wire, err;
    for (int i = 0; i < 200; i++) REQUIRE(append_message_frame(wire, dump(std::to_string(i)), err));
    send_all(fd, wire);   // all 200 in one write
    FrameDecoder dec;
    for (int i = 0; i < 200; i++) {
        Response resp;
        REQUIRE(read_response(fd, dec, resp));
        REQUIRE(resp.dump_flows().flows(0).match() == std::to_string(i));
    }
    ::close(fd);
}

TEST_CASE("concurrent clients are served independently", "[ctl][server]") {
    Served s;
    constexpr int kClients = 8, kCalls = 50;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kClients; t++) {
        threads.emplace_back([&, t] {
            ApiClient c;
            c.connect(s.path);
            for (int i = 0; i < kCalls; i++) {
                std::string tag = std::to_string(t) + "/" + std::to_string(i);
                Response resp;
                c.call(dump(tag), resp);
                if (resp.dump_flows().flows_size() == 1 && resp.dump_flows().flows(0).match() == tag)
                    ok++;
            }
        });
    }
    // A silent client holding a connection open must not block the others.
    int idle = connect_raw(s.path);
    for (auto& th : threads) th.join();
    ::close(idle);
    CHECK(ok == kClients * kCalls);
}

TEST_CASE("malformed payload gets an error and the connection keeps working", "[ctl][server]") {
    Served s;
    int fd = connect_raw(s.path);
    std::string wire, err;
    REQUIRE(append_frame(wire, std::string("\xff\xff\xff\xff garbage", 13)));
    REQUIRE(append_frame(wire, ""));   // parses, but names no request
    REQUIRE(append_message_frame(wire, dump("after"), err));
    send_all(fd, wire);
    FrameDecoder dec;
    Response resp;
    REQUIRE(read_response(fd, dec, resp));
    CHECK(resp.error().message() == "malformed request");
    REQUIRE(read_response(fd, dec, resp));
    CHECK(resp.error().message().rfind("unsupported request", 0) == 0);
    REQUIRE(read_response(fd, dec, resp));
    CHECK_FALSE(resp.has_error());
    CHECK(resp.dump_flows().flows(0).match() == "after");
    ::close(fd);
}

TEST_CASE("a throwing handler yields an internal error, server goes on", "[ctl][server]") {
    Served s;
    ApiClient c;
    c.connect(s.path);
    Request r;
    r.mutable_del_port()->set_name("boom");
    Response resp;
    c.call(r, resp);
    CHECK(resp.error().message() == "internal error: kaboom");
    c.call(dump("still here"), resp);
    CHECK(resp.dump_flows().flows(0).match() == "still here");
}

TEST_CASE("oversize frame gets an error response, then the connection closes",
          "[ctl][server]") {
    Served s;
    int fd = connect_raw(s.path);
    send_all(fd, std::string("\x01\x00\x00\x01", 4));   // 16 MiB + 1 announced
    FrameDecoder dec;
    Response resp;
    REQUIRE(read_response(fd, dec, resp));
    CHECK(resp.error().message() == "frame of 16777217 bytes exceeds the 16 MiB limit");
    CHECK_FALSE(read_response(fd, dec, resp));   // EOF
    ::close(fd);

    ApiClient c;   // others are unaffected
    c.connect(s.path);
    c.call(dump("x"), resp);
    CHECK(resp.has_dump_flows());
}

TEST_CASE("half-closed client still gets its answers", "[ctl][server]") {
    Served s;
    int fd = connect_raw(s.path);
    std::string wire, err;
    REQUIRE(append_message_frame(wire, dump("a"), err));
    REQUIRE(append_message_frame(wire, dump("b"), err));
    send_all(fd, wire);
    ::shutdown(fd, SHUT_WR);
    FrameDecoder dec;
    Response resp;
    REQUIRE(read_response(fd, dec, resp));
    CHECK(resp.dump_flows().flows(0).match() == "a");
    REQUIRE(read_response(fd, dec, resp));
    CHECK(resp.dump_flows().flows(0).match() == "b");
    CHECK_FALSE(read_response(fd, dec, resp));
    ::close(fd);
}

TEST_CASE("stop closes sessions and removes the socket file", "[ctl][server]") {
    Served s;
    ApiClient c;
    c.connect(s.path);
    Response resp;
    c.call(dump("x"), resp);
    CHECK(s.on_io([&] { return s.server->session_count(); }) == 1);
    s.on_io([&] { s.server->stop(); return 0; });
    CHECK_FALSE(std::filesystem::exists(s.path));
    CHECK_THROWS_AS(c.call(dump("y"), resp), ApiClientError);
    CHECK_FALSE(c.connected());

    ApiClient c2;
    try {
        c2.connect(s.path);
        FAIL("connect should fail");
    } catch (const ApiClientError& e) {
        CHECK(e.kind() == ApiClientError::Kind::kConnect);
        CHECK(std::string(e.what()) == "cannot connect to " + s.path +
                                           ": No such file or directory (is switchd running?)");
    }
}

TEST_CASE("handler may stop the server", "[ctl][server]") {
    ApiServer* srv = nullptr;
    Served s([&](const Request&, Response& resp) {
        resp.mutable_show();
        srv->stop();
    });
    srv = s.server.get();
    ApiClient c;
    c.connect(s.path);
    Request r;
    r.mutable_show();
    Response resp;
    CHECK_THROWS_AS(c.call(r, resp), ApiClientError);   // closed before replying
    CHECK_FALSE(std::filesystem::exists(s.path));
}

TEST_CASE("stale socket is replaced, a live one is not stolen", "[ctl][server]") {
    std::string dir = make_temp_dir();
    std::string path = dir + "/s.sock";
    {   // a socket file left behind by a dead process
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strcpy(a.sun_path, path.c_str());
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
        ::close(fd);
    }
    asio::io_context io;
    ApiServerOptions o;
    o.socket_path = path;
    ApiServer first(io, o);
    first.set_handler(fake_handler);
    REQUIRE_NOTHROW(first.start());

    ApiServer second(io, o);
    CHECK_THROWS_WITH(second.start(), "another server is already listening on " + path);
    CHECK(std::filesystem::exists(path));   // still first's

    first.stop();
    CHECK_FALSE(std::filesystem::exists(path));

    std::filesystem::remove_all(dir);
}

TEST_CASE("a regular file at the socket path is not deleted", "[ctl][server]") {
    std::string dir = make_temp_dir();
    std::string path = dir + "/s.sock";
    { std::FILE* f = std::fopen(path.c_str(), "w"); std::fclose(f); }
    asio::io_context io;
    ApiServerOptions o;
    o.socket_path = path;
    ApiServer srv(io, o);
    CHECK_THROWS_WITH(srv.start(), path + " exists and is not a socket; refusing to replace it");
    CHECK(std::filesystem::is_regular_file(path));
    std::filesystem::remove_all(dir);
}

TEST_CASE("client call times out when nobody answers", "[ctl][client]") {
    std::string dir = make_temp_dir();
    std::string path = dir + "/mute.sock";
    int lfd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, path.c_str());
    REQUIRE(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    REQUIRE(::listen(lfd, 4) == 0);   // never accepts, never answers

    ApiClient c(std::chrono::milliseconds(200));
    c.connect(path);
    Response resp;
    auto t0 = std::chrono::steady_clock::now();
    try {
        c.call(dump("x"), resp);
        FAIL("call should time out");
    } catch (const ApiClientError& e) {
        CHECK(e.kind() == ApiClientError::Kind::kTimeout);
        CHECK(std::string(e.what()) == "timed out after 0.2 s waiting for a reply from switchd");
    }
    CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(200));
    CHECK_FALSE(c.connected());
    ::close(lfd);
    std::filesystem::remove_all(dir);
}

TEST_CASE("socket can be handed to a group", "[ctl][server]") {
    group* g = ::getgrgid(::getgid());
    REQUIRE(g != nullptr);
    ApiServerOptions o;
    o.group = g->gr_name;
    Served s(fake_handler, o);
    struct stat st {};
    REQUIRE(::stat(s.path.c_str(), &st) == 0);
    CHECK(st.st_gid == ::getgid());

    asio::io_context io;
    ApiServerOptions bad;
    bad.socket_path = s.dir + "/other.sock";
    bad.group = "no-such-group-vsw";
    ApiServer srv(io, bad);
    CHECK_THROWS_WITH(srv.start(), "unknown group 'no-such-group-vsw' for " + bad.socket_path);
    CHECK_FALSE(std::filesystem::exists(bad.socket_path));   // cleaned up on failure
}

TEST_CASE("a client that does not read its replies is paused, not buffered without bound",
          "[ctl][server]") {
    // Every reply is 64 KiB; allow only 128 KiB queued per client.
    ApiServerOptions o;
    o.max_pending_output = 128 * 1024;
    Served s(
        [](const Request& req, Response& resp) {
            auto* f = resp.mutable_dump_flows()->add_flows();
            f->set_match(req.dump_flows().filter());
            f->set_actions(std::string(64 * 1024, 'a'));
        },
        o);
    int fd = connect_raw(s.path);
    std::string wire, err;
    constexpr int kRequests = 300;   // ~19 MiB of replies, far more than socket buffers
    for (int i = 0; i < kRequests; i++)
        REQUIRE(append_message_frame(wire, dump(std::to_string(i)), err));
    send_all(fd, wire);
    ::shutdown(fd, SHUT_WR);   // EOF while most requests are still unanswered
    std::this_thread::sleep_for(std::chrono::milliseconds(100));   // let the server stall
    FrameDecoder dec;
    Response resp;
    for (int i = 0; i < kRequests; i++) {
        REQUIRE(read_response(fd, dec, resp));
        REQUIRE(resp.dump_flows().flows(0).match() == std::to_string(i));
    }
    CHECK_FALSE(read_response(fd, dec, resp));
    ::close(fd);
}

TEST_CASE("a reply too large for one frame becomes an error reply", "[ctl][server]") {
    ApiServerOptions o;
    o.max_frame = 1000;
    Served s(
        [](const Request&, Response& resp) {
            resp.mutable_dump_flows()->add_flows()->set_match(std::string(2000, 'm'));
        },
        o);
    ApiClient c;
    c.connect(s.path);
    Response resp;
    c.call(dump(""), resp);
    CHECK_FALSE(resp.has_dump_flows());
    CHECK(resp.error().message().rfind("response too large for one frame", 0) == 0);
}

TEST_CASE("connections beyond max_sessions are closed", "[ctl][server]") {
    ApiServerOptions o;
    o.max_sessions = 1;
    Served s(fake_handler, o);
    ApiClient first;
    first.connect(s.path);
    Response resp;
    first.call(dump("1"), resp);   // first is established for sure
    ApiClient second;
    second.connect(s.path);        // the kernel accepts it; the server then drops it
    try {
        second.call(dump("2"), resp);
        FAIL("second client should be refused");
    } catch (const ApiClientError& e) {
        CHECK(e.kind() == ApiClientError::Kind::kClosed);
    }
    first.call(dump("3"), resp);
    CHECK(resp.dump_flows().flows(0).match() == "3");
}
