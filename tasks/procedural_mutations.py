# Procedural bug candidates in the style of SWE-smith's procedural generators (docs/formats.md §6.6),
# and the test weakening that hides a bug. Run by swebox (tasks/procedural_bugs.cc) with Debian's
# python3 inside a sandbox over the repository's original tree; it only reads and parses files.
#
#   python3 procedural_mutations.py mutate ROOT SEED LIMIT [STRATEGY,...]
#       JSON lines {strategy, file, function, line, diff}: at most LIMIT candidates, shuffled by SEED.
#   python3 procedural_mutations.py weaken ROOT < ids.json
#       one JSON object {diff, removed, unmatched}: the test functions named by the pytest ids removed.
#
# Each edit replaces whole source lines of the statements it changes (ast.unparse of the new
# statements, at the old indentation), so the rest of the file keeps its text and comments.
import ast
import copy
import difflib
import json
import os
import random
import sys

STRATEGIES = [
    "op_change", "op_swap", "op_change_const", "op_break_chains",
    "remove_assign", "remove_cond", "remove_loop", "remove_wrapper",
    "ctrl_invert_if", "ctrl_shuffle", "class_rm_funcs", "removal",
]

OP_FAMILIES = [
    [ast.Add, ast.Sub],
    [ast.Mult, ast.Div, ast.FloorDiv, ast.Mod],
    [ast.BitAnd, ast.BitOr, ast.BitXor],
    [ast.LShift, ast.RShift],
]


def is_test_path(path):
    parts = path.split("/")
    if any(p in ("tests", "test", "testing") for p in parts[:-1]):
        return True
    name = parts[-1]
    return (name.startswith("test_") and name.endswith(".py")) or name.endswith("_test.py") or name == "conftest.py"


def code_files(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        for f in sorted(filenames):
            if not f.endswith(".py"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), root)
            if not is_test_path(rel):
                out.append(rel)
    return out


def stmt_start(node):
    lines = [node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]
    return min(lines)


def replace_lines(lines, first, last, new_stmts):
    """lines with statements first..last (ast nodes, siblings) replaced by new_stmts; None if the
    statements share their lines with other code."""
    start, end = stmt_start(first), last.end_lineno
    head = lines[start - 1]
    indent = head[: first.col_offset] if stmt_start(first) == first.lineno else head[: len(head) - len(head.lstrip())]
    if indent.strip() or head[len(indent):].startswith("elif"):
        return None
    tail = lines[end - 1][last.end_col_offset:]
    if tail.strip() and not tail.strip().startswith("#"):
        return None
    text = "".join(indent + l + "\n" if l else "\n" for s in new_stmts for l in ast.unparse(s).split("\n"))
    return lines[: start - 1] + text.splitlines(keepends=True) + lines[end:]


def walk_functions(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def body_lists(node):
    for field in ("body", "orelse", "finalbody"):
        v = getattr(node, field, None)
        if isinstance(v, list) and v and isinstance(v[0], ast.stmt):
            yield v
    for h in getattr(node, "handlers", []) or []:
        yield h.body


def statements_in(func):
    """(stmt, the list it is in) for every statement nested in func's body."""
    out = []
    todo = [func]
    while todo:
        n = todo.pop()
        for lst in body_lists(n):
            for s in lst:
                out.append((s, lst))
                if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    todo.append(s)
    return out


def smallest_stmt(func, target):
    """The innermost statement of func that contains the expression `target`."""
    best = None
    for s, _ in statements_in(func):
        for n in ast.walk(s):
            if n is target:
                if best is None or (s.lineno >= best.lineno and s.end_lineno <= best.end_lineno):
                    best = s
                break
    return best


def expr_candidates(func, rng):
    """(strategy, stmt, new_stmt) for expression-level mutations inside func."""
    out = []
    for s, _ in statements_in(func):
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.While, ast.With, ast.Try)):
            continue  # expressions of simple statements only: the edit stays one statement
        nodes = list(ast.walk(s))
        for i, n in enumerate(nodes):
            muts = []
            if isinstance(n, ast.BinOp):
                for fam in OP_FAMILIES:
                    if type(n.op) in fam:
                        others = [o for o in fam if o is not type(n.op)]
                        muts.append(("op_change", lambda m, o=rng.choice(others): setattr(m, "op", o())))
                muts.append(("op_swap", swap))
                if isinstance(n.left, ast.BinOp):
                    muts.append(("op_break_chains", lambda m: None))
            if isinstance(n, ast.Compare) and len(n.ops) == 1:
                muts.append(("op_swap", swap_compare))
            if isinstance(n, ast.Constant) and type(n.value) is int:
                muts.append(("op_change_const", lambda m, d=rng.choice([-1, 1]): setattr(m, "value", m.value + d)))
            if isinstance(n, ast.BoolOp) and len(n.values) >= 2:
                muts.append(("op_break_chains", lambda m, k=rng.randrange(len(n.values)): m.values.pop(k)))
            for name, fn in muts:
                new = copy.deepcopy(s)
                target = list(ast.walk(new))[i]
                if name == "op_break_chains" and isinstance(target, ast.BinOp):
                    replace_node(new, target, target.left)
                else:
                    fn(target)
                    if isinstance(target, ast.BoolOp) and len(target.values) == 1:
                        replace_node(new, target, target.values[0])
                out.append((name, s, s, [new]))
    return out


def swap(m):
    m.left, m.right = m.right, m.left


def swap_compare(m):
    m.left, m.comparators[0] = m.comparators[0], m.left


def replace_node(root, old, new):
    for parent in ast.walk(root):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list):
                for k, v in enumerate(value):
                    if v is old:
                        value[k] = new
                        return


def stmt_candidates(func, rng):
    """(strategy, first, last, new_stmts) for statement-level mutations inside func."""
    out = []
    for s, lst in statements_in(func):
        only = len(lst) == 1
        repl = [ast.Pass()] if only else []
        if isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            out.append(("remove_assign", s, s, repl))
        elif isinstance(s, ast.If):
            out.append(("remove_cond", s, s, repl))
            if s.orelse:
                inv = copy.deepcopy(s)
                inv.body, inv.orelse = inv.orelse, inv.body
                out.append(("ctrl_invert_if", s, s, [inv]))
        elif isinstance(s, (ast.For, ast.While, ast.AsyncFor)):
            out.append(("remove_loop", s, s, repl))
        elif isinstance(s, (ast.With, ast.AsyncWith, ast.Try)):
            out.append(("remove_wrapper", s, s, copy.deepcopy(s.body)))
    body = func.body
    doc = 1 if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str) else 0
    logic = body[doc:]
    if 2 <= len(logic) <= 10:
        shuffled = list(logic)
        for _ in range(5):
            rng.shuffle(shuffled)
            if shuffled != logic:
                break
        if shuffled != logic:
            out.append(("ctrl_shuffle", logic[0], logic[-1], [copy.deepcopy(x) for x in shuffled]))
    if logic and not (len(logic) == 1 and isinstance(logic[0], (ast.Pass, ast.Raise))):
        out.append(("removal", logic[0], logic[-1], [ast.Pass()]))
    return out


def class_candidates(tree):
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            methods = [m for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
            if len(node.body) >= 2:
                for m in methods:
                    if not m.name.startswith("__"):
                        out.append(("class_rm_funcs", node, m, m, []))
    return out


def unified(path, old, new):
    d = list(difflib.unified_diff(old, new, "a/" + path, "b/" + path, n=3))
    if not d:
        return ""
    return "diff --git a/%s b/%s\n" % (path, path) + "".join(d)


def mutate(root, seed, limit, wanted):
    rng = random.Random(seed)
    cands = []
    for rel in code_files(root):
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            text = f.read()
        if not text.endswith("\n"):
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        lines = text.splitlines(keepends=True)
        for func in walk_functions(tree):
            for name, _stmt, first, new in expr_candidates(func, rng):
                cands.append((name, rel, func.name, first, first, new, lines, text))
            for name, first, last, new in stmt_candidates(func, rng):
                cands.append((name, rel, func.name, first, last, new, lines, text))
        for name, cls, first, last, new in class_candidates(tree):
            cands.append((name, rel, cls.name + "." + first.name, first, last, new, lines, text))
    cands = [c for c in cands if not wanted or c[0] in wanted]
    rng.shuffle(cands)
    seen = set()
    emitted = 0
    for name, rel, func, first, last, new, lines, text in cands:
        if emitted >= limit:
            break
        try:
            out = replace_lines(lines, first, last, new)
        except Exception:
            continue
        if out is None:
            continue
        new_text = "".join(out)
        if new_text == text:
            continue
        try:
            ast.parse(new_text)
        except SyntaxError:
            continue
        diff = unified(rel, lines, out)
        if not diff or diff in seen:
            continue
        seen.add(diff)
        print(json.dumps({"strategy": name, "file": rel, "function": func, "line": first.lineno, "diff": diff}))
        emitted += 1


def weaken(root, ids):
    by_file = {}
    for tid in ids:
        parts = tid.split("::")
        if len(parts) < 2:
            continue
        parts[-1] = parts[-1].split("[")[0]
        by_file.setdefault(parts[0], []).append((tid, parts[1:]))
    diff, removed, unmatched = "", [], []
    for rel in sorted(by_file):
        path = os.path.join(root, rel)
        if not os.path.isfile(path):
            unmatched += [t for t, _ in by_file[rel]]
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        lines = text.splitlines(keepends=True)
        tree = ast.parse(text)
        drop = {}
        for tid, names in by_file[rel]:
            scope, node, container = tree.body, None, tree
            for k, n in enumerate(names):
                node = next((x for x in scope if isinstance(x, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and x.name == n), None)
                if node is None:
                    break
                if k + 1 < len(names):
                    container, scope = node, node.body
            if node is None:
                unmatched.append(tid)
                continue
            drop[id(node)] = (node, container)
            removed.append(tid)
        spans = []
        for node, container in drop.values():
            spans.append((stmt_start(node), node.end_lineno, container, node))
        out = list(lines)
        for start, end, container, node in sorted(spans, key=lambda s: -s[0]):
            siblings = [x for x in container.body if id(x) not in drop]
            repl = []
            if isinstance(container, ast.ClassDef) and not siblings:
                repl = [" " * node.col_offset + "pass\n"]
            out[start - 1:end] = repl
        diff += unified(rel, lines, out)
    print(json.dumps({"diff": diff, "removed": removed, "unmatched": unmatched}))


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "mutate":
        wanted = set(sys.argv[5].split(",")) if len(sys.argv) > 5 and sys.argv[5] else set()
        mutate(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), wanted)
    elif len(sys.argv) == 3 and sys.argv[1] == "weaken":
        weaken(sys.argv[2], json.load(sys.stdin))
    else:
        sys.stderr.write(__doc__ if __doc__ else "usage: mutate ROOT SEED LIMIT [STRATEGIES] | weaken ROOT < ids.json\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
