# entry: f
# input: 4
def squares(n):
    for i in range(n):
        yield i * i

def f(n):
    out = []
    for s in squares(n):
        out.append(s)
    return out
