#!/usr/bin/env bash
# Installs what is missing, builds, runs every test, then the sanitizer and fuzz stage; each ends
# with CTest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DSWEBOX_WERROR=ON   # CI: a warning fails the build
build=${SWEBOX_BUILD_DIR:-build}
# The Docker backend's tests need a running daemon and a local image; they skip, saying so, without one.
if scripts/start-dockerd.sh; then
  export SWEBOX_REQUIRE_DOCKER=1   # a daemon runs: its tests must not skip
else
  echo "test: no Docker daemon could be started; the Docker tests will say so and skip"
fi
status=0
(cd "$build" && ctest --output-on-failure -j "$(nproc)" --timeout 600) || status=$?
# The hardening stage: the unit tests of the parsers' areas under ASan+UBSan, and every fuzz target
# for a bounded time (scripts/test-sanitizers.sh). SWEBOX_SKIP_SANITIZERS=1 leaves it out.
if [ "${SWEBOX_SKIP_SANITIZERS:-0}" != 1 ]; then
  scripts/test-sanitizers.sh || status=$?
fi
exit "$status"
