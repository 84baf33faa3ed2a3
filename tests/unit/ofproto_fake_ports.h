// A fixed port directory for ofproto unit tests: vm1=1, vm2=2, up0=3, vm3=4 and the tunnel
// ports vxlan0=5, gre0=6 (tests may add more through by_name). Which of them are tunnel
// ports is up to the test's OverlayConfig.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "ofproto/ofproto.h"

namespace vswitch::testing {

class FakePorts : public PortDirectory {
public:
    std::map<std::string, uint32_t, std::less<>> by_name{{"vm1", 1}, {"vm2", 2}, {"up0", 3}, {"vm3", 4},
                                                               {"vxlan0", 5}, {"gre0", 6}};
    std::optional<uint32_t> port_number(std::string_view name) const override {
        auto it = by_name.find(name);
        if (it == by_name.end()) return std::nullopt;
        return it->second;
    }
    std::string port_name(uint32_t no) const override {
        for (auto& [n, p] : by_name)
            if (p == no) return n;
        return "";
    }
};

}  // namespace vswitch::testing
