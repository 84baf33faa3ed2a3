// Datapath action executor: runs a DpActionList on a batch of packets of one megaflow.
//
// The PMD keeps the "outputs only" case (the forwarding benchmark path) inline in
// Pmd::execute() and calls dp_execute() for every other list. Semantics in full in
// docs/datapath-actions.md; in short:
//
//  - Actions apply in list order, action by action over the whole batch. An Output
//    emits each packet as it is at that point.
//  - Copies: the last Output takes the original mbuf. An earlier Output that is followed
//    (before the last Output) by a modifying action gets a deep copy
//    (rte_pktmbuf_copy into the packet's own mempool); one with no modification after
//    it shares the mbuf (refcount + 1), as the outputs-only path does. So a packet is
//    never modified while another reference to it exists. Actions after the last Output
//    are not executed (they could not be observed).
//  - A packet is made writable before its first modification: an indirect, external or
//    shared mbuf is replaced by a private copy, and headers (the first min(frame, 128)
//    bytes, as flow_extract reads them) are linearized into the first segment.
//  - Header offsets are re-derived by the executor (a short parse of the first segment,
//    done once per batch on the first L3/L4 action and again after a VLAN push/pop),
//    not taken from flow_extract: the PMD does not keep offsets, and VLAN push/pop move
//    them.
//  - An action that does not apply to a packet (SetIpv4Src on IPv6 or ARP, SetTpSrc on
//    ICMP, PopVlan on an untagged frame, L4 actions on later IPv4 fragments) leaves it
//    unchanged: the pipeline guarantees prerequisites through the megaflow mask.
//  - Checksums are updated incrementally (RFC 1624); a UDP checksum of 0 stays 0, a
//    computed 0 is sent as 0xffff. Ports have checksum offloads off, so packets always
//    carry full checksums.
//  - Drops (removed from the batch; counted by the sink): dec_ttl at TTL/hop limit <= 1
//    "ttl_exceeded"; meter "meter_drop"; failed copy / push without headroom / headers
//    not linearizable "action_failed". A list with Recirculate (or an unknown type)
//    drops the whole batch "unsupported_action"; a list with no Output, TunnelPop or
//    Drop drops it "flow_drop". Drop(reason) ends the list: the packets left are counted
//    under its reason.
//  - Tunnels (overlay/encap/tunnel_header.h). TunnelPush prepends the list's template;
//    its outer UDP source port comes from the symmetric inner-flow hash (flow_hash.h),
//    which the sink is told (dp_encapped) so the PMD can remember the flow's VM queue. A
//    packet too big for the template's MTU is dropped "tunnel_mtu_exceeded" and, if it
//    is IPv4 with DF, answered with an ICMP "fragmentation needed" through dp_reply
//    (next-hop MTU = template MTU - header length - the inner frame's VLAN tags).
//    TunnelPop (last in its list) validates and strips the outer headers and hands the
//    inner packets and their tunnel metadata to dp_recirculate; failures are counted
//    "tunnel_malformed" / "tunnel_bad_checksum" / "tunnel_fragment". Both count as
//    modifications for the copy rules above.
//  - ArpReply rewrites an ARP request into its reply in place, IcmpEchoReply an ICMPv4
//    echo request (anything else: "action_failed"); the pipeline follows either with
//    Output(in_port).
#pragma once

#include <cstdint>

#include "dp_actions.h"
#include "drop_reasons.h"
#include "overlay/encap/checksum.h"
#include "overlay/encap/tunnel_header.h"

struct rte_mbuf;

namespace vswitch {

class MeterTable;

// Where executed packets go. The PMD implements it with its tx buffers and drop
// counters; the unit tests record.
class DpExecSink {
public:
    // Takes ownership of the n mbufs (each is a private copy or holds its own reference).
    virtual void dp_output(uint32_t port_no, rte_mbuf* const* pkts, uint16_t n) = 0;
    // Counts n drops under r and frees the mbufs. pkts == nullptr: count only (copies
    // that could not be allocated).
    virtual void dp_drop(DropReason r, rte_mbuf** pkts, uint16_t n) = 0;
    // Takes ownership of n decapsulated packets, to be looked up again as received on
    // tunnel_port with md[i]'s tunnel metadata. Default: dropped "unsupported_action".
    virtual void dp_recirculate(uint32_t tunnel_port, rte_mbuf* const* pkts,
                                const encap::TunnelMd* md, uint16_t n) {
        dp_drop(DropReason::UnsupportedAction, const_cast<rte_mbuf**>(pkts), n);
    }
    // Takes ownership of n packets the datapath generated in answer to the input (ICMP
    // errors): they go out of the port the input came from. Default: freed, uncounted.
    virtual void dp_reply(rte_mbuf* const* pkts, uint16_t n);
    // n packets were just encapsulated; hashes[i] = their symmetric inner-flow hash.
    virtual void dp_encapped(const uint32_t* hashes, uint16_t n) {}

protected:
    ~DpExecSink() = default;
};

struct DpExecEnv {
    const MeterTable* meters = nullptr;   // RCU snapshot (Meters::table()); null = no meters
    uint64_t now = 0;                     // meter clock (TSC), e.g. the PMD iteration's
};

inline constexpr uint16_t kExecBatchMax = 64;   // larger batches are run in chunks

// Consumes the n packets (the array itself is used as scratch).
void dp_execute(const DpActionList& acts, rte_mbuf** pkts, uint16_t n, const DpExecEnv& env,
                DpExecSink& sink);

// The drop reason of a failed encap::pop (tunnel_malformed, tunnel_bad_checksum,
// tunnel_fragment), for the PMD's own pop path.
DropReason tunnel_pop_drop_reason(encap::PopResult r);

// RFC 1624 incremental checksum updates (overlay/encap/checksum.h).
using encap::csum_replace16;
using encap::csum_replace32;

}  // namespace vswitch
