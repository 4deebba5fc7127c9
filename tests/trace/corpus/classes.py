# entry: f
# input: 3
class Counter:
    def __init__(self, start):
        self.value = start

    def bump(self, by=1):
        self.value += by
        return self.value

    def __repr__(self):
        return "Counter(%d)" % self.value

def f(n):
    c = Counter(n)
    for _ in range(2):
        c.bump()
    return c
