// vm_port.h - lifecycle of one "VM": a DPDK virtio-user ethdev on a vhost-user socket.
//
// Contract:
//   vm_port_probe() hot-plugs vdev "virtio_user<idx>" with the VM's devargs
//   (path, queues, queue_size, server, mac, passthrough keys) after EAL init.
//   Client mode (server=0): a failed connect is retried every 100 ms until
//   `deadline` (CLOCK_MONOTONIC seconds) or *stop.  Server mode (server=1): the
//   22.11 PMD blocks in accept() inside the probe; an ITIMER_REAL alarm bounded
//   by the deadline interrupts it (main must install a SIGALRM handler without
//   SA_RESTART).  Returns the port id, or -1 with *err set.
//   vm_port_start() configures nq rx/tx queue pairs of `ring` descriptors on
//   `pool` and starts the port.  vm_port_link_up() is a non-blocking query.
//   vm_port_close() stops, closes and unplugs the port so the vhost side sees
//   the disconnect; safe on a port that never started.
#pragma once

#include <csignal>
#include <cstdint>
#include <string>

#include <rte_mempool.h>

#include "options.h"

namespace vmt {

double mono_now();  // CLOCK_MONOTONIC seconds

int vm_port_probe(const VmSpec& v, unsigned idx, double deadline, const volatile sig_atomic_t* stop,
                  std::string* err);
bool vm_port_start(uint16_t port, const VmSpec& v, rte_mempool* pool, unsigned max_frame,
                   std::string* err);
bool vm_port_link_up(uint16_t port);
void vm_port_close(uint16_t port);

}  // namespace vmt
