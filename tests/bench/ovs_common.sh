# shellcheck shell=bash disable=SC2034
# Private OVS-DPDK for tests/bench/bench.sh scenarios that /work/shared/bench/ovs-baseline.sh does not
# cover (P, F, U, and the overlay scenarios of overlay.sh). Sourced after common.sh and bench_init. The start function is the one of
# ovs-baseline.sh, with its rules: every start is a fresh ovsdb (ovsdb-tool create) with its own
# run/db/log dirs under $W, unix sockets only, ovs-vswitchd in its own network namespace, DPDK with
# --no-pci and an own --file-prefix (${TAG}o, so common.sh's stop_all removes its runtime files), all OVS
# threads (ovsdb-server, ovs-vswitchd, its PMD: pmd-cpu-mask = SW_CORE) pinned to SW_CORE.
# Processes go into common.sh's PIDS, so stop_all stops them (newest first) like switchd.
# Extra here: ovs_start takes other_config key=value pairs (e.g. flow-limit=2000000), applied before
# ovs-vswitchd starts.

OVS_VSWITCHD=/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk   # the DPDK build, whatever alternatives say
OVS_SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
OVS_MEM=${OVS_MEM:-512}      # MB of hugepages for OVS (dpdk-socket-mem and -limit), as ovs-baseline.sh
OVS_NETNS=""                 # set while our netns exists
OVS_HUGE_ORIG="" OVS_MOUNTED="" OVS_HUGEDIR=""

ovs_available() { [ -x "$OVS_VSWITCHD" ] && [ -r "$OVS_SCHEMA" ] && command -v ovs-vsctl >/dev/null; }

# OVS always runs on hugepages (as in ovs-baseline.sh): use the hugetlbfs mount (mount once only if
# absent), grow the pool if fewer than OVS_MEM/2 + 200 pages are free. Undone by ovs_mem_restore.
ovs_mem_setup() {
    local need free
    OVS_HUGEDIR=$(awk '$3=="hugetlbfs"{print $2; exit}' /proc/mounts)
    if [ -z "$OVS_HUGEDIR" ]; then OVS_HUGEDIR=/dev/hugepages; mkdir -p $OVS_HUGEDIR
        mount -t hugetlbfs nodev $OVS_HUGEDIR && OVS_MOUNTED=1; fi
    need=$(( OVS_MEM / 2 + 200 )); free=$(awk '/HugePages_Free/{print $2}' /proc/meminfo)
    if (( free < need )); then [ -z "$OVS_HUGE_ORIG" ] && OVS_HUGE_ORIG=$(cat $NRHP)
        echo $(( $(cat $NRHP) + need - free )) > $NRHP; fi
}

ovs_env() {
    export OVS_RUNDIR=$W/run OVS_DBDIR=$W/db OVS_LOGDIR=$LOG OVS_SYSCONFDIR=$W/etc
    OVS_CTL=$W/run/vswitchd.ctl
}
vsctl()  { ovs-vsctl --db=unix:$W/run/db.sock --timeout=30 "$@"; }
appctl() { ovs-appctl -t $OVS_CTL "$@"; }
ofctl()  { ovs-ofctl "$@"; }          # reaches $OVS_RUNDIR/<bridge>.mgmt

# fresh db + ovsdb-server + ovs-vswitchd (DPDK, PMD on SW_CORE), all pinned to SW_CORE; $@ = extra
# other_config key=value. Sets SWPID (ovs-vswitchd) and OVSDBPID.
ovs_start() {
    ovs_env
    rm -rf "${W:?}"/run "${W:?}"/db "${W:?}"/etc; mkdir -p $W/run $W/db $W/etc $W/sock
    # fresh netns each start: OVS's tap devices (ovs-netdev, bridge taps) outlive ovs-vswitchd
    OVS_NETNS=${TAG}n
    ip netns del $OVS_NETNS 2>/dev/null; ip netns add $OVS_NETNS || return 1
    ip netns exec $OVS_NETNS sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ovsdb-tool create $W/db/conf.db $OVS_SCHEMA || return 1
    bg $LOG/$RUN-ovsdb.out taskset -c $SW_CORE ovsdb-server $W/db/conf.db --remote=punix:$W/run/db.sock \
       --unixctl=$W/run/ovsdb.ctl --pidfile=$W/run/ovsdb-server.pid --log-file=$LOG/$RUN-ovsdb.log
    OVSDBPID=${PIDS[-1]}
    for _ in $(seq 50); do [ -S $W/run/db.sock ] && break; sleep 0.1; done
    local extra=() kv
    for kv in "$@"; do extra+=("other_config:$kv"); done
    vsctl --no-wait init -- set Open_vSwitch . other_config:dpdk-init=true \
       other_config:dpdk-extra="--no-pci --file-prefix=${TAG}o" other_config:dpdk-socket-mem=$OVS_MEM \
       other_config:dpdk-socket-limit=$OVS_MEM other_config:pmd-cpu-mask=$(printf 0x%x $((1 << SW_CORE))) \
       "${extra[@]}" || return 1
    bg $LOG/$RUN-vswitchd.out ip netns exec $OVS_NETNS taskset -c $SW_CORE $OVS_VSWITCHD unix:$W/run/db.sock \
       --unixctl=$OVS_CTL --pidfile=$W/run/ovs-vswitchd.pid --log-file=$LOG/$RUN-vswitchd.log
    SWPID=${PIDS[-1]}
    for _ in $(seq 150); do [ "$(vsctl get Open_vSwitch . dpdk_initialized 2>/dev/null)" = true ] && return 0; sleep 0.2; done
    log "$RUN: ovs-vswitchd did not initialize DPDK (see $LOG/$RUN-vswitchd.log)"; return 1
}

# bridge br0 (netdev) with two dpdkvhostuserclient ports vhu0/vhu1 = ofport 1/2; OVS is the vhost-user
# client, the generator's virtio-user the server (socket $W/sock/vhuN.sock).
ovs_bridge() {
    vsctl add-br br0 -- set bridge br0 datapath_type=netdev || return 1
    local i
    for i in 0 1; do
        vsctl add-port br0 vhu$i -- set Interface vhu$i type=dpdkvhostuserclient \
           options:vhost-server-path=$W/sock/vhu$i.sock ofport_request=$((i + 1)) || return 1
    done
    ofctl del-flows br0
}

ovs_tx_of() {       # bridge ofport... -> summed tx packet counters (ovs-ofctl dump-ports)
    local br=$1 s=0 p n; shift
    for p in "$@"; do n=$(ofctl dump-ports $br $p | sed -n 's/.*tx pkts=\([0-9]*\).*/\1/p'); s=$((s + ${n:-0})); done
    echo $s; }
ovs_rx_of() {       # bridge ofport... -> summed rx packet counters
    local br=$1 s=0 p n; shift
    for p in "$@"; do n=$(ofctl dump-ports $br $p | sed -n 's/.*rx pkts=\([0-9]*\).*/\1/p'); s=$((s + ${n:-0})); done
    echo $s; }
ovs_tx() { ovs_tx_of br0 1 2; }   # ofports 1 and 2 of br0

# dpif-netdev/pmd-stats-show of the (single) PMD as "key=value" words: rx hit_emc hit_smc hit_mf miss
# lost upcall_ok cyc_pkt (processing cycles / packet)
ovs_pmd_stats() {
    appctl dpif-netdev/pmd-stats-show | awk '
      /^[^ ]/ {in_pmd = ($1 == "pmd")} !in_pmd {next}
      /packets received:/ {rx=$NF} /emc hits:/ {e=$3} /smc hits:/ {s=$3} /megaflow hits:/ {m=$3}
      /miss with success upcall:/ {u=$NF} /miss with failed upcall:/ {f=$NF}
      /avg processing cycles per packet:/ {c=$6}
      END {printf "rx=%s emc=%s smc=%s mf=%s upcall_ok=%s upcall_fail=%s cyc_pkt=%s\n", rx+0, e+0, s+0, m+0, u+0, f+0, c+0}'
}
ovs_dp_flows() { appctl dpctl/show 2>/dev/null | awk '/flows:/{print $2; exit}'; }   # datapath flows now

ovs_cleanup() {     # after each OVS run's stop_all: netns, dirs, leftover hugepage files
    [ -n "$OVS_NETNS" ] && ip netns del $OVS_NETNS 2>/dev/null; OVS_NETNS=""
    rm -rf "${W:?}"/db "${W:?}"/etc "${W:?}"/run
    [ -n "$OVS_HUGEDIR" ] && rm -f "$OVS_HUGEDIR"/${TAG}o*
    return 0
}
ovs_mem_restore() { # at exit: the hugepage pool size / mount ovs_mem_setup changed
    [ -n "$OVS_HUGE_ORIG" ] && echo "$OVS_HUGE_ORIG" > $NRHP
    [ -n "$OVS_MOUNTED" ] && umount "$OVS_HUGEDIR" 2>/dev/null
    OVS_HUGE_ORIG="" OVS_MOUNTED=""
}
