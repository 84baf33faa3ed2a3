#include "ethdev_port.h"

#include <algorithm>
#include <cstdio>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_log.h>

#include "port_options.h"

namespace vswitch {
namespace {

// Finds the ethdev a devargs string created (or that EAL already probed).
bool find_port(const std::string& devargs, uint16_t& out) {
    rte_dev_iterator it;
    uint16_t pid;
    RTE_ETH_FOREACH_MATCHING_DEV(pid, devargs.c_str(), &it) {
        out = pid;
        rte_eth_iterator_cleanup(&it);
        return true;
    }
    std::string name = devargs.substr(0, devargs.find(','));
    return rte_eth_dev_get_port_by_name(name.c_str(), &out) == 0;
}

}  // namespace

std::unique_ptr<Port> EthdevPort::create(const std::string& name, uint32_t port_no,
                                         const PortOptions& opts, const PortEnv& env,
                                         std::string& err) {
    if (!opt_known(opts, {"devargs", "queues", "tx-queues", "ring-size", "mtu", "mac"}, err))
        return nullptr;
    std::unique_ptr<EthdevPort> p(new EthdevPort(name, port_no, opts));
    if (!p->init(env, err)) return nullptr;
    return p;
}

bool EthdevPort::init(const PortEnv& env, std::string& err) {
    uint32_t queues, txqs, ring, mtu;
    if (!opt_str(options_, "devargs", "", devargs_, err)) return false;
    if (devargs_.empty()) {
        err = "options.devargs: a dpdk port needs devargs=DEVICE (a PCI address or a vdev)";
        return false;
    }
    if (!opt_uint(options_, "queues", 1, kMaxQueues, 1, queues, err)) return false;
    if (!opt_uint(options_, "tx-queues", 1, kMaxQueues,
                  std::min<uint32_t>(kMaxQueues, std::max<uint32_t>(queues, env.n_pmds)), txqs, err))
        return false;
    if (!opt_uint(options_, "ring-size", 64, 32768, 1024, ring, err)) return false;
    if (!opt_uint(options_, "mtu", 68, 9600, 1500, mtu, err)) return false;
    std::string mac;
    if (!opt_str(options_, "mac", "", mac, err)) return false;
    if (!mac.empty()) {
        if (rte_ether_unformat_addr(mac.c_str(), &mac_) != 0 || !rte_is_unicast_ether_addr(&mac_) ||
            rte_is_zero_ether_addr(&mac_)) {
            err = "options.mac: '" + mac + "' is not a unicast MAC address";
            return false;
        }
        has_mac_ = true;
    }

    uint16_t existing;
    bool already = find_port(devargs_, existing);
    if (!already) {
        int rc = rte_dev_probe(devargs_.c_str());
        if (rc < 0 && rc != -EEXIST) {
            err = "options.devargs: cannot attach '" + devargs_ + "': " + rte_strerror(-rc);
            return false;
        }
        probed_here_ = true;
    }
    if (!find_port(devargs_, port_id_)) {
        err = "options.devargs: '" + devargs_ + "' attached but no ethdev port appeared";
        return false;
    }
    rte_eth_dev_info info;
    if (int rc = rte_eth_dev_info_get(port_id_, &info); rc != 0) {
        err = std::string("options.devargs: cannot query device: ") + rte_strerror(-rc);
        return false;
    }
    if (queues > info.max_rx_queues) {
        err = "options.queues: device offers at most " + std::to_string(info.max_rx_queues) +
              " rx queues";
        return false;
    }
    n_rxq_ = static_cast<uint16_t>(queues);
    n_txq_ = static_cast<uint16_t>(std::min<uint32_t>(txqs, info.max_tx_queues));

    rte_eth_conf conf{};
    uint64_t rss = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
    if (n_rxq_ > 1 && rss) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = rss;
    }
    if (int rc = rte_eth_dev_configure(port_id_, n_rxq_, n_txq_, &conf); rc != 0) {
        err = std::string("options.queues: configure failed: ") + rte_strerror(-rc);
        return false;
    }
    uint16_t nrxd = static_cast<uint16_t>(ring), ntxd = static_cast<uint16_t>(ring);
    rte_eth_dev_adjust_nb_rx_tx_desc(port_id_, &nrxd, &ntxd);
    for (uint16_t q = 0; q < n_rxq_; q++) {
        if (int rc = rte_eth_rx_queue_setup(port_id_, q, nrxd, env.socket_id, nullptr, env.mbuf_pool);
            rc != 0) {
            err = "options.ring-size: rx queue " + std::to_string(q) + " setup failed: " + rte_strerror(-rc);
            return false;
        }
    }
    for (uint16_t q = 0; q < n_txq_; q++) {
        if (int rc = rte_eth_tx_queue_setup(port_id_, q, ntxd, env.socket_id, nullptr); rc != 0) {
            err = "options.ring-size: tx queue " + std::to_string(q) + " setup failed: " + rte_strerror(-rc);
            return false;
        }
    }
    // Not every software device supports an MTU; a VF does. Keep going either way, the
    // datapath enforces the MTU on input itself.
    if (mtu != 1500 && rte_eth_dev_set_mtu(port_id_, static_cast<uint16_t>(mtu)) != 0)
        RTE_LOG(WARNING, USER1, "port %s: device refused mtu %u\n", name_.c_str(), mtu);
    mtu_ = mtu;
    max_frame_ = mtu + 14 + 4 + 4;
    // mac=: programmed into the device when it can take it; a software device that
    // cannot (net_ring has no MAC at all) still gets it as the port's MAC, which is what
    // the switch uses (the VTEP's MAC): the device is promiscuous anyway.
    if (has_mac_) {
        const int rc = rte_eth_dev_default_mac_addr_set(port_id_, &mac_);
        if (rc == -ENOTSUP)
            RTE_LOG(INFO, USER1, "port %s: device cannot change its MAC; the switch uses mac=%s\n",
                    name_.c_str(), mac.c_str());
        else if (rc != 0) {
            err = std::string("options.mac: device refused it: ") + rte_strerror(-rc);
            return false;
        }
    }
    if (int rc = rte_eth_dev_start(port_id_); rc != 0) {
        err = std::string("options.devargs: start failed: ") + rte_strerror(-rc);
        return false;
    }
    started_ = true;
    rte_eth_promiscuous_enable(port_id_);
    return true;
}

EthdevPort::~EthdevPort() {
    if (port_id_ == UINT16_MAX) return;
    rte_eth_dev_info info{};
    rte_eth_dev_info_get(port_id_, &info);
    if (started_) rte_eth_dev_stop(port_id_);
    rte_eth_dev_close(port_id_);
    // Detach what we attached so the same devargs can be added again later.
    if (probed_here_ && info.device) rte_dev_remove(info.device);
}

uint16_t EthdevPort::rx_burst(uint16_t q, rte_mbuf** pkts, uint16_t n) {
    return rte_eth_rx_burst(port_id_, q, pkts, n);
}

uint16_t EthdevPort::tx_burst(uint16_t q, rte_mbuf** pkts, uint16_t n) {
    return rte_eth_tx_burst(port_id_, q, pkts, n);
}

std::string EthdevPort::state() const {
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(port_id_, &link) != 0) return "error";
    return link.link_status ? "up" : "down";
}

std::vector<uint16_t> EthdevPort::usable_txqs() const {
    std::vector<uint16_t> out(n_txq_);
    for (uint16_t q = 0; q < n_txq_; q++) out[q] = q;
    return out;
}

std::string EthdevPort::mac() const {
    rte_ether_addr a = mac_;
    if (!has_mac_ && rte_eth_macaddr_get(port_id_, &a) != 0) return "";
    char buf[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(buf, sizeof(buf), &a);
    return buf;
}

}  // namespace vswitch
