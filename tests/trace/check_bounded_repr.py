# The tracer's bounded_repr (trajectories/tracer/swebox_tracer.py) against repr() itself: for each
# value and budget, the same text when repr fits, else a longer text with the same first `budget`
# characters. Exit 1 and the first mismatches when not. Run by tests/trace/test_trace.cc.
import sys

sys.path.insert(0, sys.argv[1])
from swebox_tracer import bounded_repr  # noqa: E402


class Custom:
    def __repr__(self):
        return "Custom<'\">"


values = []
for base in ["abc", "it's", 'say "hi"', "both ' and \"", "x" * 50, "é\n\t\x00\\", "'", "\\'", "😀"]:
    for times in [1, 40]:
        s = base * times
        for at in [0, 5, 30]:
            for extra in ["", "'", '"', "'\""]:
                t = s[:at] + extra + s[at:]
                values += [t, t.encode("utf-8"), bytearray(t.encode("utf-8")), [t], {t: t}, (bytearray(t.encode()),), {t}]
values += [[], (), {}, set(), frozenset(), (1,), frozenset([1, 2]), [Custom(), [Custom()]], list(range(10000)),
           {i: str(i) * 3 for i in range(2000)}, tuple(range(3000)), [[[]]], [None, True, 1.5, 2j],
           {i: i * 0.5 for i in range(3000)}, [1.5, None, True, -7] * 1000, tuple([False] * 5000), {1: None}]
loop = [1]
loop.append(loop)
mapping = {}
mapping["self"] = mapping
inner = ([],)
inner[0].append(inner)
values += [loop, mapping, inner]

bad = 0
for budget in [1, 5, 10, 17, 50, 200, 5000]:
    for v in values:
        whole, bounded = repr(v), bounded_repr(v, budget, set())
        ok = bounded[:budget] == whole[:budget] and len(bounded) > budget if len(whole) > budget else bounded == whole
        if not ok:
            bad += 1
            if bad <= 5:
                print("budget %d: repr %r, bounded %r" % (budget, whole[:80], bounded[:80]))
print("%d values x 7 budgets, %d mismatches" % (len(values), bad))
sys.exit(1 if bad else 0)
