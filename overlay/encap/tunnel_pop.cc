// pop(): validate and strip the outer headers of a VXLAN or GRE packet.
//
// Every check reads; nothing is written until all of them passed, which is how a
// failed pop leaves the mbuf exactly as it came (the caller counts the reason and may
// still hand the packet on, e.g. to the host stack).
#include <rte_mbuf.h>

#include "overlay/encap/tunnel_header.h"
#include "overlay/encap/wire_bytes.h"

namespace vswitch::encap {

using namespace detail;

namespace {

bool ip_header_checksum_ok(const uint8_t* ip, uint32_t hlen) {
    // A header with a correct checksum sums to all ones, in either byte order. Tunnel
    // senders do not use options: the constant length lets the compiler unroll the sum
    // into five loads for them.
    const uint64_t sum = hlen == kIpLen ? csum_add(0, ip, kIpLen) : csum_add(0, ip, hlen);
    return csum_fold(sum) == 0xffff;
}

}  // namespace

PopResult pop(rte_mbuf* m, TunnelType type, uint16_t vxlan_port, TunnelMd& md) {
    // Only the first segment is looked at for headers: a NIC or vhost queue puts at least
    // the first ~2 KB of a frame there, far more than any outer header chain.
    const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
    const uint32_t seg = m->data_len;
    const uint32_t pkt = rte_pktmbuf_pkt_len(m);

    if (seg < kEthLen + kIpLen) return PopResult::Malformed;
    if (rd16(p + 12) != RTE_BE16(kEtherIpv4)) return PopResult::NotTunnel;

    const uint8_t* ip = p + kIpOff;
    if ((ip[0] >> 4) != 4) return PopResult::Malformed;
    const uint32_t ihl = (ip[0] & 0xf) * 4u;
    if (ihl < kIpLen || seg < kEthLen + ihl) return PopResult::Malformed;
    // The checksum first: until it holds, no other field of the header can be believed.
    if (!ip_header_checksum_ok(ip, ihl)) return PopResult::BadChecksum;

    const uint32_t ip_len = rd_be16(ip + 2);
    // Fewer bytes than the header says is truncation; more is Ethernet padding (short
    // frames are padded to 60 bytes) or trailer junk, trimmed below.
    if (ip_len < ihl || ip_len > pkt - kEthLen) return PopResult::Malformed;
    const uint16_t frag = rd_be16(ip + 6);
    if (frag & (kIpMf | kIpOffsetMask)) return PopResult::Fragment;

    const uint32_t l4 = kEthLen + ihl;   // offset of UDP / GRE
    uint32_t end = kEthLen + ip_len;     // one past the tunnel payload
    uint32_t inner;                      // offset of the inner Ethernet header
    uint64_t tun_id;

    if (type == TunnelType::Vxlan) {
        if (ip[9] != kProtoUdp) return PopResult::NotTunnel;
        inner = l4 + kUdpLen + kVxlanLen;
        // The UDP destination port is the first thing to look at, and it needs only the
        // UDP header: a short VXLAN header behind a foreign port is NotTunnel.
        if (ip_len < ihl + kUdpLen || seg < l4 + kUdpLen) return PopResult::Malformed;
        const uint8_t* udp = p + l4;
        if (rd_be16(udp + 2) != vxlan_port) return PopResult::NotTunnel;
        const uint32_t udp_len = rd_be16(udp + 4);
        // As RFC 768 receivers do: the UDP length must fit the IP payload; when it is
        // shorter, the rest is not UDP payload and is trimmed with the padding.
        if (udp_len < kUdpLen + kVxlanLen || udp_len > ip_len - ihl) return PopResult::Malformed;
        end = l4 + udp_len;
        if (seg < inner) return PopResult::Malformed;
        // The UDP checksum, if the sender set one, is not verified: RFC 7348 makes that
        // optional, and it costs a pass over the whole inner frame.
        const uint8_t* vx = udp + kUdpLen;
        // RFC 7348 says reserved bits are ignored on receipt; the contract (and Linux
        // without extensions) rejects them, so a peer using GBP or other extensions we do
        // not implement is noticed instead of silently misread.
        const uint32_t w0 = rd_be32(vx), w1 = rd_be32(vx + 4);
        if (w0 != (uint32_t{kVxlanFlagI} << 24) || (w1 & 0xff)) return PopResult::BadTunnelHeader;
        tun_id = w1 >> 8;
    } else {
        if (ip[9] != kProtoGre) return PopResult::NotTunnel;
        if (ip_len < ihl + kGreBaseLen || seg < l4 + kGreBaseLen) return PopResult::Malformed;
        const uint8_t* gre = p + l4;
        const uint16_t flags = rd_be16(gre);
        // RFC 2784: bits 1..5 nonzero means RFC 1701 features (routing, strict source
        // route, recursion) we do not implement; K and S (bits 2, 3) are RFC 2890's and
        // understood. Version 1 is PPTP's enhanced GRE, not ours.
        if (flags & (kGreR | kGreSsr | kGreRecurTop | kGreVersion))
            return PopResult::BadTunnelHeader;
        if (rd_be16(gre + 2) != kEtherTypeTeb) return PopResult::BadTunnelHeader;
        // Optional words in RFC order: checksum+reserved1, key, sequence number. The
        // GRE checksum is not verified (we never send one; the Ethernet FCS protects the
        // link and the inner frame carries its own), only skipped.
        uint32_t opt = l4 + kGreBaseLen + ((flags & kGreC) ? 4 : 0);
        const uint32_t key_off = opt;
        opt += (flags & kGreK) ? 4 : 0;
        opt += (flags & kGreS) ? 4 : 0;
        inner = opt;
        if (seg < inner) return PopResult::Malformed;
        tun_id = (flags & kGreK) ? rd_be32(p + key_off) : 0;
    }

    // At least an inner Ethernet header must be left; and whatever lies past `end` must
    // be removable by a trim, which only shortens the last segment.
    if (end < inner + kEthLen) return PopResult::Malformed;
    const uint32_t trailing = pkt - end;
    if (trailing > rte_pktmbuf_lastseg(m)->data_len) return PopResult::Malformed;

    md.tun_id = tun_id;
    md.tun_src = rd32(ip + 12);
    md.tun_dst = rd32(ip + 16);
    if (trailing) rte_pktmbuf_trim(m, static_cast<uint16_t>(trailing));
    rte_pktmbuf_adj(m, static_cast<uint16_t>(inner));
    return PopResult::Ok;
}

}  // namespace vswitch::encap
