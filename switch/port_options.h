// Validation helpers for port options (key=value strings from the API). Errors name the
// field as "options.<key>" so the API can report which one was bad.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "port.h"

namespace vswitch {

// Reads an unsigned option in [lo, hi]; absent -> def. Returns false and sets err on a
// bad value.
bool opt_uint(const PortOptions& o, const char* key, uint32_t lo, uint32_t hi, uint32_t def,
              uint32_t& out, std::string& err);
// Reads a string option; absent -> def. If `allowed` is non-empty the value must be one
// of them.
bool opt_str(const PortOptions& o, const char* key, const std::string& def, std::string& out,
             std::string& err, std::initializer_list<const char*> allowed = {});
// Rejects keys not in `known` (typos must not be silently ignored).
bool opt_known(const PortOptions& o, std::initializer_list<const char*> known, std::string& err);

}  // namespace vswitch
