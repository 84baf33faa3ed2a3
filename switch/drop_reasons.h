// Every packet the datapath drops is counted under one of these named reasons, per PMD
// and per port (rx-side reasons on the input port, tx-side on the output port).
// switchctl pmd-stats / port-stats show the names below.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vswitch {

enum class DropReason : uint8_t {
    RxRunt,            // shorter than an Ethernet header
    RxOversize,        // longer than the input port's MTU allows
    RxMalformed,       // broken IPv4/IPv6/L4 header
    FlowDrop,          // the pipeline said drop (explicit or table miss)
    UpcallError,       // the pipeline could not translate the packet
    OutputPortGone,    // megaflow outputs to a port that was removed
    TxFull,            // device / vring did not accept the packet
    TxQueueDisabled,   // output port has no usable tx queue (guest enabled none)
    UnsupportedAction, // datapath action not implemented
    TtlExceeded,       // dec_ttl on an IPv4 TTL / IPv6 hop limit <= 1 (no ICMP is sent)
    MeterDrop,         // over the rate of a meter's drop band
    UpcallLimit,       // megaflow miss over the input port's upcall rate (per PMD)
    ActionFailed,      // an action could not be applied: no headroom for a VLAN push,
                       // headers not linearizable, no mbuf for an output's copy
    // vhost-user native copy path (vring.h); the guest's buffers go back to it.
    RxBadDescriptor,   // guest tx chain invalid (outside guest memory, loop, wrong flags)
    RxNoMbuf,          // mbufs ran out for a guest packet's chained segments
    TxBadDescriptor,   // guest rx buffer chain invalid
    TxGuestBufferSmall,// the guest's rx buffer cannot hold the packet (no mergeable buffers)
    // Overlay (tunnels). Decapsulation failures are counted on the uplink.
    TunnelMalformed,   // tunnel packet for us with a truncated/invalid outer header
    TunnelBadChecksum, // outer IPv4 header checksum wrong
    TunnelFragment,    // outer IPv4 fragment (not reassembled)
    TunnelMtuExceeded, // too big for the underlay MTU after encapsulation (an ICMP
                       // "fragmentation needed" goes back for IPv4 with DF)
    TunnelNoNeighbor,  // the next hop's MAC is not known yet (an ARP request is sent)
    TunnelNoRoute,     // output to a tunnel with no uplink/local IP or no remote IP
    RecircDepth,       // a decapsulated packet asked to be decapsulated again
    ArpConsumed,       // an underlay ARP reply for us: learned, not forwarded
    DhcpConsumed,      // a DHCP release/decline, or a request to another server, taken
                       // by dhcp_reply: nothing to answer
    // Named drops the pipeline asks for (drop:REASON, used by the VPC rules).
    VpcSpoofed,        // a VM sent from a MAC/IP it is not bound to
    VpcUnknownVni,     // tunnel packet whose VNI no VPC has
    VpcUnknownHost,    // tunnel packet from a host no endpoint of the VPC lives on
    VpcSecurityDenied, // no security rule allows it into the VM
    VpcNoRoute,        // no endpoint has the destination
    Count
};

inline constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::Count);

inline const char* drop_reason_name(DropReason r) {
    switch (r) {
    case DropReason::RxRunt: return "rx_runt";
    case DropReason::RxOversize: return "rx_oversize";
    case DropReason::RxMalformed: return "rx_malformed";
    case DropReason::FlowDrop: return "flow_drop";
    case DropReason::UpcallError: return "upcall_error";
    case DropReason::OutputPortGone: return "output_port_gone";
    case DropReason::TxFull: return "tx_full";
    case DropReason::TxQueueDisabled: return "tx_queue_disabled";
    case DropReason::UnsupportedAction: return "unsupported_action";
    case DropReason::TtlExceeded: return "ttl_exceeded";
    case DropReason::MeterDrop: return "meter_drop";
    case DropReason::UpcallLimit: return "upcall_limit";
    case DropReason::ActionFailed: return "action_failed";
    case DropReason::RxBadDescriptor: return "rx_bad_descriptor";
    case DropReason::RxNoMbuf: return "rx_no_mbuf";
    case DropReason::TxBadDescriptor: return "tx_bad_descriptor";
    case DropReason::TxGuestBufferSmall: return "tx_guest_buffer_small";
    case DropReason::TunnelMalformed: return "tunnel_malformed";
    case DropReason::TunnelBadChecksum: return "tunnel_bad_checksum";
    case DropReason::TunnelFragment: return "tunnel_fragment";
    case DropReason::TunnelMtuExceeded: return "tunnel_mtu_exceeded";
    case DropReason::TunnelNoNeighbor: return "tunnel_no_neighbor";
    case DropReason::TunnelNoRoute: return "tunnel_no_route";
    case DropReason::RecircDepth: return "recirc_depth";
    case DropReason::ArpConsumed: return "arp_consumed";
    case DropReason::DhcpConsumed: return "dhcp_consumed";
    case DropReason::VpcSpoofed: return "vpc_spoofed";
    case DropReason::VpcUnknownVni: return "vpc_unknown_vni";
    case DropReason::VpcUnknownHost: return "vpc_unknown_host";
    case DropReason::VpcSecurityDenied: return "vpc_security_denied";
    case DropReason::VpcNoRoute: return "vpc_no_route";
    case DropReason::Count: break;
    }
    return "unknown";
}

// The reasons a pipeline rule may name in drop:REASON.
inline bool drop_reason_is_pipeline(DropReason r) {
    return r >= DropReason::VpcSpoofed && r < DropReason::Count;
}

inline bool drop_reason_is_tx(DropReason r) {
    return r == DropReason::OutputPortGone || r == DropReason::TxFull ||
           r == DropReason::TxQueueDisabled || r == DropReason::TxBadDescriptor ||
           r == DropReason::TxGuestBufferSmall;
}

}  // namespace vswitch
