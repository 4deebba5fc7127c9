# entry: f
# input: "12"
# input: "x"
def parse(s):
    return int(s)

def f(s):
    try:
        v = parse(s)
    except ValueError as e:
        v = -1
    finally:
        done = True
    return v, done
