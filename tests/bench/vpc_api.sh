#!/bin/bash
# VPC endpoint updates per second through the controller API, for each way switchd can
# keep its state: the journal (default), the whole state file rewritten at every change
# (--db-journal-max 1: what switchd did before the journal) and no state file (--db
# none: the cost of everything but the disk). The switch has an uplink (net_null) and so
# a tunnel port: each endpoint compiles to its two rules. switchd's control thread runs
# on CPU 0 with the client (the PMD, idle, on CPU 1). Not a test; run by hand:
#
#   BUILD=$PWD/build tests/bench/vpc_api.sh [--base 10000,100000] [--sizes 1,100,1000] [--seconds 5] [--modes "journal whole none"]
#   SWITCHD=/old/switchd ... --modes journal      # the same client against another switchd
set -euo pipefail
BUILD=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
SWITCHD=${SWITCHD:-$BUILD/ctl/switchd}   # another switchd to compare (mode "journal" = --db FILE only)
ARGS=() MODES="journal whole none"
while [ $# -gt 0 ]; do
  case $1 in
    --modes) MODES=$2; shift 2;;
    --base|--sizes|--seconds) ARGS+=("$1" "$2"); shift 2;;
    *) echo "usage: $0 [--base N,...] [--sizes B,...] [--seconds S] [--modes \"journal whole none\"]" >&2; exit 2;;
  esac
done
W=$(mktemp -d /tmp/vpcapi.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf /var/run/dpdk/vpcapi$$; rm -rf "$W"; }
trap cleanup EXIT
for mode in $MODES; do
  case $mode in
    journal) DB=(--db "$W/$mode.db");;
    whole) DB=(--db "$W/$mode.db" --db-journal-max 1);;
    none) DB=(--db none);;
    *) echo "unknown mode $mode" >&2; exit 2;;
  esac
  taskset -c 0 "$SWITCHD" --pmd-cores 1 --control-socket "$W/sock" "${DB[@]}" \
    --eal "--no-huge -m 1024 --file-prefix vpcapi$$" > "$W/$mode.log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do [ -S "$W/sock" ] && break; sleep 0.1; done
  # An underlay, so the tunnel port exists and each endpoint has both its rules (the
  # ARP answer and the forward into the tunnel), as on a real host.
  CTL=("$BUILD/ctl/switchctl" --socket "$W/sock")
  "${CTL[@]}" add-port up0 type=dpdk devargs=net_null0,no-rx=1
  "${CTL[@]}" set-uplink up0 local-ip=192.0.2.1/24
  echo "== $mode: switchd ${DB[*]}"
  taskset -c 0 "$BUILD/tests/bench/vpc_api_bench" --socket "$W/sock" "${ARGS[@]}"
  kill "$PID"; wait "$PID" || true; PID=
  rm -f "$W/sock"
done
