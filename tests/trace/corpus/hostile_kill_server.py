# entry: f
# input:
# expect: error
import os, signal

def f():
    os.kill(os.getppid(), signal.SIGKILL)
    return 1
