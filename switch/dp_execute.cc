// Datapath action executor (contract in dp_execute.h, semantics in
// docs/datapath-actions.md).
//
// Structure: one pass over the list builds the plan (last Output, last modification
// before it, unsupported types); then actions run one at a time over the whole batch.
// Packets dropped by an action are removed from the batch right after it, grouped by
// reason, so the sink sees one call per (action, reason).
#include "dp_execute.h"

#include <cstring>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "flow_hash.h"
#include "flow_key.h"
#include "meters.h"
#include "overlay/encap/dhcp_reply.h"
#include "overlay/encap/icmp_echo.h"
#include "overlay/encap/icmp_error.h"
#include "wire.h"

namespace vswitch {

namespace {

using namespace wire;

inline bool is_modifying(DpActionType t) {
    switch (t) {
    case DpActionType::SetEthSrc:
    case DpActionType::SetEthDst:
    case DpActionType::PushVlan:
    case DpActionType::PopVlan:
    case DpActionType::SetIpv4Src:
    case DpActionType::SetIpv4Dst:
    case DpActionType::SetIpTos:
    case DpActionType::DecTtl:
    case DpActionType::SetTpSrc:
    case DpActionType::SetTpDst:
    case DpActionType::TunnelPush:
    case DpActionType::ArpReply:
    case DpActionType::IcmpEchoReply:
    case DpActionType::DhcpReply:
    case DpActionType::IcmpError: return true;
    default: return false;
    }
}

enum : uint8_t { kL3None = 0, kL3Ipv4 = 4, kL3Ipv6 = 6 };

// Header offsets of one packet, in its first segment.
struct PktInfo {
    uint16_t l3;   // IP header
    uint16_t l4;   // TCP/UDP header (when l4p != 0)
    uint8_t l3t;   // kL3None / kL3Ipv4 / kL3Ipv6
    uint8_t l4p;   // kProtoTcp / kProtoUdp, or 0: no L4 header we rewrite
};

// The same walk as flow_extract (up to two VLAN tags, IPv4 options, no IPv6 extension
// headers), bounded by the first segment, which prepare() made hold the headers.
void parse(const rte_mbuf* m, PktInfo& pi) {
    pi = PktInfo{0, 0, kL3None, 0};
    const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
    const uint32_t len = rte_pktmbuf_data_len(m);
    if (len < kEthLen) return;
    uint32_t off = 12;
    uint16_t type = rd16(p + off);
    for (int tags = 0; tags < 2 && is_vlan_tpid(type); tags++) {
        if (len < off + kVlanLen + 2) return;
        off += kVlanLen;
        type = rd16(p + off);
    }
    off += 2;
    const uint8_t* ip = p + off;
    uint32_t l4, payload;
    uint8_t proto;
    if (type == RTE_BE16(0x0800)) {
        if (len < off + 20) return;
        const uint32_t ihl = (ip[0] & 0x0fu) * 4;
        const uint32_t total = rte_be_to_cpu_16(rd16(ip + 2));
        if ((ip[0] >> 4) != 4 || ihl < 20 || len < off + ihl || total < ihl) return;
        pi.l3 = static_cast<uint16_t>(off);
        pi.l3t = kL3Ipv4;
        if (rte_be_to_cpu_16(rd16(ip + 6)) & 0x1fff) return;   // later fragment: no L4
        proto = ip[9];
        l4 = off + ihl;
        payload = total - ihl;
    } else if (type == RTE_BE16(0x86dd)) {
        if (len < off + 40) return;
        pi.l3 = static_cast<uint16_t>(off);
        pi.l3t = kL3Ipv6;
        proto = ip[6];
        l4 = off + 40;
        payload = rte_be_to_cpu_16(rd16(ip + 4));
    } else {
        return;
    }
    const uint32_t need = proto == kProtoTcp ? 20 : proto == kProtoUdp ? 8 : 0;
    if (need == 0 || payload < need || len < l4 + need) return;
    pi.l4 = static_cast<uint16_t>(l4);
    pi.l4p = proto;
}

// Makes m safe to modify in place: private, direct, headers in the first segment.
// Returns the mbuf to use from now on (m or its copy), or nullptr (m is then freed).
rte_mbuf* prepare(rte_mbuf* m) {
    if (rte_pktmbuf_pkt_len(m) < kEthLen) {
        rte_pktmbuf_free(m);
        return nullptr;
    }
    if (!RTE_MBUF_DIRECT(m) || rte_mbuf_refcnt_read(m) != 1) {
        rte_mbuf* c = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
        rte_pktmbuf_free(m);
        if (c == nullptr) return nullptr;
        m = c;
    }
    const uint32_t frame = rte_pktmbuf_pkt_len(m);
    const uint32_t want = frame < kHdrMax ? frame : kHdrMax;
    if (rte_pktmbuf_data_len(m) < want && rte_pktmbuf_linearize(m) != 0) {
        rte_pktmbuf_free(m);
        return nullptr;
    }
    return m;
}

// L4 checksum after a change of a 32-bit pseudo-header word (IPv4 address).
inline void l4_csum_replace32(uint8_t* pkt, const PktInfo& pi, uint32_t o, uint32_t n) {
    if (pi.l4p == kProtoTcp) {
        uint8_t* c = pkt + pi.l4 + 16;
        wr16(c, csum_replace32(rd16(c), o, n));
    } else if (pi.l4p == kProtoUdp) {
        uint8_t* c = pkt + pi.l4 + 6;
        const uint16_t v = rd16(c);
        if (v == 0) return;   // no checksum: stays so
        const uint16_t nv = csum_replace32(v, o, n);
        wr16(c, nv ? nv : 0xffff);
    }
}

inline void set_ipv4_addr(uint8_t* pkt, const PktInfo& pi, unsigned field, uint32_t addr) {
    if (pi.l3t != kL3Ipv4) return;
    uint8_t* ip = pkt + pi.l3;
    const uint32_t old = rd32(ip + field);
    if (old == addr) return;
    wr32(ip + field, addr);
    wr16(ip + 10, csum_replace32(rd16(ip + 10), old, addr));
    l4_csum_replace32(pkt, pi, old, addr);
}

inline void set_tp_port(uint8_t* pkt, const PktInfo& pi, unsigned field, uint16_t port) {
    if (pi.l4p == 0) return;
    uint8_t* l4 = pkt + pi.l4;
    const uint16_t old = rd16(l4 + field);
    if (old == port) return;
    wr16(l4 + field, port);
    if (pi.l4p == kProtoTcp) {
        wr16(l4 + 16, csum_replace16(rd16(l4 + 16), old, port));
    } else {
        const uint16_t v = rd16(l4 + 6);
        if (v == 0) return;
        const uint16_t nv = csum_replace16(v, old, port);
        wr16(l4 + 6, nv ? nv : 0xffff);
    }
}

inline void set_tos(uint8_t* pkt, const PktInfo& pi, uint32_t arg) {
    uint8_t mask = static_cast<uint8_t>(arg >> 8);
    if (mask == 0) mask = 0xff;
    const uint8_t val = static_cast<uint8_t>(arg) & mask;
    uint8_t* ip = pkt + pi.l3;
    if (pi.l3t == kL3Ipv4) {
        const uint16_t old = rd16(ip);   // version/IHL, TOS; new word in a register (dec_ttl)
        const uint16_t neu = rte_cpu_to_be_16(static_cast<uint16_t>(
            (rte_be_to_cpu_16(old) & ~uint16_t(mask)) | val));
        wr16(ip, neu);
        wr16(ip + 10, csum_replace16(rd16(ip + 10), old, neu));
    } else if (pi.l3t == kL3Ipv6) {
        // Traffic class straddles bytes 0-1: version(4) tc(8) flow label(20).
        const uint8_t tc = static_cast<uint8_t>((ip[0] << 4) | (ip[1] >> 4));
        const uint8_t nt = static_cast<uint8_t>((tc & ~mask) | val);
        ip[0] = static_cast<uint8_t>((ip[0] & 0xf0) | (nt >> 4));
        ip[1] = static_cast<uint8_t>((ip[1] & 0x0f) | (nt << 4));
    }
}

// Returns false if the packet must be dropped (TTL expired).
inline bool dec_ttl(uint8_t* pkt, const PktInfo& pi) {
    uint8_t* ip = pkt + pi.l3;
    if (pi.l3t == kL3Ipv4) {
        if (ip[8] <= 1) return false;
        // The new TTL/protocol word is made in a register: reloading it after a byte
        // store defeats store-to-load forwarding (a stall that was 7% of scenario P).
        const uint16_t old = rd16(ip + 8);   // TTL, protocol
        const uint16_t neu = rte_cpu_to_be_16(static_cast<uint16_t>(rte_be_to_cpu_16(old) - 0x100));
        wr16(ip + 8, neu);
        wr16(ip + 10, csum_replace16(rd16(ip + 10), old, neu));
    } else if (pi.l3t == kL3Ipv6) {
        if (ip[7] <= 1) return false;
        ip[7]--;   // no IPv6 header checksum; not in the L4 pseudo-header
    }
    return true;
}

inline bool push_vlan(rte_mbuf* m, uint16_t tci_host) {
    if (rte_pktmbuf_headroom(m) < kVlanLen) return false;
    auto* d = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, kVlanLen));
    if (d == nullptr) return false;
    std::memmove(d, d + kVlanLen, 12);
    wr16(d + 12, RTE_BE16(0x8100));
    // CFI is the "tag present" marker of the key convention: DEI goes out as 0.
    wr16(d + 14, rte_cpu_to_be_16(static_cast<uint16_t>(tci_host & ~kVlanCfi)));
    return true;
}

inline bool pop_vlan(rte_mbuf* m) {
    auto* d = rte_pktmbuf_mtod(m, uint8_t*);
    if (rte_pktmbuf_data_len(m) < kEthLen || !is_vlan_tpid(rd16(d + 12))) return true;
    if (rte_pktmbuf_data_len(m) < kEthLen + kVlanLen) return false;
    std::memmove(d + kVlanLen, d, 12);
    rte_pktmbuf_adj(m, kVlanLen);
    return true;
}

// The batch being executed: live packets, their header offsets and pending drops.
class Batch {
public:
    Batch(rte_mbuf** pkts, uint16_t n, DpExecSink& sink) : p_(pkts), n_(n), sink_(sink) {}

    uint16_t size() const { return n_; }
    rte_mbuf** pkts() { return p_; }
    rte_mbuf*& pkt(uint16_t i) { return p_[i]; }
    PktInfo& info(uint16_t i) { return info_[i]; }

    void mark(uint16_t i, DropReason r) {
        why_[i] = r;
        marked_ |= uint64_t(1) << i;
    }
    // Packet i is gone already (freed by prepare()): count it, do not free it.
    void mark_gone(uint16_t i) {
        p_[i] = nullptr;
        mark(i, DropReason::ActionFailed);
    }

    // Removes the marked packets (arrival order of the rest is kept) and hands them to
    // the sink, one call per reason.
    void sweep() {
        if (marked_ == 0) return;
        rte_mbuf* gone[kExecBatchMax];
        DropReason gone_why[kExecBatchMax];
        uint16_t ng = 0, k = 0, vanished = 0;
        for (uint16_t i = 0; i < n_; i++) {
            if (!(marked_ >> i & 1)) {
                p_[k] = p_[i];
                info_[k++] = info_[i];
            } else if (p_[i] == nullptr) {
                vanished++;
            } else {
                gone[ng] = p_[i];
                gone_why[ng++] = why_[i];
            }
        }
        n_ = k;
        marked_ = 0;
        if (vanished) sink_.dp_drop(DropReason::ActionFailed, nullptr, vanished);
        // At most a couple of distinct reasons per action: group by repeated scans.
        uint16_t done = 0;
        while (done < ng) {
            const DropReason r = gone_why[done];
            rte_mbuf* grp[kExecBatchMax];
            uint16_t m = 0, rest = done;
            for (uint16_t i = done; i < ng; i++) {
                if (gone_why[i] == r) {
                    grp[m++] = gone[i];
                } else {
                    gone[rest] = gone[i];
                    gone_why[rest++] = gone_why[i];
                }
            }
            sink_.dp_drop(r, grp, m);
            ng = rest;
        }
    }

    // Frees what is left (list ended without consuming the packets).
    void drop_all(DropReason r) {
        if (n_) sink_.dp_drop(r, p_, n_);
        n_ = 0;
    }

private:
    rte_mbuf** p_;
    uint16_t n_;
    DpExecSink& sink_;
    uint64_t marked_ = 0;
    DropReason why_[kExecBatchMax];
    PktInfo info_[kExecBatchMax];
};

void output_copies(Batch& b, uint32_t port, DpExecSink& sink) {
    rte_mbuf* c[kExecBatchMax];
    uint16_t nc = 0, failed = 0;
    for (uint16_t i = 0; i < b.size(); i++) {
        rte_mbuf* m = b.pkt(i);
        rte_mbuf* copy = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
        if (copy) c[nc++] = copy;
        else failed++;
    }
    if (nc) sink.dp_output(port, c, nc);
    if (failed) sink.dp_drop(DropReason::ActionFailed, nullptr, failed);
}

// The symmetric inner-flow hash of a parsed packet (flow_hash.h).
uint32_t packet_flow_hash(const rte_mbuf* m, const PktInfo& pi) {
    const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
    if (pi.l3t == kL3Ipv4) {
        const uint8_t* ip = d + pi.l3;
        uint16_t sp = 0, dp = 0;
        if (pi.l4p) {
            sp = rd16(d + pi.l4);
            dp = rd16(d + pi.l4 + 2);
        }
        return sym_flow_hash_ipv4(rd32(ip + 12), rd32(ip + 16), ip[9], sp, dp);
    }
    return sym_flow_hash_l2(d, d + 6);
}

bool ipv4_df(const rte_mbuf* m, const PktInfo& pi) {
    return pi.l3t == kL3Ipv4 && (rte_pktmbuf_mtod(m, const uint8_t*)[pi.l3 + 6] & 0x40);
}

// TunnelPop: ends the list. Each packet is made private first even if the batch was
// prepared already: an earlier Output may still share it, and pop moves its data start.
void tunnel_pop(Batch& b, const DpAction& a, DpExecSink& sink) {
    const encap::TunnelType type = a.pop_type();
    const uint16_t udp_port = a.pop_udp_port();
    rte_mbuf* ok[kExecBatchMax];
    encap::TunnelMd md[kExecBatchMax];
    uint16_t n_ok = 0, gone = 0;
    for (uint16_t i = 0; i < b.size(); i++) {
        rte_mbuf* m = prepare(b.pkt(i));
        if (m == nullptr) {
            gone++;
            continue;
        }
        const encap::PopResult r = encap::pop(m, type, udp_port, md[n_ok]);
        if (r == encap::PopResult::Ok) {
            ok[n_ok++] = m;
        } else {
            rte_mbuf* one = m;
            sink.dp_drop(tunnel_pop_drop_reason(r), &one, 1);
        }
    }
    if (gone) sink.dp_drop(DropReason::ActionFailed, nullptr, gone);
    if (n_ok) sink.dp_recirculate(a.port, ok, md, n_ok);
}

// Encapsulates one parsed, private packet. Returns Count when it worked (hash set), else
// the drop reason; *icmp gets an ICMP "fragmentation needed" when one is due.
DropReason encap_one(rte_mbuf* m, const PktInfo& pi, const encap::TunnelHeader& h,
                     uint32_t& hash, rte_mbuf** icmp) {
    hash = packet_flow_hash(m, pi);
    switch (encap::push(m, h, hash)) {
    case encap::PushResult::Ok: return DropReason::Count;
    case encap::PushResult::NoHeadroom: return DropReason::ActionFailed;
    case encap::PushResult::TooBig:
        // We do not fragment the outer packet: the sender must lower its MTU. The inner
        // IP packet may be what the template leaves of the MTU minus the inner frame's
        // own link header beyond 14 bytes (VLAN tags ride inside the tunnel too).
        if (ipv4_df(m, pi)) {
            const uint32_t room = h.mtu - h.len - (pi.l3 - kEthLen);
            *icmp = encap::icmp_frag_needed(m, static_cast<uint16_t>(room), m->pool);
        }
        return DropReason::TunnelMtuExceeded;
    }
    return DropReason::ActionFailed;
}

// TunnelPush in place, on a prepared batch (the push + its Output are the list's last
// consumer). parsed: the batch's header offsets are current (an earlier action parsed).
void tunnel_push(Batch& b, const encap::TunnelHeader& h, bool parsed, DpExecSink& sink) {
    uint32_t hashes[kExecBatchMax];
    rte_mbuf* icmp[kExecBatchMax];
    uint16_t n_hashes = 0, n_icmp = 0;
    for (uint16_t i = 0; i < b.size(); i++) {
        if (!parsed) parse(b.pkt(i), b.info(i));
        rte_mbuf* reply = nullptr;
        uint32_t hash;
        const DropReason r = encap_one(b.pkt(i), b.info(i), h, hash, &reply);
        if (r == DropReason::Count) hashes[n_hashes++] = hash;
        else b.mark(i, r);
        if (reply) icmp[n_icmp++] = reply;
    }
    if (n_hashes) sink.dp_encapped(hashes, n_hashes);
    if (n_icmp) sink.dp_reply(icmp, n_icmp);
}

// TunnelPush + Output(port) with actions after them: encapsulated copies go out, the
// originals continue unchanged (like OVS's clone() around a tunnel output).
void tunnel_push_copies(Batch& b, const encap::TunnelHeader& h, uint32_t port, DpExecSink& sink) {
    rte_mbuf* out[kExecBatchMax];
    uint32_t hashes[kExecBatchMax];
    rte_mbuf* icmp[kExecBatchMax];
    uint16_t n_out = 0, n_icmp = 0, failed = 0;
    for (uint16_t i = 0; i < b.size(); i++) {
        rte_mbuf* m = b.pkt(i);
        rte_mbuf* c = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
        if (c && rte_pktmbuf_data_len(c) < rte_pktmbuf_pkt_len(c) && rte_pktmbuf_linearize(c) != 0) {
            rte_pktmbuf_free(c);
            c = nullptr;
        }
        if (!c) {
            failed++;
            continue;
        }
        PktInfo pi;
        parse(c, pi);
        rte_mbuf* reply = nullptr;
        const DropReason r = encap_one(c, pi, h, hashes[n_out], &reply);
        if (reply) icmp[n_icmp++] = reply;
        if (r == DropReason::Count) {
            out[n_out++] = c;
        } else {
            rte_mbuf* one = c;
            sink.dp_drop(r, &one, 1);
        }
    }
    if (failed) sink.dp_drop(DropReason::ActionFailed, nullptr, failed);
    if (n_out) {
        sink.dp_encapped(hashes, n_out);
        sink.dp_output(port, out, n_out);
    }
    if (n_icmp) sink.dp_reply(icmp, n_icmp);
}

void execute_chunk(const DpActionList& acts, rte_mbuf** pkts, uint16_t n, const DpExecEnv& env,
                   DpExecSink& sink) {
    // Plan. The list ends at its first Drop or TunnelPop (the terminal), if any. The last
    // consumer (terminal, else the last Output) takes the original mbufs. copy_limit:
    // index of the last modification before the last consumer; an Output before it
    // needs a copy, one after it may share the mbuf.
    int end = static_cast<int>(acts.size()) - 1, terminal = -1;
    for (size_t i = 0; i < acts.size(); i++) {
        const DpActionType t = acts[i].type;
        if (t == DpActionType::Drop || t == DpActionType::TunnelPop) {
            terminal = end = static_cast<int>(i);
            break;
        }
    }
    int last_out = -1;
    for (int i = 0; i <= end; i++)
        if (acts[static_cast<size_t>(i)].type == DpActionType::Output || i == terminal) last_out = i;
    int last_mod = -1;
    bool unsupported = false;
    for (int i = 0; i <= end; i++) {
        const DpAction& a = acts[static_cast<size_t>(i)];
        const DpActionType t = a.type;
        if (t == DpActionType::TunnelPush) {
            // Must be followed by its Output. Only the pair that is the last consumer
            // changes the packet itself; an earlier one sends copies.
            if (a.port >= acts.tunnels.size() || i + 1 > end ||
                acts[static_cast<size_t>(i) + 1].type != DpActionType::Output)
                unsupported = true;
            else if (i + 1 == last_out && i < last_out)
                last_mod = i;
        } else if (is_modifying(t)) {
            if (i < last_out) last_mod = i;
        } else if (t != DpActionType::Output && t != DpActionType::Meter && i != terminal) {
            unsupported = true;   // Recirculate, unknown
        }
    }
    const int copy_limit = last_mod;
    if (unsupported) {
        sink.dp_drop(DropReason::UnsupportedAction, pkts, n);
        return;
    }
    if (last_out < 0) {
        sink.dp_drop(DropReason::FlowDrop, pkts, n);
        return;
    }

    Batch b(pkts, n, sink);
    bool prepared = false, parsed = false;
    for (int ai = 0; ai <= last_out && b.size(); ai++) {
        const DpAction& a = acts[static_cast<size_t>(ai)];
        switch (a.type) {
        case DpActionType::Drop:
            b.drop_all(static_cast<DropReason>(a.arg.u32));
            return;
        case DpActionType::TunnelPop:
            tunnel_pop(b, a, sink);
            return;
        case DpActionType::Output:
            if (ai == last_out) {
                sink.dp_output(a.port, b.pkts(), b.size());
                return;
            }
            if (ai < copy_limit) {
                output_copies(b, a.port, sink);
            } else {
                for (uint16_t i = 0; i < b.size(); i++) rte_pktmbuf_refcnt_update(b.pkt(i), 1);
                sink.dp_output(a.port, b.pkts(), b.size());
            }
            continue;
        case DpActionType::Meter: {
            Meter* m = env.meters ? env.meters->find(a.port) : nullptr;
            if (m == nullptr) continue;   // unknown meter: pass (the pipeline validates ids)
            uint32_t lens[kExecBatchMax];
            for (uint16_t i = 0; i < b.size(); i++) lens[i] = rte_pktmbuf_pkt_len(b.pkt(i));
            uint64_t drops = m->police(lens, b.size(), env.now);
            for (; drops; drops &= drops - 1)
                b.mark(static_cast<uint16_t>(__builtin_ctzll(drops)), DropReason::MeterDrop);
            b.sweep();
            continue;
        }
        case DpActionType::TunnelPush:
            if (ai + 1 != last_out) {
                tunnel_push_copies(b, acts.tunnel(a), acts[static_cast<size_t>(ai) + 1].port, sink);
                ai++;   // its Output is done
                continue;
            }
            break;
        default: break;
        }

        // A modification.
        if (!prepared) {
            for (uint16_t i = 0; i < b.size(); i++) {
                rte_mbuf* m = prepare(b.pkt(i));
                if (m) b.pkt(i) = m;
                else b.mark_gone(i);
            }
            b.sweep();
            prepared = true;
        }
        switch (a.type) {
        case DpActionType::SetEthSrc:
        case DpActionType::SetEthDst: {
            const unsigned off = a.type == DpActionType::SetEthDst ? 0 : 6;
            for (uint16_t i = 0; i < b.size(); i++)
                std::memcpy(rte_pktmbuf_mtod(b.pkt(i), uint8_t*) + off, a.arg.mac, 6);
            break;
        }
        case DpActionType::PushVlan:
            for (uint16_t i = 0; i < b.size(); i++)
                if (!push_vlan(b.pkt(i), a.arg.u16)) b.mark(i, DropReason::ActionFailed);
            parsed = false;
            break;
        case DpActionType::PopVlan:
            for (uint16_t i = 0; i < b.size(); i++)
                if (!pop_vlan(b.pkt(i))) b.mark(i, DropReason::ActionFailed);
            parsed = false;
            break;
        case DpActionType::ArpReply:
            for (uint16_t i = 0; i < b.size(); i++)
                if (!encap::arp_make_reply(b.pkt(i), a.arg.mac)) b.mark(i, DropReason::ActionFailed);
            parsed = false;
            break;
        case DpActionType::IcmpEchoReply:
            for (uint16_t i = 0; i < b.size(); i++)
                if (!encap::icmp_make_echo_reply(b.pkt(i))) b.mark(i, DropReason::ActionFailed);
            parsed = false;
            break;
        case DpActionType::IcmpError:
            for (uint16_t i = 0; i < b.size(); i++)
                if (!encap::icmp_make_error(b.pkt(i), a.error_type(), a.error_code(), a.error_src()))
                    b.mark(i, DropReason::ActionFailed);
            parsed = false;
            break;
        case DpActionType::DhcpReply: {
            const encap::DhcpConfig* cfg = a.port < acts.dhcp.size() ? &acts.dhcp[a.port] : nullptr;
            for (uint16_t i = 0; i < b.size(); i++) {
                const encap::DhcpResult r = cfg ? encap::dhcp_make_reply(b.pkt(i), *cfg) : encap::DhcpResult::Invalid;
                if (r == encap::DhcpResult::Consumed) b.mark(i, DropReason::DhcpConsumed);
                else if (r != encap::DhcpResult::Reply) b.mark(i, DropReason::ActionFailed);
            }
            parsed = false;
            break;
        }
        case DpActionType::TunnelPush:
            tunnel_push(b, acts.tunnel(a), parsed, sink);
            parsed = false;   // the offsets now point into the outer header
            break;
        default: {
            if (!parsed) {
                for (uint16_t i = 0; i < b.size(); i++) parse(b.pkt(i), b.info(i));
                parsed = true;
            }
            for (uint16_t i = 0; i < b.size(); i++) {
                uint8_t* d = rte_pktmbuf_mtod(b.pkt(i), uint8_t*);
                const PktInfo& pi = b.info(i);
                switch (a.type) {
                case DpActionType::SetIpv4Src: set_ipv4_addr(d, pi, 12, a.arg.u32); break;
                case DpActionType::SetIpv4Dst: set_ipv4_addr(d, pi, 16, a.arg.u32); break;
                case DpActionType::SetIpTos: set_tos(d, pi, a.arg.u32); break;
                case DpActionType::DecTtl:
                    if (!dec_ttl(d, pi)) b.mark(i, DropReason::TtlExceeded);
                    break;
                case DpActionType::SetTpSrc: set_tp_port(d, pi, 0, a.arg.u16); break;
                case DpActionType::SetTpDst: set_tp_port(d, pi, 2, a.arg.u16); break;
                default: break;
                }
            }
            break;
        }
        }
        b.sweep();
    }
    // Only reached when every packet was dropped on the way.
    b.drop_all(DropReason::FlowDrop);
}

}  // namespace

DropReason tunnel_pop_drop_reason(encap::PopResult r) {
    switch (r) {
    case encap::PopResult::BadChecksum: return DropReason::TunnelBadChecksum;
    case encap::PopResult::Fragment: return DropReason::TunnelFragment;
    default: return DropReason::TunnelMalformed;
    }
}

void DpExecSink::dp_reply(rte_mbuf* const* pkts, uint16_t n) {
    rte_pktmbuf_free_bulk(const_cast<rte_mbuf**>(pkts), n);
}

void dp_execute(const DpActionList& acts, rte_mbuf** pkts, uint16_t n, const DpExecEnv& env,
                DpExecSink& sink) {
    if (n == 0) return;
    if (acts.empty()) {
        sink.dp_drop(DropReason::FlowDrop, pkts, n);
        return;
    }
    for (uint16_t done = 0; done < n;) {
        const uint16_t c = n - done < kExecBatchMax ? n - done : kExecBatchMax;
        execute_chunk(acts, pkts + done, c, env, sink);
        done += c;
    }
}

}  // namespace vswitch
