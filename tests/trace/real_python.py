# What plain Python (no tracer) returns for each (program, input) of a `swebox trace` programs
# file: the reference the trace tests compare return_repr with. One JSON line per pair, in order:
# {"id", "input_index", "status": "ok"|"exception", "repr"}. Generator and coroutine entries run to
# their end as the tracer runs them (docs/traces.md). Run on trusted corpora only: not sandboxed.
import asyncio
import json
import os
import sys
import types

for line in open(sys.argv[1]):
    program = json.loads(line)
    for k, text in enumerate(program["inputs"]):
        pid_read, pid_write = os.pipe()
        pid = os.fork()
        if pid == 0:   # each pair in its own process, as under the tracer
            os.close(pid_read)
            devnull = os.open(os.devnull, os.O_WRONLY)
            saved = os.dup(1)
            os.dup2(devnull, 1)
            sys.stdout = open(os.devnull, "w")
            namespace = {"__name__": "__main__"}
            try:
                exec(compile(program["code"], "<program>", "exec"), namespace)
                args, kwargs = eval("(lambda *a, **k: (a, k))(%s\n)" % text, namespace)
                value = namespace[program["entry"]](*args, **kwargs)
                if isinstance(value, types.CoroutineType):
                    value = asyncio.run(value)
                elif isinstance(value, types.GeneratorType):
                    value = list(value)
                answer = {"status": "ok", "repr": repr(value)}
            except BaseException as e:
                answer = {"status": "exception", "repr": repr(e)}
            answer.update(id=program["id"], input_index=k)
            os.write(pid_write, (json.dumps(answer) + "\n").encode())
            os._exit(0)
        os.close(pid_write)
        data = b""
        while chunk := os.read(pid_read, 1 << 16):
            data += chunk
        os.close(pid_read)
        os.waitpid(pid, 0)
        sys.stdout.write(data.decode())
