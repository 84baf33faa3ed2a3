#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what is missing, builds, runs ctest
# (Catch2 units + integration tests with virtio-user VMs; no hugepages needed).
# .ci/run runs exactly this.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/ctl/scripts/install-deps.sh"
"$top/ctl/scripts/build.sh"
cd "$top/build"
ctest --output-on-failure --timeout 900 "$@"
