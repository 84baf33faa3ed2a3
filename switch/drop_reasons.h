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
    case DropReason::Count: break;
    }
    return "unknown";
}

inline bool drop_reason_is_tx(DropReason r) {
    return r == DropReason::OutputPortGone || r == DropReason::TxFull ||
           r == DropReason::TxQueueDisabled;
}

}  // namespace vswitch
