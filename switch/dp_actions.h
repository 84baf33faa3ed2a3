// Datapath actions: what a megaflow does to the packets it matches. This is the
// contract between the pipeline (ofproto translates OpenFlow actions into a
// DpActionList) and the datapath (which executes it per batch of packets).
//
// A list is immutable once built: the datapath swaps a megaflow's list pointer
// atomically on revalidation and frees the old one after an RCU grace period, so the
// executor never sees a half-written list.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace vswitch {

enum class DpActionType : uint8_t {
    Output = 1,      // port: datapath port number
    // The following are reserved for the pipeline and overlay issues; the executor
    // rejects (drops, counted as "unsupported_action") what it does not implement yet.
    SetEthSrc,       // data: 6-byte MAC
    SetEthDst,
    PushVlan,        // u16: TCI (host order, CFI set)
    PopVlan,
    SetIpv4Src,      // u32: network order
    SetIpv4Dst,
    SetIpTos,
    DecTtl,
    SetTpSrc,        // u16: network order
    SetTpDst,
    TunnelPush,      // u32: tunnel template index
    TunnelPop,
    Meter,           // u32: meter id
    Recirculate,     // u32: recirc id
};

struct DpAction {
    DpActionType type;
    uint8_t pad[3];
    uint32_t port;        // Output: datapath port; TunnelPush: template; Meter: id
    union {
        uint8_t mac[6];
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
    } arg;

    static DpAction output(uint32_t p) {
        DpAction a{};
        a.type = DpActionType::Output;
        a.port = p;
        return a;
    }
    bool operator==(const DpAction& o) const;
};

// An empty list means drop (counted under "flow_drop").
using DpActionList = std::vector<DpAction>;

// Human-readable form for dump-dpflows and trace, e.g. "output:2,output:3" or "drop".
// port_name maps a datapath port number to a name (may return "" for unknown).
std::string dp_actions_to_string(const DpActionList& acts,
                                 const std::function<std::string(uint32_t)>& port_name = {});

}  // namespace vswitch
