# entry: f
# input:
def f():
    chunk = "x" * (1 << 20)
    for _ in range(200):
        print(chunk)
    return "printed"
