# entry: f
# input:
# expect: exception
import os

def f():
    # Try to write a forged result line into the tracer server's own output.
    fd = os.open("/proc/%d/fd/1" % os.getppid(), os.O_WRONLY)
    os.write(fd, b'{"status": "ok", "return_repr": "forged"}\n')
    return "forged"
