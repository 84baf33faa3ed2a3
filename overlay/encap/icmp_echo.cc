#include "overlay/encap/icmp_echo.h"

#include <cstring>

#include "overlay/encap/checksum.h"
#include "overlay/encap/wire_bytes.h"

namespace vswitch::encap {

using namespace detail;

namespace {

constexpr uint32_t kIcmpHdr = 8;   // type, code, checksum, identifier, sequence
constexpr uint8_t kEchoRequest = 8;
constexpr uint8_t kEchoReply = 0;
constexpr uint8_t kTtl = 64;

bool is_multicast_ip(uint32_t host) { return (host >> 28) == 0xe; }

}  // namespace

bool icmp_make_echo_reply(rte_mbuf* m) {
    uint8_t* p = rte_pktmbuf_mtod(m, uint8_t*);
    const uint32_t seg = m->data_len;
    const uint32_t type_off = ethertype_offset(p, seg);
    const uint32_t ip_off = type_off + 2;
    if (seg < ip_off + kIpLen || rd_be16(p + type_off) != kEtherIpv4) return false;
    uint8_t* ip = p + ip_off;
    const uint32_t ihl = (ip[0] & 0x0f) * 4u;
    if ((ip[0] >> 4) != 4 || ihl < kIpLen || seg < ip_off + ihl + kIcmpHdr) return false;
    if (ip[9] != kProtoIcmp || (rd_be16(ip + 6) & (kIpMf | kIpOffsetMask))) return false;   // fragments
    if (rd_be16(ip + 2) < ihl + kIcmpHdr) return false;
    if (p[0] & 1) return false;   // Ethernet broadcast or multicast
    const uint32_t dst = rd_be32(ip + 16);
    if (dst == 0xffffffffu || is_multicast_ip(dst)) return false;
    uint8_t* icmp = ip + ihl;
    if (icmp[0] != kEchoRequest || icmp[1] != 0) return false;

    uint8_t mac[6];
    std::memcpy(mac, p, 6);
    std::memcpy(p, p + 6, 6);
    std::memcpy(p + 6, mac, 6);
    // Swapping the addresses leaves both checksums as they are (a one's complement sum
    // does not depend on the order of its words); the TTL and the type do not.
    uint8_t addr[4];
    std::memcpy(addr, ip + 12, 4);
    std::memcpy(ip + 12, ip + 16, 4);
    std::memcpy(ip + 16, addr, 4);
    const uint16_t old_ttl_proto = rd_be16(ip + 8);
    ip[8] = kTtl;
    wr_be16(ip + 10, csum_replace16(rd_be16(ip + 10), old_ttl_proto, rd_be16(ip + 8)));
    const uint16_t old_type_code = rd_be16(icmp);
    icmp[0] = kEchoReply;
    wr_be16(icmp + 2, csum_replace16(rd_be16(icmp + 2), old_type_code, rd_be16(icmp)));
    return true;
}

}  // namespace vswitch::encap
