# entry: f
# input: [1, 2]
def f(xs):
    ys = xs
    ys.append(3)
    d = {}
    d["k"] = ys
    del ys
    return xs, d
