# entry: f
# input: 2, 3
import functools

def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        result = fn(*args)
        return result
    return wrapper

@logged
def mul(a, b):
    return a * b

def f(a, b):
    return mul(a, b) + mul(b, a)
