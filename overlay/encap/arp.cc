// ARP helpers: answer a request in place (the VPC ARP responder answers for VMs without
// flooding the request), and build a request (resolving an underlay next hop).
#include <rte_mbuf.h>

#include "overlay/encap/tunnel_header.h"
#include "overlay/encap/wire_bytes.h"

namespace vswitch::encap {

using namespace detail;

namespace {

constexpr uint32_t kArpLen = 28;        // Ethernet/IPv4 ARP body
constexpr uint32_t kMinFrame = 60;      // Ethernet minimum without FCS
constexpr uint16_t kHtypeEther = 1;
constexpr uint16_t kOpRequest = 1;
constexpr uint16_t kOpReply = 2;
// Body offsets.
constexpr uint32_t kOp = 6, kSha = 8, kSpa = 14, kTha = 18, kTpa = 24;

// htype, ptype, hlen, plen as one 48-bit prefix plus op: what an Ethernet/IPv4 ARP
// body must start with.
void write_fixed(uint8_t* a, uint16_t op) {
    wr_be16(a, kHtypeEther);
    wr_be16(a + 2, kEtherIpv4);
    a[4] = 6;
    a[5] = 4;
    wr_be16(a + kOp, op);
}

}  // namespace

bool arp_make_reply(rte_mbuf* m, const uint8_t mac[6]) {
    uint8_t* p = rte_pktmbuf_mtod(m, uint8_t*);
    const uint32_t seg = m->data_len;
    // A request may arrive tagged (the responder answers on the VLAN it was asked on).
    const uint32_t type_off = ethertype_offset(p, seg);
    const uint32_t arp_off = type_off + 2;
    if (seg < arp_off + kArpLen || rd_be16(p + type_off) != kEtherArp) return false;
    uint8_t* a = p + arp_off;
    uint8_t expect[8];
    write_fixed(expect, kOpRequest);
    if (std::memcmp(a, expect, sizeof expect) != 0) return false;

    // The reply goes to the station that sent the frame (its Ethernet source), which is
    // also where the request's sender hardware address normally points.
    std::memcpy(p, p + 6, 6);
    std::memcpy(p + 6, mac, 6);
    wr_be16(a + kOp, kOpReply);
    uint8_t sender_ip[4];
    std::memcpy(sender_ip, a + kSpa, 4);
    std::memcpy(a + kTha, a + kSha, 6);      // target = the requester
    std::memcpy(a + kSpa, a + kTpa, 4);      // sender IP = the address asked about
    std::memcpy(a + kTpa, sender_ip, 4);
    std::memcpy(a + kSha, mac, 6);
    return true;
}

rte_mbuf* arp_build_request(const uint8_t src_mac[6], uint32_t src_ip, uint32_t target_ip,
                            rte_mempool* pool) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (!m) return nullptr;
    auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, kMinFrame));
    if (!p) {
        rte_pktmbuf_free(m);
        return nullptr;
    }
    // Padded to the Ethernet minimum here, with zeros: software ports (vhost, ring, tap)
    // do not pad, and a receiver may check the minimum.
    std::memset(p, 0, kMinFrame);
    std::memset(p, 0xff, 6);
    std::memcpy(p + 6, src_mac, 6);
    wr_be16(p + 12, kEtherArp);
    uint8_t* a = p + kEthLen;
    write_fixed(a, kOpRequest);
    std::memcpy(a + kSha, src_mac, 6);
    wr32(a + kSpa, src_ip);
    // tha stays zero: unknown, which is the question.
    wr32(a + kTpa, target_ip);
    return m;
}

}  // namespace vswitch::encap
