#!/usr/bin/env bash
# vswitch vs OVS-DPDK, side by side in one run. Scenarios (-S, default "A"):
#   A  VM->VM L2, explicit flows in_port=1->2, 2->1 (scenario A of /work/shared/bench/ovs-baseline.sh, the
#      reference methodology)
#   B  same as A with one flow actions=NORMAL (ovs-baseline.sh scenario B)
#   P  4-table pipeline with rewrites (table 0 resubmit(,10); 10 set_field eth_dst, dec_ttl, goto_table:20;
#      20 load reg0, resubmit(,30); 30 output by reg0), vm1<->vm2; generator testpmd flowgen (see below)
#   F  throughput vs number of concurrent flows (-K, default 1 1000 100000 1000000), one megaflow per flow
#   U  new-flow setup rate: every packet a new flow; megaflows installed and upcalls per second
#   M  switchd memory per megaflow and per rule (-N, default 100000; vswitch only)
#   C  VXLAN encap VM -> uplink (net_null); G the same with GRE
#   Cd VXLAN decap uplink (net_pcap replaying VXLAN frames) -> VM; Gd the same with GRE
#   R  the pcap uplink of Cd with a plain output flow, no tunnel (+ pcap-rx: the pcap PMD's own rx cost)
#   Q1 Q2 Q4 (Q = all three) multiqueue VXLAN encap, 2 VMs x N queues, one PMD
# F, U and M are in scale.sh, C G Cd Gd R Q in overlay.sh (both sourced); the private OVS they and P use is
# started by ovs_common.sh.
#
# A, B, P: the "VMs" are one dpdk-testpmd with two virtio-user ports (server=1; the switch is the
# vhost-user client, like OVS dpdkvhostuserclient), 64-byte packets, burst 32, queue_size 256. A and B:
# io forwarding primed with "start tx_first N" (-b N, default 32). P cannot use that loop: dec_ttl would
# expire every packet after 64 passes, so both testpmd ports run --forward-mode=flowgen (fresh packets,
# TTL 64, one flow per port; what comes back is freed).
# CPU layout: the switch (all switchd threads, its PMD included; for OVS all OVS threads) on SW_CORE, the
# generator (forwarding lcore and sleeping main lcore) on GEN_CORE. --no-pci and an own --file-prefix for
# every DPDK process: no device is touched, no traffic leaves the machine.
# Each repetition runs vswitch, then OVS-DPDK (A, B: ovs-baseline.sh -S X -r 1; P: ovs_common.sh), so both
# see the same machine conditions. Per run: Mpps = delta of the switch's tx packet counters of both ports /
# elapsed time over DUR seconds after WARM seconds of warm-up; cyc/pkt = the switch PMD's busy cycles /
# received packets over the same window (vswitch: switchctl pmd-stats cycles_per_packet; OVS: pmd-stats-show
# "avg processing cycles per packet"); CPU share of the switch PMD thread and of the generator worker.
# Runs where either got less than min_cpu_share of its core are "contended" and retried. The overlay
# scenarios measure the same way (generator and counted ports: see overlay.sh).
# --perf: after each A B P and overlay scenario, one more (unmeasured) run of each switch under
# "perf record -C SW_CORE" for DUR seconds; the top symbols go to $LOG/perf-<switch>-<scen>.txt.
# Output: per-run lines on stderr, then per scenario one summary line per switch and the comparison line
# (medians); everything also in $LOG/summary.txt.
set -uo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/ovs_common.sh"

DUR=10 REPS=3 SW_CORE=1 GEN_CORE=0 WARM=3 BURSTS=32 MINCPU=0.95 TRIES=4 QUIET=180
INSTALL=0 OVS=1 NOHUGE=0 SCEN=A KLIST="1 1000 100000 1000000" MEM_N=100000 FOREIGN_MAX=0.10
U_RATE=50000 U_PORTS=1 PERF=0
OVS_BASELINE=${OVS_BASELINE:-/work/shared/bench/ovs-baseline.sh}
VMTRAFFIC=${VMTRAFFIC:-$BUILD/tests/tools/vmtraffic}
usage() { echo "usage: $0 [-S 'A B P F U M C G Cd Gd R Q'] [-d secs] [-r reps] [-s switch_core] [-g gen_core] [-w warmup_s]" \
  "[-b tx_first_bursts] [-m min_cpu_share] [-t tries_per_rep] [-q max_quiet_wait_s] [-K 'flow counts']" \
  "[-N n_megaflows_rules] [-R paced_new_flows_per_s] [-P 1|2] [-x max_foreign_cpu] [--install] [--no-ovs] [--no-huge] [--perf]" >&2; exit 2; }
args=()
for a in "$@"; do case $a in
  --install) INSTALL=1;; --no-ovs) OVS=0;; --no-huge) NOHUGE=1;; --perf) PERF=1;; --help) usage;; *) args+=("$a");; esac; done
set -- "${args[@]+"${args[@]}"}"
while getopts S:d:r:s:g:w:b:m:t:q:K:N:R:P:x:h o; do case $o in
  S) SCEN=$OPTARG;; d) DUR=$OPTARG;; r) REPS=$OPTARG;; s) SW_CORE=$OPTARG;; g) GEN_CORE=$OPTARG;; w) WARM=$OPTARG;;
  b) BURSTS=$OPTARG;; m) MINCPU=$OPTARG;; t) TRIES=$OPTARG;; q) QUIET=$OPTARG;; K) KLIST=$OPTARG;; N) MEM_N=$OPTARG;;
  R) U_RATE=$OPTARG;; P) U_PORTS=$OPTARG;; x) FOREIGN_MAX=$OPTARG;; *) usage;; esac; done
(( OPTIND > $# )) || usage
[ "$SW_CORE" != "$GEN_CORE" ] || { echo "switch and generator cores must differ" >&2; exit 2; }
SCEN=$(for s in $SCEN; do [ "$s" = Q ] && echo Q1 Q2 Q4 || echo "$s"; done | xargs)
for s in $SCEN; do case $s in A|B|P|F|U|M|C|G|Cd|Gd|R|Q[1-8]) ;;
  *) echo "unknown scenario '$s' (A B P F U M C G Cd Gd R Q Q1..Q8)" >&2; exit 2;; esac; done
case $U_PORTS in 1|2) ;; *) echo "-P: 1 or 2" >&2; exit 2;; esac

if [ $INSTALL = 1 ]; then "$REPO/ctl/scripts/install-deps.sh" --bench || exit 1; fi
bench_init vswbench
trap 'stop_all; ovs_cleanup; ovs_mem_restore; bench_cleanup' EXIT
. "$(dirname "$0")/scale.sh"
. "$(dirname "$0")/overlay.sh"
OVS_NA=""
if [ $OVS = 0 ]; then OVS_NA="ovs-dpdk: skipped (--no-ovs)"
elif ! ovs_available; then
  OVS_NA="ovs-dpdk: not available (install openvswitch-switch-dpdk)"; OVS=0
  log "openvswitch-switch-dpdk not installed (--install)"
elif [[ " $SCEN " =~ " "[AB]" " ]] && [ ! -r "$OVS_BASELINE" ]; then
  OVS_NA="ovs-dpdk: not available for A/B (no $OVS_BASELINE; set OVS_BASELINE)"; log "$OVS_NA"
fi
[ -n "$OVS_NA" ] && echo "$OVS_NA"
if [[ " $SCEN " =~ " "[FUM]" " ]] && [ ! -x "$VMTRAFFIC" ]; then
  die "no $VMTRAFFIC (scenarios F U M); build it: cmake --build $BUILD --target vmtraffic"; fi
mem_setup $NOHUGE
[[ " $SCEN " =~ " "(Cd|Gd|R)" " ]] && ovl_pcaps
[ $PERF = 1 ] && ! command -v perf > /dev/null && die "--perf: no perf (apt-get install linux-perf)"
[ $OVS = 1 ] && ovs_mem_setup

# tx packets sent by switchd on both ports (port-stats JSON; 64-bit counters are JSON strings)
vsw_tx() { sw --format json port-stats | python3 -c '
import json, sys
print(sum(int(p["tx_packets"]) for p in json.load(sys.stdin)["ports"] if p["name"] in ("vm1", "vm2")))'; }

vsw_ports() {
  sw add-port vm1 type=vhost-user mode=client path=$W/sock/vh0.sock port_no=1 $VHOST_OPTS &&
  sw add-port vm2 type=vhost-user mode=client path=$W/sock/vh1.sock port_no=2 $VHOST_OPTS; }

# the 4-table pipeline of scenario P, with port names ($1 $2) or OpenFlow port numbers
pipeline_flows() { cat <<EOF
table=0,priority=10,in_port=$1,actions=resubmit(,10)
table=0,priority=10,in_port=$2,actions=resubmit(,10)
table=10,priority=10,ip,actions=set_field:02:00:00:00:00:aa->eth_dst,dec_ttl,goto_table:20
table=20,priority=10,in_port=$1,actions=load:0x2->NXM_NX_REG0[],resubmit(,30)
table=20,priority=10,in_port=$2,actions=load:0x1->NXM_NX_REG0[],resubmit(,30)
table=30,priority=10,reg0=1,actions=output:$1
table=30,priority=10,reg0=2,actions=output:$2
EOF
}

vsw_setup() {       # scenario -> sets CNT (the counter command of measure())
  CNT=vsw_tx ICNT=""
  if is_overlay $1; then ovl_vsw_setup $1; return; fi
  start_switchd || return 1
  vsw_ports || return 1
  case $1 in
  A) sw add-flow 'in_port=vm1,actions=output:vm2' && sw add-flow 'in_port=vm2,actions=output:vm1' || return 1
     gen io 1 vh0 vh1 ;;
  B) sw add-flow 'actions=NORMAL' || return 1
     gen io 1 vh0 vh1 ;;
  P) pipeline_flows vm1 vm2 > $W/pipeline.flows; sw add-flows $W/pipeline.flows || return 1
     FLOWGEN_FLOWS=1 gen flowgen 1 vh0 vh1 ;;
  esac
}

ovs_setup() {       # scenario P or an overlay scenario on the private OVS -> sets CNT
  CNT=ovs_tx ICNT=""
  if is_overlay $1; then ovl_ovs_setup $1; return; fi
  ovs_start || return 1
  ovs_bridge || return 1
  pipeline_flows 1 2 > $W/pipeline-ovs.flows; ofctl add-flows br0 $W/pipeline-ovs.flows || return 1
  FLOWGEN_FLOWS=1 gen flowgen 1 vhu0 vhu1
}

# check a finished run: "mpps cyc/pkt sw_cpu gen_cpu gen_cyc/pkt sw_busy [tx_locks fwd]" -> $LOG/<name>-<scen>.runs
# or .contended (sw_busy: share of the PMD's cycles in polls that got packets; 1.0 = the switch is the
# bottleneck; tx_locks: vswitch's tx_shared_locks over the window; fwd: packets counted out / packets the PMD
# received, < 1 when the switch dropped, e.g. a VM that did not drain its ring)
record() {          # name scen result -> returns 1 if contended
  log "$RUN: mpps cyc_per_pkt sw_cpu gen_cpu gen_cyc_per_pkt sw_busy tx_locks fwd = $3"
  if awk -v r="$3" -v m=$MINCPU 'BEGIN{split(r, a, " "); exit !(a[3] < m || a[4] < m)}'; then
    echo "$3" >> $LOG/$1-$2.contended; log "$RUN: contended (CPU share < $MINCPU): $3; busy now: $(busy)"; return 1; fi
  echo "$3" >> $LOG/$1-$2.runs
}

# one measured window over counter command $CNT; sets R_MPPS R_SW R_GEN (CPU shares) and, if $ICNT (a counter
# of the packets the switch received) is set, R_FWD = counted out / received over the window
measure() {         # swtid gentid
  local c0 c1 t0 t1 s0 s1 g0 g1 i0=0 i1=0
  s0=$(ticks $SWPID $1); g0=$(ticks $GENPID $2); t0=$(date +%s.%N); c0=$($CNT); [ -n "${ICNT:-}" ] && i0=$($ICNT)
  sleep $DUR
  t1=$(date +%s.%N); c1=$($CNT); [ -n "${ICNT:-}" ] && i1=$($ICNT); s1=$(ticks $SWPID $1); g1=$(ticks $GENPID $2)
  R_FWD=$(awk -v c0=$c0 -v c1=${c1:-0} -v i0=${i0:-0} -v i1=${i1:-0} 'BEGIN{if (i1 > i0) printf "%.3f", (c1-c0)/(i1-i0); else print "-"}')
  R_MPPS=$(awk -v c0=$c0 -v c1=${c1:-0} -v t0=$t0 -v t1=$t1 'BEGIN{printf "%.3f", (c1-c0)/(t1-t0)/1e6}')
  R_SW=$(awk -v s=$((s1-s0)) -v hz=$HZ -v t0=$t0 -v t1=$t1 'BEGIN{printf "%.2f", s/hz/(t1-t0)}')
  R_GEN=$(awk -v g=$((g1-g0)) -v hz=$HZ -v t0=$t0 -v t1=$t1 'BEGIN{printf "%.2f", g/hz/(t1-t0)}')
  [ -n "$c1" ]
}
wait_traffic() { local n; for _ in $(seq 200); do n=$($CNT 2>/dev/null); (( ${n:-0} > 0 )) && return 0; sleep 0.2; done; return 1; }
gen_cpp() { sed -n 's/.*CPU cycles\/packet=\([0-9.]*\).*/\1/p' $LOG/$RUN-gen.out | head -1; }

vsw_run() {         # scen rep try -> returns 1 only if CPU-contended
  local s=$1 swtid gentid cpp gc busyf locks fwd
  RUN=vsw$s$2-$3; wait_quiet
  vsw_setup $s || { log "$RUN: setup failed (see $LOG/$RUN-*)"; stop_all; return 0; }
  if ! wait_traffic; then log "$RUN: no traffic"; sw show > $LOG/$RUN-show.txt 2>&1; stop_all; return 0; fi
  sleep $WARM
  sw pmd-stats --clear > /dev/null
  swtid=$(tid_of $SWPID '^(rte|lcore)-worker-1$'); gentid=$(tid_of $GENPID '^(rte|lcore)-worker-0$')
  measure $swtid $gentid
  sw --format json pmd-stats > $LOG/$RUN-pmd.json
  { sw pmd-stats; sw port-stats; sw dump-dpflows; sw dump-tables; sw dump-flows; sw show; } > $LOG/$RUN-pmd.txt 2>&1
  read -r cpp busyf locks fwd <<<"$(python3 -c 'import json,sys; p = json.load(open(sys.argv[1]))["pmds"][0]
b, i = int(p["busy_cycles"]), int(p["idle_cycles"]); rx = max(1, int(p["rx_packets"]))
print("%.2f %.3f %s %.3f" % (p["cycles_per_packet"], b / max(1, b + i), p["tx_shared_locks"], int(p["tx_packets"]) / rx))' \
        $LOG/$RUN-pmd.json 2>/dev/null)"
  cat /proc/loadavg > $LOG/$RUN-loadavg.txt
  if ! kill -0 $SWPID 2>/dev/null || [ -z "$cpp" ]; then
    log "$RUN: switchd DIED or stopped answering during the run; log tail: $(tail -5 $LOG/$RUN-switchd.log)"
    stop_all; return 0; fi
  is_overlay $s && ! grep -q "$(ovl_expect vsw $s)" $LOG/$RUN-pmd.txt && log "$RUN: WARNING no $(ovl_expect vsw $s) in dump-dpflows"
  stop_all
  grep -qiE "segmentation|abort|panic" $LOG/$RUN-switchd.log && log "$RUN: WARNING switchd log: $(grep -iE 'segmentation|abort|panic' $LOG/$RUN-switchd.log | head -2)"
  gc=$(gen_cpp)
  record vswitch $s "$R_MPPS $cpp $R_SW $R_GEN ${gc:--} ${busyf:--} ${locks:--} ${fwd:--}"
}

ovs_run_own() {     # scen rep try (P and the overlay scenarios, private OVS) -> returns 1 only if CPU-contended
  local s=$1 swtid gentid cpp gc busyf fwd b
  RUN=ovs$s$2-$3; wait_quiet
  ovs_setup $s || { log "$RUN: setup failed (see $LOG/$RUN-*)"; stop_all; ovs_cleanup; return 0; }
  if ! wait_traffic; then log "$RUN: no traffic"; stop_all; ovs_cleanup; return 0; fi
  sleep $WARM
  appctl dpif-netdev/pmd-stats-clear
  swtid=$(tid_of $SWPID '^pmd'); gentid=$(tid_of $GENPID '^(rte|lcore)-worker-0$')
  measure $swtid $gentid
  { appctl dpif-netdev/pmd-stats-show; appctl dpif-netdev/pmd-perf-show; appctl dpif-netdev/pmd-rxq-show; appctl dpctl/dump-flows -m
    for b in $(vsctl list-br); do echo "== $b"; ofctl dump-flows $b; ofctl dump-ports $b; done; } > $LOG/$RUN-pmd.txt 2>&1
  cpp=$(sed -n 's/.*avg processing cycles per packet: \([0-9.]*\).*/\1/p' $LOG/$RUN-pmd.txt | head -1)
  busyf=$(sed -n 's/.*processing cycles: [0-9]* (\([0-9.]*\)%).*/\1/p' $LOG/$RUN-pmd.txt | head -1 | awk '{printf "%.3f", $1/100}')
  fwd=${R_FWD:--}   # overlay scenarios: counted out / rx counters of the input ports (ICNT), same window
  cat /proc/loadavg > $LOG/$RUN-loadavg.txt
  is_overlay $s && ! grep -q "$(ovl_expect ovs $s)" $LOG/$RUN-pmd.txt && log "$RUN: WARNING no $(ovl_expect ovs $s) in dpctl/dump-flows"
  stop_all; ovs_cleanup
  gc=$(gen_cpp)
  record ovs $s "$R_MPPS ${cpp:--} $R_SW $R_GEN ${gc:--} ${busyf:--} - $fwd"
}

ovs_run_baseline() { # scen rep -> appends the same 5 fields (ovs-baseline.sh retries by itself)
  local s=$1 out line f
  log "ovs$s$2: $OVS_BASELINE -S $s -r 1 -d $DUR -w $WARM -b $BURSTS -s $SW_CORE -g $GEN_CORE -m $MINCPU -t $TRIES -q $QUIET"
  out=$(bash "$OVS_BASELINE" -S $s -r 1 -d $DUR -w $WARM -b $BURSTS -s $SW_CORE -g $GEN_CORE -m $MINCPU -t $TRIES \
        -q $QUIET 2>$LOG/ovs$s$2.err)
  echo "$out" > $LOG/ovs$s$2.out
  grep -h "logs kept in" $LOG/ovs$s$2.err | sed 's/.*logs kept in /ovs logs: /' >&2
  line=$(grep -m1 "^ovs-dpdk scenario=$s " <<<"$out")
  if [ -z "$line" ] || grep -q 'mpps=FAIL' <<<"$line"; then log "ovs$s$2: failed: ${line:-no result} (see $LOG/ovs$s$2.err)"; return; fi
  f=$(awk '{for(i=1;i<=NF;i++){split($i,kv,"="); v[kv[1]]=kv[2]} printf "%s %s %s %s %s", v["mpps"], v["cyc_per_pkt"], v["sw_cpu"], v["gen_cpu"], v["gen_cyc_per_pkt"]}' <<<"$line")
  log "ovs$s$2: mpps cyc_per_pkt sw_cpu gen_cpu gen_cyc_per_pkt = $f$(grep -q CONTENDED <<<"$line" && echo ' (CONTENDED)')"
  if grep -q CONTENDED <<<"$line"; then echo "$f" >> $LOG/ovs-$s.contended; else echo "$f" >> $LOG/ovs-$s.runs; fi
}

# median of column $2 of file $1 printed with format $3 ("-" when no numeric value)
median() { awk -v c=$2 '$c ~ /^[0-9.]+$/ {print $c}' "$1" | sort -g | awk -v f="$3" '{v[NR]=$1} END{if(!NR){print "-"; exit}
  printf f, (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
summary() {         # name scen label -> detail line; sets M_<name> and C_<name> (median mpps and cyc/pkt)
  local n=$3 f=$LOG/$1-$2.runs flag=""
  [ -s $f ] || { [ -s $LOG/$1-$2.contended ] && f=$LOG/$1-$2.contended && flag=" CONTENDED"; }
  [ -s $f ] || { echo "$n scenario=$2 mpps=FAIL"; printf -v M_$1 %s -; printf -v C_$1 %s -; return; }
  printf -v M_$1 %s "$(median $f 1 %.3f)"; printf -v C_$1 %s "$(median $f 2 %.1f)"
  [ -n "$flag" ] && CONTENDED="$CONTENDED $n/$2"
  awk -v n="$n" -v s=$2 -v f="$flag" -v m="$(median $f 1 %.3f)" -v c="$(median $f 2 %.1f)" -v gc="$(median $f 5 %.1f)" \
      -v b="$(median $f 6 %.3f)" -v fw="$(median $f 8 %.3f)" \
    '{l=l (NR>1?",":"") $1; sw+=$3; g+=$4; if(NR==1||$1<mn)mn=$1; if(NR==1||$1>mx)mx=$1
      if ($7 ~ /^[0-9]+$/) {lk = (lk == "" || $7 > lk) ? $7 : lk}}
     END{printf "%s scenario=%s mpps=%s min=%.3f max=%.3f runs=%s cyc_per_pkt=%s gen_cyc_per_pkt=%s sw_cpu=%.2f gen_cpu=%.2f sw_busy=%s%s%s%s\n",
         n, s, m, mn, mx, l, c, gc, sw/NR, g/NR, b, (fw != "-" ? " fwd=" fw : ""), (lk != "" ? " tx_shared_locks_max=" lk : ""), f}' $f
}

# The cross-core cache-line round trip between the two CPUs, before each repetition: on a
# VM host it changes with where the hypervisor puts the vCPUs, and every vhost packet pays
# it several times, so it tells a slow period from a slow switch (tests/bench/c2c_latency.cc).
C2C_LATENCY=${C2C_LATENCY:-$BUILD/tests/bench/c2c_latency}
c2c_probe() {       # scenario rep -> appends to $LOG/c2c-$1.runs
  [ -x "$C2C_LATENCY" ] || return 0
  local out; out=$("$C2C_LATENCY" -a $SW_CORE -b $GEN_CORE -n 100000 2>&1) || return 0
  log "c2c $1$2: $out"
  sed -n 's/^c2c_round_trip_ns=\([0-9.]*\).*/\1/p' <<<"$out" >> $LOG/c2c-$1.runs
}

loop_scenario() {   # A | B | P | overlay
  local s=$1 r t gdesc
  : > $LOG/vswitch-$s.runs; : > $LOG/vswitch-$s.contended; : > $LOG/ovs-$s.runs; : > $LOG/ovs-$s.contended
  : > $LOG/pcap-$s.runs; : > $LOG/pcap-$s.contended; : > $LOG/c2c-$s.runs
  for r in $(seq $REPS); do
    c2c_probe $s $r
    for t in $(seq $TRIES); do vsw_run $s $r $t && break; sleep 5; done
    if [ $OVS = 1 ]; then
      if [ $s = P ] || is_overlay $s; then for t in $(seq $TRIES); do ovs_run_own $s $r $t && break; sleep 5; done
      elif [ -r "$OVS_BASELINE" ]; then ovs_run_baseline $s $r; fi
    fi
    if [ $s = R ]; then for t in $(seq $TRIES); do pcap_rx_run $r $t && break; sleep 5; done; fi
  done
  [ $PERF = 1 ] && perf_profile $s
  CONTENDED=""
  gdesc="io loopback, tx_first $BURSTS"; [ $s = P ] && gdesc="testpmd flowgen, 1 flow per port"
  is_overlay $s && gdesc=$(ovl_desc $s)
  {
    summary vswitch $s vswitch
    [ $OVS = 1 ] && summary ovs $s ovs-dpdk
    [ $s = R ] && summary pcap R pcap-rx
    layout="(switch PMD on CPU$SW_CORE, generator on CPU$GEN_CORE, 64B, $gdesc)"
    if [ $OVS = 1 ] && [ "$M_ovs" != - ]; then
      ratios=$(awk -v mv=$M_vswitch -v cv=$C_vswitch -v mo=$M_ovs -v co=$C_ovs 'BEGIN{
        rc = (cv ~ /^[0-9.]+$/ && co ~ /^[0-9.]+$/ && co > 0) ? sprintf("%.2f", cv/co) : "-";
        rr = (mv ~ /^[0-9.]+$/ && mo ~ /^[0-9.]+$/ && mo > 0) ? sprintf("%.2f", mv/mo) : "-";
        printf "ratio cyc vswitch/ovs=%s  rate ratio=%s", rc, rr}')
      echo "scenario=$s vswitch mpps=$M_vswitch cyc/pkt=$C_vswitch | ovs-dpdk mpps=$M_ovs cyc/pkt=$C_ovs | $ratios  $layout"
    else
      echo "scenario=$s vswitch mpps=$M_vswitch cyc/pkt=$C_vswitch | ${OVS_NA:-ovs-dpdk: failed}  $layout"
    fi
    [ -s $LOG/c2c-$s.runs ] && echo "c2c scenario=$s round_trip_ns=$(paste -sd, $LOG/c2c-$s.runs) (CPU$SW_CORE<->CPU$GEN_CORE, before each repetition)"
    [ -n "$CONTENDED" ] && echo "WARNING: no uncontended run for:$CONTENDED (CPU share < $MINCPU): figures are not reliable"
  } | tee -a $LOG/summary.txt
}

# --perf: one more run per switch, profiled with "perf record -C SW_CORE" (samples whatever runs on the
# switch's CPU: the PMD, and for OVS its other threads too) for DUR seconds after WARM; not a measured run.
perf_profile() {    # scen
  local s=$1 k pid
  for k in vsw ovs; do
    if [ $k = ovs ]; then [ $OVS = 1 ] && { [ $s = P ] || is_overlay $s; } || continue; fi
    RUN=perf-$k-$s; wait_quiet
    if [ $k = vsw ]; then vsw_setup $s || { log "$RUN: setup failed"; stop_all; continue; }
    else ovs_setup $s || { log "$RUN: setup failed"; stop_all; ovs_cleanup; continue; }; fi
    if wait_traffic; then
      sleep $WARM
      taskset -c $GEN_CORE perf record -q -C $SW_CORE -o $LOG/$RUN.data -- sleep $DUR > $LOG/$RUN-record.txt 2>&1
    else log "$RUN: no traffic"; fi
    local pid=$SWPID
    stop_all; [ $k = ovs ] && ovs_cleanup
    SWPID=$pid
    [ -s $LOG/$RUN.data ] || continue
    # the switch's own process only (other processes on the CPU would be contention), as shares of its samples
    { echo "# perf record -C $SW_CORE for $DUR s; samples of each process:"
      perf report -i $LOG/$RUN.data --stdio --no-children --sort pid 2>/dev/null | grep -E '^ +[0-9]' | head -5
      echo "# by library, process $SWPID only:"
      perf report -i $LOG/$RUN.data --stdio --no-children --pid $SWPID --percentage relative --sort dso 2>/dev/null |
        grep -E '^ +[0-9]'
      echo "# by symbol, process $SWPID only:"
      perf report -i $LOG/$RUN.data --stdio --no-children --pid $SWPID --percentage relative --sort dso,sym \
        --percent-limit 0.3 2>/dev/null | grep -E '^ +[0-9]'; } > $LOG/$RUN.txt
    log "$RUN: top symbols of the switch process (perf record -C $SW_CORE, $DUR s; all in $LOG/$RUN.txt):"
    sed -n '/^# by symbol/,$p' $LOG/$RUN.txt | grep -E '^ +[0-9]' | head -20 >&2
  done
}

log "work dir $W; scenarios $SCEN; switch core $SW_CORE, generator core $GEN_CORE, ${DUR}s x $REPS, warm-up ${WARM}s," \
    "tx_first bursts $BURSTS, TSC ${TSC_MHZ} MHz, vswitch memory: $(mem_desc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
for s in $SCEN; do
  case $s in
  A|B|P|C|G|Cd|Gd|R|Q*) loop_scenario $s ;;
  F) scen_flows ;;
  U) scen_setup_rate ;;
  M) scen_memory ;;
  esac
done
echo "vswitch memory: $(mem_desc); logs: $LOG" | tee -a $LOG/summary.txt
