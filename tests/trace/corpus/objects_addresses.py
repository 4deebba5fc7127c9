# entry: f
# input:
class Thing:
    pass

def f():
    a = Thing()
    b = Thing()
    c = a
    return [a is c, b is c]
