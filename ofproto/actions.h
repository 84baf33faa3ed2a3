// OpenFlow-level actions, as parsed from (action_parser.cc) and printed to
// (flow_format.cc) ovs-ofctl syntax; translate.cc turns them into datapath actions.
//
// A std::variant rather than an enum + union: each action of the pipeline issue
// (resubmit, goto_table, set_field, push/pop_vlan, NORMAL, group, meter, ...) becomes
// one more struct, and std::visit with overloaded lambdas makes the compiler point at
// every place that has to learn it.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

namespace vswitch::ofp {

// output:PORT. Like OpenFlow, sending a packet back out of the port it came in on
// needs the explicit in_port action; output to the ingress port is skipped.
struct OutputAction {
    uint32_t port;
    bool operator==(const OutputAction&) const = default;
};

// in_port / IN_PORT: output to the packet's ingress port.
struct InPortAction {
    bool operator==(const InPortAction&) const = default;
};

using OfAction = std::variant<OutputAction, InPortAction>;
using OfActionList = std::vector<OfAction>;   // empty = drop

template <class... Fs>
struct Overloaded : Fs... {
    using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace vswitch::ofp
