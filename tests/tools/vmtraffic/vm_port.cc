// vm_port.cc - virtio-user port probe/start/close (see vm_port.h).
#include "vm_port.h"

#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include <rte_bus_vdev.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

namespace vmt {

double mono_now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

namespace {

void arm_alarm(double secs) {
  itimerval it{};
  if (secs > 0) {
    it.it_value.tv_sec = time_t(secs);
    it.it_value.tv_usec = suseconds_t((secs - double(it.it_value.tv_sec)) * 1e6);
    if (!it.it_value.tv_sec && !it.it_value.tv_usec) it.it_value.tv_usec = 1;
  }
  setitimer(ITIMER_REAL, &it, nullptr);
}

}  // namespace

int vm_port_probe(const VmSpec& v, unsigned idx, double deadline, const volatile sig_atomic_t* stop,
                  std::string* err) {
  std::string name = "virtio_user" + std::to_string(idx);
  std::string args = "path=" + v.path + ",queues=" + std::to_string(v.queues) +
                     ",queue_size=" + std::to_string(v.ring) + ",server=" + (v.server ? "1" : "0") +
                     ",mac=" + mac_to_string(v.mac);
  for (auto& [k, val] : v.devargs) args += "," + k + "=" + val;
  bool warned = false;
  for (;;) {
    struct stat sb;
    if (!v.server && (stat(v.path.c_str(), &sb) != 0 || !S_ISSOCK(sb.st_mode))) {
      // No socket yet: wait quietly instead of letting the PMD log a failed probe.
      if (*stop) {
        *err = "interrupted while waiting for " + v.path;
        return -1;
      }
      if (mono_now() >= deadline) {
        *err = v.name + ": vhost-user socket " + v.path + " did not appear within --wait-link";
        return -1;
      }
      if (!warned) {
        fprintf(stderr, "vmtraffic: %s: waiting for vhost-user socket %s ...\n", v.name.c_str(),
                v.path.c_str());
        warned = true;
      }
      usleep(20000);
      continue;
    }
    if (v.server) {
      // A stale socket file from an earlier run makes bind() fail.
      if (stat(v.path.c_str(), &sb) == 0 && S_ISSOCK(sb.st_mode)) unlink(v.path.c_str());
      arm_alarm(deadline - mono_now());
    }
    int rc = rte_eal_hotplug_add("vdev", name.c_str(), args.c_str());
    if (v.server) arm_alarm(0);
    if (rc == 0) break;
    if (*stop) {
      *err = "interrupted while connecting " + v.name;
      return -1;
    }
    if (v.server || mono_now() >= deadline) {
      if (v.server)
        *err = v.name + ": no vhost-user client connected to " + v.path +
               (mono_now() >= deadline - 0.01 ? " within --wait-link" : " (server setup failed, see log)");
      else
        *err = v.name + ": cannot connect to " + v.path + " before --wait-link expired";
      return -1;
    }
    if (!warned) {
      fprintf(stderr, "vmtraffic: %s: waiting for vhost-user socket %s ...\n", v.name.c_str(),
              v.path.c_str());
      warned = true;
    }
    usleep(100000);
  }
  uint16_t port;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &port) != 0) {
    *err = v.name + ": probed but no ethdev named " + name;
    return -1;
  }
  return port;
}

bool vm_port_start(uint16_t port, const VmSpec& v, rte_mempool* pool, unsigned max_frame,
                   std::string* err) {
  rte_eth_conf conf{};
  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(port, &info);
  if (rc < 0) {
    *err = v.name + ": rte_eth_dev_info_get: " + rte_strerror(-rc);
    return false;
  }
  // A VM should accept whatever the switch forwards: with scatter (mergeable
  // rx buffers) raise the MTU to jumbo size; frames then span several mbufs.
  if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) {
    conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
    conf.rxmode.mtu = std::min<uint32_t>(info.max_mtu, 9216);
  } else if (max_frame > RTE_ETHER_MAX_LEN - RTE_ETHER_CRC_LEN) {
    conf.rxmode.mtu = std::min<uint32_t>(info.max_mtu, max_frame - RTE_ETHER_HDR_LEN);
  }
  if (max_frame > RTE_ETHER_MAX_LEN - RTE_ETHER_CRC_LEN &&
      (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS))
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  rc = rte_eth_dev_configure(port, uint16_t(v.queues), uint16_t(v.queues), &conf);
  if (rc < 0) {
    *err = v.name + ": rte_eth_dev_configure: " + rte_strerror(-rc);
    return false;
  }
  for (unsigned q = 0; q < v.queues; q++) {
    rc = rte_eth_rx_queue_setup(port, uint16_t(q), uint16_t(v.ring), SOCKET_ID_ANY, nullptr, pool);
    if (rc < 0) {
      *err = v.name + ": rx queue " + std::to_string(q) + " setup: " + rte_strerror(-rc);
      return false;
    }
    rc = rte_eth_tx_queue_setup(port, uint16_t(q), uint16_t(v.ring), SOCKET_ID_ANY, nullptr);
    if (rc < 0) {
      *err = v.name + ": tx queue " + std::to_string(q) + " setup: " + rte_strerror(-rc);
      return false;
    }
  }
  rc = rte_eth_dev_start(port);
  if (rc < 0) {
    *err = v.name + ": rte_eth_dev_start: " + rte_strerror(-rc);
    return false;
  }
  return true;
}

bool vm_port_link_up(uint16_t port) {
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(port, &link) != 0) return false;
  return link.link_status == RTE_ETH_LINK_UP;
}

void vm_port_close(uint16_t port) {
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  rte_eth_dev_get_name_by_port(port, name);
  rte_eth_dev_stop(port);
  rte_eth_dev_close(port);
  if (name[0]) rte_eal_hotplug_remove("vdev", name);
}

}  // namespace vmt
