#!/bin/bash
# A real repository for `swebox selfplay`: the Python sources and tests Debian's python3-toolz ships
# (toolz and tlz, with toolz/tests), made into a git repository with a few commits of history for the
# history injector: the first commit has three regressions that the next three commits fix, one each
# (what SSR's history strategy reverts). Deterministic: fixed authors and dates.
#
#   scripts/make-toolz-repo.sh OUT_DIR      (OUT_DIR must not exist; python3-toolz: scripts/setup.sh)
set -euo pipefail
out=${1:?usage: scripts/make-toolz-repo.sh OUT_DIR}
src=/usr/lib/python3/dist-packages
if [ ! -f "$src/toolz/__init__.py" ] || [ ! -d "$src/toolz/tests" ]; then
  echo "make-toolz-repo.sh: python3-toolz is not installed ($src/toolz); run scripts/setup.sh or apt-get install python3-toolz" >&2
  exit 1
fi
if [ -e "$out" ]; then
  echo "make-toolz-repo.sh: $out exists; give a new directory" >&2
  exit 1
fi
mkdir -p "$out"
cp -r "$src/toolz" "$src/tlz" "$out/"
find "$out" -name __pycache__ -prune -exec rm -rf {} +
version=$(dpkg-query -W -f='${Version}' python3-toolz 2>/dev/null || echo unknown)

cd "$out"
export GIT_AUTHOR_NAME=swebox GIT_AUTHOR_EMAIL=swebox@localhost GIT_COMMITTER_NAME=swebox GIT_COMMITTER_EMAIL=swebox@localhost
commit() {  # commit MESSAGE DATE
  GIT_AUTHOR_DATE="$2" GIT_COMMITTER_DATE="$2" git commit -q -m "$1"
}
# sed that must change the file.
regress() {  # regress FILE SED-EXPRESSION
  cp "$1" "$1.orig"
  sed -i "$2" "$1"
  if cmp -s "$1" "$1.orig"; then echo "make-toolz-repo.sh: '$2' changed nothing in $1 (python3-toolz $version)" >&2; exit 1; fi
}
restore() { mv "$1.orig" "$1"; }

git init -q -b main .
regress toolz/itertoolz.py 's/        d\[item\] += 1/        d[item] = 1/'
regress toolz/recipes.py 's/return map(tuple, pluck(1, itertools.groupby(seq, key=func)))/return map(tuple, pluck(0, itertools.groupby(seq, key=func)))/'
regress toolz/dicttoolz.py 's/    except (KeyError, IndexError, TypeError):/    except (KeyError, IndexError):/'
git add -A -- toolz tlz ':!*.orig'
commit "Import toolz (python3-toolz $version)" "2024-01-01T10:00:00Z"
restore toolz/itertoolz.py && git add toolz/itertoolz.py && commit "itertoolz: frequencies counts every occurrence" "2024-01-02T10:00:00Z"
restore toolz/recipes.py && git add toolz/recipes.py && commit "recipes: partitionby yields the groups, not their keys" "2024-01-03T10:00:00Z"
restore toolz/dicttoolz.py && git add toolz/dicttoolz.py && commit "dicttoolz: get_in returns the default when a level is not indexable" "2024-01-04T10:00:00Z"
git status --porcelain | grep . && { echo "make-toolz-repo.sh: unexpected files left" >&2; exit 1; }
echo "$out: $(git rev-list --count HEAD) commits, HEAD $(git rev-parse --short HEAD) (python3-toolz $version)"
