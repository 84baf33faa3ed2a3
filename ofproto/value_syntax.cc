#include "ofproto/value_syntax.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <cstdio>

namespace vswitch::ofp {
namespace {

std::string quoted(std::string_view s) {
    std::string q(1, '\'');   // appended, not "'" + s: GCC 12 -Wrestrict false positive
    q += s;
    q += '\'';
    return q;
}

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

std::string parse_uint(std::string_view s, uint64_t max, uint64_t& out) {
    if (s.empty()) return "missing value";
    int base = 10;
    std::string_view digits = s;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        digits = s.substr(2);
    }
    // from_chars alone would accept a leading '-' and stop at the first bad character.
    for (char c : digits)
        if (base == 16 ? !is_hex(c) : !(c >= '0' && c <= '9'))
            return "invalid number " + quoted(s);
    uint64_t v = 0;
    auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
    if (r.ec != std::errc() || v > max)
        return "value " + quoted(s) + " out of range (0-" + std::to_string(max) + ")";
    out = v;
    return "";
}

std::string parse_mac(std::string_view s, uint8_t out[6]) {
    size_t i = 0;
    for (int b = 0; b < 6; b++) {
        if (b > 0) {
            if (i >= s.size() || s[i] != ':') return "invalid MAC address " + quoted(s);
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < s.size() && i - start < 2 && is_hex(s[i])) {
            char c = s[i++];
            v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        if (i == start) return "invalid MAC address " + quoted(s);
        out[b] = static_cast<uint8_t>(v);
    }
    if (i != s.size()) return "invalid MAC address " + quoted(s);
    return "";
}

std::string parse_ipv4(std::string_view s, uint32_t& out) {
    uint32_t v = 0;
    size_t i = 0;
    for (int b = 0; b < 4; b++) {
        if (b > 0) {
            if (i >= s.size() || s[i] != '.') return "invalid IPv4 address " + quoted(s);
            i++;
        }
        size_t start = i;
        unsigned octet = 0;
        while (i < s.size() && i - start < 3 && s[i] >= '0' && s[i] <= '9')
            octet = octet * 10 + (s[i++] - '0');
        if (i == start || octet > 255) return "invalid IPv4 address " + quoted(s);
        v = (v << 8) | octet;
    }
    if (i != s.size()) return "invalid IPv4 address " + quoted(s);
    out = v;
    return "";
}

std::string parse_uint_masked(std::string_view s, uint64_t max, uint64_t& value,
                              uint64_t& mask) {
    size_t slash = s.find('/');
    if (std::string err = parse_uint(s.substr(0, slash), max, value); !err.empty()) return err;
    mask = max;
    if (slash == std::string_view::npos) return "";
    if (std::string err = parse_uint(s.substr(slash + 1), max, mask); !err.empty())
        return "invalid mask: " + err;
    return "";
}

std::string parse_mac_masked(std::string_view s, uint8_t value[6], uint8_t mask[6]) {
    size_t slash = s.find('/');
    if (std::string err = parse_mac(s.substr(0, slash), value); !err.empty()) return err;
    for (int i = 0; i < 6; i++) mask[i] = 0xff;
    if (slash == std::string_view::npos) return "";
    if (std::string err = parse_mac(s.substr(slash + 1), mask); !err.empty())
        return "invalid mask: " + err;
    return "";
}

std::string parse_ipv4_masked(std::string_view s, uint32_t& value, uint32_t& mask) {
    size_t slash = s.find('/');
    if (std::string err = parse_ipv4(s.substr(0, slash), value); !err.empty()) return err;
    mask = 0xffffffffu;
    if (slash == std::string_view::npos) return "";
    std::string_view m = s.substr(slash + 1);
    if (m.find('.') != std::string_view::npos) {
        if (std::string err = parse_ipv4(m, mask); !err.empty()) return "invalid mask: " + err;
        return "";
    }
    unsigned len = 0;
    bool ok = !m.empty() && m.size() <= 2;
    for (char c : m) {
        ok = ok && c >= '0' && c <= '9';
        len = len * 10 + (c - '0');
    }
    if (!ok || len > 32) return "invalid prefix length " + quoted(m) + " (must be 0-32)";
    mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
    return "";
}

std::string parse_ipv6_masked(std::string_view s, uint8_t value[16], uint8_t mask[16]) {
    size_t slash = s.find('/');
    std::string addr(s.substr(0, slash));
    if (addr.size() >= INET6_ADDRSTRLEN || inet_pton(AF_INET6, addr.c_str(), value) != 1)
        return "invalid IPv6 address " + quoted(s.substr(0, slash));
    std::memset(mask, 0xff, 16);
    if (slash == std::string_view::npos) return "";
    std::string m(s.substr(slash + 1));
    if (m.find(':') != std::string::npos) {
        if (m.size() >= INET6_ADDRSTRLEN || inet_pton(AF_INET6, m.c_str(), mask) != 1)
            return "invalid mask: invalid IPv6 address " + quoted(m);
    } else {
        unsigned len = 0;
        bool ok = !m.empty() && m.size() <= 3;
        for (char c : m) {
            ok = ok && c >= '0' && c <= '9';
            len = len * 10 + (c - '0');
        }
        if (!ok || len > 128) return "invalid prefix length " + quoted(m) + " (must be 0-128)";
        for (unsigned i = 0; i < 16; i++) {
            unsigned bits = len > 8 * i ? len - 8 * i : 0;
            mask[i] = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff00 >> bits);
        }
    }
    for (int i = 0; i < 16; i++) value[i] &= mask[i];
    return "";
}

std::string format_ipv6_masked(const uint8_t value[16], const uint8_t mask[16]) {
    char b[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, value, b, sizeof b);
    std::string s = b;
    // Prefix iff ones then zeros.
    unsigned len = 0;
    bool prefix = true, zeros = false;
    for (int i = 0; i < 16; i++)
        for (int bit = 7; bit >= 0; bit--) {
            bool one = mask[i] >> bit & 1;
            if (one && zeros) prefix = false;
            if (one) len++;
            else zeros = true;
        }
    if (len == 128) return s;
    if (prefix) return s + "/" + std::to_string(len);
    inet_ntop(AF_INET6, mask, b, sizeof b);
    return s + "/" + b;
}

std::string format_mac(const uint8_t m[6]) {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
                  m[4], m[5]);
    return buf;
}

std::string format_ipv4(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff,
                  v & 0xff);
    return buf;
}

std::string format_ipv4_masked(uint32_t value, uint32_t mask) {
    std::string s = format_ipv4(value);
    if (mask == 0xffffffffu) return s;
    // CIDR iff the mask is ones followed by zeros: its complement + 1 is a power of two.
    uint32_t inv = ~mask;
    if ((inv & (inv + 1)) == 0) return s + "/" + std::to_string(32 - __builtin_popcount(inv));
    return s + "/" + format_ipv4(mask);
}

std::string format_hex(uint64_t v, int min_digits) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%0*llx", min_digits, static_cast<unsigned long long>(v));
    return buf;
}

}  // namespace vswitch::ofp
