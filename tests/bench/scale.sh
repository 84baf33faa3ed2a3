# shellcheck shell=bash disable=SC2034,SC2154
# Scenarios F, U and M of tests/bench/bench.sh (sourced by it, after common.sh and ovs_common.sh).
#
# Generator: vmtraffic (tests/tools/vmtraffic, docs/traffic-tool.md), one process on GEN_CORE (its single
# polling lcore pinned there), two virtio-user VMs in server mode (the switch is the vhost-user client),
# ring 1024 (VMT_RING), 64-byte UDP frames. vm1 sends to vm2 (U with -P 2: vm2 also sends to vm1), vm2
# receives and verifies. K flows: vmtraffic's flows=K varies the UDP source port over sport..sport+K-1,
# at most 65536 per sender, so K > 65536 uses ceil(K/65536) senders in the same process, each with its own
# source IP (10.1.S.1, vm2's 10.2.S.1) and K/senders ports: exactly K distinct 5-tuples (K = 1048576 is
# 16 x 65536). The senders take turns, one burst of 32 each per loop, so all K flows are live at once.
#
# Switch rules (both switches the same, vswitch by port name, OVS by ofport):
#   udp,in_port=1 -> move:NXM_OF_IP_SRC[]->NXM_NX_REG0[], move:NXM_OF_IP_DST[]->NXM_NX_REG1[],
#                    move:NXM_OF_UDP_SRC[]->NXM_NX_REG2[0..15], output:2      (and 2 -> 1)
# The moves read the whole source/destination IP and UDP source port, so both translate every flow into
# a megaflow of its own (exact nw_src, nw_dst, tp_src): K flows = K megaflows (checked: dp flow counts).
# vswitch: --max-megaflows F_CAP (max K x 1.2, at least 200000, the default); OVS: other_config:flow-limit=F_CAP
# (its default is 200000); everything else default on both (megaflow idle 10 s, EMC, OVS's dynamic
# flow limit that starts at 10000).
#
# Contention: the switch's own threads share SW_CORE with its PMD (that is the layout), so the PMD's share
# is reported, not checked. A run is contended when processes other than ours used more than
# FOREIGN_MAX CPUs on average (-x, default 0.10; /proc/stat busy minus our processes' utime+stime) or
# the generator's polling thread got less than MINCPU of its core; contended runs are retried (TRIES).

VMT_RING=${VMT_RING:-1024}
PERFLOW_ACTIONS='move:NXM_OF_IP_SRC[]->NXM_NX_REG0[],move:NXM_OF_IP_DST[]->NXM_NX_REG1[],move:NXM_OF_UDP_SRC[]->NXM_NX_REG2[0..15]'
perflow_flows() { echo "table=0,priority=10,udp,in_port=$1,actions=$PERFLOW_ACTIONS,output:$2"
                  echo "table=0,priority=10,udp,in_port=$2,actions=$PERFLOW_ACTIONS,output:$1"; }

# vmt_start K RATE DIRS SOCK1 SOCK2 [extra vmtraffic args]: K flows and RATE frames/s per direction
# (VMT_COUNT set: that many frames per direction, then the senders stop)
vmt_start() {
  local k=$1 rate=$2 dirs=$3 s1=$4 s2=$5 sends=() n per i d src dst cnt=""; shift 5
  for d in $(seq $dirs); do
    src=vm$d; dst=vm$((3 - d))
    n=$(( (k + 65535) / 65536 )); per=$(( k / n ))
    [ -n "${VMT_COUNT:-}" ] && cnt=",count=$(( VMT_COUNT / n ))"
    for i in $(seq 0 $((n - 1))); do
      sends+=(--send "$src:dst=$dst,src_ip=10.$d.$i.1,sport=0,flows=$per,rate=$(( rate / n ))$cnt"); done
  done
  echo "$VMTRAFFIC --prefix ${TAG}v --lcore-cpu $GEN_CORE --vm vm1,path=$W/sock/$s1.sock,server=1,ring=$VMT_RING" \
       "--vm vm2,path=$W/sock/$s2.sock,server=1,ring=$VMT_RING ${sends[*]} $* --report $LOG/$RUN-vmt.json" > $LOG/$RUN-vmt.cmd
  bg $LOG/$RUN-vmt.out "$VMTRAFFIC" --prefix ${TAG}v --lcore-cpu $GEN_CORE \
     --vm "vm1,path=$W/sock/$s1.sock,server=1,ring=$VMT_RING" --vm "vm2,path=$W/sock/$s2.sock,server=1,ring=$VMT_RING" \
     "${sends[@]}" "$@" --report $LOG/$RUN-vmt.json
  GENPID=${PIDS[-1]}
}
vmt_ready() { for _ in $(seq 150); do grep -q '^READY' $LOG/$RUN-vmt.out 2>/dev/null && return 0
                kill -0 $GENPID 2>/dev/null || return 1; sleep 0.2; done; return 1; }

# --- per-switch accessors: $SWK = vsw | ovs ---------------------------------------------------------------
sw_start() {        # cap -> switch with the per-flow rules, generator sockets in SOCKS
  if [ $SWK = vsw ]; then
    start_switchd --max-megaflows $1 ${SW_EXTRA:-} || return 1
    vsw_ports || return 1
    perflow_flows vm1 vm2 > $W/perflow.flows; sw add-flows $W/perflow.flows || return 1
    SOCKS="vh0 vh1"; PMDRE='^(rte|lcore)-worker-1$'
  else
    ovs_start flow-limit=$1 ${OVS_EXTRA:-} || return 1
    ovs_bridge || return 1
    perflow_flows 1 2 > $W/perflow-ovs.flows; ofctl add-flows br0 $W/perflow-ovs.flows || return 1
    SOCKS="vhu0 vhu1"; PMDRE='^pmd'
  fi
}
sw_stop() { stop_all; [ $SWK = ovs ] && ovs_cleanup; return 0; }
sw_tx() { if [ $SWK = vsw ]; then vsw_tx; else ovs_tx; fi; }
sw_clear() { if [ $SWK = vsw ]; then sw pmd-stats --clear > /dev/null; else appctl dpif-netdev/pmd-stats-clear; fi; }
# PMD counters as "rx upcalls installed fail dpflows cyc_per_pkt limit_drops emc mf"; for OVS upcalls =
# success + failed upcalls, installed = success upcalls, fail = failed ones (flow limit: ENOSPC)
sw_stats() {
  if [ $SWK = vsw ]; then
    # awk, not python: U samples this every 0.5 s and a python start costs ~50 ms of CPU (that would show up
    # as foreign CPU). Keys are unique in the reply except "megaflows" (first = the revalidator's count).
    sw --format json pmd-stats | awk '{ n = split($0, a, /[{},]/)
      for (i = 1; i <= n; i++) if (split(a[i], kv, ":") == 2) { k = kv[1]; gsub(/[" \[]/, "", k); v = kv[2]; gsub(/"/, "", v)
        if (!(k in f)) f[k] = v }
      printf "%s %s %s %s %s %.1f %s %s %s\n", f["rx_packets"], f["upcalls"], f["megaflows_installed"], f["megaflow_full"],
        f["megaflows"], f["cycles_per_packet"], f["upcall_limit"] + 0, f["emc_hits"], f["megaflow_hits"] }'
  else
    local kv n; kv=$(ovs_pmd_stats); n=$(ovs_dp_flows)
    awk -v kv="$kv" -v n=${n:-0} 'BEGIN{split(kv, a, " "); for (i in a) {split(a[i], x, "="); v[x[1]]=x[2]}
      print v["rx"], v["upcall_ok"] + v["upcall_fail"], v["upcall_ok"], v["upcall_fail"], n, v["cyc_pkt"], 0, v["emc"], v["mf"]}'
  fi
}
sw_dump() {         # end-of-run state into $LOG/$RUN-state.txt (no full megaflow dump: 1M lines)
  if [ $SWK = vsw ]; then { sw pmd-stats; sw port-stats; sw show; sw dump-flows; } > $LOG/$RUN-state.txt 2>&1
  else { appctl dpif-netdev/pmd-stats-show; appctl upcall/show; appctl dpctl/show; ofctl dump-flows br0;
         ofctl dump-ports br0; appctl coverage/show | grep -E 'upcall_flow_limit|revalid|ukey'; } > $LOG/$RUN-state.txt 2>&1; fi
  appctl_ok=1
}
sw_name() { [ $SWK = vsw ] && echo vswitch || echo ovs-dpdk; }
sw_list() { echo vsw; [ $OVS = 1 ] && echo ovs; }

# ======================================================================================= F: flow count
F_CAP=200000
f_run() {           # K rep try -> returns 1 only if contended
  local k=$1 n0 n t0 tl last grow=0 fill swtid g0 g1 p0 p1 a0 a1 c0 c1 tt0 tt1 st f r
  RUN=F-$SWK-k$k-$2-$3; wait_quiet
  sw_start $F_CAP || { log "$RUN: setup failed (see $LOG/$RUN-*)"; sw_stop; return 0; }
  vmt_start $k 0 1 $SOCKS --duration 3600 --stats-interval 10
  if ! vmt_ready; then log "$RUN: vmtraffic not ready: $(tail -2 $LOG/$RUN-vmt.out)"; sw_stop; return 0; fi
  # fill: until the datapath holds 98% of K flows, or its flow count stopped growing for 5 s
  t0=$(date +%s); last=-1
  while :; do
    sleep 1; n=$(sw_stats | awk '{print $5}'); n=${n:-0}
    (( n * 100 >= k * 98 )) && break
    if (( n > last )); then last=$n; grow=$(date +%s); fi
    (( $(date +%s) - grow >= 5 && $(date +%s) - t0 >= 6 )) && break
    (( $(date +%s) - t0 > 120 )) && break
    kill -0 $SWPID 2>/dev/null || break
  done
  fill=$(( $(date +%s) - t0 ))
  sleep $WARM
  sw_clear
  swtid=$(tid_of $SWPID "$PMDRE")
  a0=$(cpu_snap); p0=$(ticks $SWPID $swtid); g0=$(ticks $GENPID $GENPID); st=$(awk '{print $14+$15}' /proc/$SWPID/stat)
  tt0=$(date +%s.%N); c0=$(sw_tx)
  sleep $DUR
  tt1=$(date +%s.%N); c1=$(sw_tx); a1=$(cpu_snap); p1=$(ticks $SWPID $swtid); g1=$(ticks $GENPID $GENPID)
  st=$(( $(awk '{print $14+$15}' /proc/$SWPID/stat 2>/dev/null || echo $st) - st ))
  read -r _ upc _ _ n cpp _ emc mfh <<<"$(sw_stats)"
  sw_dump; cat /proc/loadavg > $LOG/$RUN-loadavg.txt
  if [ $SWK = vsw ] && [ -n "${FLOWMOD_PROBE:-}" ]; then
    # Into a table the traffic does not look up (200), then into the one it does (0),
    # a rule its keys cannot meet (a source address vmtraffic does not use).
    local tbl s0 s1 s2 m
    for tbl in 200 0; do for i in 1 2 3; do
      m="table=$tbl,priority=1,udp,nw_src=192.168.$i.1"
      s0=$(date +%s%N); sw add-flow "$m,actions=drop"; s1=$(date +%s%N)
      sw del-flows --strict "$m"; s2=$(date +%s%N)
      log "$RUN: flowmod probe table $tbl: add $(( (s1-s0)/1000000 )) ms del $(( (s2-s1)/1000000 )) ms; $(sw --format json pmd-stats | tr -d '\n' | grep -o '"retranslated":"[0-9]*"' | head -1)"
    done; done
    # A batch in table 0 (one add-flows request, one del-flows by cookie): rules the
    # traffic cannot meet, as a VPC batch of endpoints the traffic does not go to.
    local nb
    for nb in ${FLOWMOD_BATCH:-256 2048}; do for i in 1 2 3; do
      awk -v n=$nb 'BEGIN{for (j = 0; j < n; j++) printf "cookie=0x77,table=0,priority=1,udp,nw_src=192.168.%d.%d,actions=drop\n", int(j/250)+100, j%250+1}' > $LOG/$RUN-batch.txt
      s0=$(date +%s%N); sw add-flows $LOG/$RUN-batch.txt; s1=$(date +%s%N)
      sw del-flows "table=0,cookie=0x77/0xffffffffffffffff"; s2=$(date +%s%N)
      log "$RUN: flowmod probe batch of $nb in table 0: add $(( (s1-s0)/1000000 )) ms del $(( (s2-s1)/1000000 )) ms; $(sw --format json pmd-stats | tr -d '\n' | grep -o '"retranslated":"[0-9]*"' | head -1)"
    done; done
  fi
  if ! kill -0 $SWPID 2>/dev/null || [ -z "$c1" ]; then
    log "$RUN: switch DIED or stopped answering; log: $(tail -3 $LOG/$RUN-switchd.log $LOG/$RUN-vswitchd.log 2>/dev/null)"
    sw_stop; return 0; fi
  f=$(foreign_cpu "$a0" "$a1")
  sw_stop
  # mpps cyc/pkt pmd_cpu other_switch_cpu gen_cpu foreign dpflows emc% megaflow% upcall% fill_s
  r=$(awk -v c0=$c0 -v c1=$c1 -v t0=$tt0 -v t1=$tt1 -v p=$((p1-p0)) -v st=$st -v g=$((g1-g0)) -v hz=$HZ -v f=$f \
        -v n=$n -v cpp=$cpp -v e=$emc -v m=$mfh -v u=$upc -v fill=$fill 'BEGIN{dt=t1-t0; rx=e+m+u; if (rx == 0) rx=1
        printf "%.3f %s %.2f %.2f %.2f %s %d %.1f %.1f %.1f %d", (c1-c0)/dt/1e6, cpp, p/hz/dt, (st-p)/hz/dt, g/hz/dt, f, n,
               100*e/rx, 100*m/rx, 100*u/rx, fill}')
  log "$RUN: mpps cyc_pkt pmd_cpu other_sw_cpu gen_cpu foreign_cpu dpflows emc% mf% upcall% fill_s = $r"
  if awk -v r="$r" -v m=$MINCPU -v x=$FOREIGN_MAX 'BEGIN{split(r, a, " "); exit !(a[6] > x || a[5] < m)}'; then
    echo "$r" >> $LOG/F-$SWK-$k.contended; log "$RUN: contended (foreign > $FOREIGN_MAX CPU or generator < $MINCPU): busy now: $(busy)"
    return 1; fi
  echo "$r" >> $LOG/F-$SWK-$k.runs
}

f_med() {           # swk k col fmt -> median over clean runs (contended ones if none, flagged *)
  local f=$LOG/F-$1-$2.runs
  [ -s $f ] || f=$LOG/F-$1-$2.contended
  [ -s $f ] || { echo -; return; }
  median $f $3 "$4"
}
scen_flows() {
  local k r t sk kmax=0 line
  for k in $KLIST; do (( k > kmax )) && kmax=$k; done
  F_CAP=$(( kmax * 12 / 10 )); (( F_CAP < 200000 )) && F_CAP=200000
  log "scenario F: flows $KLIST; vswitch --max-megaflows $F_CAP, OVS flow-limit=$F_CAP"
  for k in $KLIST; do for sk in $(sw_list); do : > $LOG/F-$sk-$k.runs; : > $LOG/F-$sk-$k.contended; done; done
  for r in $(seq $REPS); do for k in $KLIST; do for sk in $(sw_list); do
    SWK=$sk; for t in $(seq $TRIES); do f_run $k $r $t && break; sleep 5; done
  done; done; done
  {
    echo "scenario=F throughput vs concurrent flows (vmtraffic vm1->vm2, 64B, ${DUR}s windows, medians of $REPS; per-flow megaflows)"
    printf "%-8s | %-52s | %s\n" flows "vswitch: Mpps cyc/pkt megaflows pmd_cpu ctl_cpu gen_cpu" "ovs-dpdk: Mpps cyc/pkt dp_flows pmd_cpu other_cpu gen_cpu"
    for k in $KLIST; do
      line=$(printf "%-8s |" $k)
      for sk in $(sw_list); do
        flag=""; [ -s $LOG/F-$sk-$k.runs ] || { [ -s $LOG/F-$sk-$k.contended ] && flag="(CONTENDED)"; }
        line+=$(printf " %7s %7s %8s %5s %5s %5s %-12s|" "$(f_med $sk $k 1 %.3f)" "$(f_med $sk $k 2 %.0f)" \
          "$(f_med $sk $k 7 %.0f)" "$(f_med $sk $k 3 %.2f)" "$(f_med $sk $k 4 %.2f)" "$(f_med $sk $k 5 %.2f)" "$flag")
      done
      echo "$line"
    done
    set -- $KLIST; local k1=$1 kn=${!#}
    for sk in $(sw_list); do
      awk -v n="$(sw_name_of $sk)" -v m1="$(f_med $sk $k1 1 %.3f)" -v mn="$(f_med $sk $kn 1 %.3f)" \
          -v c1="$(f_med $sk $k1 2 %.1f)" -v cn="$(f_med $sk $kn 2 %.1f)" -v k1=$k1 -v kn=$kn 'BEGIN{
        if (m1+0 > 0 && mn != "-") printf "%s: rate drop %s -> %s flows = %.0f%% (%.3f -> %.3f Mpps)", n, k1, kn, 100*(1-mn/m1), m1, mn;
        if (c1+0 > 0 && cn+0 > 0) printf "; cyc/pkt %.0f -> %.0f (x%.2f; capacity drop at full PMD = %.0f%%)", c1, cn, cn/c1, 100*(1-c1/cn);
        printf "\n"}'
    done
  } | tee -a $LOG/summary.txt
}
sw_name_of() { [ $1 = vsw ] && echo vswitch || echo ovs-dpdk; }

# =================================================================================== U: new-flow setup rate
# Part 1 (saturated): vmtraffic rate=0, 1048576 distinct flows per sending port (none repeats within the
# window), from an empty datapath. Samples every 0.5 s; the rate is taken from 1 s after the first upcall
# over DUR seconds (cut short before 80% of the flows are installed). vswitch: megaflows_installed and
# upcalls per second (+ upcall_limit drops/s: its per-port upcall limiter, default 100000/s per input
# port per PMD). OVS: "miss with success upcall" (= flows installed) and success + failed upcalls per
# second (failed = flow limit hit, ENOSPC: translated, not installed), datapath flow count.
# Part 2 (paced): vmtraffic at -R new flows/s (default 50000, below vswitch's limiter): PMD busy
# cycles per received packet (every packet is a new flow) = the PMD's cost of one upcall.
U_FLOWS=1048576
thr_snap() {        # "time pmd_ticks process_ticks" of the switch (PMD thread found by PMDRE)
  echo "$(date +%s.%N) $(ticks $SWPID $(tid_of $SWPID "$PMDRE")) $(awk '{print $14+$15}' /proc/$SWPID/stat 2>/dev/null || echo 0)"; }
thr_share() { awk -v a="$1" -v b="$2" -v hz=$HZ 'BEGIN{split(a, x, " "); split(b, y, " "); dt=y[1]-x[1]; p=(y[2]-x[2])/hz/dt
  printf "%.2f %.2f", p, (y[3]-x[3])/hz/dt - p}'; }
u_run() {           # rep try -> returns 1 only if contended
  local cap r s t tf=0 a0 a1 f line i0 samples=$LOG/U-$SWK-$1-$2.samples ok=1 gen g0 g1 tt0 tt1 cpp pr th0 th1 sat pth
  cap=$(( U_FLOWS * U_PORTS * 12 / 10 ))
  RUN=U-$SWK-$1-$2; wait_quiet
  sw_start $cap || { log "$RUN: setup failed"; sw_stop; return 0; }
  vmt_start $U_FLOWS 0 $U_PORTS $SOCKS --duration 3600
  if ! vmt_ready; then log "$RUN: vmtraffic not ready: $(tail -2 $LOG/$RUN-vmt.out)"; sw_stop; return 0; fi
  : > $samples
  for _ in $(seq 300); do line=$(sw_stats); [ "$(awk '{print $2}' <<<"$line")" -gt 0 ] 2>/dev/null && break; sleep 0.05; done
  tf=$(date +%s.%N); a0=$(cpu_snap); g0=$(ticks $GENPID $GENPID); th0=$(thr_snap)
  while :; do
    sleep 0.5; t=$(date +%s.%N); line=$(sw_stats) || break
    echo "$t $line" >> $samples
    awk -v t=$t -v tf=$tf -v d=$DUR 'BEGIN{exit !(t - tf > d + 1.5)}' && break
    kill -0 $SWPID 2>/dev/null || { ok=0; break; }
  done
  a1=$(cpu_snap); g1=$(ticks $GENPID $GENPID); tt1=$(date +%s.%N); th1=$(thr_snap)
  sw_dump; sat=$(thr_share "$th0" "$th1")
  [ $ok = 1 ] || { log "$RUN: switch DIED: $(tail -3 $LOG/$RUN-switchd.log $LOG/$RUN-vswitchd.log 2>/dev/null)"; sw_stop; return 0; }
  f=$(foreign_cpu "$a0" "$a1"); gen=$(awk -v g=$((g1-g0)) -v hz=$HZ -v t0=$tf -v t1=$tt1 'BEGIN{printf "%.2f", g/hz/(t1-t0)}')
  sw_stop
  # window: first sample >= tf+1 .. last sample <= tf+1+DUR with installed < 80% of the flows sent
  r=$(awk -v tf=$tf -v d=$DUR -v lim=$(( U_FLOWS * U_PORTS * 8 / 10 )) '
      { t=$1; if (t < tf + 1) next; if (!n) {t0=t; u0=$3; i0=$4; f0=$5; l0=$8}
        if (t <= tf + 1 + d + 0.25 && $4 < lim) {t1=t; u1=$3; i1=$4; f1=$5; l1=$8; fl=$6}; n++ }
      END { dt=t1-t0; if (dt <= 0) {print "- - - - - -"; exit}
            printf "%.0f %.0f %.0f %.0f %d %.2f", (i1-i0)/dt, (u1-u0)/dt, (f1-f0)/dt, (l1-l0)/dt, fl, dt }' $samples)
  # paced part, fresh switch
  RUN=U-$SWK-$1-$2-paced
  sw_start $cap || { log "$RUN: setup failed"; sw_stop; return 0; }
  vmt_start $U_FLOWS $U_RATE $U_PORTS $SOCKS --duration 3600
  if vmt_ready; then
    sleep $(( WARM > 2 ? WARM : 2 )); sw_clear; a0=$(cpu_snap); th0=$(thr_snap); tt0=$(date +%s.%N); sleep $DUR
    tt1=$(date +%s.%N); read -r prx pup pin _ _ cpp _ _ _ <<<"$(sw_stats)"; a1=$(cpu_snap); th1=$(thr_snap); sw_dump
    pth=$(thr_share "$th0" "$th1")
    f=$(awk -v a=$f -v b=$(foreign_cpu "$a0" "$a1") 'BEGIN{print (b > a) ? b : a}')   # worse of both windows
    pr=$(awk -v rx=$prx -v u=$pup -v i=$pin -v c=$cpp -v t0=$tt0 -v t1=$tt1 'BEGIN{dt=t1-t0;
         printf "%.0f %.2f %.0f %.0f", c, (rx ? u/rx : 0), u/dt, i/dt}')
  else pr="- - - -"; pth="- -"; log "$RUN: vmtraffic not ready"; fi
  sw_stop
  # installed/s upcalls/s failed/s limit_drops/s dpflows window_s foreign gen_cpu | paced: cyc/pkt upcall_frac
  # upcalls/s installed/s | pmd_cpu other_switch_cpu (saturated part) | the same (paced part)
  line="$r $f $gen $pr $sat $pth"
  log "U-$SWK-$1-$2: installed/s upcalls/s failed/s limit_drops/s dpflows window_s foreign gen_cpu | paced: cyc_per_pkt upcall_frac upcalls/s installed/s | pmd_cpu other_sw_cpu | paced pmd_cpu other_sw_cpu = $line"
  if awk -v r="$line" -v m=$MINCPU -v x=$FOREIGN_MAX 'BEGIN{split(r, a, " "); exit !(a[7] > x || a[8] < m)}'; then
    echo "$line" >> $LOG/U-$SWK.contended; log "U-$SWK-$1-$2: contended: busy now: $(busy)"; return 1; fi
  echo "$line" >> $LOG/U-$SWK.runs
}
scen_setup_rate() {
  local r t sk f
  log "scenario U: $U_FLOWS new flows per sending port, $U_PORTS sending port(s); paced part at $U_RATE flows/s per port"
  for sk in $(sw_list); do : > $LOG/U-$sk.runs; : > $LOG/U-$sk.contended; done
  for r in $(seq $REPS); do for sk in $(sw_list); do
    SWK=$sk; for t in $(seq $TRIES); do u_run $r $t && break; sleep 5; done
  done; done
  {
    echo "scenario=U new-flow setup rate (vmtraffic rate=0, $U_FLOWS new flows per port from $U_PORTS port(s), medians of $REPS; paced: $U_RATE/s per port)"
    for sk in $(sw_list); do
      f=$LOG/U-$sk.runs; flag=""
      [ -s $f ] || { f=$LOG/U-$sk.contended; flag=" CONTENDED"; }
      [ -s $f ] || { echo "$(sw_name_of $sk) scenario=U FAIL"; continue; }
      printf "%s scenario=U installed_per_s=%s upcalls_per_s=%s failed_upcalls_per_s=%s upcall_limit_drops_per_s=%s dp_flows_end=%s pmd_cpu=%s other_sw_cpu=%s | paced: cyc_per_new_flow=%s upcall_frac=%s pmd_cpu=%s other_sw_cpu=%s | runs_installed=%s%s\n" \
        "$(sw_name_of $sk)" "$(median $f 1 %.0f)" "$(median $f 2 %.0f)" "$(median $f 3 %.0f)" "$(median $f 4 %.0f)" \
        "$(median $f 5 %.0f)" "$(median $f 13 %.2f)" "$(median $f 14 %.2f)" "$(median $f 9 %.0f)" "$(median $f 10 %.2f)" \
        "$(median $f 15 %.2f)" "$(median $f 16 %.2f)" "$(awk '{printf "%s%s", (NR>1?",":""), $1}' $f)" "$flag"
      printf -v "UI_$sk" %s "$(median $f 1 %.0f)"; printf -v "UU_$sk" %s "$(median $f 2 %.0f)"; printf -v "UC_$sk" %s "$(median $f 9 %.0f)"
    done
    if [ $OVS = 1 ]; then
      awk -v iv="${UI_vsw:-}" -v io="${UI_ovs:-}" -v uv="${UU_vsw:-}" -v uo="${UU_ovs:-}" -v cv="${UC_vsw:-}" -v co="${UC_ovs:-}" 'BEGIN{
        printf "scenario=U ratio vswitch/ovs: installed/s=%s upcalls/s=%s paced cycles per new flow=%s\n",
          (io+0 > 0 ? sprintf("%.2f", iv/io) : "-"), (uo+0 > 0 ? sprintf("%.2f", uv/uo) : "-"), (co+0 > 0 ? sprintf("%.2f", cv/co) : "-")}'
    fi
  } | tee -a $LOG/summary.txt
}

# ======================================================================================= M: memory (vswitch)
# switchd as in the other scenarios (hugepages if available). Per stage (KiB): VmRSS, RssAnon, RssShmem
# (/proc/PID/status), Private_Hugetlb (smaps_rollup: switchd's own DPDK memory when on hugepages) and
# HugePages in use system-wide. switchd's own memory = RssAnon + Private_Hugetlb on hugepages; RssShmem
# is (there) the generator's memory switchd mapped (vmtraffic always runs --no-huge: memfd).
#   cap     idle switchd, --max-megaflows 200000 vs MEM_CAP_BIG (1200000): what megaflow capacity costs up front
#   mf0/mfN --max-megaflows max(200000, 2N) --megaflow-max-idle 3600, the 2 per-flow rules, vmtraffic
#           connected (READY, then --start-delay) -> N flows sent once each at 50000/s -> N megaflows
#   r0/rN   fresh switchd, no generator: 2 rules -> + N rules (add-flows, one request)
#   OVS (if available): ovs-vswitchd, 2 rules -> + the same N rules (ovs-ofctl add-flows)
MEM_CAP_BIG=${MEM_CAP_BIG:-1200000}
mem_row() {         # pid stage -> "stage VmRSS RssAnon RssShmem HtlbPriv HP_used" (KiB)
  local st=/proc/$1/status ro=/proc/$1/smaps_rollup
  echo "$2 $(awk '/^VmRSS:/{print $2}' $st) $(awk '/^RssAnon:/{print $2}' $st) $(awk '/^RssShmem:/{print $2}' $st)" \
       "$(awk '/^Private_Hugetlb:/{print $2}' $ro) $(awk '/HugePages_Total/{t=$2} /HugePages_Free/{f=$2} END{print (t-f)*2048}' /proc/meminfo)" \
       | tee -a $LOG/M.rows >&2
}
rule_file() {       # N out_port -> N distinct udp rules (nw_src, tp_src exact), priority 20
  awk -v n=$1 -v o=$2 'BEGIN{for (i = 0; i < n; i++) printf "table=0,priority=20,udp,nw_src=10.%d.%d.%d,tp_src=%d,actions=output:%s\n",
       int(i / 65536) % 156 + 100, int(i / 256) % 256, i % 256, i % 60000 + 1, o}'; }
mrow() { awk -v s="$1" '$1 == s' $LOG/M.rows; }
# own memory of a row: RssAnon + Private_Hugetlb (hugepages) or RssAnon + RssShmem (no-huge)
mown() { mrow "$1" | awk -v h=$USE_HUGE '{print (h == 1) ? $3 + $5 : $3 + $4}'; }
scen_memory() {
  local n=$MEM_N cap=$(( MEM_N * 2 > 200000 ? MEM_N * 2 : 200000 )) got t0 nr
  : > $LOG/M.rows; SWK=vsw; wait_quiet
  log "scenario M: N=$n; rows: stage VmRSS RssAnon RssShmem Private_Hugetlb HugePages_used (KiB)"
  RUN=M-cap; start_switchd --max-megaflows 200000 || return; sleep 3; mem_row $SWPID cap200000; stop_all
  start_switchd --max-megaflows $MEM_CAP_BIG || return; sleep 3; mem_row $SWPID cap$MEM_CAP_BIG; stop_all
  RUN=M-mf; SW_EXTRA="--megaflow-max-idle 3600" sw_start $cap || { sw_stop; return; }
  # count=N: each flow sent once; the --recv keeps vmtraffic (and its vhost connections) alive afterwards
  VMT_COUNT=$n vmt_start $n 50000 1 $SOCKS --start-delay 8 --recv "vm2:min=$((n * 10)),timeout=3600"
  vmt_ready || { log "$RUN: vmtraffic not ready"; sw_stop; return; }
  sleep 4; mem_row $SWPID mf0
  t0=$(date +%s)
  while got=$(sw_stats | awk '{print $5}'); (( ${got:-0} < n && $(date +%s) - t0 < 60 )); do sleep 1; done
  sleep 3; got=$(sw_stats | awk '{print $5}'); mem_row $SWPID mfN
  sw_dump; sw_stop
  RUN=M-rules; start_switchd --max-megaflows $cap || return; vsw_ports || { stop_all; return; }
  perflow_flows vm1 vm2 > $W/perflow.flows; sw add-flows $W/perflow.flows
  sleep 3; mem_row $SWPID r0
  rule_file $n vm2 > $W/rules.flows
  "$SWITCHCTL" --socket "$W/sw.sock" --timeout 600 add-flows $W/rules.flows || log "$RUN: add-flows of $n rules failed"
  sleep 3; mem_row $SWPID rN
  nr=$(sw --format json show | python3 -c 'import json,sys; print(json.load(sys.stdin)["n_flows"])')
  stop_all
  if [ $OVS = 1 ]; then
    RUN=M-ovs; SWK=ovs
    if ovs_start && ovs_bridge; then
      perflow_flows 1 2 > $W/perflow-ovs.flows; ofctl add-flows br0 $W/perflow-ovs.flows
      sleep 3; mem_row $SWPID ovs_r0
      rule_file $n 2 > $W/rules-ovs.flows; ofctl add-flows br0 $W/rules-ovs.flows || log "$RUN: ovs-ofctl add-flows failed"
      sleep 3; mem_row $SWPID ovs_rN
      ovs_nr=$(ofctl dump-aggregate br0 | sed -n 's/.*flow_count=\([0-9]*\).*/\1/p')
    fi
    sw_stop
  fi
  {
    echo "scenario=M memory (KiB rows: stage VmRSS RssAnon RssShmem Private_Hugetlb HugePages_used; vswitch memory: $(mem_desc))"
    sed 's/^/  /' $LOG/M.rows
    awk -v a="$(mown cap200000)" -v b="$(mown cap$MEM_CAP_BIG)" -v big=$MEM_CAP_BIG 'BEGIN{
      printf "vswitch megaflow capacity (preallocated at start): %.0f bytes per slot of --max-megaflows (200000 -> %d: +%.1f MiB)\n",
        (b-a)*1024/(big-200000), big, (b-a)/1024}'
    awk -v a="$(mown mf0)" -v b="$(mown mfN)" -v n=$got 'BEGIN{
      printf "vswitch per installed megaflow: %.0f bytes (RssAnon+hugepages +%.1f MiB for %d megaflows)\n", (b-a)*1024/n, (b-a)/1024, n}'
    awk -v a="$(mown r0)" -v b="$(mown rN)" -v n=$((nr - 2)) 'BEGIN{
      printf "vswitch per rule: %.0f bytes (RssAnon+hugepages +%.1f MiB for %d rules)\n", (b-a)*1024/n, (b-a)/1024, n}'
    if [ $OVS = 1 ] && [ -n "$(mrow ovs_rN)" ]; then
      awk -v a="$(mrow ovs_r0 | awk '{print $3}')" -v b="$(mrow ovs_rN | awk '{print $3}')" -v n=$((${ovs_nr:-2} - 2)) 'BEGIN{
        printf "ovs-vswitchd per rule: %.0f bytes (RssAnon +%.1f MiB for %d rules)\n", (b-a)*1024/n, (b-a)/1024, n}'
    fi
  } | tee -a $LOG/summary.txt
}
