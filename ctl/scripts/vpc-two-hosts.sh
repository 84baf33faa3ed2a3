#!/usr/bin/env bash
# VPC walk-through on one machine: two "hosts" (network namespaces vpcdemoA and
# vpcdemoB), each running its own switchd whose uplink is one end of a veth pair between
# them (an af_packet port), each with one virtio-user VM. Both switches carry VPC "blue"
# (VNI 5001) over VXLAN; VM a (10.1.0.11, host 192.0.2.1) and VM b (10.1.0.27, host
# 192.0.2.2) exchange UDP through the overlay both ways. Then it shows what each switch
# sees: the VTEP and its neighbor (learned by ARP on the underlay), the VPC, its counters.
#
# Usage: ctl/scripts/vpc-two-hosts.sh [BUILD_DIR] (default ./build; build it first with
# ctl/scripts/build.sh). Needs root and 2 CPUs: switch A's PMD on CPU 1, switch B's on
# CPU 0; each VM's traffic tool runs on the other switch's CPU (low rates: two pollers
# share each core, which is fine for a walk-through, not for measuring).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$top/build}" && pwd)
[ "$(id -u)" = 0 ] || { echo "vpc-two-hosts: run as root" >&2; exit 1; }
W=$(mktemp -d /tmp/vswitch-vpc.XXXXXX)
N=${COUNT:-2000}
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ip netns del vpcdemoA 2>/dev/null || true
    ip netns del vpcdemoB 2>/dev/null || true
    rm -rf /var/run/dpdk/vpcdemo* "$W"/*.sock
    echo "vpc-two-hosts: logs in $W"
}
trap cleanup EXIT

echo "== underlay: namespaces vpcdemoA, vpcdemoB joined by a veth pair"
ip netns del vpcdemoA 2>/dev/null || true
ip netns del vpcdemoB 2>/dev/null || true
ip netns add vpcdemoA
ip netns add vpcdemoB
for h in A B; do   # no IPv6 autoconf chatter on the underlay (namespace-local settings)
    ip netns exec vpcdemo$h sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link add vpcdA0 netns vpcdemoA address 02:00:00:00:0a:01 type veth \
    peer name vpcdB0 netns vpcdemoB address 02:00:00:00:0b:01
ip -n vpcdemoA link set vpcdA0 up
ip -n vpcdemoB link set vpcdB0 up
# The kernel of each namespace has no address on the link: only the switches answer.

start_switch() {   # host pmd_cpu
    local h=$1 cpu=$2
    ip netns exec vpcdemo$h "$B/ctl/switchd" --pmd-cores "$cpu" --control-socket "$W/$h.sock" \
        --db none --eal "--no-huge -m 1024 --file-prefix vpcdemo$h" >"$W/switchd-$h.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do "$B/ctl/switchctl" --socket "$W/$h.sock" show >/dev/null 2>&1 && return; sleep 0.1; done
    echo "switchd $h did not start:"; cat "$W/switchd-$h.log"; exit 1
}
ctl() { local h=$1; shift; echo "+ [host $h] switchctl $*"; "$B/ctl/switchctl" --socket "$W/$h.sock" "$@"; }

echo "== host A: switchd (PMD on CPU 1); host B: switchd (PMD on CPU 0)"
start_switch A 1
start_switch B 0

configure() {   # host local_ip remote_ip uplink_iface my_vm_mac my_vm_ip peer_mac peer_ip
    local h=$1
    ctl $h add-port vm1 type=vhost-user mode=server path="$W/vm-$h.sock"
    ctl $h add-port up0 type=dpdk "devargs=net_af_packet0,iface=$4"
    ctl $h set-uplink up0 local-ip=$2/24
    ctl $h vpc create blue vni=5001 encap=vxlan
    ctl $h vpc add-subnet blue 10.1.0.0/24 gateway=10.1.0.1
    ctl $h vpc bind blue vm1 mac=$5 ip=$6
    ctl $h vpc add-endpoint blue mac=$7 ip=$8 host=$3
    ctl $h vpc add-rule blue vm1 ingress udp from 10.1.0.0/16
}
echo "== VPC blue on both hosts"
configure A 192.0.2.1 192.0.2.2 vpcdA0 52:54:00:00:0a:0b 10.1.0.11 52:54:00:00:0b:0b 10.1.0.27
configure B 192.0.2.2 192.0.2.1 vpcdB0 52:54:00:00:0b:0b 10.1.0.27 52:54:00:00:0a:0b 10.1.0.11

vm() {   # host cpu my_mac my_ip peer_mac peer_ip count recv-expectation tag
    "$B/tests/tools/vmtraffic" --prefix vpcdemo-vm$1 --lcore-cpu "$2" \
        --vm "vm1,path=$W/vm-$1.sock,mac=$3" \
        --send "vm1:dst=$5,src_ip=$4,dst_ip=$6,count=$7,rate=2000,size=128,flows=8" \
        --recv "vm1:$8,timeout=30" --wait-link 20 --start-delay 2 \
        --report "$W/traffic-$1${9:-}.json" >"$W/traffic-$1${9:-}.out" 2>"$W/traffic-$1${9:-}.log" &
    pids+=($!)
}
# Warm-up: the first packets towards the other host find no next hop yet; the switch
# drops them (tunnel_no_neighbor), ARPs for it on the underlay and learns the answer.
echo "== warm-up: a few packets each way while the switches resolve each other by ARP"
vm A 0 52:54:00:00:0a:0b 10.1.0.11 52:54:00:00:0b:0b 10.1.0.27 20 min=0 -warmup
vm B 1 52:54:00:00:0b:0b 10.1.0.27 52:54:00:00:0a:0b 10.1.0.11 20 min=0 -warmup
wait "${pids[-1]}" "${pids[-2]}" || true
for h in A B; do ctl $h port-stats vm1 | grep drops || true; done

echo "== VMs: a on host A sends $N UDP packets to b, b sends $N to a"
vm A 0 52:54:00:00:0a:0b 10.1.0.11 52:54:00:00:0b:0b 10.1.0.27 $N expect=$N
vmA=${pids[-1]}
vm B 1 52:54:00:00:0b:0b 10.1.0.27 52:54:00:00:0a:0b 10.1.0.11 $N expect=$N
vmB=${pids[-1]}
rcA=0; rcB=0
wait $vmA || rcA=$?
wait $vmB || rcB=$?
for h in A B; do
    echo "== host $h: traffic tool summary"
    grep SUMMARY "$W/traffic-$h.out" || tail -5 "$W/traffic-$h.log"
    ctl $h show-uplink
    ctl $h vpc stats blue
    ctl $h dump-dpflows
done
if [ $rcA = 0 ] && [ $rcB = 0 ]; then
    echo "vpc-two-hosts: OK: both VMs received all $N packets through the overlay"
else
    echo "vpc-two-hosts: FAILED (traffic tool exit codes A=$rcA B=$rcB)"; exit 1
fi
