# entry: f
# input: 3
def f(n):
    for i in range(n):
        print("line", i)
    return n
