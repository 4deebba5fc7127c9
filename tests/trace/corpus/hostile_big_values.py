# entry: f
# input:
# expect: capped
def f():
    big = list(range(100000))
    s = "y" * 5000
    for i in range(5000):
        big[0] = -i   # the repr's first 1 KiB changes at every line
    return len(big)
