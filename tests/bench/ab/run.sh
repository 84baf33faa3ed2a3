#!/usr/bin/env bash
# Same-process A/B of a datapath change, for a host whose speed moves between runs.
#
# On the bench host the same binary gives 100 or 150 cycles per packet from one run to the
# next (the cross-core latency and the core's own speed change by the minute), so runs of
# an old and a new binary, even alternated, hide a 10% change. Here one switchd runs both
# variants, switching every 2^30 TSC cycles (~0.5 s), and sums busy cycles and packets per
# variant: both see the same memory layout, guest and minute.
#
# Build a switchd with pmd-phases.patch applied (in a scratch worktree: the patch is not
# for main) and the experiment's code under `extern int g_vsw_ab; if (g_vsw_ab & BIT)`,
# then:  tests/bench/ab/run.sh BINARY MASK "SCENARIOS" [ROUNDS] [SECONDS]
# Per round and scenario: the variant's figures last printed by the PMD ("off": g_vsw_ab
# 0, "on": MASK) and bench.sh's line. Layout as bench.sh: PMD on CPU 1, generator on CPU 0.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
BIN=$1 MASK=$2 SCEN=$3 ROUNDS=${4:-3} DUR=${5:-20}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$ROOT"
for r in $(seq 1 "$ROUNDS"); do
    out=$(VSW_AB=$MASK SWITCHD=$BIN BUILD=${BUILD:-$ROOT/build} tests/bench/bench.sh -S "$SCEN" -r 1 \
          -d "$DUR" -q 60 --no-ovs 2>&1) || { echo "$out" | tail -5 >&2; exit 1; }
    logdir=$(echo "$out" | grep -o "/tmp/vswbench\.[A-Za-z0-9]*" | head -1)/log
    for s in $SCEN; do
        ab=$(grep -h "^AB " "$logdir"/vsw"$s"1-1-switchd.log 2>/dev/null | tail -1 || true)
        echo "round $r $s $(date +%T) ${ab:-no AB line (patch not applied?)} | $(echo "$out" |
             grep -E "^vswitch scenario=$s " | awk '{print $3, $7, $11}')"
    done
done
