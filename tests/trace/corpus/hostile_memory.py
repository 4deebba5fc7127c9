# entry: f
# input:
# expect: exception
def f():
    blocks = []
    s = "x"
    while True:
        s = s * 2
        blocks.append(s)
