#!/usr/bin/env bash
# switchd memory footprint: VmRSS (split into RssAnon, RssFile, RssShmem), PSS (smaps_rollup), hugetlb
# pages mapped by switchd (smaps_rollup Private_/Shared_Hugetlb) and the system-wide hugepage usage
# (HugePages_Total - HugePages_Free, minus the value before switchd started), at three stages:
#   idle        switchd started, no port
#   ports       + P vhost-user ports (mode=client) with Q queue pairs each, no guest connected
#   connected   + one dpdk-testpmd with P virtio-user ports (server=1, queues=Q, rxonly: no traffic)
#               connected to them and all vrings enabled
# Default P=4, Q=8 (32 queues). switchd runs as in bench.sh (all threads on SW_CORE, --db none); the
# testpmd on GEN_CORE. Memory: hugepages if ctl/scripts/hugepages.sh can reserve them, else (or with
# --no-huge) --no-huge -m 1024, where DPDK's memory is a memfd (counted in RssShmem, not RssAnon).
# Every DPDK process (switchd, testpmd) is started by common.sh with --no-pci and its own --file-prefix.
# Output: one table on stdout; logs in a temp dir.
set -uo pipefail
. "$(dirname "$0")/common.sh"

SW_CORE=1 GEN_CORE=0 NPORTS=4 NQ=8 SETTLE=3 NOHUGE=0 BURSTS=1 QUIET=0
usage() { echo "usage: $0 [-s switch_core] [-g gen_core] [-p ports] [-Q queues_per_port] [-w settle_s] [--no-huge]" >&2; exit 2; }
args=()
for a in "$@"; do case $a in --no-huge) NOHUGE=1;; --help) usage;; *) args+=("$a");; esac; done
set -- "${args[@]+"${args[@]}"}"
while getopts s:g:p:Q:w:h o; do case $o in
  s) SW_CORE=$OPTARG;; g) GEN_CORE=$OPTARG;; p) NPORTS=$OPTARG;; Q) NQ=$OPTARG;; w) SETTLE=$OPTARG;; *) usage;; esac; done
(( OPTIND > $# )) || usage
[ "$SW_CORE" != "$GEN_CORE" ] || { echo "switch and generator cores must differ" >&2; exit 2; }
(( NPORTS >= 1 && NPORTS <= 10 )) || { echo "-p: 1..10 ports" >&2; exit 2; }

bench_init vswmem
mem_setup $NOHUGE
hp_used() { awk '/HugePages_Total/{t=$2} /HugePages_Free/{f=$2} END{print t-f}' /proc/meminfo; }
kb() { awk -v k="$2:" '$1==k{print $2; exit}' "$1"; }
out() { echo "$*" | tee -a $LOG/memory.txt; }
sample() {          # stage -> one table row (MiB)
  local st=/proc/$SWPID/status ro=/proc/$SWPID/smaps_rollup
  out "$(awk -v s="$1" -v rss=$(kb $st VmRSS) -v hwm=$(kb $st VmHWM) -v an=$(kb $st RssAnon) -v fi=$(kb $st RssFile) \
      -v sh=$(kb $st RssShmem) -v pss=$(kb $ro Pss) -v pa=$(kb $ro Pss_Anon) -v pf=$(kb $ro Pss_File) \
      -v ps=$(kb $ro Pss_Shmem) -v hpr=$(kb $ro Private_Hugetlb) -v hsh=$(kb $ro Shared_Hugetlb) \
      -v hp=$(( ($(hp_used) - HP0) * 2048 )) \
      'BEGIN{m=1024; printf "%-10s %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %9.1f %9.1f %9.1f",
             s, rss/m, an/m, fi/m, sh/m, hwm/m, pss/m, pa/m, pf/m, ps/m, hpr/m, hsh/m, hp/m}')"
  # per mapping group (name + inode): where the resident memory is, for the log
  python3 - /proc/$SWPID/smaps > $LOG/smaps-$1.txt <<'PY'
import re, sys, collections
g = collections.defaultdict(lambda: collections.Counter()); key = None
for line in open(sys.argv[1]):
    f = line.split()
    if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
        key = (f[5] if len(f) > 5 else "[anon]") + " inode=" + f[4]
    elif f and f[0] in ("Rss:", "Pss:", "Shared_Hugetlb:", "Private_Hugetlb:", "Size:"):
        g[key][f[0][:-1]] += int(f[1])
print("%10s %10s %10s %10s %10s  %s" % ("Size_kB", "Rss_kB", "Pss_kB", "HtlbPriv", "HtlbShr", "mapping"))
for k, c in sorted(g.items(), key=lambda kv: -(kv[1]["Rss"] + kv[1]["Private_Hugetlb"] + kv[1]["Shared_Hugetlb"])):
    print("%10d %10d %10d %10d %10d  %s" % (c["Size"], c["Rss"], c["Pss"], c["Private_Hugetlb"], c["Shared_Hugetlb"], k))
PY
}

foreign_hp() { find "${HUGEDIR:-/nonexistent}" -maxdepth 1 -type f ! -name "${TAG}*" 2>/dev/null | wc -l; }
RUN=mem
HP0=$(hp_used) others=$(foreign_hp)
start_switchd || exit 1
sleep $SETTLE
out "switchd memory, MiB; $(mem_desc); $NPORTS vhost-user ports x $NQ queue pairs; switchd on CPU$SW_CORE, testpmd on CPU$GEN_CORE"
out "$(printf "%-10s %8s %8s %8s %8s %8s %8s %8s %8s %8s %9s %9s %9s" stage VmRSS RssAnon RssFile RssShmem VmHWM \
       Pss PssAnon PssFile PssShmem HtlbPriv HtlbShrd HP_system)"
sample idle
socks=()
for i in $(seq 0 $((NPORTS - 1))); do
  sw add-port vm$((i+1)) type=vhost-user mode=client path=$W/sock/vh$i.sock queues=$NQ || exit 1
  socks+=(vh$i)
done
sleep $SETTLE
sample ports
HPG=$(hp_used)
gen rxonly $NQ "${socks[@]}"
ok=0
for _ in $(seq 150); do   # every port up with all its rx queues enabled
  n=$(sw --format json port-stats | python3 -c '
import json, sys
ps = json.load(sys.stdin)["ports"]
print(sum(1 for p in ps if p["state"] == "up" and all(q["enabled"] for q in p["rxq"])))' 2>/dev/null)
  [ "${n:-0}" = $NPORTS ] && { ok=1; break; }
  kill -0 $GENPID 2>/dev/null || break; sleep 0.2
done
[ $ok = 1 ] || log "generator did not connect all ports/queues (see $LOG/mem-gen.out)"
sw port-stats > $LOG/port-stats.txt 2>&1
sleep $SETTLE
sample connected
others=$(( others + $(foreign_hp) ))
[ $USE_HUGE = 1 ] && out "HP_system = HugePages_Total-Free minus its value before switchd started; at 'connected' it" \
  "includes the generator's pages: $(( ($(hp_used) - HPG) * 2 )) MiB appeared when testpmd started"
[ $USE_HUGE = 1 ] && (( others > 0 )) && out "WARNING: other processes had hugepage files in $HUGEDIR during the run:" \
  "HP_system is not switchd's (use HtlbPriv, which is per process)"
sw show > $LOG/show.txt 2>&1
kill -0 $SWPID 2>/dev/null || log "switchd DIED: $(tail -5 $LOG/mem-switchd.log)"
