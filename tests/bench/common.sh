# shellcheck shell=bash disable=SC2034
# Shared helpers of tests/bench/bench.sh and tests/bench/memory.sh (sourced, not run).
# Same conventions as /work/shared/bench/ovs-baseline.sh: every DPDK process gets --no-pci and its own
# --file-prefix, the switch (all of its threads) runs on SW_CORE, the generator on GEN_CORE, logs stay in
# $LOG, everything we start is stopped newest first on exit.
# The caller sets before sourcing: nothing; after sourcing it must call bench_init.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$REPO/build-bench}
SWITCHD=${SWITCHD:-$BUILD/ctl/switchd}
SWITCHCTL=${SWITCHCTL:-$BUILD/ctl/switchctl}
VHOST_OPTS=${VHOST_OPTS:-}           # extra add-port options of vswitch's vhost-user ports (e.g. vring=rte_vhost)
QSZ=${QSZ:-256}                      # virtio ring size of the virtio-user "VM" ports (as ovs-baseline.sh)
HUGE_PAGES=${HUGE_PAGES:-1024}       # 2 MiB pages to reserve for switchd + generator (bench, not CI)
NRHP=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
HZ=$(getconf CLK_TCK) TSC_MHZ=$(awk '/cpu MHz/{print $4; exit}' /proc/cpuinfo)
TAG=vswb$$                           # stem of our DPDK --file-prefix values
PIDS=() HUGE_ORIG="" HUGE_MOUNTED="" HUGEDIR="" USE_HUGE=0 RUN=x
SW_MEM="" GEN_MEM=""                 # EAL memory arguments, set by mem_setup

log() { echo "[$(date +%T)] $*" >&2; }
die() { log "$*"; exit 1; }
bg() { local out=$1; shift; "$@" </dev/null >"$out" 2>&1 & PIDS+=($!); }   # start + remember PID

stop_all() {        # SIGTERM our processes newest first (generator before switch), SIGKILL after 5 s
    local i p
    for ((i=${#PIDS[@]}-1; i>=0; i--)); do p=${PIDS[i]}
        kill -TERM "$p" 2>/dev/null || continue
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
    done
    PIDS=()
    [ -n "$HUGEDIR" ] && rm -f "$HUGEDIR"/${TAG}*
    rm -rf /var/run/dpdk/${TAG}* "$W/sock" "$W/sw.sock"
}

bench_cleanup() {
    stop_all
    [ -n "$HUGE_ORIG" ] && echo "$HUGE_ORIG" > $NRHP
    [ -n "$HUGE_MOUNTED" ] && umount "$HUGEDIR" 2>/dev/null
    log "logs kept in $LOG"
}

bench_init() {      # work dir + traps; $1 = mktemp stem
    [ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 2; }
    [ -x "$SWITCHD" ] && [ -x "$SWITCHCTL" ] || { echo "no $SWITCHD / $SWITCHCTL; build them:" \
        "cmake -S $REPO -B $BUILD -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build $BUILD --target switchd switchctl -j2" >&2
        exit 2; }
    W=$(mktemp -d /tmp/$1.XXXXXX); LOG=$W/log; mkdir -p $LOG
    trap bench_cleanup EXIT; trap 'exit 130' INT TERM
}

# Memory: hugepages if ctl/scripts/hugepages.sh can reserve HUGE_PAGES (it mounts hugetlbfs once if absent
# and grows the pool), else --no-huge (then switchd and the generator both use memfd-backed memory, which
# vhost-user can share). $1 = 1 forces --no-huge. The pool size is restored on exit.
mem_setup() {
    local orig mounted_before
    orig=$(cat $NRHP 2>/dev/null); mounted_before=$(awk '$3=="hugetlbfs"{print $2; exit}' /proc/mounts)
    if [ "${1:-0}" != 1 ] && HUGEDIR=$("$REPO/ctl/scripts/hugepages.sh" "$HUGE_PAGES" 2>$LOG/hugepages.err); then
        USE_HUGE=1
        SW_MEM="--huge-dir $HUGEDIR"
        GEN_MEM="--huge-dir $HUGEDIR --single-file-segments -m 64"
    else
        [ "${1:-0}" = 1 ] || log "hugepages unavailable ($(cat $LOG/hugepages.err)); using --no-huge (memfd)"
        HUGEDIR=""
        SW_MEM="--no-huge -m 1024"
        GEN_MEM="--no-huge -m 128"
    fi
    [ "$(cat $NRHP 2>/dev/null)" != "$orig" ] && HUGE_ORIG=$orig
    [ -z "$mounted_before" ] && [ -n "$(awk '$3=="hugetlbfs"{print $2; exit}' /proc/mounts)" ] && HUGE_MOUNTED=1
    [ -z "$HUGEDIR" ] && [ -n "$HUGE_MOUNTED" ] && HUGEDIR=$(awk '$3=="hugetlbfs"{print $2; exit}' /proc/mounts)
    return 0
}
mem_desc() { if [ $USE_HUGE = 1 ]; then echo "hugepages ($HUGEDIR)"; else echo "no-huge (memfd)"; fi; }

sw() { "$SWITCHCTL" --socket "$W/sw.sock" --timeout 10 "$@"; }

# switchd with its PMD on SW_CORE and every other thread there too (taskset + --lcores): the same layout
# as ovs-baseline.sh, which pins all OVS threads to SW_CORE. Without --lcores, switchd maps EAL lcore 0
# (its control thread) to the non-PMD CPUs (= GEN_CORE on a 2-CPU machine) and EAL's pthread_setaffinity
# silently overrides taskset: the control, interrupt, telemetry and vhost threads would land on GEN_CORE.
# Arguments, if any, are extra switchd options (e.g. --max-megaflows 1200000).
start_switchd() {
    mkdir -p $W/sock; rm -f $W/sw.sock
    bg $LOG/$RUN-switchd.log taskset -c $SW_CORE "$SWITCHD" --pmd-cores $SW_CORE --control-socket $W/sw.sock \
        --db none "$@" --eal "--lcores 0@$SW_CORE,1@$SW_CORE --no-pci --file-prefix ${TAG}s $SW_MEM"
    SWPID=${PIDS[-1]}
    for _ in $(seq 150); do
        grep -q "switchd: ready" $LOG/$RUN-switchd.log 2>/dev/null && [ -S $W/sw.sock ] && return 0
        kill -0 $SWPID 2>/dev/null || { log "$RUN: switchd exited: $(tail -3 $LOG/$RUN-switchd.log)"; return 1; }
        sleep 0.2
    done
    log "$RUN: switchd not ready after 30 s"; return 1
}

# testpmd virtio-user "VMs", server=1 (switchd is the vhost-user client, like OVS dpdkvhostuserclient).
# gen MODE QUEUES SOCKET... ; MODE io = loopback primed by "start tx_first $BURSTS" (as ovs-baseline.sh
# scenario A), rxonly = receives and frees (a sink; silent), txonly = every port sends 64-byte UDP packets
# as fast as it can on each of its queues, nothing is expected back (ovs-baseline.sh scenario C), flowgen = every port sends fresh 64-byte IPv4/UDP packets
# (destination IP cycling over FLOWGEN_FLOWS addresses, default 1; FLOWGEN_CLONES: each new packet is sent
# that many more times, refcounted, default 0; testpmd 22.11 flowgen uses the fixed MACs 00:01:02:03:04:00
# -> 00:01:02:03:04:01, not --eth-peer) and frees what it receives. Main and forwarding lcores on GEN_CORE.
gen() {
    local mode=$1 q=$2 i=0 s vd=() ex=(); shift 2
    for s in "$@"; do
        vd+=(--vdev "virtio_user$i,path=$W/sock/$s.sock,server=1,queues=$q,queue_size=$QSZ,mac=02:00:00:00:00:1$i")
        i=$((i+1)); done
    if [ $mode = io ]; then
        echo "start tx_first $BURSTS" > $W/gen.cmd
        ex=(--cmdline-file=$W/gen.cmd --eth-peer=0,02:00:00:00:00:11 --eth-peer=1,02:00:00:00:00:10)
    elif [ $mode = txonly ]; then
        ex=(--port-topology=loop)   # as ovs-baseline.sh's scenario C: every port sends, nothing comes back
    elif [ $mode = flowgen ]; then
        ex=(--flowgen-flows=${FLOWGEN_FLOWS:-1} --flowgen-clones=${FLOWGEN_CLONES:-0}
            --eth-peer=0,02:00:00:00:00:11 --eth-peer=1,02:00:00:00:00:10)
    elif [ $# = 1 ]; then
        ex=(--port-topology=loop)   # one port (rxonly sink): no pairing
    fi
    # shellcheck disable=SC2086
    bg $LOG/$RUN-gen.out dpdk-testpmd --lcores "0@$GEN_CORE,1@$GEN_CORE" --main-lcore 1 --no-pci \
        --file-prefix ${TAG}g $GEN_MEM "${vd[@]}" -- --nb-cores=1 --forward-mode=$mode --rxq=$q --txq=$q \
        --burst=32 --txpkts=64 --total-num-mbufs=16384 --stats-period=1 --record-core-cycles "${ex[@]}"
    GENPID=${PIDS[-1]}
}

busy()     { top -bn2 -d 0.5 | awk '/^top -/{n++} n==2 && $1 ~ /^[0-9]+$/ && $9 > 5 {printf "%s %s%%; ", $12, $9}'; }
cpu_busy() { local a b; a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))   # busy share, 0..1
    awk -v a="${a[*]}" -v b="${b[*]}" 'BEGIN{n=split(a,x," "); split(b,y," "); for(i=2;i<=n;i++){d=y[i]-x[i]; t+=d; if(i==5||i==6) id+=d}
         printf "%.2f", 1-id/t}'; }
wait_quiet() { local t=0 u; while u=$(cpu_busy); awk -v u=$u 'BEGIN{exit !(u > 0.15)}'; do
    (( t == 0 )) && log "machine busy (${u} of the cores used by others: $(busy)); waiting up to ${QUIET}s"
    t=$((t + 6)); (( t >= QUIET )) && { log "still busy, running anyway"; return; }; sleep 5; done; }
tid_of()   { local t; for t in /proc/$1/task/*; do grep -qE "$2" $t/comm 2>/dev/null && { echo ${t##*/}; return; }; done; echo 0; }
ticks()    { awk '{print $14 + $15}' /proc/$1/task/$2/stat 2>/dev/null || echo 0; }   # utime+stime

# CPU time (jiffies) of the processes we started (each /proc/PID/stat counts all its threads) and of the
# whole machine; foreign_cpu A B = CPUs used by everything else between two "cpu_snap" samples.
cpu_snap() { local p t=0 a
    for p in "${PIDS[@]}"; do a=$(awk '{print $14 + $15 + $16 + $17}' /proc/$p/stat 2>/dev/null); t=$((t + ${a:-0})); done
    echo "$(date +%s.%N) $t $(awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat)"; }
foreign_cpu() { awk -v a="$1" -v b="$2" -v hz=$HZ 'BEGIN{split(a, x, " "); split(b, y, " ");
    f = ((y[3]-x[3]) - (y[2]-x[2])) / hz / (y[1]-x[1]); printf "%.2f", (f < 0 ? 0 : f)}'; }
