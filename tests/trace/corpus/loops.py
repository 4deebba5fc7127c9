# entry: f
# input: [3, 1, 2]
# input: []
def f(xs):
    total = 0
    for i, x in enumerate(xs):
        if x % 2:
            total += x * i
        else:
            total -= 1
    while total > 10:
        total //= 2
    return total
