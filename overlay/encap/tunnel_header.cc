// build_header(): the per-flow template, entropy_port(), TunnelHeader equality.
#include "overlay/encap/tunnel_header.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

#include "overlay/encap/wire_bytes.h"

namespace vswitch::encap {

using namespace detail;

namespace {

std::string ip_text(uint32_t be_ip) {
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &be_ip, buf, sizeof buf);
    return buf;
}

std::string mac_text(const uint8_t m[6]) {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
                  m[4], m[5]);
    return buf;
}

bool mac_zero(const uint8_t m[6]) {
    static constexpr uint8_t zero[6] = {};
    return std::memcmp(m, zero, 6) == 0;
}

// The source address goes into every packet and the remote VTEP answers to it: it has to
// name one host. (The destination may be a multicast group: VXLAN flood lists use them.)
const char* src_ip_problem(uint32_t be_ip) {
    uint32_t a = ntohl(be_ip);
    if (a == 0) return "must not be 0.0.0.0";
    if ((a >> 28) == 0xe) return "is a multicast address, not a local VTEP address";
    if (a == 0xffffffff) return "is the broadcast address, not a local VTEP address";
    return nullptr;
}

std::string check(const TunnelSpec& s) {
    if (s.type != TunnelType::Vxlan && s.type != TunnelType::Gre)
        return "type: unknown tunnel type " + std::to_string(static_cast<unsigned>(s.type));
    if (s.type == TunnelType::Vxlan && s.vni >= (1u << 24))
        return "vni: " + std::to_string(s.vni) + " exceeds 24 bits (VXLAN VNIs are 0..16777215)";
    if (const char* p = src_ip_problem(s.src_ip)) return "src_ip: " + ip_text(s.src_ip) + " " + p;
    if (s.dst_ip == 0) return "dst_ip: must not be 0.0.0.0";
    if (s.src_mac[0] & 1)
        return "src_mac: " + mac_text(s.src_mac) + " is a multicast address";
    if (mac_zero(s.src_mac)) return "src_mac: must not be 00:00:00:00:00:00";
    // All zeros is what an unresolved neighbor entry looks like; a template with it would
    // send every packet of the flow to nobody.
    if (mac_zero(s.dst_mac)) return "dst_mac: must not be 00:00:00:00:00:00 (next hop not resolved?)";
    if (s.type == TunnelType::Vxlan && s.dst_port == 0) return "dst_port: must not be 0";
    if (s.ttl == 0) return "ttl: must not be 0 (the first router would drop every packet)";
    return {};
}

}  // namespace

bool build_header(const TunnelSpec& spec, TunnelHeader& out, std::string& err) {
    err = check(spec);
    if (!err.empty()) return false;

    // Built aside and assigned at the end, so a failed call leaves `out` as it was, and
    // zero-filled so the unused tail is deterministic (templates are compared and hashed
    // by the datapath as plain bytes).
    TunnelHeader h{};
    std::memset(h.bytes, 0, sizeof h.bytes);
    uint8_t* b = h.bytes;
    const bool vxlan = spec.type == TunnelType::Vxlan;

    std::memcpy(b, spec.dst_mac, 6);
    std::memcpy(b + 6, spec.src_mac, 6);
    wr_be16(b + 12, kEtherIpv4);

    uint8_t* ip = b + kIpOff;
    ip[0] = 0x45;
    ip[1] = spec.tos;
    // ip[2..3] total length: per packet. ip[4..5] identification: always 0. RFC 6864
    // lets an atomic (DF) datagram carry any ID; giving every packet 0 keeps push()
    // free of a per-flow counter. With df=false the outer packets are fragmentable and
    // all of them share ID 0, so a remote reassembler could mix up fragments of two
    // packets: keep df=true and set an underlay MTU instead.
    wr_be16(ip + 6, spec.df ? kIpDf : 0);
    ip[8] = spec.ttl;
    ip[9] = vxlan ? kProtoUdp : kProtoGre;
    // ip[10..11] checksum: per packet, from ip_csum_base.
    wr32(ip + 12, spec.src_ip);
    wr32(ip + 16, spec.dst_ip);

    uint8_t* l4 = b + kL4Off;
    if (vxlan) {
        // UDP: source port (entropy) and length per packet; checksum 0, which RFC 7348
        // allows over IPv4 and which spares a pass over the whole inner frame.
        wr_be16(l4 + 2, spec.dst_port);
        uint8_t* vx = l4 + kUdpLen;
        vx[0] = kVxlanFlagI;
        wr_be32(vx + 4, spec.vni << 8);
        h.len = kVxlanOverhead;
    } else {
        // GRE with only the key: no checksum (the inner frame has its own, the link its
        // FCS) and no sequence numbers (they would need per-flow state and in-order
        // delivery, which RFC 2890 receivers may enforce by dropping).
        wr_be16(l4, kGreK);
        wr_be16(l4 + 2, kEtherTypeTeb);
        wr_be32(l4 + 4, spec.vni);
        h.len = kGreOverhead;
    }
    h.type = spec.type;
    // Total length and checksum are still zero here, which is exactly what the base sum
    // must leave out. Stored as a host-order number (the sum of the big-endian words).
    h.ip_csum_base = rte_be_to_cpu_16(csum_fold(csum_add(0, ip, kIpLen)));
    h.mtu = 0;
    out = h;
    return true;
}

bool TunnelHeader::operator==(const TunnelHeader& o) const {
    return len == o.len && type == o.type && ip_csum_base == o.ip_csum_base && mtu == o.mtu &&
           len <= kHeaderMax && std::memcmp(bytes, o.bytes, len) == 0;
}

uint16_t entropy_port(uint32_t inner_hash) { return entropy(inner_hash); }

std::string describe(const TunnelHeader& h) {
    const uint8_t* b = h.bytes;
    std::string s;
    uint32_t key;
    if (h.type == TunnelType::Vxlan) {
        s = "vxlan,dst_port=" + std::to_string(rd_be16(b + kL4Off + 2));
        key = rd_be32(b + kL4Off + kUdpLen + 4) >> 8;   // VNI: the word's top 24 bits
    } else {
        s = "gre";
        key = rd_be32(b + kL4Off + kGreBaseLen);
    }
    return s + ",key=" + std::to_string(key) + ",src=" + ip_text(rd32(b + kIpOff + 12)) +
           ",dst=" + ip_text(rd32(b + kIpOff + 16)) + ",eth_dst=" + mac_text(b) +
           ",mtu=" + std::to_string(h.mtu);
}

}  // namespace vswitch::encap
