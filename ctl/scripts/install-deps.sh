#!/usr/bin/env bash
# Installs what vswitch needs to build, test and run, from Debian 12's archive; a no-op
# when everything is there. Usage: install-deps.sh [--bench]  (--bench adds the OVS-DPDK
# peer used by tests/bench, and perf for bench.sh --perf).
set -euo pipefail
pkgs=(build-essential cmake pkg-config libdpdk-dev dpdk libtbb-dev libprotobuf-dev
      protobuf-compiler libboost-dev catch2 libsystemd-dev python3 python3-scapy tshark
      iproute2 procps busybox)   # busybox: udhcpc, the real DHCP client of test_overlay
# dpdk-testpmd (the benchmarks' traffic generator) is in dpdk-dev since 22.11.11 (in dpdk before).
[ "${1:-}" = "--bench" ] && pkgs+=(openvswitch-switch-dpdk linux-perf dpdk-dev)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "install-deps: all ${#pkgs[@]} packages present"; exit 0; }
echo "install-deps: installing ${missing[*]}"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# The packages' daemons must not start on installation: dpdk.service binds the NICs
# listed in /etc/dpdk/interfaces, and the distribution's ovs-vswitchd (the DPDK build
# once openvswitch-switch-dpdk is in) would bring up DPDK without --no-pci if its
# database ever had dpdk-init set, probing the host's own PCI NIC. Nothing here needs
# them running: tests and benchmarks start their own processes, always with --no-pci.
# policy-rc.d exiting 101 is Debian's way to say "do not start services" to the
# maintainer scripts; an existing one is left alone.
policy=/usr/sbin/policy-rc.d
if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee $policy >/dev/null
    $SUDO chmod 755 $policy
    trap '$SUDO rm -f $policy' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
