# entry: f
# input:
class Slow:
    def __repr__(self):
        while True:
            pass

def f():
    s = Slow()
    y = 2
    return y
