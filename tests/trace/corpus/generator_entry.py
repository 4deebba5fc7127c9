# entry: count
# input: 3
def count(n):
    i = 0
    while i < n:
        yield i
        i += 1
