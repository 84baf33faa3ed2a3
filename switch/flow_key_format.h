// Text form of a megaflow (masked key) for dump-dpflows and trace, in the style of
// ovs-appctl dpctl/dump-flows: only fields with a non-zero mask are printed, a partial
// mask is shown after a slash.
//   in_port(vm1),eth(src=52:54:00:00:00:01),eth_type(0x0800),ipv4(dst=10.0.0.0/255.255.255.0)
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "flow_key.h"

namespace vswitch {

std::string format_masked_key(const FlowKey& key, const FlowKey& mask,
                              const std::function<std::string(uint32_t)>& port_name = {});

}  // namespace vswitch
