// Frame codec: round trip, arbitrary fragmentation, several frames per read, oversize.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ctl/api/framing.h"
#include "vswitch.pb.h"

using vswitch::api::FrameDecoder;
using Status = FrameDecoder::Status;

namespace {

std::vector<std::string> drain(FrameDecoder& d) {
    std::vector<std::string> out;
    std::string_view p;
    while (d.next(p) == Status::kFrame) out.emplace_back(p);
    return out;
}

}  // namespace

TEST_CASE("frame header is 4-byte big-endian length", "[ctl][framing]") {
    std::string out;
    REQUIRE(vswitch::api::append_frame(out, std::string(0x0102, 'x')));
    REQUIRE(out.size() == 4 + 0x0102);
    CHECK(out.substr(0, 4) == std::string("\x00\x00\x01\x02", 4));
}

TEST_CASE("frames round-trip, including empty ones", "[ctl][framing]") {
    std::vector<std::string> payloads = {"hello", "", std::string(100000, 'z'), "x"};
    std::string wire;
    for (auto& p : payloads) REQUIRE(vswitch::api::append_frame(wire, p));

    FrameDecoder d;
    d.feed(wire.data(), wire.size());
    CHECK(drain(d) == payloads);
    CHECK(d.buffered() == 0);
}

TEST_CASE("decoder handles every fragmentation", "[ctl][framing]") {
    std::vector<std::string> payloads = {"first", std::string(3000, 'a'), "", "last"};
    std::string wire;
    for (auto& p : payloads) REQUIRE(vswitch::api::append_frame(wire, p));

    for (std::size_t chunk : {1u, 2u, 3u, 5u, 7u, 1024u}) {
        FrameDecoder d;
        std::vector<std::string> got;
        for (std::size_t off = 0; off < wire.size(); off += chunk) {
            d.feed(wire.data() + off, std::min(chunk, wire.size() - off));
            for (auto& f : drain(d)) got.push_back(f);
        }
        CHECK(got == payloads);
        CHECK(d.buffered() == 0);
    }
}

TEST_CASE("partial header and partial payload need more", "[ctl][framing]") {
    std::string wire;
    vswitch::api::append_frame(wire, "abcdef");
    FrameDecoder d;
    std::string_view p;
    d.feed(wire.data(), 3);
    CHECK(d.next(p) == Status::kNeedMore);
    d.feed(wire.data() + 3, 4);
    CHECK(d.next(p) == Status::kNeedMore);
    CHECK(d.buffered() == 7);
    d.feed(wire.data() + 7, wire.size() - 7);
    REQUIRE(d.next(p) == Status::kFrame);
    CHECK(p == "abcdef");
    CHECK(d.next(p) == Status::kNeedMore);
}

TEST_CASE("oversize frame is rejected from its header alone, and stays rejected",
          "[ctl][framing]") {
    FrameDecoder d;
    const char hdr[4] = {0x01, 0x00, 0x00, 0x01};   // 16 MiB + 1
    d.feed(hdr, 4);
    std::string_view p;
    CHECK(d.next(p) == Status::kOversize);
    CHECK(d.failed());
    CHECK(d.error() == "frame of 16777217 bytes exceeds the 16 MiB limit");
    d.feed("more", 4);
    CHECK(d.next(p) == Status::kOversize);
    d.reset();
    CHECK_FALSE(d.failed());
}

TEST_CASE("exactly the limit is accepted; encoder refuses more", "[ctl][framing]") {
    FrameDecoder d(10);
    std::string wire;
    REQUIRE(vswitch::api::append_frame(wire, std::string(10, 'k'), 10));
    CHECK_FALSE(vswitch::api::append_frame(wire, std::string(11, 'k'), 10));
    d.feed(wire.data(), wire.size());
    std::string_view p;
    CHECK(d.next(p) == Status::kFrame);
    CHECK(p.size() == 10);
}

TEST_CASE("protobuf messages encode straight into frames", "[ctl][framing]") {
    vswitch::api::Request req;
    req.mutable_del_port()->set_name("vm1");
    std::string wire, err;
    REQUIRE(vswitch::api::append_message_frame(wire, req, err));
    FrameDecoder d;
    d.feed(wire.data(), wire.size());
    std::string_view p;
    REQUIRE(d.next(p) == Status::kFrame);
    vswitch::api::Request back;
    REQUIRE(back.ParseFromArray(p.data(), static_cast<int>(p.size())));
    CHECK(back.del_port().name() == "vm1");

    vswitch::api::Request big;
    big.mutable_add_flows()->add_flows(std::string(100, 'f'));
    std::string small_wire;
    CHECK_FALSE(vswitch::api::append_message_frame(small_wire, big, err, 50));
    CHECK(small_wire.empty());
    CHECK(err.find("exceeds") != std::string::npos);
}
