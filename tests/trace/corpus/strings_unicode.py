# entry: f
# input: "héllo wörld ✓ 😀"
def f(s):
    t = s[::-1]
    q = 'tab\there "quoted" back\\slash\x01'
    return t + q
