# entry: f
# input: [3, -1, 2], key=abs
def f(xs, key=None):
    return sorted(xs, key=key)
