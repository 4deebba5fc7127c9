#!/usr/bin/env bash
# Configures and builds swebox into build/ (or $SWEBOX_BUILD_DIR). Arguments go to CMake's
# configure step (e.g. -DSWEBOX_WERROR=ON, which scripts/test.sh passes; CMake keeps it in the cache).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SWEBOX_BUILD_DIR:-build}
# ccache, where installed, shares compiled objects between build folders and worktrees.
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$PWD")} CCACHE_NOHASHDIR=1
fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-RelWithDebInfo} "${launcher[@]}" "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
