#include "vhost_port.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <unordered_map>

#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_vhost.h>

#include "port_options.h"

namespace vswitch {
namespace {

// librte_vhost calls back with a vid; its socket path names our port. The registry is
// touched by the control thread (register/unregister) and the vhost-events thread.
std::mutex g_registry_mu;
std::unordered_map<std::string, VhostPort*> g_registry;

VhostPort* port_of_vid(int vid) {
    char path[PATH_MAX];
    if (rte_vhost_get_ifname(vid, path, sizeof(path)) != 0) return nullptr;
    std::lock_guard<std::mutex> g(g_registry_mu);
    auto it = g_registry.find(path);
    return it == g_registry.end() ? nullptr : it->second;
}

int cb_new_device(int vid) {
    if (VhostPort* p = port_of_vid(vid)) p->on_new_device(vid);
    return 0;
}
void cb_destroy_device(int vid) {
    if (VhostPort* p = port_of_vid(vid)) p->on_destroy_device(vid);
}
int cb_vring_state(int vid, uint16_t vring, int enable) {
    if (VhostPort* p = port_of_vid(vid)) p->on_vring_state(vring, enable != 0);
    return 0;
}

const rte_vhost_device_ops g_ops = [] {
    rte_vhost_device_ops o{};
    o.new_device = cb_new_device;
    o.destroy_device = cb_destroy_device;
    o.vring_state_changed = cb_vring_state;
    return o;
}();

// virtio-net feature bits (virtio spec 5.1.3); linux/virtio_net.h does not mix with
// rte_vhost.h in C++.
enum : unsigned {
    kFCsum = 0, kFGuestCsum = 1, kFGuestTso4 = 7, kFGuestTso6 = 8, kFGuestEcn = 9,
    kFGuestUfo = 10, kFHostTso4 = 11, kFHostTso6 = 12, kFHostEcn = 13, kFHostUfo = 14,
};

// Segmentation and checksum offloads are off: the datapath forwards frames as they
// are, and a 64 KiB TSO frame from a guest would otherwise be dropped as oversize.
constexpr uint64_t kDisabledFeatures =
    (1ULL << kFHostTso4) | (1ULL << kFHostTso6) | (1ULL << kFHostEcn) | (1ULL << kFHostUfo) |
    (1ULL << kFGuestTso4) | (1ULL << kFGuestTso6) | (1ULL << kFGuestEcn) |
    (1ULL << kFGuestUfo) | (1ULL << kFCsum) | (1ULL << kFGuestCsum);

}  // namespace

VhostPort::VhostPort(const std::string& name, uint32_t port_no, const PortOptions& opts,
                     const PortEnv& env)
    : Port(name, port_no, PortType::VhostUser, opts), env_(env) {}

std::unique_ptr<Port> VhostPort::create(const std::string& name, uint32_t port_no,
                                        const PortOptions& opts, const PortEnv& env,
                                        std::string& err) {
    if (!opt_known(opts, {"path", "mode", "queues", "ring-size", "mtu", "tx-retries"}, err))
        return nullptr;
    std::string path, mode;
    uint32_t queues, ring, mtu, retries;
    if (!opt_str(opts, "path", "", path, err)) return nullptr;
    if (path.empty()) {
        err = "options.path: a vhost-user port needs path=SOCKET";
        return nullptr;
    }
    if (path.size() >= 108) {
        err = "options.path: longer than a unix socket path may be (107 bytes)";
        return nullptr;
    }
    if (!opt_str(opts, "mode", "client", mode, err, {"client", "server"})) return nullptr;
    if (!opt_uint(opts, "queues", 1, kMaxQueues, 1, queues, err)) return nullptr;
    if (!opt_uint(opts, "ring-size", 64, 32768, 1024, ring, err)) return nullptr;
    if ((ring & (ring - 1)) != 0) {
        err = "options.ring-size: must be a power of two";
        return nullptr;
    }
    if (!opt_uint(opts, "mtu", 68, 9600, 1500, mtu, err)) return nullptr;
    if (!opt_uint(opts, "tx-retries", 0, 32, 8, retries, err)) return nullptr;
    {
        std::lock_guard<std::mutex> g(g_registry_mu);
        if (g_registry.count(path)) {
            err = "options.path: " + path + " is already used by another port";
            return nullptr;
        }
    }

    std::unique_ptr<VhostPort> p(new VhostPort(name, port_no, opts, env));
    p->path_ = path;
    p->client_ = mode == "client";
    p->ring_size_ = ring;
    p->tx_retries_ = retries;
    p->n_rxq_ = p->n_txq_ = static_cast<uint16_t>(queues);
    p->mtu_ = mtu;
    p->max_frame_ = mtu + 14 + 4 + 4;   // Ethernet header, one VLAN tag, FCS room

    // A server socket left behind by a previous run would make bind() fail.
    struct stat st;
    if (!p->client_ && stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path.c_str());

    {
        std::lock_guard<std::mutex> g(g_registry_mu);
        g_registry[path] = p.get();
    }
    uint64_t flags = p->client_ ? RTE_VHOST_USER_CLIENT : 0;
    auto fail = [&](const char* what) -> std::unique_ptr<Port> {
        err = std::string("options.path: ") + what + " failed for " + path;
        return nullptr;   // the destructor unregisters
    };
    if (rte_vhost_driver_register(path.c_str(), flags) != 0) {
        std::lock_guard<std::mutex> g(g_registry_mu);
        g_registry.erase(path);
        err = "options.path: cannot register vhost-user socket " + path;
        return nullptr;
    }
    p->registered_ = true;
    if (rte_vhost_driver_disable_features(path.c_str(), kDisabledFeatures) != 0)
        return fail("disabling offload features");
    if (rte_vhost_driver_callback_register(path.c_str(), &g_ops) != 0)
        return fail("registering callbacks");
    if (rte_vhost_driver_start(path.c_str()) != 0) return fail("starting the vhost-user socket");
    if (!p->client_) chmod(path.c_str(), 0660);
    return p;
}

VhostPort::~VhostPort() {
    if (registered_) {
        // Unregistering tears down the connection (destroy_device runs first, which
        // waits for the PMDs); it can fail transiently while a callback is running.
        for (int i = 0; i < 100 && rte_vhost_driver_unregister(path_.c_str()) != 0; i++)
            usleep(10000);
    }
    std::lock_guard<std::mutex> g(g_registry_mu);
    auto it = g_registry.find(path_);
    if (it != g_registry.end() && it->second == this) g_registry.erase(it);
}

uint16_t VhostPort::rx_burst(uint16_t q, rte_mbuf** pkts, uint16_t n) {
    int vid = vid_.load(std::memory_order_acquire);
    // Vrings the guest did not enable (or does not have) are skipped here: librte_vhost
    // would log an error on every poll.
    if (vid < 0 || !((vring_enabled_.load(std::memory_order_relaxed) >> (q * 2 + 1)) & 1)) return 0;
    return rte_vhost_dequeue_burst(vid, q * 2 + 1, env_.mbuf_pool, pkts, n);
}

uint16_t VhostPort::tx_burst(uint16_t q, rte_mbuf** pkts, uint16_t n) {
    int vid = vid_.load(std::memory_order_acquire);
    if (vid < 0 || !((vring_enabled_.load(std::memory_order_relaxed) >> (q * 2)) & 1)) return 0;
    // enqueue copies into guest memory, so what was sent is freed here. A full guest
    // rx ring is retried a few times: a guest polling on another core frees slots within
    // a few hundred nanoseconds, and a drop costs far more than a retry.
    uint16_t sent = rte_vhost_enqueue_burst(vid, q * 2, pkts, n);
    for (uint32_t r = 0; sent < n && r < tx_retries_; r++)
        sent += rte_vhost_enqueue_burst(vid, q * 2, pkts + sent, n - sent);
    rte_pktmbuf_free_bulk(pkts, sent);
    return sent;
}

std::string VhostPort::state() const { return vid_.load() >= 0 ? "up" : "down"; }

bool VhostPort::rxq_enabled(uint16_t q) const {
    return vid_.load(std::memory_order_relaxed) >= 0 &&
           (vring_enabled_.load(std::memory_order_relaxed) >> (q * 2 + 1)) & 1;
}

std::vector<uint16_t> VhostPort::usable_txqs() const {
    std::vector<uint16_t> out;
    if (vid_.load() < 0) return out;
    uint64_t en = vring_enabled_.load();
    for (uint16_t q = 0; q < n_txq_; q++)
        if ((en >> (q * 2)) & 1) out.push_back(q);
    return out;
}

void VhostPort::on_new_device(int vid) {
    uint16_t nvr = rte_vhost_get_vring_num(vid);
    if (nvr / 2 > n_rxq_)
        RTE_LOG(WARNING, USER1, "port %s: guest has %u queue pairs, only %u configured (queues=)\n",
                name_.c_str(), nvr / 2, n_rxq_);
    for (uint16_t v = 0; v < nvr && v < 2 * n_rxq_; v++) {
        rte_vhost_vring vr;
        if (rte_vhost_get_vhost_vring(vid, v, &vr) == 0 && ring_size_ && vr.size &&
            vr.size != ring_size_ && v < 2)
            RTE_LOG(INFO, USER1, "port %s: guest vring size %u (ring-size=%u expected)\n",
                    name_.c_str(), vr.size, ring_size_);
        // No notifications: the PMD polls, and guest kicks would only cost syscalls.
        rte_vhost_enable_guest_notification(vid, v, 0);
    }
    vid_.store(vid, std::memory_order_release);
    connects_.fetch_add(1, std::memory_order_relaxed);
    RTE_LOG(INFO, USER1, "port %s: guest connected (vid %d, %u vrings)\n", name_.c_str(), vid, nvr);
    if (env_.notify_state_change) env_.notify_state_change();
}

void VhostPort::on_destroy_device(int vid) {
    vid_.store(-1, std::memory_order_release);
    // librte_vhost frees the virtqueues when we return: wait until every PMD has passed
    // a quiescent state, so none is still inside a burst on this vid.
    if (env_.rcu_synchronize) env_.rcu_synchronize();
    vring_enabled_.store(0);
    RTE_LOG(INFO, USER1, "port %s: guest disconnected (vid %d)\n", name_.c_str(), vid);
    if (env_.notify_state_change) env_.notify_state_change();
}

void VhostPort::on_vring_state(uint16_t vring, bool enable) {
    if (vring >= 64) return;
    uint64_t bit = 1ULL << vring;
    if (enable)
        vring_enabled_.fetch_or(bit);
    else
        vring_enabled_.fetch_and(~bit);
    if (env_.notify_state_change) env_.notify_state_change();
}

}  // namespace vswitch
