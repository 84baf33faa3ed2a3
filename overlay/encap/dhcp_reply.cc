#include "overlay/encap/dhcp_reply.h"

#include <algorithm>
#include <cstring>

#include "overlay/encap/wire_bytes.h"

namespace vswitch::encap {

using namespace detail;

namespace {

// BOOTP (RFC 951 / 2131) fixed part: offsets from its start.
constexpr uint32_t kOp = 0, kHtype = 1, kHlen = 2, kXid = 4, kFlags = 10, kCiaddr = 12,
                   kYiaddr = 16, kGiaddr = 24, kChaddr = 28, kMagic = 236, kOptions = 240;
constexpr uint32_t kBootpMin = 300;   // RFC 1542 2.1: some clients drop shorter replies
constexpr uint32_t kMagicCookie = 0x63825363;
constexpr uint16_t kBroadcastFlag = 0x8000;
constexpr uint16_t kClientPort = 68, kServerPort = 67;
constexpr uint8_t kTtl = 64;

enum : uint8_t {
    kOptPad = 0, kOptMask = 1, kOptRouter = 3, kOptDns = 6, kOptMtu = 26, kOptRequestedIp = 50,
    kOptLease = 51, kOptType = 53, kOptServerId = 54, kOptT1 = 58, kOptT2 = 59, kOptEnd = 255,
};
enum : uint8_t {
    kDiscover = 1, kOffer = 2, kRequest = 3, kDecline = 4, kAck = 5, kNak = 6, kRelease = 7,
    kInform = 8,
};

// What the answer needs from the request, read before it is overwritten.
struct Request {
    uint8_t type = 0;
    uint32_t requested = 0;   // option 50
    uint32_t server_id = 0;   // option 54
    bool has_server_id = false;
    uint8_t xid[4];
    uint16_t flags = 0;
    uint32_t ciaddr = 0;
    uint8_t giaddr[4];
    uint8_t chaddr[16];
};

// The options of a request, bounded by end; false if one overruns it or option 53 is
// missing. Option overload (52) is not followed: no client sends the three we read there.
bool read_options(const uint8_t* p, const uint8_t* end, Request& r) {
    while (p < end) {
        const uint8_t code = *p++;
        if (code == kOptPad) continue;
        if (code == kOptEnd) break;
        if (p >= end || end - p - 1 < *p) return false;
        const uint8_t len = *p++;
        if (code == kOptType && len == 1) r.type = p[0];
        if (code == kOptRequestedIp && len == 4) r.requested = rd_be32(p);
        if (code == kOptServerId && len == 4) {
            r.server_id = rd_be32(p);
            r.has_server_id = true;
        }
        p += len;
    }
    return r.type != 0;
}

class OptionWriter {
public:
    explicit OptionWriter(uint8_t* p) : p_(p), start_(p) {}
    void u8(uint8_t code, uint8_t v) {
        *p_++ = code;
        *p_++ = 1;
        *p_++ = v;
    }
    void u16(uint8_t code, uint16_t v) {
        *p_++ = code;
        *p_++ = 2;
        wr_be16(p_, v);
        p_ += 2;
    }
    void u32(uint8_t code, uint32_t v) {
        *p_++ = code;
        *p_++ = 4;
        wr_be32(p_, v);
        p_ += 4;
    }
    void addrs(uint8_t code, const uint32_t* a, unsigned n) {
        *p_++ = code;
        *p_++ = static_cast<uint8_t>(4 * n);
        for (unsigned i = 0; i < n; i++, p_ += 4) wr_be32(p_, a[i]);
    }
    uint32_t end() {
        *p_++ = kOptEnd;
        return static_cast<uint32_t>(p_ - start_);
    }

private:
    uint8_t* p_;
    uint8_t* start_;
};

// Longest option list written: 53 (3), 54, 51, 58, 59, 1, 3 (6 each), 6 (2 + 4 * 4),
// 26 (4), end (1).
constexpr uint32_t kMaxOptions = 3 + 6 * 6 + 2 + 4 * DhcpConfig::kMaxDns + 4 + 1;

}  // namespace

DhcpResult dhcp_make_reply(rte_mbuf* m, const DhcpConfig& cfg) {
    uint8_t* p = rte_pktmbuf_mtod(m, uint8_t*);
    const uint32_t seg = m->data_len;
    const uint32_t type_off = ethertype_offset(p, seg);
    const uint32_t ip_off = type_off + 2;
    if (seg < ip_off + kIpLen || rd_be16(p + type_off) != kEtherIpv4) return DhcpResult::Invalid;
    uint8_t* ip = p + ip_off;
    const uint32_t ihl = (ip[0] & 0x0f) * 4u;
    if ((ip[0] >> 4) != 4 || ihl < kIpLen || ip[9] != kProtoUdp) return DhcpResult::Invalid;
    if (rd_be16(ip + 6) & (kIpMf | kIpOffsetMask)) return DhcpResult::Invalid;
    const uint8_t* udp = ip + ihl;
    const uint32_t ip_total = rd_be16(ip + 2);
    if (seg < ip_off + ihl + kUdpLen || ip_total < ihl + kUdpLen) return DhcpResult::Invalid;
    const uint32_t udp_len = rd_be16(udp + 4);
    if (rd_be16(udp) != kClientPort || rd_be16(udp + 2) != kServerPort) return DhcpResult::Invalid;
    // The datagram inside both lengths and the packet; its fixed part and the options read
    // in the first segment (padding after them may lie beyond).
    if (udp_len < kUdpLen + kOptions || ihl + udp_len > ip_total || ip_off + ip_total > m->pkt_len ||
        ip_off + ihl + kUdpLen + kOptions > seg)
        return DhcpResult::Invalid;
    const uint8_t* bootp = udp + kUdpLen;
    if (bootp[kOp] != 1 || bootp[kHtype] != 1 || bootp[kHlen] != 6) return DhcpResult::Invalid;
    if (std::memcmp(bootp + kChaddr, p + 6, 6) != 0) return DhcpResult::Invalid;
    if (rd_be32(bootp + kMagic) != kMagicCookie) return DhcpResult::Invalid;

    Request r;
    if (!read_options(bootp + kOptions, std::min<const uint8_t*>(udp + udp_len, p + seg), r)) return DhcpResult::Invalid;
    std::memcpy(r.xid, bootp + kXid, 4);
    r.flags = rd_be16(bootp + kFlags);
    r.ciaddr = rd_be32(bootp + kCiaddr);
    std::memcpy(r.giaddr, bootp + kGiaddr, 4);
    std::memcpy(r.chaddr, bootp + kChaddr, 16);

    uint8_t answer = 0;
    switch (r.type) {
    case kDiscover: answer = kOffer; break;
    case kRequest:
        // Option 54 names the server the client chose among several offers: not us.
        if (r.has_server_id && r.server_id != cfg.server_ip) return DhcpResult::Consumed;
        answer = (r.requested ? r.requested : r.ciaddr) == cfg.client_ip ? kAck : kNak;
        break;
    case kInform: answer = kAck; break;
    case kDecline:
    case kRelease: return DhcpResult::Consumed;
    default: return DhcpResult::Invalid;   // a server's message, or unknown
    }
    const bool inform = r.type == kInform;
    const bool grant = answer != kNak;

    constexpr uint32_t kBootpMax = kOptions + kMaxOptions > kBootpMin ? kOptions + kMaxOptions : kBootpMin;
    if (ip_off + kIpLen + kUdpLen + kBootpMax > uint32_t{m->buf_len} - m->data_off) return DhcpResult::Invalid;
    if (m->next) {   // nothing after the first segment is kept
        rte_pktmbuf_free(m->next);
        m->next = nullptr;
        m->nb_segs = 1;
    }
    // The BOOTP message, from scratch (its fields now sit right after a 20-byte IPv4
    // header, wherever the request's were).
    uint8_t* out = p + ip_off + kIpLen + kUdpLen;
    std::memset(out, 0, kBootpMax);
    out[kOp] = 2;
    out[kHtype] = 1;
    out[kHlen] = 6;
    std::memcpy(out + kXid, r.xid, 4);
    wr_be16(out + kFlags, r.flags);
    if (answer == kAck) wr_be32(out + kCiaddr, r.ciaddr);
    const uint32_t yiaddr = grant && !inform ? cfg.client_ip : 0;
    wr_be32(out + kYiaddr, yiaddr);
    std::memcpy(out + kGiaddr, r.giaddr, 4);
    std::memcpy(out + kChaddr, r.chaddr, 16);
    wr_be32(out + kMagic, kMagicCookie);
    OptionWriter o(out + kOptions);
    o.u8(kOptType, answer);
    o.u32(kOptServerId, cfg.server_ip);
    if (grant) {
        if (!inform) {
            o.u32(kOptLease, cfg.lease);
            if (cfg.lease != 0xffffffffu) {
                o.u32(kOptT1, cfg.lease / 2);
                o.u32(kOptT2, static_cast<uint32_t>(uint64_t{cfg.lease} * 7 / 8));
            }
        }
        o.u32(kOptMask, cfg.netmask);
        if (cfg.router) o.u32(kOptRouter, cfg.router);
        if (cfg.n_dns) o.addrs(kOptDns, cfg.dns, cfg.n_dns < DhcpConfig::kMaxDns ? cfg.n_dns : DhcpConfig::kMaxDns);
        if (cfg.mtu) o.u16(kOptMtu, cfg.mtu);
    }
    const uint32_t bootp_len = std::max(kBootpMin, kOptions + o.end());
    const uint32_t reply_len = ip_off + kIpLen + kUdpLen + bootp_len;
    m->data_len = static_cast<uint16_t>(reply_len);
    m->pkt_len = reply_len;
    // The checksums below are complete: a checksum offload the request asked for (a guest
    // that left its UDP checksum to the host) would be applied at offsets of the old
    // headers.
    m->ol_flags &= ~RTE_MBUF_F_TX_OFFLOAD_MASK;

    // Where it goes (RFC 2131 4.1).
    const uint32_t unicast = r.ciaddr ? r.ciaddr : yiaddr;   // 0: an INFORM without ciaddr
    const bool broadcast = !grant || unicast == 0 || (!r.ciaddr && (r.flags & kBroadcastFlag));
    const uint32_t ip_dst = broadcast ? 0xffffffffu : unicast;
    if (broadcast) std::memset(p, 0xff, 6);
    else std::memcpy(p, r.chaddr, 6);
    std::memcpy(p + 6, cfg.server_mac, 6);

    uint8_t* uh = ip + kIpLen;
    const uint16_t ulen = static_cast<uint16_t>(kUdpLen + bootp_len);
    wr_be16(uh, kServerPort);
    wr_be16(uh + 2, kClientPort);
    wr_be16(uh + 4, ulen);
    wr16(uh + 6, 0);

    ip[0] = 0x45;
    ip[1] = 0;
    wr_be16(ip + 2, static_cast<uint16_t>(kIpLen + ulen));
    wr_be32(ip + 4, 0);   // id 0, no flags
    ip[8] = kTtl;
    ip[9] = kProtoUdp;
    wr16(ip + 10, 0);
    wr_be32(ip + 12, cfg.server_ip);
    wr_be32(ip + 16, ip_dst);
    wr16(ip + 10, csum_finish(csum_add(0, ip, kIpLen)));

    // UDP checksum over the pseudo-header (addresses, protocol, length) and the datagram.
    const uint8_t pseudo[4] = {0, kProtoUdp, static_cast<uint8_t>(ulen >> 8), static_cast<uint8_t>(ulen)};
    uint16_t ck = csum_finish(csum_add(csum_add(csum_add(0, ip + 12, 8), pseudo, 4), uh, ulen));
    wr16(uh + 6, ck ? ck : 0xffff);   // 0 would mean "no checksum"
    return DhcpResult::Reply;
}

}  // namespace vswitch::encap
