# entry: f
# input: [1, 2], 5
# expect: exception
def get(xs, i):
    return xs[i]

def f(xs, i):
    y = get(xs, i)
    return y
