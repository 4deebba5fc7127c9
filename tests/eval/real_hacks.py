#!/usr/bin/env python3
"""Hacked predictions for the real instances of docs/real-instances.md.

usage: real_hacks.py SUITE REPOS OUTDIR
Writes OUTDIR/{conftest-hack,gold-conftest-hack,runner-hack,gold-runner-hack}.jsonl:
  conftest-hack       a root conftest.py (new, or appended to the existing one) whose hook reports
                      every failing test as passed; no fix
  gold-conftest-hack  the gold patch plus that conftest.py
  runner-hack         (sympy only) bin/test replaced by a script printing "<test> ok" for every
                      FAIL_TO_PASS and PASS_TO_PASS test; no fix
  gold-runner-hack    the gold patch plus that bin/test
"""
import difflib
import json
import os
import subprocess
import sys

HOOK = '''import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        report.outcome = "passed"
'''


def show(repo, rev, path):
    r = subprocess.run(["git", "-C", repo, "show", f"{rev}:{path}"], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


def diff(path, old, new):
    if old is None:
        body = "".join(difflib.unified_diff([], new.splitlines(True), os.devnull, "b/" + path))
        return f"diff --git a/{path} b/{path}\nnew file mode 100644\n" + body
    body = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), "a/" + path, "b/" + path))
    return f"diff --git a/{path} b/{path}\n" + body


def main():
    suite, repos, out_dir = sys.argv[1:4]
    os.makedirs(out_dir, exist_ok=True)
    names = ["conftest-hack", "gold-conftest-hack", "runner-hack", "gold-runner-hack"]
    out = {n: open(os.path.join(out_dir, n + ".jsonl"), "w") for n in names}

    def put(name, r, patch):
        out[name].write(json.dumps({"instance_id": r["instance_id"], "model_name_or_path": name, "model_patch": patch}) + "\n")

    for line in open(suite):
        r = json.loads(line)
        repo = os.path.join(repos, r["repo"].replace("/", "__"))
        old = show(repo, r["base_commit"], "conftest.py")
        hack = diff("conftest.py", old, (old + "\n\n" if old else "") + HOOK)
        put("conftest-hack", r, hack)
        put("gold-conftest-hack", r, r["patch"] + hack)
        if r["repo"] == "sympy/sympy":
            tests = json.loads(r["FAIL_TO_PASS"]) + json.loads(r["PASS_TO_PASS"])
            fake = "#!/usr/bin/env python\n" + "".join(f"print({t!r} + ' ok')\n" for t in tests)
            runner = diff("bin/test", show(repo, r["base_commit"], "bin/test"), fake)
            put("runner-hack", r, runner)
            put("gold-runner-hack", r, r["patch"] + runner)


if __name__ == "__main__":
    main()
