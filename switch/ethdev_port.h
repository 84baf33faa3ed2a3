// ethdev port: an SR-IOV VF or PF in production, and DPDK's software devices (net_ring,
// net_null, net_pcap, net_tap, net_af_packet) in tests, attached at runtime by devargs.
//
// Queues: rx queues = options.queues; tx queues = max(queues, number of PMDs) so every
// PMD can own tx queues, capped by what the device offers (the steering map shares and
// locks what is missing, and counts it). RSS is enabled whenever there is more than one
// rx queue and the device can hash.
#pragma once

#include <cstdint>
#include <string>

#include <rte_ether.h>

#include "port.h"

namespace vswitch {

class EthdevPort final : public Port {
public:
    static std::unique_ptr<Port> create(const std::string& name, uint32_t port_no,
                                        const PortOptions& opts, const PortEnv& env,
                                        std::string& err);
    ~EthdevPort() override;

    uint16_t rx_burst(uint16_t q, rte_mbuf** pkts, uint16_t n) override;
    uint16_t tx_burst(uint16_t q, rte_mbuf** pkts, uint16_t n) override;

    std::string state() const override;
    bool rxq_enabled(uint16_t q) const override { return q < n_rxq_; }
    std::vector<uint16_t> usable_txqs() const override;
    std::string mac() const override;

    uint16_t dpdk_port_id() const { return port_id_; }

private:
    EthdevPort(const std::string& name, uint32_t port_no, const PortOptions& opts)
        : Port(name, port_no, PortType::Ethdev, opts) {}
    bool init(const PortEnv& env, std::string& err);

    std::string devargs_;
    uint16_t port_id_ = UINT16_MAX;
    bool started_ = false;
    bool probed_here_ = false;
    bool has_mac_ = false;     // options.mac given
    rte_ether_addr mac_{};
};

}  // namespace vswitch
