#!/usr/bin/env bash
# The demo: installs what is missing, builds, reserves hugepages (falls back to
# --no-huge), starts switchd with two virtio-user "VMs" (vmtraffic) and shows packets
# flowing between them through flows, with live port and PMD stats.
#
# Usage: ctl/scripts/demo.sh [SECONDS] (default 20). CPU layout: switchd's PMD on the
# last CPU, the VMs' traffic tool on CPU 0 (two busy pollers never share a core).
set -euo pipefail
secs=${1:-20}
top=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "demo: run as root (DPDK, vhost-user sockets)" >&2; exit 1; }
"$top/ctl/scripts/install-deps.sh"
"$top/ctl/scripts/build.sh"
B=$top/build
W=$(mktemp -d /tmp/vswitch-demo.XXXXXX)
ncpu=$(nproc); pmd=$((ncpu - 1)); gen=0
[ "$pmd" -gt 0 ] || { echo "demo: needs 2 CPUs (PMD and VMs on different cores)" >&2; exit 1; }

if hp=$("$top/ctl/scripts/hugepages.sh" 512 2>/dev/null); then
    mem="--socket-mem 512 --huge-dir $hp --huge-unlink"
    echo "demo: hugepages on $hp"
else
    mem="--no-huge -m 1024"
    echo "demo: no hugepages available, using --no-huge"
fi
SW=(switchctl --socket "$W/switchd.sock")
sw() { "$B/ctl/switchctl" --socket "$W/switchd.sock" "$@"; }
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf /var/run/dpdk/vswdemo* "$W"/*.sock
    echo "demo: logs in $W"
}
trap cleanup EXIT

echo "demo: starting switchd (PMD on CPU $pmd)"
"$B/ctl/switchd" --pmd-cores "$pmd" --control-socket "$W/switchd.sock" --db "$W/state.db" \
    --eal "$mem --file-prefix vswdemo" >"$W/switchd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do sw show >/dev/null 2>&1 && break; sleep 0.1; done

run() { echo "+ ${SW[*]} $*"; sw "$@"; }
run add-port vm1 type=vhost-user mode=server path="$W/vm1.sock" queues=2
run add-port vm2 type=vhost-user mode=server path="$W/vm2.sock" queues=2
run add-flow 'priority=100,in_port=vm1,actions=output:vm2'
run add-flow 'priority=100,in_port=vm2,dl_type=0x0800,nw_dst=10.0.0.0/24,actions=output:vm1'
run show

echo "demo: starting two VMs (virtio-user, 2 queues each) on CPU $gen, ${secs}s of traffic"
"$B/tests/tools/vmtraffic" --prefix vswdemo-vm --lcore-cpu $gen \
    --vm "vm1,path=$W/vm1.sock,queues=2,mac=52:54:00:00:00:01" \
    --vm "vm2,path=$W/vm2.sock,queues=2,mac=52:54:00:00:00:02" \
    --send "vm1:dst=52:54:00:00:00:02,dst_ip=10.0.0.2,rate=500000,size=64,flows=64,queues=all,stream=1" \
    --send "vm2:dst=52:54:00:00:00:01,src_ip=10.0.0.2,dst_ip=10.0.0.1,rate=500000,size=512,flows=64,queues=all,stream=2" \
    --recv vm1 --recv vm2 --duration "$secs" --wait-link 20 --report "$W/traffic.json" \
    >"$W/traffic.out" 2>"$W/traffic.log" &
vmt=$!; pids+=($vmt)
sleep 2
sw pmd-stats --clear >/dev/null
while kill -0 $vmt 2>/dev/null; do
    sleep 3
    echo; echo "===== $(date +%T) live stats"
    sw port-stats | grep -E "^port|^    (rx|tx) pkts" || true
    sw pmd-stats | grep -E "pmd|received|emc|megaflow hits|cycles/pkt|busy" || true
done
wait $vmt || true
echo; echo "===== flows (n_packets/n_bytes from the datapath)"; run dump-flows
echo; echo "===== megaflows in the datapath"; run dump-dpflows
echo; echo "===== rx queues, PMDs and the tx-queue map"; run pmd-rxq-show
echo; echo "===== traffic tool verdict (sequence + payload verified per queue)"
tail -1 "$W/traffic.out"
