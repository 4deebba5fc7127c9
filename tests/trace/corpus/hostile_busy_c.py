# entry: f
# input:
# expect: timeout
def f():
    return sum(range(10 ** 12))
