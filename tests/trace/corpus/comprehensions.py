# entry: f
# input: "hello world"
def f(text):
    words = text.split()
    lengths = {w: len(w) for w in words}
    upper = [c.upper() for c in text if c != " "]
    unique = {c for c in text}
    return lengths, "".join(upper), len(unique)
