#!/usr/bin/env bash
# Installs what swebox needs from Debian's packages, only when something is missing (idempotent).
set -euo pipefail

packages=(
  build-essential cmake pkg-config git patch
  libboost-dev libseccomp-dev nlohmann-json3-dev libgit2-dev doctest-dev
  libcli11-dev                    # the commands' parsers (header-only)
  python3 python3-pytest          # the default test environment for tasks (host Debian Python)
  python3-toolz                   # sources and tests of a real repository for `swebox selfplay` (scripts/make-toolz-repo.sh)
  bubblewrap util-linux           # peers measured by scripts/bench-sandbox.sh
  hyperfine                       # whole-process timings of scripts/bench-cli.sh
  docker.io busybox-static        # the Docker backend's daemon and a local image built from busybox
  ccache                          # shared compiled objects between build folders (scripts/build.sh)
  clang libclang-rt-dev           # the sanitizer and libFuzzer build (scripts/test-sanitizers.sh)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi
