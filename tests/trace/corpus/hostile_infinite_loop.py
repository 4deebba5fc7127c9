# entry: f
# input:
# expect: capped
def f():
    n = 0
    while True:
        n += 1
