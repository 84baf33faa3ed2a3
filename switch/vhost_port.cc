#include "vhost_port.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <unordered_map>

#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_vhost.h>

#include "mbuf_free.h"
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
int cb_new_connection(int vid) {
    if (VhostPort* p = port_of_vid(vid)) p->on_new_connection(vid);
    return 0;
}

// Around every vhost-user message of a connection (vhost-events thread, inside
// librte_vhost's message handling). librte_vhost does not hand the registration's
// context back to these, so the port is found by vid as for the device callbacks.
rte_vhost_msg_result cb_pre_message(int vid, void*) {
    if (VhostPort* p = port_of_vid(vid)) p->before_message(vid);
    return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}
rte_vhost_msg_result cb_post_message(int vid, void*) {
    if (VhostPort* p = port_of_vid(vid)) p->after_message(vid);
    return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}
const rte_vhost_user_extern_ops g_extern_ops = {cb_pre_message, cb_post_message};

const rte_vhost_device_ops g_ops = [] {
    rte_vhost_device_ops o{};
    o.new_device = cb_new_device;
    o.destroy_device = cb_destroy_device;
    o.vring_state_changed = cb_vring_state;
    o.new_connection = cb_new_connection;
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

// The native copy path (vring.h) reads plain descriptor chains of split rings only.
constexpr uint64_t kNativeDisabledFeatures =
    (1ULL << kFeatIndirectDesc) | (1ULL << kFeatRingPacked);

}  // namespace

VhostPort::VhostPort(const std::string& name, uint32_t port_no, const PortOptions& opts,
                     const PortEnv& env)
    : Port(name, port_no, PortType::VhostUser, opts), env_(env) {}

std::unique_ptr<Port> VhostPort::create(const std::string& name, uint32_t port_no,
                                        const PortOptions& opts, const PortEnv& env,
                                        std::string& err) {
    if (!opt_known(opts, {"path", "mode", "queues", "ring-size", "mtu", "tx-retries", "vring"}, err))
        return nullptr;
    std::string path, mode, vring;
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
    if (!opt_str(opts, "vring", "native", vring, err, {"native", "rte_vhost"})) return nullptr;
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
    p->native_ = vring == "native";
    if (p->native_) p->vrings_.reset(new Vring[2 * size_t(queues)]);

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
    if (p->native_ && rte_vhost_driver_disable_features(path.c_str(), kNativeDisabledFeatures) != 0)
        return fail("disabling indirect descriptors and packed rings");
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
    const uint16_t v = static_cast<uint16_t>(q * 2 + 1);
    if (native_) {
        Vring* vr = live_vring(v);
        if (!vr) return 0;
        VringErrors e;
        const uint16_t got = vr->dequeue(env_.mbuf_pool, pkts, n, e);
        if (__builtin_expect(e.bad_chains | e.too_big | e.no_mbuf, 0)) count_vring_errors(e, true);
        return got;
    }
    int vid = vid_.load(std::memory_order_acquire);
    // Vrings the guest did not enable (or does not have) are skipped here: librte_vhost
    // would log an error on every poll.
    if (vid < 0 || !((vring_enabled_.load(std::memory_order_relaxed) >> v) & 1)) return 0;
    return rte_vhost_dequeue_burst(vid, v, env_.mbuf_pool, pkts, n);
}

namespace {

// One enqueue, then retries of what is left while the guest keeps freeing slots (a guest
// polling on another core frees them within a few hundred nanoseconds, and a drop costs
// more than a retry), up to max_retries; an attempt that takes nothing ends it, as in
// OVS: a guest that is not draining now would only have the PMD spin on its ring index,
// a line the guest's core owns, at a cache miss per attempt. Adds the retries made to
// *retries. enqueue(pkts, n) -> how many of pkts it took.
template <class Enqueue>
uint16_t enqueue_retrying(Enqueue enqueue, rte_mbuf** pkts, uint16_t n, uint32_t max_retries,
                          uint32_t& retries) {
    uint16_t sent = enqueue(pkts, n);
    for (uint16_t got = sent; got && sent < n && retries < max_retries; retries++) {
        got = enqueue(pkts + sent, static_cast<uint16_t>(n - sent));
        sent = static_cast<uint16_t>(sent + got);
    }
    return sent;
}

}  // namespace

uint16_t VhostPort::tx_burst(uint16_t q, rte_mbuf** pkts, uint16_t n) {
    const uint16_t v = static_cast<uint16_t>(q * 2);
    // enqueue copies into guest memory, so what was sent is freed here.
    uint16_t sent;
    uint32_t retries = 0;
    if (native_) {
        Vring* vr = live_vring(v);
        if (!vr) return 0;
        VringErrors e;
        sent = enqueue_retrying([&](rte_mbuf** p, uint16_t c) { return vr->enqueue(p, c, e); },
                                pkts, n, tx_retries_, retries);
        // Packets the guest could not take (too big, bad buffers) are consumed: counted
        // under their own drop reason here, and reported so the PMD does not count them
        // as sent (port.h).
        if (__builtin_expect(e.bad_chains | e.too_big, 0)) {
            count_vring_errors(e, false);
            QueueCounters& qc = txq_stats(q);
            qc.burst_port_drops = e.dropped;
            qc.burst_port_drop_bytes = e.dropped_bytes;
        }
    } else {
        int vid = vid_.load(std::memory_order_acquire);
        if (vid < 0 || !((vring_enabled_.load(std::memory_order_relaxed) >> v) & 1)) return 0;
        sent = enqueue_retrying(
            [&](rte_mbuf** p, uint16_t c) { return rte_vhost_enqueue_burst(vid, v, p, c); }, pkts,
            n, tx_retries_, retries);
    }
    if (retries) counter_add(txq_stats(q).retries, retries);
    free_mbufs(pkts, sent);
    return sent;
}

void VhostPort::prepare_tx(uint16_t q, uint16_t n) {
    // The ring may have been detached since the burst that asked for this hint.
    if (!native_) return;
    if (Vring* vr = live_vring(static_cast<uint16_t>(q * 2))) vr->prefetch_next_enqueue(n);
}

void VhostPort::count_vring_errors(const VringErrors& e, bool guest_tx) {
    if (guest_tx) {
        count_drop(DropReason::RxBadDescriptor, e.bad_chains);
        count_drop(DropReason::RxOversize, e.too_big);
        count_drop(DropReason::RxNoMbuf, e.no_mbuf);
    } else {
        count_drop(DropReason::TxBadDescriptor, e.bad_chains);
        count_drop(DropReason::TxGuestBufferSmall, e.too_big);
    }
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
    if (native_) attach_vrings(vid);
    connects_.fetch_add(1, std::memory_order_relaxed);
    RTE_LOG(INFO, USER1, "port %s: guest connected (vid %d, %u vrings)\n", name_.c_str(), vid, nvr);
    if (env_.notify_state_change) env_.notify_state_change();
}

void VhostPort::on_destroy_device(int vid) {
    vid_.store(-1, std::memory_order_release);
    // librte_vhost frees the virtqueues when we return: wait until every PMD has passed
    // a quiescent state, so none is still inside a burst on this vid.
    if (env_.rcu_synchronize) env_.rcu_synchronize();
    if (native_) detach_vrings(vid);
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

void VhostPort::on_new_connection(int vid) {
    if (native_ && rte_vhost_extern_callback_register(vid, &g_extern_ops, this) != 0)
        RTE_LOG(ERR, USER1, "port %s: cannot watch vhost-user messages (vid %d)\n", name_.c_str(), vid);
}

// Any message may remap guest memory or move a ring (SET_MEM_TABLE, SET_VRING_ADDR, ...)
// or read the ring positions (GET_VRING_BASE): the PMDs stop touching the rings first,
// and librte_vhost gets the positions they reached.
void VhostPort::before_message(int vid) {
    if (!native_live_.load(std::memory_order_relaxed)) return;
    native_live_.store(false, std::memory_order_release);
    if (env_.rcu_synchronize) env_.rcu_synchronize();
    detach_vrings(vid);
    resume_after_message_ = true;
}

void VhostPort::after_message(int vid) {
    if (!resume_after_message_) return;
    resume_after_message_ = false;
    if (vid_.load(std::memory_order_relaxed) == vid) attach_vrings(vid);   // still running
}

// Called with the native path stopped (not live, grace period passed).
void VhostPort::attach_vrings(int vid) {
    uint64_t features = 0;
    rte_vhost_memory* mem = nullptr;
    if (rte_vhost_get_negotiated_features(vid, &features) != 0 ||
        rte_vhost_get_mem_table(vid, &mem) != 0 || !mem) {
        RTE_LOG(ERR, USER1, "port %s: no guest memory table (vid %d)\n", name_.c_str(), vid);
        free(mem);
        return;
    }
    mem_.n = std::min<uint32_t>(mem->nregions, GuestMemory::kMaxRegions);
    for (uint32_t i = 0; i < mem_.n; i++)
        mem_.regions[i] = {mem->regions[i].guest_phys_addr, mem->regions[i].size,
                           mem->regions[i].host_user_addr};
    free(mem);   // rte_vhost_get_mem_table's copy is ours

    const uint16_t nvr = std::min<uint16_t>(rte_vhost_get_vring_num(vid), uint16_t(2 * n_rxq_));
    for (uint16_t v = 0; v < nvr; v++) {
        rte_vhost_vring vr;
        VringConfig c;
        if (rte_vhost_get_vhost_vring(vid, v, &vr) != 0 ||
            rte_vhost_get_vring_base(vid, v, &c.last_avail, &c.last_used) != 0)
            continue;
        c.desc = reinterpret_cast<VirtqDesc*>(vr.desc);
        c.avail = reinterpret_cast<VirtqAvail*>(vr.avail);
        c.used = reinterpret_cast<VirtqUsed*>(vr.used);
        c.size = static_cast<uint16_t>(vr.size);
        c.callfd = vr.callfd;
        c.mrg_rxbuf = features & (1ULL << kFeatMrgRxbuf);
        c.version_1 = features & (1ULL << kFeatVersion1);
        c.event_idx = features & (1ULL << kFeatEventIdx);
        c.log = features & (1ULL << kFeatLogAll);
        c.vid = vid;
        c.vring_idx = v;
        c.mem = &mem_;
        vrings_[v].attach(c);   // a vring not set up yet (no addresses) stays detached
    }
    native_live_.store(true, std::memory_order_release);
}

// Called with the native path stopped. librte_vhost answers GET_VRING_BASE (and keeps
// the positions across reconnects and migration) from what is written back here.
void VhostPort::detach_vrings(int vid) {
    native_live_.store(false, std::memory_order_release);
    for (uint16_t v = 0; v < 2 * n_rxq_; v++) {
        Vring& vr = vrings_[v];
        if (!vr.attached()) continue;
        rte_vhost_set_vring_base(vid, v, vr.last_avail(), vr.last_used());
        vr.detach();
    }
}

}  // namespace vswitch
