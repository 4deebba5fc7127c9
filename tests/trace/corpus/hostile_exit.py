# entry: f
# input:
# expect: exception
import sys

def f():
    sys.exit(3)
