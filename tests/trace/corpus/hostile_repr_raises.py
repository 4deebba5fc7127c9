# entry: f
# input:
class Bad:
    def __repr__(self):
        raise RuntimeError("no repr for you")

def f():
    b = Bad()
    x = 1
    return x
