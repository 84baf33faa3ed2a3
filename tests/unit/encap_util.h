// Shared helpers for the encap unit tests: packets from hex, mbufs from bytes (single or
// segmented), whole-mbuf snapshots for "left unchanged" checks, checksum recomputation
// written independently of the library's (byte by byte, big-endian words).
#pragma once

#include <arpa/inet.h>
#include <rte_mbuf.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "eal_fixture.h"
#include "overlay/encap/tunnel_header.h"

namespace encap_test {

using Bytes = std::vector<uint8_t>;

inline Bytes hex(const char* s) {
    Bytes out;
    auto nib = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (; *s; ++s) {
        int hi = nib(*s);
        if (hi < 0) continue;   // spaces allowed between bytes
        int lo = nib(*++s);
        REQUIRE(lo >= 0);
        out.push_back(static_cast<uint8_t>(hi << 4 | lo));
    }
    return out;
}

inline Bytes cat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}
inline Bytes fill(size_t n, uint8_t v) { return Bytes(n, v); }

inline uint32_t ipv4(unsigned a, unsigned b, unsigned c, unsigned d) {
    return htonl(a << 24 | b << 16 | c << 8 | d);
}

struct MbufFree {
    void operator()(rte_mbuf* m) const { rte_pktmbuf_free(m); }
};
using Mbuf = std::unique_ptr<rte_mbuf, MbufFree>;

inline rte_mempool* pool() {
    rte_mempool* p = vsw_test_eal();
    REQUIRE(p != nullptr);
    return p;
}

// One mbuf per entry of seg_sizes (the bytes left over go into one more), the first with
// `headroom`. An empty `b` gives one empty mbuf.
inline Mbuf make(const Bytes& b, const std::vector<size_t>& seg_sizes = {},
                 uint16_t headroom = RTE_PKTMBUF_HEADROOM) {
    std::vector<size_t> sizes;
    size_t off = 0;
    for (size_t n : seg_sizes) {
        if (off >= b.size()) break;
        n = std::min(n, b.size() - off);
        sizes.push_back(n);
        off += n;
    }
    if (off < b.size() || sizes.empty()) sizes.push_back(b.size() - off);
    rte_mempool* mp = pool();
    rte_mbuf* head = nullptr;
    off = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
        rte_mbuf* m = rte_pktmbuf_alloc(mp);
        REQUIRE(m != nullptr);
        if (i == 0) m->data_off = headroom;
        char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(sizes[i]));
        REQUIRE(d != nullptr);
        if (sizes[i]) std::memcpy(d, b.data() + off, sizes[i]);
        off += sizes[i];
        if (!head) {
            head = m;
        } else {
            REQUIRE(rte_pktmbuf_chain(head, m) == 0);
        }
    }
    return Mbuf(head);
}

inline Bytes bytes_of(const rte_mbuf* m) {
    Bytes out;
    for (const rte_mbuf* s = m; s; s = s->next) {
        auto* d = rte_pktmbuf_mtod(s, const uint8_t*);
        out.insert(out.end(), d, d + s->data_len);
    }
    REQUIRE(out.size() == rte_pktmbuf_pkt_len(m));
    return out;
}

// Everything pop/push could touch: each segment's whole buffer and its length fields.
struct Snapshot {
    struct Seg {
        Bytes buf;
        uint16_t data_off, data_len;
    };
    std::vector<Seg> segs;
    uint32_t pkt_len;
    uint16_t nb_segs;
    uint64_t ol_flags;
    uint32_t packet_type;

    explicit Snapshot(const rte_mbuf* m)
        : pkt_len(m->pkt_len), nb_segs(m->nb_segs), ol_flags(m->ol_flags),
          packet_type(m->packet_type) {
        for (const rte_mbuf* s = m; s; s = s->next) {
            auto* b = static_cast<const uint8_t*>(s->buf_addr);
            segs.push_back({Bytes(b, b + s->buf_len), s->data_off, s->data_len});
        }
    }
    bool operator==(const Snapshot& o) const {
        if (pkt_len != o.pkt_len || nb_segs != o.nb_segs || ol_flags != o.ol_flags ||
            packet_type != o.packet_type || segs.size() != o.segs.size())
            return false;
        for (size_t i = 0; i < segs.size(); ++i)
            if (segs[i].buf != o.segs[i].buf || segs[i].data_off != o.segs[i].data_off ||
                segs[i].data_len != o.segs[i].data_len)
                return false;
        return true;
    }
};

// RFC 1071 the slow, obvious way: big-endian 16-bit words, end-around carry.
inline uint16_t ref_sum(const uint8_t* p, size_t n) {
    uint32_t s = 0;
    for (size_t i = 0; i < n; i += 2) {
        s += static_cast<uint32_t>(p[i]) << 8 | (i + 1 < n ? p[i + 1] : 0);
        s = (s & 0xffff) + (s >> 16);
    }
    return static_cast<uint16_t>(s);
}
inline uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t be32(const uint8_t* p) {
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
inline void put16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
// Recomputes the IPv4 header checksum of a packet (IP header at ip_off).
// (An IHL reaching past the data sums what there is: such packets are refused anyway.)
inline void fix_ip_csum(Bytes& b, size_t ip_off = 14) {
    size_t ihl = std::min<size_t>((b[ip_off] & 0xf) * 4u, b.size() - ip_off);
    put16(&b[ip_off + 10], 0);
    put16(&b[ip_off + 10], static_cast<uint16_t>(~ref_sum(&b[ip_off], ihl)));
}

inline const char* name(vswitch::encap::PopResult r) {
    using vswitch::encap::PopResult;
    switch (r) {
        case PopResult::Ok: return "Ok";
        case PopResult::Malformed: return "Malformed";
        case PopResult::Fragment: return "Fragment";
        case PopResult::BadChecksum: return "BadChecksum";
        case PopResult::BadTunnelHeader: return "BadTunnelHeader";
        case PopResult::NotTunnel: return "NotTunnel";
    }
    return "?";
}

}  // namespace encap_test

namespace Catch {
template <>
struct StringMaker<vswitch::encap::PopResult> {
    static std::string convert(vswitch::encap::PopResult r) { return encap_test::name(r); }
};
template <>
struct StringMaker<vswitch::encap::PushResult> {
    static std::string convert(vswitch::encap::PushResult r) {
        using vswitch::encap::PushResult;
        return r == PushResult::Ok ? "Ok" : r == PushResult::TooBig ? "TooBig" : "NoHeadroom";
    }
};
}  // namespace Catch
