// vhost-user port through librte_vhost (not the vhost ethdev PMD): the datapath needs
// the vring state events themselves (which queues the guest enabled drives the steering
// map), direct enqueue/dequeue without an ethdev layer in between, and control over
// client reconnect and socket handling. See docs/architecture.md.
//
// Queue numbering: guest queue pair q = vring 2q (guest rx = our tx) and 2q+1
// (guest tx = our rx).
//
// Copy path (option vring=): `native` (default) moves packets between guest memory and
// mbufs itself (vring.h); librte_vhost then only runs the vhost-user protocol, and every
// protocol message pauses the native path (an RCU grace period) and hands the ring
// positions back to librte_vhost until the message is handled. `rte_vhost` uses
// rte_vhost_dequeue_burst / rte_vhost_enqueue_burst.
//
// Lifetime of a guest connection: new_device() publishes the vid; destroy_device()
// unpublishes it and waits an RCU grace period before returning, so no PMD touches a
// device librte_vhost is tearing down. In client mode librte_vhost reconnects on its own
// when the VM's socket comes back.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "port.h"
#include "vring.h"

namespace vswitch {

class VhostPort final : public Port {
public:
    // Validates options (path, mode, queues, ring-size, mtu) and registers the socket.
    static std::unique_ptr<Port> create(const std::string& name, uint32_t port_no,
                                        const PortOptions& opts, const PortEnv& env,
                                        std::string& err);
    ~VhostPort() override;

    uint16_t rx_burst(uint16_t q, rte_mbuf** pkts, uint16_t n) override;
    uint16_t tx_burst(uint16_t q, rte_mbuf** pkts, uint16_t n) override;
    void prepare_tx(uint16_t q, uint16_t n) override;

    std::string state() const override;
    bool rxq_enabled(uint16_t q) const override;
    std::vector<uint16_t> usable_txqs() const override;

    // librte_vhost callbacks (vhost-events thread).
    void on_new_device(int vid);
    void on_destroy_device(int vid);
    void on_vring_state(uint16_t vring, bool enable);
    void on_new_connection(int vid);
    // Before / after librte_vhost handles a protocol message of this port's guest.
    void before_message(int vid);
    void after_message(int vid);

    const std::string& path() const { return path_; }
    uint64_t connects() const { return connects_.load(std::memory_order_relaxed); }
    bool native() const { return native_; }

private:
    VhostPort(const std::string& name, uint32_t port_no, const PortOptions& opts,
              const PortEnv& env);

    std::string path_;
    bool client_ = true;
    uint32_t ring_size_ = 0;        // expected ring size (the guest chooses the real one)
    uint32_t tx_retries_ = 8;       // extra enqueue attempts when the guest rx ring is full
    PortEnv env_;
    std::atomic<int> vid_{-1};
    std::atomic<uint64_t> connects_{0};
    // Bit v = vring v enabled by the guest (vring numbering above).
    std::atomic<uint64_t> vring_enabled_{0};
    bool registered_ = false;

    // Native copy path. vrings_ and mem_ change only while native_live_ is false and an
    // RCU grace period has passed (vhost-events thread); PMDs read them while it is true.
    void attach_vrings(int vid);
    void detach_vrings(int vid);
    void count_vring_errors(const VringErrors& e, bool guest_tx);
    // Native path: vring v if a PMD may use it now (live: no protocol message in
    // progress, a guest; enabled by the guest; attached), else nullptr.
    Vring* live_vring(uint16_t v) {
        if (!native_live_.load(std::memory_order_acquire) ||
            !((vring_enabled_.load(std::memory_order_relaxed) >> v) & 1) || !vrings_[v].attached())
            return nullptr;
        return &vrings_[v];
    }
    bool native_ = true;
    std::atomic<bool> native_live_{false};
    bool resume_after_message_ = false;
    GuestMemory mem_;
    std::unique_ptr<Vring[]> vrings_;   // 2 per queue pair, vring numbering above
};

}  // namespace vswitch
