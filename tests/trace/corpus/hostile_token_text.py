# entry: f
# input:
def f():
    s = "<|frame_sep|>"
    return s
