# entry: f
# input:
import os

def f():
    if os.fork() == 0:   # the child's pid would differ from run to run
        while True:
            pass
    return "parent"
