#!/usr/bin/env bash
# Reserves 2 MiB hugepages and makes sure hugetlbfs is mounted once.
# Usage: hugepages.sh [PAGES]   (default 1024 = 2 GiB)
# Prints the mount point and exits 0 when at least PAGES pages are free, 1 otherwise
# (callers then fall back to --no-huge). Never mounts a second hugetlbfs on the same
# path: a second mount makes DPDK hang.
set -uo pipefail
want=${1:-1024}
nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
[ -w $nr ] || { echo "hugepages: $nr not writable (not root?)" >&2; exit 1; }
mnt=$(awk '$3 == "hugetlbfs" {print $2; exit}' /proc/mounts)
if [ -z "$mnt" ]; then
    mnt=/dev/hugepages
    mkdir -p $mnt && mount -t hugetlbfs nodev $mnt || { echo "hugepages: cannot mount hugetlbfs" >&2; exit 1; }
fi
free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
if (( free < want )); then
    echo $(( $(cat $nr) + want - free )) > $nr 2>/dev/null
    free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
fi
if (( free < want )); then
    echo "hugepages: only $free of $want pages free" >&2
    exit 1
fi
echo "$mnt"
