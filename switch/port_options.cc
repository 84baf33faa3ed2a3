#include "port_options.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace vswitch {

bool opt_uint(const PortOptions& o, const char* key, uint32_t lo, uint32_t hi, uint32_t def,
              uint32_t& out, std::string& err) {
    auto it = o.find(key);
    if (it == o.end()) {
        out = def;
        return true;
    }
    const std::string& v = it->second;
    char* end = nullptr;
    errno = 0;
    unsigned long long x = std::strtoull(v.c_str(), &end, 0);
    if (v.empty() || *end != '\0' || errno != 0 || v[0] == '-' || x < lo || x > hi) {
        err = std::string("options.") + key + ": '" + v + "' is not a number in " +
              std::to_string(lo) + ".." + std::to_string(hi);
        return false;
    }
    out = static_cast<uint32_t>(x);
    return true;
}

bool opt_str(const PortOptions& o, const char* key, const std::string& def, std::string& out,
             std::string& err, std::initializer_list<const char*> allowed) {
    auto it = o.find(key);
    out = it == o.end() ? def : it->second;
    if (allowed.size() == 0 || it == o.end()) return true;
    std::string list;
    for (const char* a : allowed) {
        if (out == a) return true;
        list += list.empty() ? a : std::string("|") + a;
    }
    err = std::string("options.") + key + ": '" + out + "' is not one of " + list;
    return false;
}

bool opt_known(const PortOptions& o, std::initializer_list<const char*> known, std::string& err) {
    for (const auto& [k, v] : o) {
        bool ok = false;
        for (const char* n : known) ok = ok || k == n;
        if (!ok) {
            std::string list;
            for (const char* n : known) list += list.empty() ? n : std::string(", ") + n;
            err = "options." + k + ": unknown option for this port type (known: " + list + ")";
            return false;
        }
    }
    return true;
}

}  // namespace vswitch
