# swebox's Python tracer: records the execution of one function call in the observation-action
# format CWM was mid-trained on (docs/traces.md). It runs inside the sandbox, in the traced
# program's own interpreter (Debian's python3, 3.11 and up), and is embedded in the swebox binary
# at build time from this file.
#
#   python3 -c "$(cat swebox_tracer.py)" serve
#
# reads JSON lines on stdin: first the settings, then one job per line
#   {"code": SOURCE, "entry": NAME, "input": "<text between the call's parentheses>"}
# and writes one JSON line per job on stdout, in order. Each job runs in a process forked from this
# warmed interpreter (its own process group, resource limits and deadline), so that one program
# cannot change another's Python state and a crash, a hang or a fork bomb ends with its process.
#
# This file does not render CWM's token text: it sends each frame as (event, line, LOCALS, VALUE),
# LOCALS and VALUE already as Python's json.dumps writes them, and swebox renders and checks the
# text (trajectories/python_trace.h). Every choice the published format leaves open is in
# docs/traces.md; the comments here say how, not what.
import ast
import gc
import io
import itertools
import json
import os
import re
import resource
import select
import signal
import sys
import time

PROGRAM_FILE = "<program>"   # the traced program's code objects; nothing else is traced
CALL_FILE = "<input>"        # the call's arguments, evaluated untraced

# The token strings of CWM's trace format; the byte cap counts the text swebox will render.
FRAME_SEP, ACTION_SEP, ARG_SEP = "<|frame_sep|>", "<|action_sep|>", "<|arg_sep|>"
EVENT_TOKEN = {"call": "<|call_sep|>", "line": "<|line_sep|>", "return": "<|return_sep|>",
               "exception": "<|exception_sep|>"}
HEADER = "<|begin_of_text|><|trace_context_start|>"
START_MARKER = "  # << START_OF_TRACE"
END_OF_TEXT = "<|end_of_text|>"

DEFAULTS = {
    "max_events": 10000,      # frames in a trace
    "max_bytes": 1 << 20,     # bytes of the rendered text, prompt included
    "max_repr": 1024,         # characters of one repr (longer: cut, "..." appended)
    "repr_cpu_s": 0.5,        # CPU seconds one repr may take
    "timeout_s": 5.0,         # wall seconds of one job
    "memory_bytes": 512 << 20,  # address space of one job's process
    "max_stdout": 64 << 10,   # characters of stdout (and of stderr) kept
    "file_bytes": 16 << 20,   # largest file a job may write
}

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_SIMPLE_TYPES = frozenset([int, float, bool, type(None), complex])
_GENERATOR_FLAGS = 0x20 | 0x80 | 0x200   # CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR
try:
    import dis
    _YIELD_VALUE = dis.opmap["YIELD_VALUE"]
except Exception:  # pragma: no cover
    _YIELD_VALUE = -1


class ReprTimeout(BaseException):
    pass


class CappedText(io.TextIOBase):
    """sys.stdout/sys.stderr of a job: keeps the first `cap` characters, counts the rest."""

    def __init__(self, cap):
        self.parts, self.kept, self.cap, self.total = [], 0, cap, 0

    def writable(self):
        return True

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not " + type(s).__name__)
        self.total += len(s)
        room = self.cap - self.kept
        if room > 0:
            piece = s[:room]
            self.parts.append(piece)
            self.kept += len(piece)
        return len(s)

    def getvalue(self):
        return "".join(self.parts)


def _on_repr_timer(signum, frame):
    raise ReprTimeout()


class Tracer:
    def __init__(self, lines, settings, header_bytes):
        self.lines = lines
        self.max_events = settings["max_events"]
        self.max_bytes = settings["max_bytes"]
        self.max_repr = settings["max_repr"]
        self.repr_cpu_s = settings["repr_cpu_s"]
        self.frames = []
        self.nbytes = header_bytes
        self.capped = None
        self.entry = None          # the entry call's frame object
        self.done = False
        self.base = None           # name -> repr since the last call/return frame, or None
        self.addresses = {}
        self.full_locals = settings.get("full_locals", False)   # tests: each frame's locals without ".."
        self.timed_out = {}        # id -> value: a repr that timed out is not tried again
        self.on_capped = None

    # Values ---------------------------------------------------------------------------------
    def _normalise(self, text):
        if " at 0x" in text:
            text = _ADDRESS.sub(self._address, text)
        if len(text) > self.max_repr:
            text = text[:self.max_repr] + "..."
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:   # lone surrogates from a custom __repr__
                text = text.encode("utf-8", "backslashreplace").decode("utf-8")
        return text

    def _address(self, match):
        key = match.group(0)
        n = self.addresses.get(key)
        if n is None:
            n = self.addresses[key] = len(self.addresses) + 1
        return " at 0x%x" % n

    def repr_of(self, value):
        kind = type(value)
        if kind in _SIMPLE_TYPES:
            try:
                return self._normalise(repr(value))
            except Exception as e:   # an int past sys.get_int_max_str_digits
                return "<repr failed: %s>" % type(e).__name__
        if kind is str and len(value) <= self.max_repr:
            return self._normalise(repr(value))
        if self.timed_out.get(id(value), self) is value:
            return "<repr timed out>"
        # Anything else may run user code (a __repr__, or one of an element): bounded in CPU time.
        signal.setitimer(signal.ITIMER_VIRTUAL, self.repr_cpu_s)
        try:
            if kind in _BOUNDED:
                text = bounded_repr(value, self.max_repr + 1, set())
                if len(text) > self.max_repr and " at 0x" in text:
                    # Numbering addresses shortens the text: take enough to still pass the cut.
                    text = bounded_repr(value, 4 * self.max_repr + 64, set())
            else:
                text = repr(value)
            if type(text) is not str:
                raise TypeError("__repr__ returned non-string")
        except ReprTimeout:
            self.timed_out[id(value)] = value
            return "<repr timed out>"
        except BaseException as e:
            return "<repr failed: %s>" % type(e).__name__
        finally:
            signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        return self._normalise(text)

    # Frames ---------------------------------------------------------------------------------
    def _source(self, lineno):
        if lineno is not None and 1 <= lineno <= len(self.lines):
            return self.lines[lineno - 1]
        return "\n"

    def _add(self, event, lineno, locals_json, value_json):
        size = len(EVENT_TOKEN[event]) + len(ACTION_SEP) + len(self._source(lineno).encode("utf-8")) + len(FRAME_SEP)
        if locals_json is not None:
            size += len(locals_json)
        if value_json is not None:
            size += len(ARG_SEP) + len(value_json)
        if len(self.frames) >= self.max_events:
            self._cap("events")
        if self.nbytes + size + len(END_OF_TEXT) > self.max_bytes:
            self._cap("bytes")
        self.nbytes += size
        if self.full_locals:
            self.frames.append([event, lineno, locals_json, value_json, self.last_full if locals_json is not None else None])
        else:
            self.frames.append([event, lineno, locals_json, value_json])

    def _cap(self, reason):
        sys.settrace(None)
        self.capped = reason
        self.done = True
        self.on_capped()   # writes the result and exits the process

    def _locals(self, frame, full):
        out = {}
        base = {} if full or self.base is None else self.base
        fresh = {}
        for name, value in frame.f_locals.items():
            text = self.repr_of(value)
            fresh[name] = text
            out[name] = ".." if base.get(name) == text else text
        self.base = fresh
        if self.full_locals:
            self.last_full = json.dumps(fresh)
        return json.dumps(out)

    def global_trace(self, frame, event, arg):
        if self.done or frame.f_code.co_filename != PROGRAM_FILE:
            return None
        if self.entry is None:
            self.entry = frame
        try:
            self._add("call", frame.f_lineno, self._locals(frame, True), None)
        except RecursionError:   # the program's recursion left the tracer no stack: cut here
            self._cap("recursion")
        return self.local_trace

    def local_trace(self, frame, event, arg):
        if self.done:
            return None
        try:
            return self._local_event(frame, event, arg)
        except RecursionError:
            self._cap("recursion")

    def _local_event(self, frame, event, arg):
        if event == "line":
            self._add("line", frame.f_lineno, self._locals(frame, False), None)
        elif event == "return":
            self._add("return", frame.f_lineno, None, json.dumps(self.repr_of(arg)))
            self.base = None
            if frame is self.entry and not _suspended(frame):
                self.done = True
                sys.settrace(None)
                return None
        elif event == "exception":
            self._add("exception", frame.f_lineno, None, json.dumps(self.repr_of(arg[1])))
        return self.local_trace


_CONTAINERS = frozenset([list, tuple, dict, set, frozenset])
_TEXTS = frozenset([str, bytes, bytearray])
_SCALARS = frozenset([int, float, bool, type(None)])
_BOUNDED = _CONTAINERS | _TEXTS


def _long_text_repr(value, budget):
    """A prefix, longer than `budget`, of repr(value) for a str, bytes or bytearray longer than
    `budget`, made from its first `budget` items: repr picks its quotes from the whole value, so the
    head is quoted as the whole would be."""
    kind = type(value)
    single, double = ("'", '"') if kind is str else (b"'", b'"')
    whole_double = single in value and double not in value   # repr's own choice of quotes
    head = value[:budget]
    if kind is bytearray:   # escapes ' inside either quotes: only the outer quotes can differ
        text = repr(head)
        start, quote = len("bytearray(b"), '"' if whole_double else "'"
        return "bytearray(b" + quote + text[start + 1:-2] + quote + ")"
    if whole_double:        # ' unescaped; head has no "
        text = repr(head)
        if text.endswith("'"):   # head has no quote at all: same body
            start = text.index("'")
            text = text[:start] + '"' + text[start + 1:-1] + '"'
        return text
    return repr(head + double)   # single quotes, ' escaped, as in the whole


def bounded_repr(value, budget, active):
    """repr(value) of a built-in container, stopped once past `budget` characters: the same text as
    repr(value)[:budget] whenever that is shorter than the whole, without building the whole (a
    million-element list costs what its first elements cost). `active`: containers being written
    (a list that holds itself is "[...]", as repr writes it)."""
    kind = type(value)
    if kind in _TEXTS:
        return _long_text_repr(value, budget) if len(value) > budget else repr(value)
    if kind not in _CONTAINERS:
        return repr(value)
    if kind is list or kind is tuple or kind is dict:
        # The common case, in C: a head of at most budget/3 + 2 items of plain scalars (each item
        # takes 3 characters at least: "x, "), written by repr itself. Its text without the closing
        # bracket is a prefix of the whole repr, longer than the budget when the value has more.
        count = budget // 3 + 2
        head = value[:count] if kind is not dict else None
        if kind is dict:
            if len(value) <= count:
                head = value
            else:
                head = dict(itertools.islice(value.items(), count))
            scalars = set(map(type, head)) | set(map(type, head.values()))
        else:
            scalars = set(map(type, head))
        if scalars <= _SCALARS:
            text = repr(head)
            return text if len(head) == len(value) else text[:-1]
    if id(value) in active:
        return {list: "[...]", dict: "{...}", tuple: "(...)"}.get(kind, "%s(...)" % kind.__name__)
    if not value:
        return {list: "[]", tuple: "()", dict: "{}", set: "set()", frozenset: "frozenset()"}[kind]
    active.add(id(value))
    try:
        parts, used = [], 0
        if kind is dict:
            items = ((k, v) for k, v in value.items())
        else:
            items = iter(value)
        for item in items:
            if kind is dict:
                key = bounded_repr(item[0], max(16, budget - used), active)
                text = key + ": " + bounded_repr(item[1], max(16, budget - used - len(key) - 2), active)
            else:
                text = bounded_repr(item, max(16, budget - used), active)
            parts.append(text)
            used += len(text) + 2
            if used > budget:
                break
        body = ", ".join(parts)
        if kind is list:
            return "[" + body + "]"
        if kind is tuple:
            return "(" + body + ("," if len(value) == 1 else "") + ")"
        if kind is dict:
            return "{" + body + "}"
        if kind is set:
            return "{" + body + "}"
        return "frozenset({" + body + "})"
    finally:
        active.discard(id(value))


def _suspended(frame):
    """A generator's or coroutine's return event at a yield or await, not at its end."""
    if not frame.f_code.co_flags & _GENERATOR_FLAGS:
        return False
    code = frame.f_code.co_code
    i = frame.f_lasti
    return 0 <= i < len(code) and code[i] == _YIELD_VALUE


def _entry_line(tree, entry):
    """The line of the last top-level def (or class) named `entry`: the one a call reaches."""
    found = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == entry:
            found = node.lineno
    return found


def _lines(code):
    """The program's lines as Python numbers them: split at "\\n" only (code ends with one)."""
    return [line + "\n" for line in code.split("\n")[:-1]]


def run_child(job, settings, answer_fd):
    """In the forked process: run one job, write its result line to answer_fd, exit."""
    started = time.monotonic()
    my_pid = os.getpid()
    result = {"status": "error"}
    stdout = CappedText(settings["max_stdout"])
    stderr = CappedText(settings["max_stdout"])
    tracer = None

    def finish(status=None):
        if os.getpid() != my_pid:   # a process the program forked
            os._exit(0)
        sys.settrace(None)
        sys.setrecursionlimit(sys.getrecursionlimit() + 10000)   # room to write the result at any depth
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        if status:
            result["status"] = status
        if tracer is not None:
            result["frames"] = tracer.frames
            result["complete"] = tracer.done and tracer.capped is None and tracer.entry is not None
            if tracer.capped:
                result["capped"] = tracer.capped
        result["stdout"] = stdout.getvalue()
        result["stdout_truncated"] = stdout.total > stdout.kept
        result["stderr"] = stderr.getvalue()
        result["stderr_truncated"] = stderr.total > stderr.kept
        result["run_s"] = round(time.monotonic() - started, 6)
        usage = resource.getrusage(resource.RUSAGE_SELF)   # this process's own, since the fork
        result["cpu_s"] = round(usage.ru_utime + usage.ru_stime, 6)
        try:
            data = (json.dumps(result) + "\n").encode("utf-8", "backslashreplace")
        except BaseException as e:
            data = (json.dumps({"status": "error", "error": "result not serialisable: %r" % e}) + "\n").encode()
        view = memoryview(data)
        while view:
            n = os.write(answer_fd, view)
            view = view[n:]
        os._exit(0)

    def on_deadline(signum, frame):
        result["error"] = "timed out after %g s" % settings["timeout_s"]
        finish("timeout")

    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        limit = settings["memory_bytes"]
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_FSIZE, (settings["file_bytes"], settings["file_bytes"]))
        cpu = int(settings["timeout_s"]) + 2
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        signal.signal(signal.SIGALRM, on_deadline)
        signal.signal(signal.SIGVTALRM, _on_repr_timer)
        signal.setitimer(signal.ITIMER_REAL, settings["timeout_s"])
        sys.stdin = io.StringIO("")
        sys.stdout, sys.stderr = stdout, stderr

        # Python's own reading of a source: "\r\n" and "\r" end lines as "\n" does.
        code = job["code"].replace("\r\n", "\n").replace("\r", "\n")
        if not code.endswith("\n"):
            code += "\n"
        entry = job["entry"]
        try:
            tree = ast.parse(code, PROGRAM_FILE)
        except SyntaxError as e:
            result["error"] = "the program does not compile: %s (line %s)" % (e.msg, e.lineno)
            finish("error")
        entry_line = _entry_line(tree, entry)
        if entry_line is None:
            result["error"] = "the program has no top-level def or class named %r" % entry
            finish("error")
        result["entry_line"] = entry_line
        result["program"] = code
        lines = _lines(code)
        context = "".join(lines[:entry_line - 1]) + lines[entry_line - 1][:-1] + START_MARKER + "\n" + "".join(lines[entry_line:])
        header_bytes = len(HEADER) + len(context.encode("utf-8")) + len(FRAME_SEP)

        namespace = {"__name__": "__main__", "__builtins__": __builtins__}
        try:
            exec(compile(tree, PROGRAM_FILE, "exec"), namespace)
        except BaseException as e:
            result["error"] = "the program failed at import: %s" % _describe(e)
            finish("error")
        function = namespace.get(entry)
        if not callable(function):
            result["error"] = "%r is not callable after the program ran" % entry
            finish("error")
        try:
            args, kwargs = eval(compile("(lambda *a, **k: (a, k))(%s\n)" % job["input"], CALL_FILE, "eval"), namespace)
        except BaseException as e:
            result["error"] = "the input does not evaluate: %s" % _describe(e)
            finish("error")

        tracer = Tracer(lines, settings, header_bytes)
        tracer.on_capped = lambda: finish("capped")
        sys.settrace(tracer.global_trace)
        try:
            value = function(*args, **kwargs)
            value = _drive(value)
        except BaseException as e:
            sys.settrace(None)
            result["exception"] = tracer._normalise(_exception_repr(e))
            finish("exception")
        sys.settrace(None)
        result["return_repr"] = tracer.repr_of(value)
        finish("ok")
    except SystemExit:
        result["error"] = "internal: SystemExit escaped"
        finish("error")
    except BaseException as e:  # the harness itself failed (e.g. out of memory while tracing)
        result["error"] = "tracer failed: %s" % _describe(e)
        finish("error")


def _drive(value):
    """An entry that is a generator or coroutine function runs to its end (docs/traces.md)."""
    import types
    if isinstance(value, types.CoroutineType):
        import asyncio
        return asyncio.run(value)
    if isinstance(value, types.GeneratorType):
        return list(value)
    return value


def _exception_repr(e):
    try:
        return repr(e)
    except BaseException:
        return "<%s>" % type(e).__name__


def _describe(e):
    try:
        return "%s: %s" % (type(e).__name__, e)
    except BaseException:
        return type(e).__name__


def run_job(job, settings):
    """In the server: fork, wait for the child's line or its deadline, kill its process group."""
    started = time.monotonic()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            os.setpgid(0, 0)
            run_child(job, settings, write_fd)
        finally:
            os._exit(70)
    os.close(write_fd)
    try:
        os.setpgid(pid, pid)
    except OSError:
        pass
    deadline = started + settings["timeout_s"] + 2.0
    chunks, line = [], None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([read_fd], [], [], left)
        if not ready:
            break
        data = os.read(read_fd, 1 << 20)
        if not data:
            break
        chunks.append(data)
        if data.endswith(b"\n"):
            line = b"".join(chunks)
            break
    os.close(read_fd)
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    _, status = os.waitpid(pid, 0)
    wall = round(time.monotonic() - started, 6)
    if line is not None:
        try:
            result = json.loads(line)
        except ValueError:
            result = {"status": "error", "error": "unreadable result from the job's process"}
    elif time.monotonic() >= deadline:
        result = {"status": "timeout", "error": "killed after %g s" % (settings["timeout_s"] + 2.0)}
    elif os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        why = {signal.SIGKILL: " (out of memory?)", signal.SIGXCPU: " (CPU time limit)",
               signal.SIGXFSZ: " (file size limit)", signal.SIGSEGV: " (crash)"}.get(sig, "")
        result = {"status": "error", "error": "the job's process died of signal %d%s" % (sig, why)}
    else:
        result = {"status": "error", "error": "the job's process exited (%d) without a result" % os.WEXITSTATUS(status)}
    result["wall_s"] = wall
    return result


def serve():
    if os.environ.get("PYTHONHASHSEED") != "0":
        sys.stdout.write(json.dumps({"status": "error", "error": "PYTHONHASHSEED must be 0 for deterministic traces"}) + "\n")
        return 2
    # Not dumpable: /proc/<this pid>/ (fd, mem, environ) becomes root's, so a job, which runs as
    # the same user, cannot open this server's stdout to forge another job's result, nor read or
    # write its memory. Its forked jobs inherit it.
    import ctypes
    if ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0) != 0:   # PR_SET_DUMPABLE
        sys.stdout.write(json.dumps({"status": "error", "error": "prctl(PR_SET_DUMPABLE) failed: errno %d" % ctypes.get_errno()}) + "\n")
        return 2
    settings = dict(DEFAULTS)
    first = sys.stdin.readline()
    if first.strip():
        settings.update(json.loads(first))
    # The jobs are forked from here: objects the collector never walks again are pages a job's
    # collections do not copy.
    gc.collect()
    gc.freeze()
    out = sys.stdout
    number = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            job = json.loads(line)
            result = run_job(job, settings)
        except Exception as e:
            result = {"status": "error", "error": "bad job line: %s" % _describe(e)}
        result["job"] = number   # swebox checks the order
        number += 1
        out.write(json.dumps(result) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        sys.exit(serve())
    sys.stderr.write("usage: python3 swebox_tracer.py serve  (JSON lines on stdin; see the comment at the top)\n")
    sys.exit(2)
