#!/usr/bin/env bash
# vswitch vs OVS-DPDK, scenario A of /work/shared/bench/ovs-baseline.sh (the reference methodology):
# VM->VM L2 between two vhost-user ports, explicit flows in_port=1->2 and 2->1. The "VMs" are one
# dpdk-testpmd with two virtio-user ports (server=1; the switch is the vhost-user client, like OVS
# dpdkvhostuserclient) in io forwarding, primed with "start tx_first N" (-b N, default 32), 64-byte
# packets, burst 32, queue_size 256.
# CPU layout: the switch (all switchd threads, its PMD included; for OVS all OVS threads) on SW_CORE, the
# generator (forwarding lcore and sleeping main lcore) on GEN_CORE. --no-pci and an own --file-prefix for
# every DPDK process: no device is touched, no traffic leaves the machine.
# Each repetition runs vswitch, then OVS-DPDK (ovs-baseline.sh -S A -r 1), so both see the same machine
# conditions. Per run: Mpps = delta of the switch's tx packet counters of both ports / elapsed time over
# DUR seconds after WARM seconds of warm-up; cyc/pkt = the switch PMD's busy cycles / received packets
# over the same window (vswitch: switchctl pmd-stats cycles_per_packet; OVS: pmd-stats-show "avg
# processing cycles per packet"); CPU share of the switch PMD thread and of the generator worker.
# Runs where either got less than min_cpu_share of its core are "contended" and retried.
# Output: per-run lines on stderr, then one summary line per switch and the comparison line (medians).
set -uo pipefail
. "$(dirname "$0")/common.sh"

DUR=10 REPS=3 SW_CORE=1 GEN_CORE=0 WARM=3 BURSTS=32 MINCPU=0.95 TRIES=4 QUIET=180
INSTALL=0 OVS=1 NOHUGE=0
OVS_BASELINE=${OVS_BASELINE:-/work/shared/bench/ovs-baseline.sh}
usage() { echo "usage: $0 [-d secs] [-r reps] [-s switch_core] [-g gen_core] [-w warmup_s] [-b tx_first_bursts]" \
  "[-m min_cpu_share] [-t tries_per_rep] [-q max_quiet_wait_s] [--install] [--no-ovs] [--no-huge]" >&2; exit 2; }
args=()
for a in "$@"; do case $a in
  --install) INSTALL=1;; --no-ovs) OVS=0;; --no-huge) NOHUGE=1;; --help) usage;; *) args+=("$a");; esac; done
set -- "${args[@]+"${args[@]}"}"
while getopts d:r:s:g:w:b:m:t:q:h o; do case $o in
  d) DUR=$OPTARG;; r) REPS=$OPTARG;; s) SW_CORE=$OPTARG;; g) GEN_CORE=$OPTARG;; w) WARM=$OPTARG;;
  b) BURSTS=$OPTARG;; m) MINCPU=$OPTARG;; t) TRIES=$OPTARG;; q) QUIET=$OPTARG;; *) usage;; esac; done
(( OPTIND > $# )) || usage
[ "$SW_CORE" != "$GEN_CORE" ] || { echo "switch and generator cores must differ" >&2; exit 2; }

if [ $INSTALL = 1 ]; then "$REPO/ctl/scripts/install-deps.sh" --bench || exit 1; fi
bench_init vswbench
OVS_NA=""
if [ $OVS = 0 ]; then OVS_NA="ovs-dpdk: skipped (--no-ovs)"
elif [ ! -r "$OVS_BASELINE" ] || [ ! -x /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk ]; then
  OVS_NA="ovs-dpdk: not available (install openvswitch-switch-dpdk)"; OVS=0
  [ -r "$OVS_BASELINE" ] || log "no $OVS_BASELINE (set OVS_BASELINE to ovs-baseline.sh)"
  [ -x /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk ] || log "openvswitch-switch-dpdk not installed (--install)"
fi
[ -n "$OVS_NA" ] && echo "$OVS_NA"
mem_setup $NOHUGE

# tx packets sent by switchd on both ports (port-stats JSON; 64-bit counters are JSON strings)
vsw_tx() { sw --format json port-stats | python3 -c '
import json, sys
print(sum(int(p["tx_packets"]) for p in json.load(sys.stdin)["ports"] if p["name"] in ("vm1", "vm2")))'; }

vsw_setup() {
  start_switchd || return 1
  sw add-port vm1 type=vhost-user mode=client path=$W/sock/vh0.sock port_no=1 &&
  sw add-port vm2 type=vhost-user mode=client path=$W/sock/vh1.sock port_no=2 &&
  sw add-flow 'in_port=vm1,actions=output:vm2' && sw add-flow 'in_port=vm2,actions=output:vm1' || return 1
  gen io 1 vh0 vh1
}

vsw_run() {         # rep try -> appends "mpps cyc/pkt sw_cpu gen_cpu gen_cyc/pkt" to $LOG/vswitch.runs
  local c0 c1 t0 t1 s0 s1 g0 g1 swtid gentid cpp up=0 r n gc    # returns 1 only if CPU-contended
  RUN=vsw$1-$2; wait_quiet
  vsw_setup || { log "$RUN: setup failed (see $LOG/$RUN-*)"; stop_all; return 0; }
  for _ in $(seq 200); do n=$(vsw_tx 2>/dev/null); (( ${n:-0} > 0 )) && { up=1; break; }; sleep 0.2; done
  if [ $up = 0 ]; then log "$RUN: no traffic"; sw show > $LOG/$RUN-show.txt 2>&1; stop_all; return 0; fi
  sleep $WARM
  sw pmd-stats --clear > /dev/null
  swtid=$(tid_of $SWPID '^(rte|lcore)-worker-1$'); gentid=$(tid_of $GENPID '^(rte|lcore)-worker-0$')
  s0=$(ticks $SWPID $swtid); g0=$(ticks $GENPID $gentid); t0=$(date +%s.%N); c0=$(vsw_tx)
  sleep $DUR
  t1=$(date +%s.%N); c1=$(vsw_tx); s1=$(ticks $SWPID $swtid); g1=$(ticks $GENPID $gentid)
  sw --format json pmd-stats > $LOG/$RUN-pmd.json
  { sw pmd-stats; sw port-stats; sw dump-dpflows; sw show; } > $LOG/$RUN-pmd.txt 2>&1
  cpp=$(python3 -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["pmds"][0]["cycles_per_packet"])' \
        $LOG/$RUN-pmd.json 2>/dev/null)
  cat /proc/loadavg > $LOG/$RUN-loadavg.txt
  if ! kill -0 $SWPID 2>/dev/null || [ -z "$c1" ] || [ -z "$cpp" ]; then
    log "$RUN: switchd DIED or stopped answering during the run; log tail: $(tail -5 $LOG/$RUN-switchd.log)"
    stop_all; return 0; fi
  stop_all
  grep -qiE "segmentation|abort|panic" $LOG/$RUN-switchd.log && log "$RUN: WARNING switchd log: $(grep -iE 'segmentation|abort|panic' $LOG/$RUN-switchd.log | head -2)"
  gc=$(sed -n 's/.*CPU cycles\/packet=\([0-9.]*\).*/\1/p' $LOG/$RUN-gen.out | head -1)
  r=$(awk -v c0=$c0 -v c1=$c1 -v t0=$t0 -v t1=$t1 -v s=$((s1-s0)) -v g=$((g1-g0)) -v hz=$HZ -v cpp=${cpp:--} -v gc=${gc:--} \
      'BEGIN{dt=t1-t0; printf "%.3f %s %.2f %.2f %s", (c1-c0)/dt/1e6, cpp, s/hz/dt, g/hz/dt, gc}')
  log "$RUN: mpps cyc_per_pkt sw_cpu gen_cpu gen_cyc_per_pkt = $r"
  if awk -v r="$r" -v m=$MINCPU 'BEGIN{split(r, a, " "); exit !(a[3] < m || a[4] < m)}'; then
    echo "$r" >> $LOG/vswitch.contended; log "$RUN: contended (CPU share < $MINCPU): $r; busy now: $(busy)"; return 1; fi
  echo "$r" >> $LOG/vswitch.runs
}

ovs_run() {         # rep -> appends the same 5 fields to $LOG/ovs.runs (ovs-baseline.sh retries by itself)
  local out line f
  log "ovs$1: $OVS_BASELINE -S A -r 1 -d $DUR -w $WARM -b $BURSTS -s $SW_CORE -g $GEN_CORE -m $MINCPU -t $TRIES -q $QUIET"
  out=$(bash "$OVS_BASELINE" -S A -r 1 -d $DUR -w $WARM -b $BURSTS -s $SW_CORE -g $GEN_CORE -m $MINCPU -t $TRIES \
        -q $QUIET 2>$LOG/ovs$1.err)
  echo "$out" > $LOG/ovs$1.out
  grep -h "logs kept in" $LOG/ovs$1.err | sed 's/.*logs kept in /ovs logs: /' >&2
  line=$(grep -m1 '^ovs-dpdk scenario=A ' <<<"$out")
  if [ -z "$line" ] || grep -q 'mpps=FAIL' <<<"$line"; then log "ovs$1: failed: ${line:-no result} (see $LOG/ovs$1.err)"; return; fi
  f=$(awk '{for(i=1;i<=NF;i++){split($i,kv,"="); v[kv[1]]=kv[2]} printf "%s %s %s %s %s", v["mpps"], v["cyc_per_pkt"], v["sw_cpu"], v["gen_cpu"], v["gen_cyc_per_pkt"]}' <<<"$line")
  log "ovs$1: mpps cyc_per_pkt sw_cpu gen_cpu gen_cyc_per_pkt = $f$(grep -q CONTENDED <<<"$line" && echo ' (CONTENDED)')"
  if grep -q CONTENDED <<<"$line"; then echo "$f" >> $LOG/ovs.contended; else echo "$f" >> $LOG/ovs.runs; fi
}

# median of column $2 of file $1 printed with format $3 ("-" when no numeric value)
median() { awk -v c=$2 '$c ~ /^[0-9.]+$/ {print $c}' "$1" | sort -g | awk -v f="$3" '{v[NR]=$1} END{if(!NR){print "-"; exit}
  printf f, (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
summary() {         # name label -> detail line; sets M_<name> and C_<name> (median mpps and cyc/pkt)
  local n=$2 f=$LOG/$1.runs flag=""
  [ -s $f ] || { [ -s $LOG/$1.contended ] && f=$LOG/$1.contended && flag=" CONTENDED"; }
  [ -s $f ] || { echo "$n scenario=A mpps=FAIL"; printf -v M_$1 %s -; printf -v C_$1 %s -; return; }
  printf -v M_$1 %s "$(median $f 1 %.3f)"; printf -v C_$1 %s "$(median $f 2 %.1f)"
  [ -n "$flag" ] && CONTENDED="$CONTENDED $n"
  awk -v n=$n -v f="$flag" -v m="$(median $f 1 %.3f)" -v c="$(median $f 2 %.1f)" -v gc="$(median $f 5 %.1f)" \
    '{l=l (NR>1?",":"") $1; sw+=$3; g+=$4; if(NR==1||$1<mn)mn=$1; if(NR==1||$1>mx)mx=$1}
     END{printf "%s scenario=A mpps=%s min=%.3f max=%.3f runs=%s cyc_per_pkt=%s gen_cyc_per_pkt=%s sw_cpu=%.2f gen_cpu=%.2f%s\n",
         n, m, mn, mx, l, c, gc, sw/NR, g/NR, f}' $f
}

log "work dir $W; switch core $SW_CORE, generator core $GEN_CORE, ${DUR}s x $REPS, warm-up ${WARM}s," \
    "tx_first bursts $BURSTS, TSC ${TSC_MHZ} MHz, vswitch memory: $(mem_desc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
: > $LOG/vswitch.runs; : > $LOG/vswitch.contended; : > $LOG/ovs.runs; : > $LOG/ovs.contended
for r in $(seq $REPS); do
  for t in $(seq $TRIES); do vsw_run $r $t && break; sleep 5; done
  [ $OVS = 1 ] && ovs_run $r
done

CONTENDED=""
{
  summary vswitch vswitch
  [ $OVS = 1 ] && summary ovs ovs-dpdk
  layout="(switch PMD on CPU$SW_CORE, generator on CPU$GEN_CORE, 64B, tx_first $BURSTS)"
  if [ $OVS = 1 ]; then
    ratios=$(awk -v mv=$M_vswitch -v cv=$C_vswitch -v mo=$M_ovs -v co=$C_ovs 'BEGIN{
      rc = (cv ~ /^[0-9.]+$/ && co ~ /^[0-9.]+$/ && co > 0) ? sprintf("%.2f", cv/co) : "-";
      rr = (mv ~ /^[0-9.]+$/ && mo ~ /^[0-9.]+$/ && mo > 0) ? sprintf("%.2f", mv/mo) : "-";
      printf "ratio cyc vswitch/ovs=%s  rate ratio=%s", rc, rr}')
    echo "scenario=A vswitch mpps=$M_vswitch cyc/pkt=$C_vswitch | ovs-dpdk mpps=$M_ovs cyc/pkt=$C_ovs | $ratios  $layout"
  else
    echo "scenario=A vswitch mpps=$M_vswitch cyc/pkt=$C_vswitch | $OVS_NA  $layout"
  fi
  [ -n "$CONTENDED" ] && echo "WARNING: no uncontended run for:$CONTENDED (CPU share < $MINCPU): figures are not reliable"
  echo "vswitch memory: $(mem_desc); logs: $LOG"
} | tee $LOG/summary.txt
