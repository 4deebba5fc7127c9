# entry: f
# input: 5
def make_adder(k):
    def add(x):
        return x + k
    return add

def f(n):
    add3 = make_adder(3)
    return [add3(i) for i in range(n)]
