# entry: f
# input: 0
# expect: capped
def f(n):
    return f(n + 1)
