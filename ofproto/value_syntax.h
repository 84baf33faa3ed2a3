// Scalar value syntax shared by fields and actions: integers, MAC and IPv4 addresses,
// with their optional /mask forms. Each parser returns an error reason ("" = ok) that
// the caller prefixes with the field name; none of them allocates on success.
//
// Integers are decimal or 0x-hex. Unlike ovs-ofctl a leading 0 does not mean octal:
// "010" is ten, which is what people who write it mean.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vswitch::ofp {

std::string parse_uint(std::string_view s, uint64_t max, uint64_t& out);

// "aa:bb:cc:dd:ee:ff", 1 or 2 hex digits per byte.
std::string parse_mac(std::string_view s, uint8_t out[6]);

// "a.b.c.d", host order out.
std::string parse_ipv4(std::string_view s, uint32_t& out);

// "VALUE[/MASK]" for integers; mask defaults to max (exact).
std::string parse_uint_masked(std::string_view s, uint64_t max, uint64_t& value,
                              uint64_t& mask);
// "MAC[/MAC]".
std::string parse_mac_masked(std::string_view s, uint8_t value[6], uint8_t mask[6]);
// "a.b.c.d[/N | /a.b.c.d]", host order out.
std::string parse_ipv4_masked(std::string_view s, uint32_t& value, uint32_t& mask);

// "IPV6[/N | /IPV6]" (inet_pton syntax), network order out.
std::string parse_ipv6_masked(std::string_view s, uint8_t value[16], uint8_t mask[16]);

// Formatting counterparts.
std::string format_mac(const uint8_t mac[6]);
std::string format_ipv4(uint32_t host_order);
// "a.b.c.d", "a.b.c.d/N" for a CIDR mask, "a.b.c.d/m.m.m.m" otherwise.
std::string format_ipv4_masked(uint32_t value, uint32_t mask);
std::string format_hex(uint64_t v, int min_digits = 1);   // "0x..."
// inet_ntop form, "/N" for a prefix mask, "/MASK" otherwise; nothing when exact.
std::string format_ipv6_masked(const uint8_t value[16], const uint8_t mask[16]);

}  // namespace vswitch::ofp
