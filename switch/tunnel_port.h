// Tunnel ports (types "vxlan" and "gre"): pipeline ports with no queues of their own, as
// in Open vSwitch. Flows output to them (the pipeline turns that into TunnelPush + output
// to the uplink) and match packets received from them (decapsulated on the uplink and
// recirculated with in_port = the tunnel port and tun_id/tun_src/tun_dst set).
//
// Options (all optional):
//   remote_ip = flow | A.B.C.D   flow: the destination comes from tun_dst
//   key       = flow | N         flow: the VNI/GRE key comes from tun_id (VXLAN: < 2^24)
//   dst_port  = N                VXLAN UDP port, default 4789
//   ttl = 1..255 (64), tos = 0..255 (0), df = true|false (true)   outer IPv4 header
// The datapath never transmits on a tunnel port itself: it has no tx queues, so a stray
// direct output is counted "tx_queue_disabled".
#pragma once

#include "overlay/encap/tunnel_header.h"
#include "port.h"

namespace vswitch {

struct TunnelPortConfig {
    encap::TunnelType type = encap::TunnelType::Vxlan;
    uint32_t remote_ip = 0;    // network order; 0 = flow (tun_dst)
    bool key_flow = true;
    uint32_t key = 0;          // when !key_flow
    uint16_t dst_port = encap::kVxlanPort;
    uint8_t ttl = 64;
    uint8_t tos = 0;
    bool df = true;
    bool operator==(const TunnelPortConfig&) const = default;
};

// Validates options into cfg; false + err ("options.<key>: problem").
bool parse_tunnel_options(const std::string& type, const PortOptions& opts, TunnelPortConfig& cfg,
                          std::string& err);

class TunnelPort final : public Port {
public:
    static std::unique_ptr<Port> create(const std::string& name, uint32_t port_no,
                                        const std::string& type, const PortOptions& opts,
                                        std::string& err);

    uint16_t rx_burst(uint16_t, rte_mbuf**, uint16_t) override { return 0; }
    uint16_t tx_burst(uint16_t, rte_mbuf**, uint16_t) override { return 0; }
    std::string state() const override { return "up"; }
    bool rxq_enabled(uint16_t) const override { return false; }
    std::vector<uint16_t> usable_txqs() const override { return {}; }
    const char* type_name() const override {
        return cfg_.type == encap::TunnelType::Vxlan ? "vxlan" : "gre";
    }
    const TunnelPortConfig& tunnel() const { return cfg_; }

private:
    TunnelPort(const std::string& name, uint32_t port_no, const PortOptions& opts,
               const TunnelPortConfig& cfg);
    TunnelPortConfig cfg_;
};

}  // namespace vswitch
