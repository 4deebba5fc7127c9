#!/usr/bin/env python3
"""Differential test of swebox's CWM profile against CWM's own environment code.

Drives CWM's SWE environment (`cwm/rl/envs/envs/swerl_tool.py` with the tools of `cwm/rl/swerl/`)
from a user's copy of the public CWM repository, under Debian's python3, with a local bash backend
(CWM's own `AsyncSession` in place of the Modal sandbox) and the heavy imports (modal, tiktoken,
numpy, ...) stubbed. Every scenario below is played through CWM's `start`/`step` and through
`swebox run --profile cwm --policy replay:...` with the same actions; the first prompt, every
observation (byte for byte) and the termination are compared.

Nothing of CWM is copied into this repository: the code is imported from the checkout given with
--cwm (or $SWEBOX_CWM_DIR) at run time, and swebox gets CWM's wording through
`swebox templates import-cwm`, run on the same checkout.

Tokens: CWM's CWMInstructTokenizer is used as it is, over a byte-level vocabulary (one token per
UTF-8 byte, CWM's special tokens one each) that this script writes as a tiktoken ranks file; when
`swebox run` takes `--tokenizer`, the same file is given to it, so that budgets ("Remaining tokens")
and truncation are compared too. Without it those numbers are masked and the report says so.

Usage:
  scripts/cwm_diff.py --cwm CHECKOUT --swebox build/swebox [--work DIR] [--only NAME,...] [--keep]
Exit status: 0 no difference; 1 differences (listed); 2 bad usage or setup; 77 skipped (no checkout).

Making a checkout from a fetched mirror (a bare git directory), outside this repository:
  git --git-dir=/work/.mirror/facebookresearch+cwm/repo worktree add /tmp/cwm HEAD
  # or: mkdir /tmp/cwm && git --git-dir=... archive HEAD | tar -x -C /tmp/cwm
"""

import argparse
import asyncio
import base64
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP = 77

# ---------------------------------------------------------------- stubs for CWM's heavy imports

# CWM's special tokens and their offsets above the mergeable ranks (cwm/text/tokenizers.py reserves
# 256 ids after the vocabulary; the names come from its class attributes at run time).
BYTE_VOCAB = 256


class ByteEncoding:
    """tiktoken.core.Encoding over a byte-level vocabulary: one token per byte, specials one each."""

    def __init__(self, name, pat_str, mergeable_ranks, special_tokens, **_):
        self.name = name
        self._ranks = mergeable_ranks
        self._special = dict(special_tokens)
        self._special_by_id = {v: k for k, v in self._special.items()}
        self._bytes_by_id = {v: k for k, v in mergeable_ranks.items()}

    @property
    def n_vocab(self):
        return max(list(self._special.values()) + list(self._ranks.values())) + 1

    def encode_ordinary(self, text):
        return [self._ranks[bytes([b])] for b in text.encode("utf-8", errors="surrogatepass")]

    def encode_ordinary_batch(self, texts):
        return [self.encode_ordinary(t) for t in texts]

    def encode(self, text, allowed_special=(), disallowed_special=()):
        if allowed_special == "all":
            allowed_special = set(self._special)
        allowed = sorted(allowed_special, key=len, reverse=True)
        if not allowed:
            return self.encode_ordinary(text)
        pattern = re.compile("|".join(re.escape(s) for s in allowed))
        out, pos = [], 0
        for m in pattern.finditer(text):
            out += self.encode_ordinary(text[pos:m.start()])
            out.append(self._special[m.group(0)])
            pos = m.end()
        return out + self.encode_ordinary(text[pos:])

    def encode_batch(self, texts, allowed_special=(), disallowed_special=()):
        return [self.encode(t, allowed_special, disallowed_special) for t in texts]

    def decode_single_token_bytes(self, token):
        if token in self._special_by_id:
            return self._special_by_id[token].encode()
        return self._bytes_by_id[token]

    def encode_single_token(self, piece):
        if isinstance(piece, str) and piece in self._special:
            return self._special[piece]
        b = piece.encode() if isinstance(piece, str) else piece
        return self._ranks[b]

    def decode(self, tokens, errors="replace"):
        return b"".join(self.decode_single_token_bytes(t) for t in tokens).decode("utf-8", errors=errors)


def load_ranks(path):
    ranks = {}
    with open(path, "rb") as f:
        for line in f:
            if line.strip():
                tok, rank = line.split()
                ranks[base64.b64decode(tok)] = int(rank)
    return ranks


def bytes_to_unicode():
    """GPT-2's byte-level alphabet: the character a tokenizer.json vocabulary writes for each byte."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


def write_byte_tokenizer_json(path, tokenizer):
    """The tokenizer CWM's code runs here (one token per byte, CWM's special tokens one each, their
    ids and names read from CWM's tokenizer object) as a tokenizer.json that `swebox run --tokenizer`
    reads, so that both sides count the same tokens: a ranks file cannot carry the special tokens."""
    chars = bytes_to_unicode()
    vocab = {chars[b]: b for b in range(BYTE_VOCAB)}
    specials = dict(getattr(tokenizer.tkt_model, "_special", {}))
    added = [{"id": i, "content": name, "special": True} for name, i in sorted(specials.items(), key=lambda x: x[1])]
    doc = {"model": {"type": "BPE", "vocab": vocab, "merges": []}, "added_tokens": added,
           "pre_tokenizer": {"type": "ByteLevel"}}
    with open(path, "w") as f:
        json.dump(doc, f)


def write_byte_ranks(path):
    with open(path, "w") as f:
        for i in range(BYTE_VOCAB):
            f.write(f"{base64.b64encode(bytes([i])).decode()} {i}\n")


def install_stubs():
    """Modules CWM imports at load time but that this test never uses (or replaces)."""

    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m
        return m

    tiktoken = module("tiktoken")
    tiktoken.core = module("tiktoken.core", Encoding=ByteEncoding)
    tiktoken.load = module("tiktoken.load", load_tiktoken_bpe=load_ranks)

    class Anything:  # modal.App, modal.Sandbox, ... as type annotations only
        def __init__(self, *a, **k):
            pass

        def __getattr__(self, name):
            return Anything

    modal = module("modal", App=Anything, Sandbox=Anything, Secret=Anything, Image=Anything)
    modal.app = module("modal.app", App=Anything)
    grpclib = module("grpclib")
    grpclib.exceptions = module("grpclib.exceptions", GRPCError=type("GRPCError", (Exception,), {}))

    def retry(*a, **k):
        return lambda f: f

    module("tenacity", retry=retry, stop_after_attempt=lambda *a, **k: None,
           wait_exponential_jitter=lambda *a, **k: None, retry_if_exception_type=lambda *a, **k: None)
    module("numpy")
    # dialog.py imports the generic tool executor (code-execution servers) for a type annotation only
    module("cwm.rl.envs.tool_executor", ToolExecutor=Anything)
    unidiff = module("unidiff", PatchSet=Anything)
    unidiff.errors = module("unidiff.errors", UnidiffParseError=type("UnidiffParseError", (Exception,), {}))

    # The evaluation backend pulls in Modal and SWE-bench's harness; evaluation is not compared here
    # (the test stops where CWM would start evaluating), so it is replaced as a whole.
    class EvalResult:
        def __init__(self, outcome, message=""):
            self.outcome, self.message = outcome, message

    module("cwm.rl.swerl.eval_backend.eval", EvalResult=EvalResult, eval_instance_default=None)


# ---------------------------------------------------------------- CWM side

class LocalBackend:
    """CWM's ToolBackend over a local bash process: CWM's AsyncSession, as its sandbox server runs it
    (session.communicate with sanitize=False, as ModalBackend sends; get_exitcode after each
    command), the default tools and the edit/create plugins from the checkout."""

    def __init__(self, cwm, host_work_dir, start_script, session_timeout, plugins, env):
        self.loop = asyncio.new_event_loop()
        session_mod = cwm["session"]
        tools_mod = cwm["tools"]
        configs = cwm["default_configs"]
        # bash sees what a CWM container shows: the repository at /testbed, the plugins at CWM's bind
        # target; the rest of the system read-only, a private /tmp (also HOME, as in swebox's sandbox).
        bash = ["bwrap", "--die-with-parent", "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc",
                "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--bind", host_work_dir, "/testbed",
                "--ro-bind", configs.PLUGIN_ROOT, configs.PLUGIN_BIND_TARGET, "--chdir", "/"]
        for link in ("bin", "lib", "lib64", "sbin"):
            target = os.path.realpath("/" + link)
            bash += ["--symlink", target.lstrip("/"), "/" + link] if os.path.islink("/" + link) else ["--ro-bind", "/" + link, "/" + link]
        bash.append("/bin/bash")
        self.session = session_mod.AsyncSession(command_args=bash, timeout=session_timeout, start_script=start_script)
        self._env = env
        plugin_tools = tools_mod.make_python_plugins_from_dir(
            configs.PLUGIN_ROOT, configs.PLUGIN_BIND_TARGET, plugin_names=configs.PLUGIN_NAMES if plugins else [])
        self._tools = {**cwm["default_tools"].DEFAULT_TOOLS, **plugin_tools}

    @property
    def tools(self):
        return self._tools

    def apply_tool(self, tool_name, tool_input):
        if tool_name not in self._tools:
            raise sys.modules["cwm.rl.swerl.errors"].NoSuchToolError(f"Tool '{tool_name}' not found.")
        return self._tools[tool_name](self, tool_input)

    def _run(self, coro):
        # The session's bash inherits this process's environment and directory: set them as the
        # sandbox's, for the time of the call.
        old_env, old_cwd = dict(os.environ), os.getcwd()
        os.environ.clear()
        os.environ.update(self._env)
        os.chdir("/")
        try:
            return self.loop.run_until_complete(coro)
        finally:
            os.environ.clear()
            os.environ.update(old_env)
            os.chdir(old_cwd)

    def run_bash(self, command):
        result = self._run(self.session.communicate(command, sanitize=False))
        exit_code = None
        if result["status"] != "error":
            exit_code = self._run(self.session.get_exitcode())
        if exit_code is None:
            exit_code = -1
        return {**result, "exit_code": exit_code}

    def destroy(self):
        self.session.stop()

    def timed_out(self):
        return False


def load_cwm(checkout):
    sys.path.insert(0, checkout)
    install_stubs()
    # cwm/rl/envs/envs/__init__.py imports every environment (and their dependencies); only the SWE
    # one is needed, so the package is entered without running its __init__.
    envs = types.ModuleType("cwm.rl.envs.envs")
    envs.__path__ = [os.path.join(checkout, "cwm", "rl", "envs", "envs")]
    sys.modules["cwm.rl.envs.envs"] = envs
    mods = {}
    mods["swerl_tool"] = importlib.import_module("cwm.rl.envs.envs.swerl_tool")
    mods["session"] = importlib.import_module("cwm.rl.swerl.remote.session")
    mods["tools"] = importlib.import_module("cwm.rl.swerl.tools")
    mods["default_tools"] = importlib.import_module("cwm.rl.swerl.default_tools")
    mods["default_configs"] = importlib.import_module("cwm.rl.swerl.default_configs")
    mods["common"] = importlib.import_module("cwm.rl.swerl.common")
    mods["tokenizers"] = importlib.import_module("cwm.text.tokenizers")
    return mods


def sandbox_env(home):
    """The environment swebox's sandbox gives commands (sandbox/sandbox_init.cc), HOME aside."""
    return {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": home, "USER": "swebox",
            "LOGNAME": "swebox", "SHELL": "/bin/bash", "LANG": "C.UTF-8", "TERM": "dumb", "PAGER": "cat",
            "GIT_PAGER": "cat", "GIT_CONFIG_NOSYSTEM": "1"}


def run_cwm(cwm, tokenizer, scenario, host_work_dir, repo_root):
    st = cwm["swerl_tool"]
    cfg = st.SWERLConfig(context_size=scenario.get("context_size", 131072), max_turns=scenario.get("max_turns", 128),
                         session_timeout=scenario.get("bash_timeout", 120.0), plugins=scenario.get("plugins", True),
                         strict_format=scenario.get("strict", True), think=scenario.get("think", "off") != "off",
                         use_think_tag=scenario.get("think") == "tag",
                         )
    env = st.SWERLToolEnv(tokenizer, cfg)
    backends = []

    def make_backend(**args):
        configs = cwm["default_configs"]
        start = configs.SESSION_START_SCRIPT.format(plugin_python_path="/usr/bin/python3")
        start_script = f"{start}\n{args['startup_commands']}\ncd {args['work_dir']}"
        b = LocalBackend(cwm, host_work_dir, start_script, args["session_timeout"], args["plugins"], sandbox_env("/tmp"))
        backends.append(b)
        return b

    st.get_default_modal_backend = make_backend
    # Evaluation is not compared: stop where CWM would start it.
    env.eval = lambda episode, pred_patch: ({"pass": False, "evaluated": True},
                                            {"message": "evaluate", "pred_patch": pred_patch})
    args = {"instance_id": scenario["name"], "issue": PROBLEM_STATEMENT, "patch": "", "docker_url": "local",
            "repo_root_path": repo_root}
    state, tr = env.start(args)
    result = {"prompt": tr.observation_str, "observations": [], "termination": None, "message": ""}
    try:
        for action_text in scenario["actions"]:
            tokens = tokenizer.tkt_model.encode(action_text, allowed_special="all")
            tr = env.step(state, tokens)
            if tr.terminal:
                result["termination"] = classify_cwm(tr)
                result["message"] = (tr.info or {}).get("message", "")
                break
            result["observations"].append(tr.observation_str)
        else:
            result["termination"] = "running"
    finally:
        for b in backends:
            b.destroy()
    return result


def classify_cwm(tr):
    if tr.outcomes and tr.outcomes.get("evaluated"):
        return "submitted"
    msg = (tr.info or {}).get("message", "")
    for prefix, status in (("Context size exceeded", "context_exceeded"), ("Max turns reached", "max_turns"),
                           ("Tool call format error", "format_error"), ("Timeout", "sandbox_timeout")):
        if msg.startswith(prefix):
            return status
    return "other: " + msg


# ---------------------------------------------------------------- the fixture repository

PROBLEM_STATEMENT = "The function `greet` in app.py should greet by name, but it prints a fixed text."

FILES = {
    "app.py": "def greet(name):\n    print('hello world')\n\n\ndef main():\n    greet('x')\n",
    "dup.py": "x = 1\ny = 2\nx = 1\n",
    "README.md": "# fixture\n\nA repository for the differential test.\n",
    "pkg/__init__.py": "",
    "pkg/util.py": "".join(f"line_{i} = {i}\n" for i in range(1, 41)),
    "noeol.txt": "no final newline",
}
BINARY_FILES = {"latin1.txt": b"caf\xe9\nna\xefve\n"}


def git(*args, cwd, env=None):
    e = dict(os.environ, GIT_AUTHOR_NAME="swebox", GIT_AUTHOR_EMAIL="swebox@invalid", GIT_COMMITTER_NAME="swebox",
             GIT_COMMITTER_EMAIL="swebox@invalid", GIT_AUTHOR_DATE="@1700000000 +0000",
             GIT_COMMITTER_DATE="@1700000000 +0000", GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    return subprocess.run(["git", *args], cwd=cwd, env=e, check=True, capture_output=True, text=True).stdout


def make_repo(path):
    os.makedirs(path)
    git("init", "-q", "-b", "main", cwd=path)
    for name, text in FILES.items():
        os.makedirs(os.path.dirname(os.path.join(path, name)) or path, exist_ok=True)
        with open(os.path.join(path, name), "w") as f:
            f.write(text)
    for name, data in BINARY_FILES.items():
        with open(os.path.join(path, name), "wb") as f:
            f.write(data)
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", "fixture", cwd=path)
    return git("rev-parse", "HEAD", cwd=path).strip()


# ---------------------------------------------------------------- scenarios

def call(tool, body):
    return f"<tool: {tool}>\n{body}\n</tool>"


SUMMARY = "## Summary\n\nDone."
PATCH_STEP = call("bash", "sed -i \"s/'hello world'/'hello ' + name/\" app.py && git diff > fix.patch")

SCENARIOS = [
    {"name": "bash-basic", "actions": [
        call("bash", "echo hello"),
        call("bash", "printf 'no newline'"),
        call("bash", "printf 'two\\n\\n'"),
        call("bash", "true"),
        call("bash", "cat app.py; ls"),
        call("bash", "echo out; echo err >&2; echo out2"),
        call("bash", "cd pkg && ls"),
        call("bash", "ls; cd .."),
        call("bash", "false"),
        call("bash", "printf 'caf\\xe9 ok\\n'"),
        PATCH_STEP, call("submit", "fix.patch"), SUMMARY]},
    {"name": "bash-errors", "actions": [
        call("bash", "nosuchcommand"),
        call("bash", "echo one\nnosuch2\necho three"),
        call("bash", "ls /nonexistent"),
        call("bash", "x=1; echo $((x / 0))"),
        PATCH_STEP, call("submit", "fix.patch"), SUMMARY]},
    {"name": "bash-session-state", "actions": [
        call("bash", "export FOO=bar; cd pkg"),
        call("bash", "echo $FOO; ls"),
        call("bash", "f() { echo in f $1; }"),
        call("bash", "f 7"),
        call("bash", "exit 3"),
        call("bash", "echo $FOO; ls"),
        PATCH_STEP, call("submit", "fix.patch"), SUMMARY]},
    {"name": "bash-syntax-error", "bash_timeout": 3, "actions": [
        call("bash", "echo before"),
        call("bash", "if then fi"),
        call("bash", "echo after"),
        PATCH_STEP, call("submit", "fix.patch"), SUMMARY]},
    {"name": "bash-unclosed-quote", "bash_timeout": 3, "actions": [
        call("bash", "echo 'unclosed"),
        call("bash", "echo after"),
        PATCH_STEP, call("submit", "fix.patch"), SUMMARY]},
    {"name": "bash-unclosed-heredoc", "bash_timeout": 3, "actions": [
        call("bash", "cat <<EOF\nline"),
        call("bash", "echo after"),
        PATCH_STEP, call("submit", "fix.patch"), SUMMARY]},
    {"name": "bash-reads-stdin", "bash_timeout": 3, "actions": [
        call("bash", "cat"),
        call("bash", "read line; echo got:$line"),
        call("bash", "echo after"),
        PATCH_STEP, call("submit", "fix.patch"), SUMMARY]},
    {"name": "bash-timeout", "bash_timeout": 2, "actions": [
        call("bash", "cd pkg; sleep 10"),
        call("bash", "ls"),
        PATCH_STEP, call("submit", "fix.patch"), SUMMARY]},
    {"name": "bash-too-long", "actions": [
        call("bash", "head -c 600000 /dev/zero | tr '\\0' a"),
        call("bash", "echo after"),
        PATCH_STEP, call("submit", "fix.patch"), SUMMARY]},
    {"name": "long-output-truncated", "actions": [
        call("bash", "seq 1 40000"),
        call("bash", "echo short"),
        PATCH_STEP, call("submit", "fix.patch"), SUMMARY]},
    {"name": "edit", "actions": [
        call("edit", "app.py\n<<<<<<< SEARCH\n    print('hello world')\n=======\n    print('hello ' + name)\n>>>>>>> REPLACE"),
        call("edit", "pkg/util.py\n<<<<<<< SEARCH\nline_20 = 20\n=======\nline_20 = 200\nline_20b = 201\n>>>>>>> REPLACE"),
        call("edit", "dup.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 3\n>>>>>>> REPLACE"),
        call("edit", "app.py\n<<<<<<< SEARCH\nprint('nothing')\n=======\nx\n>>>>>>> REPLACE"),
        call("edit", "app.py\n<<<<<<< SEARCH\ndef main():\n  greet('x')\n=======\nx\n>>>>>>> REPLACE"),
        call("edit", "missing.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE"),
        call("edit", "app.py\nno block here"),
        call("edit", "app.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n<<<<<<< SEARCH\nc\n=======\nd\n>>>>>>> REPLACE"),
        call("edit", "noeol.txt\n<<<<<<< SEARCH\nno final newline\n=======\nnow two\nlines\n>>>>>>> REPLACE"),
        call("edit", "latin1.txt\n<<<<<<< SEARCH\nna\n=======\nno\n>>>>>>> REPLACE"),
        call("bash", "git diff > fix.patch"), call("submit", "fix.patch"), SUMMARY]},
    {"name": "create", "actions": [
        call("create", "new.py\nprint('new')\n"),
        call("create", "new2.txt\nno newline at end"),
        call("create", "app.py\nexists"),
        call("create", "nodir/x.py\nx"),
        call("create", "pkg/../made_via_dotdot.txt\nhello"),
        call("create", "only_path.txt"),
        call("create", "\nno path on the first line"),
        call("create", "nodir/../nodir2/x.py\nx"),
        call("bash", "cd pkg"),
        call("create", "in_pkg.txt\nmade in pkg"),
        call("edit", "in_pkg.txt\n<<<<<<< SEARCH\nmade in pkg\n=======\nedited in pkg\n>>>>>>> REPLACE"),
        call("bash", "cat in_pkg.txt; cd .."),
        call("bash", "ls; cat new.py made_via_dotdot.txt"),
        PATCH_STEP, call("submit", "fix.patch"), SUMMARY]},
    {"name": "submit-variants", "actions": [
        call("submit", "missing.patch"),
        call("bash", "touch empty.patch; echo 'not a diff' > notdiff.patch"),
        call("submit", "empty.patch"),
        call("submit", "notdiff.patch"),
        PATCH_STEP,
        call("bash", "cp fix.patch ~/x.patch; cp fix.patch 'with space.patch'"),
        call("submit", "~/x.patch"),
        call("submit", "$PWD/fix.patch"),
        call("submit", "fi*.patch"),
        call("submit", "'with space.patch'"),
        call("submit", "  fix.patch  "),
        SUMMARY]},
    {"name": "format-errors-lenient", "strict": False, "actions": [
        "no tool call at all",
        call("bash", "echo a") + "\n" + call("bash", "echo b"),
        "<tool: bash>\necho a\n",
        call("bash", "   "),
        call("nosuch", "x"),
        "text",
        "text again",
        "third text",
        call("bash", "echo still going"),
        PATCH_STEP, call("submit", "fix.patch"), "final words without a heading"]},
    {"name": "format-error-strict", "strict": True, "actions": [call("bash", "echo a"), "no tool call"]},
    {"name": "strict-summary-needs-heading", "strict": True, "actions": [
        PATCH_STEP, call("submit", "fix.patch"), "done, no heading"]},
    {"name": "think-tag", "think": "tag", "strict": False, "actions": [
        "let me look</think>\n" + call("bash", "echo hi"),
        "no end marker " + call("bash", "echo hi"),
        "a</think>b</think>" + call("bash", "echo hi"),
        "ok</think>\n" + PATCH_STEP, "ok</think>\n" + call("submit", "fix.patch"), "done</think>\n" + SUMMARY]},
    {"name": "think-token", "think": "token", "strict": False, "actions": [
        "let me look<|reasoning_thinking_end|>\n" + call("bash", "echo hi"),
        "missing marker " + call("bash", "echo hi"),
        "ok<|reasoning_thinking_end|>" + PATCH_STEP,
        "ok<|reasoning_thinking_end|>" + call("submit", "fix.patch"),
        "done<|reasoning_thinking_end|>" + SUMMARY]},
    {"name": "no-plugins", "plugins": False, "strict": False, "actions": [
        call("edit", "app.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE"),
        PATCH_STEP, call("submit", "fix.patch"), SUMMARY]},
    {"name": "max-turns", "max_turns": 3, "actions": [call("bash", "echo 1"), call("bash", "echo 2"), call("bash", "echo 3")]},
    {"name": "context-exceeded", "context_size": 4200, "actions": [
        call("bash", "echo 1"), call("bash", "seq 1 300"), call("bash", "echo 3")]},
    {"name": "eot-ended-action", "actions": [call("bash", "echo hi") + "<|eot_id|>",
                                             PATCH_STEP, call("submit", "fix.patch"), SUMMARY]},
]


# ---------------------------------------------------------------- swebox side

def swebox_help(swebox):
    return subprocess.run([swebox, "run", "--help"], capture_output=True, text=True).stdout


def run_swebox(swebox, scenarios, work, base, templates, tokenizer_file, use_tokenizer, profile):
    """One `swebox run` per distinct configuration; returns {name: result}."""
    results = {}
    groups = {}
    for s in scenarios:
        key = (s.get("think", "off"), s.get("strict", True), s.get("plugins", True), s.get("max_turns", 128),
               s.get("context_size", 131072), s.get("bash_timeout", 120.0))
        groups.setdefault(key, []).append(s)
    env_table = os.path.join(work, "environments.json")
    with open(env_table, "w") as f:
        json.dump({"defaults": {}, "repos": {"local/fixture": [{"versions": ["*"], "apt": ["python3", "git"]}]}}, f)
    for gi, (key, group) in enumerate(sorted(groups.items(), key=lambda kv: str(kv[0]))):
        think, strict, plugins, max_turns, context, bash_timeout = key
        gdir = os.path.join(work, f"swebox-{gi}")
        os.makedirs(gdir)
        suite, replay = os.path.join(gdir, "suite.jsonl"), os.path.join(gdir, "replay.jsonl")
        with open(suite, "w") as sf, open(replay, "w") as rf:
            for s in group:
                sf.write(json.dumps({"repo": "local/fixture", "instance_id": "local__fixture-" + s["name"],
                                     "base_commit": base, "patch": "", "test_patch": "",
                                     "problem_statement": PROBLEM_STATEMENT, "version": "1.0",
                                     "FAIL_TO_PASS": "[]", "PASS_TO_PASS": "[]"}) + "\n")
                rf.write(json.dumps({"schema": "swebox.trajectory/1", "instance_id": "local__fixture-" + s["name"],
                                     "sample": 0, "model": "replay",
                                     "turns": [{"index": i + 1, "action": {"text": a}}
                                               for i, a in enumerate(s["actions"])]}) + "\n")
        out = os.path.join(gdir, "out")
        cmd = [swebox, "run", "--suite", suite, "--repos", os.path.join(work, "repos"), "--out", out,
               "--policy", "replay:" + replay, "--no-eval", "--quiet", "--environments", env_table,
               "--cache", os.path.join(work, "cache"), "-j", "2",
               "--max-turns", str(max_turns), "--context-size", str(context), "--bash-timeout", str(bash_timeout),
               "--think", think, "--strict" if strict else "--lenient"]
        if profile:
            cmd += ["--profile", "cwm"]
        if not plugins:
            cmd.append("--no-plugins")
        if templates:
            cmd += ["--templates", templates]
        if use_tokenizer:
            cmd += ["--tokenizer", tokenizer_file]
        p = subprocess.run(cmd, capture_output=True, text=True)
        trajs = os.path.join(out, "trajectories.jsonl")
        if not os.path.exists(trajs):
            for s in group:
                results[s["name"]] = {"error": f"swebox run failed ({p.returncode}): {p.stderr[-2000:]}"}
            continue
        by_id = {}
        with open(trajs) as f:
            for line in f:
                e = json.loads(line)
                by_id[e["instance_id"]] = e
        for s in group:
            e = by_id.get("local__fixture-" + s["name"])
            if e is None:
                results[s["name"]] = {"error": "no trajectory recorded; swebox said: " + p.stderr[-2000:]}
                continue
            turns = e.get("turns", [])
            obs = [t.get("observation", {}).get("text", "") for t in turns]
            term = e.get("terminal", {})
            status = term.get("exit_status")
            # the terminal turn has no observation, as CWM's terminal transition has none
            if obs and obs[-1] == "":
                obs = obs[:-1]
            results[s["name"]] = {"prompt": (e.get("prompt") or {}).get("text", ""), "observations": obs,
                                  "termination": status, "message": term.get("reason", "")}
    return results


# ---------------------------------------------------------------- comparison

MASK = re.compile(r"(\* Remaining tokens: )-?\d+")


def first_difference(a, b):
    n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    lo = max(0, n - 60)
    return f"at byte {n}:\n      cwm:    {a[lo:n + 80]!r}\n      swebox: {b[lo:n + 80]!r}"


def compare(name, cwm, sbx, mask_tokens):
    diffs = []
    if "error" in sbx:
        return [f"{name}: {sbx['error']}"]
    fix = (lambda s: MASK.sub(r"\1#", s)) if mask_tokens else (lambda s: s)
    if fix(cwm["prompt"]) != fix(sbx["prompt"]):
        diffs.append(f"{name}: first prompt differs {first_difference(fix(cwm['prompt']), fix(sbx['prompt']))}")
    for i, (a, b) in enumerate(zip(cwm["observations"], sbx["observations"])):
        if fix(a) != fix(b):
            diffs.append(f"{name}: observation {i + 1} differs {first_difference(fix(a), fix(b))}")
    if len(cwm["observations"]) != len(sbx["observations"]):
        diffs.append(f"{name}: {len(cwm['observations'])} observations from CWM, {len(sbx['observations'])} from swebox")
    if cwm["termination"] != sbx["termination"]:
        diffs.append(f"{name}: termination: cwm {cwm['termination']} ({cwm['message'][:200]!r}), "
                     f"swebox {sbx['termination']} ({sbx['message'][:200]!r})")
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cwm", default=os.environ.get("SWEBOX_CWM_DIR", ""), help="a checkout of facebookresearch/cwm")
    ap.add_argument("--swebox", default=os.path.join(REPO_ROOT, "build", "swebox"))
    ap.add_argument("--work", help="working directory (default: a fresh temporary one)")
    ap.add_argument("--templates", help="template set to use (default: imported from the checkout)")
    ap.add_argument("--only", help="comma-separated scenario names")
    ap.add_argument("--keep", action="store_true", help="keep the working directory")
    ap.add_argument("--dump", action="store_true", help="print both sides' texts for each scenario")
    args = ap.parse_args()

    if not args.cwm:
        print("SKIP: no CWM checkout given (set SWEBOX_CWM_DIR or pass --cwm; see this script's header)")
        return SKIP
    cwm_dir = os.path.realpath(args.cwm)
    if not os.path.isfile(os.path.join(cwm_dir, "cwm/rl/envs/envs/swerl_tool.py")):
        print(f"SKIP: {args.cwm} is not a checkout of facebookresearch/cwm (no cwm/rl/envs/envs/swerl_tool.py)")
        return SKIP
    if cwm_dir == REPO_ROOT or cwm_dir.startswith(REPO_ROOT + os.sep):
        print(f"error: the CWM checkout {cwm_dir} is inside this repository; put it outside (nothing of CWM is "
              "committed here)", file=sys.stderr)
        return 2
    if not os.access(args.swebox, os.X_OK):
        print(f"error: no swebox binary at {args.swebox} (build it, or pass --swebox)", file=sys.stderr)
        return 2

    scenarios = SCENARIOS
    if args.only:
        wanted = set(args.only.split(","))
        scenarios = [s for s in SCENARIOS if s["name"] in wanted]
        if not scenarios:
            print(f"error: --only names no scenario; known: {', '.join(s['name'] for s in SCENARIOS)}", file=sys.stderr)
            return 2

    work = args.work or tempfile.mkdtemp(prefix="cwm-diff-")
    os.makedirs(work, exist_ok=True)
    try:
        repo = os.path.join(work, "repos", "local__fixture")
        base = make_repo(repo)
        ranks = os.path.join(work, "bytes.tiktoken")
        write_byte_ranks(ranks)

        help_text = swebox_help(args.swebox)
        profile = "--profile" in help_text
        use_tokenizer = "--tokenizer" in help_text
        templates = args.templates
        if not templates:
            templates = os.path.join(work, "cwm-templates")
            p = subprocess.run([args.swebox, "templates", "import-cwm", cwm_dir, "--out", templates],
                               capture_output=True, text=True)
            if p.returncode != 0:
                print(f"note: swebox templates import-cwm failed ({p.returncode}): {p.stderr.strip()[:500]}; "
                      "comparing with the shipped wording")
                templates = None

        cwm = load_cwm(cwm_dir)
        tokenizer = cwm["tokenizers"].CWMInstructTokenizer(ranks)
        cwm_results = {}
        for s in scenarios:
            wd = os.path.join(work, "cwm", s["name"], "testbed")
            git("clone", "-q", repo, wd, cwd=work)
            git("remote", "remove", "origin", cwd=wd)
            cwm_results[s["name"]] = run_cwm(cwm, tokenizer, s, wd, "/testbed")

        tokenizer_json = os.path.join(work, "bytes-tokenizer.json")
        write_byte_tokenizer_json(tokenizer_json, tokenizer)
        sbx_results = run_swebox(args.swebox, scenarios, work, base, templates, tokenizer_json, use_tokenizer, profile)

        notes = []
        if not profile:
            notes.append("swebox run has no --profile: ran with its defaults")
        if not use_tokenizer:
            notes.append("swebox run has no --tokenizer: 'Remaining tokens' numbers masked, truncation lengths differ")
        if not templates:
            notes.append("no imported CWM wording: prompts and notices differ by design")
        diffs = []
        for s in scenarios:
            if args.dump:
                print(f"==== {s['name']}\n-- cwm: {json.dumps(cwm_results[s['name']], indent=1)}\n"
                      f"-- swebox: {json.dumps(sbx_results[s['name']], indent=1)}")
            d = compare(s["name"], cwm_results[s["name"]], sbx_results[s["name"]], not use_tokenizer)
            print(f"{'ok  ' if not d else 'DIFF'} {s['name']} ({len(cwm_results[s['name']]['observations'])} observations,"
                  f" {cwm_results[s['name']]['termination']})")
            diffs += d
        for n in notes:
            print("note:", n)
        for d in diffs:
            print("-", d)
        print(f"{len(scenarios)} scenarios, {len(diffs)} differences")
        return 1 if diffs or notes else 0
    finally:
        if args.keep or args.work:
            print("work directory:", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
