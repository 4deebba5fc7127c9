#!/usr/bin/env bash
# Builds, without pulling anything, SWE-bench-style evaluation images for fixture instances, so that
# `swebox eval --backend docker` can be tested as SWE-bench runs its eval scripts in its per-instance
# images (docs/formats.md §4.2). The layout is SWE-bench's (harness/dockerfiles, test_spec/python.py):
#   /testbed            the repository at base_commit, with .git, origin removed, later history
#                       pruned, and SWE-bench's empty "SWE-bench" commit on top; files root's
#   /opt/miniconda3     bin/ on PATH; bin/activate defines a `conda` shell function whose
#                       `conda activate testbed` puts envs/testbed/bin (python, pytest) first on PATH
#   envs/testbed        the host's /usr/bin/python3 and its standard library, relocated (the prefix
#                       follows the binary), with pytest and its dependencies copied from Debian's
#                       packages; the repository installed "editable" by a .pth file, as `pip install
#                       -e .` leaves it
# plus git, GNU patch and GNU sed (the apply chain and the eval script use them) over the Docker
# backend's busybox image (scripts/make-docker-image.sh).
#
# Usage: scripts/make-swebench-image.sh [--force] FIXTURES [INSTANCE_ID...]
#   FIXTURES     a folder made by scripts/make-fixture-suite.sh (repos/, suite.jsonl)
#   INSTANCE_ID  default swebox-fixtures__calc-1
# Tags, per instance, SWE-bench's two names: sweb.eval.<arch>.<id lowercased>:latest and
# swebench/sweb.eval.<arch>.<id lowercased, "__" as "_1776_">:latest. Idempotent: an image built from
# the same base commit is kept (--force rebuilds).
set -euo pipefail

force=0
if [ "${1:-}" = "--force" ]; then force=1; shift; fi
if [ $# -lt 1 ]; then
  echo "usage: $0 [--force] FIXTURES [INSTANCE_ID...]" >&2
  exit 2
fi
fixtures=$(cd "$1" && pwd)
shift
cd "$(dirname "$0")/.."
instances=("$@")
[ ${#instances[@]} -gt 0 ] || instances=(swebox-fixtures__calc-1)
env_image=swebox-swebench-env:latest
arch=x86_64
case "$(uname -m)" in aarch64 | arm64) arch=arm64 ;; esac

if ! docker version >/dev/null 2>&1; then
  echo "make-swebench-image: no Docker daemon answers (start one with scripts/start-dockerd.sh)" >&2
  exit 1
fi
# One build at a time (test processes run in parallel): a second one then finds the images made.
exec 9>/tmp/swebox-make-swebench-image.lock
flock 9
scripts/make-docker-image.sh >/dev/null

python=/usr/bin/python3.11
if [ ! -x "$python" ] || ! "$python" -c 'import pytest' 2>/dev/null; then
  echo "make-swebench-image: $python with pytest is missing (install python3 and python3-pytest)" >&2
  exit 1
fi

work=$(mktemp -d /tmp/swebox-swebench-image.XXXXXX)
container=""
cleanup() {
  [ -z "$container" ] || docker rm -f "$container" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# copy_libraries ROOT FILE...: the shared libraries each file loads, at their own paths under ROOT
# (symlinks resolved, as make-docker-image.sh copies bash's).
copy_libraries() {
  local root=$1
  shift
  local f lib
  for f in "$@"; do
    for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*'); do
      [ -e "$root$lib" ] && continue
      mkdir -p "$root$(dirname "$lib")"
      cp -L "$lib" "$root$lib"
    done
  done
}

# copy_with_libraries ROOT FILE...: each file at its own path under ROOT, with its libraries.
copy_with_libraries() {
  local root=$1
  shift
  local f
  for f in "$@"; do
    mkdir -p "$root$(dirname "$f")"
    cp -L "$f" "$root$f"
  done
  copy_libraries "$root" "$@"
}

# commit_image BASE TAR NAME CHANGES...: NAME = BASE with TAR unpacked over its root.
commit_image() {
  local base=$1 tar=$2 name=$3
  shift 3
  container=$(docker create "$base" /bin/true)
  docker cp - "$container:/" <"$tar"
  local changes=()
  for c in "$@"; do changes+=(--change "$c"); done
  docker commit "${changes[@]}" "$container" "$name" >/dev/null
  docker rm -f "$container" >/dev/null
  container=""
}

env_prefix=/opt/miniconda3/envs/testbed
site=$env_prefix/lib/python3.11/dist-packages  # where a relocated Debian python looks (site.getsitepackages)

build_env_image() {
  local root=$work/env
  mkdir -p "$root"
  copy_with_libraries "$root" /usr/bin/git /usr/bin/patch /usr/bin/sed

  # python, relocated: its prefix is found from the binary's place, as in a conda env.
  copy_with_libraries "$root" "$python"
  mkdir -p "$root$env_prefix/bin"
  mv "$root$python" "$root$env_prefix/bin/python3.11"
  ln -s python3.11 "$root$env_prefix/bin/python3"
  ln -s python3.11 "$root$env_prefix/bin/python"
  mkdir -p "$root$env_prefix/lib"
  tar -C /usr/lib -c --exclude=__pycache__ --exclude=python3.11/test --exclude=python3.11/idlelib \
    --exclude=python3.11/tkinter --exclude=python3.11/turtledemo --exclude=python3.11/ensurepip \
    --exclude=python3.11/lib2to3 --exclude=python3.11/pydoc_data --exclude='python3.11/config-*' \
    --exclude=python3.11/dist-packages --exclude=python3.11/site-packages python3.11 | tar -C "$root$env_prefix/lib" -x
  mkdir -p "$root$site"
  copy_libraries "$root" "$root$env_prefix"/lib/python3.11/lib-dynload/*.so
  # pytest and what it imports, from Debian's dist-packages (no .pth of the host's).
  local modules
  modules=$("$python" -I -c '
import importlib.util
for name in ("pytest", "_pytest", "pluggy", "iniconfig", "py", "attr", "packaging"):
    spec = importlib.util.find_spec(name)
    if spec is None:
        continue
    print(spec.submodule_search_locations[0] if spec.submodule_search_locations else spec.origin)
')
  local m
  for m in $modules; do
    cp -a "$m" "$root$site/"
  done
  find "$root$site" -name __pycache__ -prune -exec rm -rf {} +
  cat >"$root$env_prefix/bin/pytest" <<EOF
#!$env_prefix/bin/python
import sys
from pytest import console_main
sys.exit(console_main())
EOF
  chmod 755 "$root$env_prefix/bin/pytest"

  # conda's shell function, as miniconda's bin/activate defines it (the parts eval scripts use).
  mkdir -p "$root/opt/miniconda3/bin" "$root/opt/miniconda3/envs"
  cat >"$root/opt/miniconda3/bin/activate" <<'EOF'
# swebox's stand-in for miniconda's bin/activate (scripts/make-swebench-image.sh): defines the
# `conda` shell function and activates "base"; `conda activate ENV` puts /opt/miniconda3/envs/ENV/bin
# first on PATH and sets CONDA_DEFAULT_ENV and CONDA_PREFIX, as conda does.
_SWEBOX_CONDA_PATH=${_SWEBOX_CONDA_PATH:-$PATH}
conda() {
  case "${1:-}" in
    activate)
      local name=${2:-base} prefix=/opt/miniconda3
      [ "$name" = base ] || prefix=/opt/miniconda3/envs/$name
      if [ ! -d "$prefix" ]; then
        echo "EnvironmentNameNotFound: Could not find conda environment: $name" >&2
        return 1
      fi
      export PATH="$prefix/bin:$_SWEBOX_CONDA_PATH" CONDA_DEFAULT_ENV=$name CONDA_PREFIX=$prefix CONDA_SHLVL=1
      hash -r
      ;;
    deactivate)
      export PATH=$_SWEBOX_CONDA_PATH
      unset CONDA_DEFAULT_ENV CONDA_PREFIX
      export CONDA_SHLVL=0
      hash -r
      ;;
    *)
      echo "conda: only activate and deactivate are here (swebox's fixture image)" >&2
      return 1
      ;;
  esac
}
conda activate base
EOF
  cat >"$root/opt/miniconda3/bin/conda" <<'EOF'
#!/bin/sh
echo "CondaError: Run 'source /opt/miniconda3/bin/activate' before 'conda $*'" >&2
exit 1
EOF
  chmod 755 "$root/opt/miniconda3/bin/conda"

  tar -C "$root" --numeric-owner --owner=0 --group=0 -cf "$work/env.tar" .
  commit_image swebox-busybox:latest "$work/env.tar" "$env_image" \
    'ENV PATH=/opt/miniconda3/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'WORKDIR /testbed/' 'CMD ["/bin/bash"]' 'LABEL swebox.fixture=swebench-env'
  echo "make-swebench-image: built $env_image ($(docker image inspect -f '{{.Size}}' "$env_image") bytes)"
}

if [ $force = 1 ] || ! docker image inspect "$env_image" >/dev/null 2>&1; then
  build_env_image
fi

for id in "${instances[@]}"; do
  record=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    if line.strip() and json.loads(line)["instance_id"] == sys.argv[2]:
        r = json.loads(line)
        print(r["repo"].replace("/", "__"), r["base_commit"])
        break
' "$fixtures/suite.jsonl" "$id")
  if [ -z "$record" ]; then
    echo "make-swebench-image: $id is not in $fixtures/suite.jsonl" >&2
    exit 1
  fi
  read -r repo_dir base <<<"$record"
  lower=$(printf '%s' "$id" | tr '[:upper:]' '[:lower:]')
  local_name=sweb.eval.$arch.$lower:latest
  hub_name=$(printf 'swebench/sweb.eval.%s.%s:latest' "$arch" "$lower" | sed 's/__/_1776_/g')
  if [ $force = 0 ] && [ "$(docker image inspect -f '{{index .Config.Labels "swebox.base_commit"}}' "$local_name" 2>/dev/null)" = "$base" ]; then
    docker tag "$local_name" "$hub_name"
    echo "make-swebench-image: $local_name already exists"
    continue
  fi
  # The repository as SWE-bench's setup_repo.sh leaves it (make_repo_script_list_py).
  root=$work/$lower
  mkdir -p "$root$site"
  export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
  git clone -q -o origin "$fixtures/repos/$repo_dir" "$root/testbed"
  chmod -R 777 "$root/testbed"
  (
    cd "$root/testbed"
    git reset -q --hard "$base"
    git remote remove origin
    git reflog expire --expire=now --all
    git gc -q --prune=now
    # The mode changes of the chmod above go into this commit, as in SWE-bench's images.
    git -c user.email=setup@swebench.config -c user.name=SWE-bench commit -q --allow-empty -am SWE-bench
  )
  # `pip install -e .`: the import root on the environment's path (src/ layouts import from src).
  if [ -d "$root/testbed/src" ]; then echo /testbed/src; else echo /testbed; fi >"$root$site/__editable__.testbed.pth"
  tar -C "$root" --numeric-owner --owner=0 --group=0 -cf "$work/$lower.tar" .
  commit_image "$env_image" "$work/$lower.tar" "$local_name" 'WORKDIR /testbed/' \
    "LABEL swebox.fixture=swebench-instance swebox.instance_id=$id swebox.base_commit=$base"
  docker tag "$local_name" "$hub_name"
  echo "make-swebench-image: built $local_name (also tagged $hub_name)"
done
