// push(): per-packet encapsulation from a template. Runs once per packet at line rate:
// no allocation, no loops, one branch on the tunnel type.
#include <rte_mbuf.h>

#include "overlay/encap/tunnel_header.h"
#include "overlay/encap/wire_bytes.h"

namespace vswitch::encap {

using namespace detail;

static_assert(kVxlanOverhead >= 32 && kGreOverhead >= 32 && kVxlanOverhead <= kHeaderMax,
              "push copies the template as two overlapping 32-byte blocks");

PushResult push(rte_mbuf* m, const TunnelHeader& h, uint32_t inner_hash) {
    const uint32_t len = h.len;
    const uint32_t ip_len = rte_pktmbuf_pkt_len(m) + len - kEthLen;
    // No MTU still cannot mean more than an IPv4 total length can say (a 64 KB TSO
    // frame would otherwise wrap the 16-bit field).
    const uint32_t limit = h.mtu ? h.mtu : 0xffff;
    if (unlikely(ip_len > limit)) return PushResult::TooBig;
    if (unlikely(rte_pktmbuf_headroom(m) < len)) return PushResult::NoHeadroom;

    uint8_t* p = rte_pktmbuf_mtod_offset(m, uint8_t*, -static_cast<int32_t>(len));
    // The template is 42 or 50 bytes: two fixed-size 32-byte copies, the second ending
    // at len, cover either without a length-dependent loop (they overlap in the middle).
    std::memcpy(p, h.bytes, 32);
    std::memcpy(p + len - 32, h.bytes + len - 32, 32);
    m->data_off = static_cast<uint16_t>(m->data_off - len);
    m->data_len = static_cast<uint16_t>(m->data_len + len);
    m->pkt_len += len;

    // IP header checksum from the template's base sum: adding the total length is the
    // only change, so one add and one fold (base and length are both <= 0xffff, the
    // sum fits 17 bits) replace summing ten words.
    uint8_t* ip = p + kIpOff;
    uint32_t sum = static_cast<uint32_t>(h.ip_csum_base) + ip_len;
    sum = (sum & 0xffff) + (sum >> 16);
    wr_be16(ip + 2, static_cast<uint16_t>(ip_len));
    wr_be16(ip + 10, static_cast<uint16_t>(~sum));

    if (h.type == TunnelType::Vxlan) {
        uint8_t* udp = p + kL4Off;
        wr_be16(udp, entropy(inner_hash));
        wr_be16(udp + 4, static_cast<uint16_t>(ip_len - kIpLen));
    }
    return PushResult::Ok;
}

}  // namespace vswitch::encap
