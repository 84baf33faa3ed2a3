// Where switchd's control API listens by default. One definition shared by the server
// (switchd) and its clients (switchctl), so the two can never disagree.
#pragma once

namespace vswitch::api {

inline constexpr const char* kDefaultSocketPath = "/run/vswitch/switchd.sock";

}  // namespace vswitch::api
