#!/usr/bin/python3
"""Reference answers from CPython for tests/scoring: reads one JSON request on stdin, writes one
JSON answer on stdout. Ratios are sent as float.hex() so the C++ side can compare bit for bit.

Request: {"op": OP, "cases": [...]}, ops:
  difflib          case {"a", "b", "lines": bool, "autojunk": bool}
                   -> {"ratio", "blocks", "opcodes", "unified": [...] (lines only)}
  splitlines       case "text" -> [lines]
  findall          case "text" -> [[path, search, replace], ...] (the SEARCH/REPLACE block regex)
  search_replace   case {"original": {p: s}, "oracle": {p: s}, "output": str} -> {"reward", "files", "error"}
  unidiff          case {"oracle": str, "pred": str, "ignore_non_oracle": bool} -> {"reward", "files"}
  real_unidiff     case patch text -> {path: change} by the real unidiff package, or null if absent,
                   or {"__version__": V} when the package found is not 0.7.5 (CWM's)
  time_similarity  case {"oracle": str, "pred": str} -> (timing only) {"seconds": float, "sum": float}

The reward functions below restate docs/formats.md §5.1 in Python (written here, not copied from
SWE-RL or CWM); the per-file scores use the real difflib.
"""
import difflib
import json
import re
import sys
import time


def hexf(x):
    return float(x).hex()


def difflib_case(c):
    a, b = c["a"], c["b"]
    if c["lines"]:
        a, b = list(a), list(b)
    sm = difflib.SequenceMatcher(None, a, b, autojunk=c["autojunk"])
    out = {
        "ratio": hexf(sm.ratio()),
        "blocks": [list(m) for m in sm.get_matching_blocks()],
        "opcodes": [list(o) for o in sm.get_opcodes()],
    }
    if c["lines"]:
        out["unified"] = list(difflib.unified_diff(a, b, "from", "to", n=c.get("n", 3), lineterm=""))
    return out


# ---- docs/formats.md §5.1, search/replace form ----------------------------------------------------

class FormatError(Exception):
    pass


BLOCK = re.compile(r"```.*?\n### (.*)\n<<<<<<< SEARCH\n([\s\S]*?)\n=======\n([\s\S]*?)\n>>>>>>> REPLACE\n```")


def file_change(old, new):
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), n=3, lineterm=""))
    return "\n".join(lines[2:])


def score(pred, oracle, both_empty=1.0):
    files = []
    for path in sorted(set(pred) | set(oracle)):
        p, o = pred.get(path, ""), oracle.get(path, "")
        s = 0.0 if (p == "" or o == "") else difflib.SequenceMatcher(None, p, o, autojunk=False).ratio()
        files.append([path, hexf(s)])
    total = 0.0
    for _, s in files:
        total += float.fromhex(s)
    reward = total / len(files) if files else both_empty
    return {"reward": hexf(reward), "files": files}


def search_replace_case(c):
    original, oracle, output = c["original"], c["oracle"], c["output"]
    try:
        for tag in ("<think>", "</think>", "<solution>", "</solution>"):
            if output.count(tag) != 1:
                raise FormatError("count of %s is not 1" % tag)
        thought = output.split("<think>")[1].split("</think>")[0].strip()
        answer = output.split("<solution>")[1].split("</solution>")[0].strip()
        if not thought:
            raise FormatError("Thought is empty")
        edits = {}
        for path, search, replace in BLOCK.findall(answer):
            edits.setdefault(path, []).append((search, replace))
        if not edits:
            raise FormatError("No valid search blocks found")
        new = {}
        for path, pairs in edits.items():
            text = "\n" + original.get(path, "")
            for search, replace in pairs:
                if search == replace:
                    raise FormatError("identical")
                if "\n" + search not in text:
                    raise FormatError("not found")
                text = text.replace("\n" + search, "\n" + replace)
            new[path] = text[1:]

        def changes(contents):
            out = {}
            for path, text in contents.items():
                d = file_change(original.get(path, ""), text)
                if d:
                    out[path] = d
            return out

        r = score(changes(new), changes(oracle))
        r["error"] = ""
        return r
    except FormatError as e:
        return {"reward": hexf(-1.0), "files": [], "error": str(e)}


# ---- docs/formats.md §5.1, unidiff form (for well-formed git patches) ------------------------------

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)")


def patch_files(text):
    """path -> [rename line] + hunks with explicit lengths and raw lines, each stripped.
    A patch that breaks the rules (hunk line counts, a hunk outside a file, a target header
    that differs from the file's) yields {}."""
    lines = [l for l in re.split(r"(?<=\n)", text) if l]
    order = []
    cur = None
    info = False       # inside a file's header block (lines there are informational)
    last_source = None
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        m = re.match(r"diff --git (a/[^\t\n]+) (b/[^\t\n]+)", line)
        if m:
            cur = {"src": m.group(1), "tgt": m.group(2), "hunks": [], "binary": False}
            order.append(cur)
            info = True
            last_source = m.group(1)
            continue
        if re.match(r"(new|deleted) file mode \d+$", line):
            if cur is None or not info:
                return {}
            cur["src" if line.startswith("new") else "tgt"] = "/dev/null"
            continue
        m = re.match(r"--- ([^\t\n]+)", line)
        if m:
            last_source = m.group(1)
            if cur is not None and cur["src"] != last_source:
                cur = None
            continue
        m = re.match(r"\+\+\+ ([^\t\n]+)", line)
        if m:
            if cur is not None and cur["tgt"] != m.group(1):
                return {}
            if cur is None:
                if last_source is None:
                    return {}
                cur = {"src": last_source, "tgt": m.group(1), "hunks": [], "binary": False}
                order.append(cur)
                info = False
            continue
        m = HUNK.match(line)
        if m:
            info = False
            if cur is None:
                return {}
            sl = int(m.group(2)) if m.group(2) is not None else 1
            tl = int(m.group(4)) if m.group(4) is not None else 1
            section = m.group(5).rstrip("\n")
            head = "@@ -%d,%d +%d,%d @@%s\n" % (int(m.group(1)), sl, int(m.group(3)), tl,
                                                " " + section if section else "")
            body = ""
            s = t = 0
            while s < sl or t < tl:
                if i >= len(lines):
                    return {}
                l = lines[i]
                i += 1
                kind = l[0]
                if kind == "\n":
                    l = " " + l
                    kind = " "
                if kind not in "+- \\":
                    return {}
                s += kind in "- "
                t += kind in "+ "
                if s > sl or t > tl:
                    return {}
                body += l
            cur["hunks"].append(head + body)
            continue
        if line.startswith("\\ No newline at end of file"):
            if cur is None or not cur["hunks"]:
                return {}
            cur["hunks"][-1] += "\\ No newline at end of file\n"
            continue
        if line == "\n" and cur is not None:
            if not cur["hunks"]:
                return {}
            cur["hunks"][-1] += "\n"
            continue
        if not info:
            cur = None
            info = True
        if line.startswith("Binary files ") and " differ" in line:
            if cur is not None:
                cur["binary"] = True
            info = False
            cur = None
            continue
        if line == "GIT binary patch\n":
            if cur is None:
                return {}
            cur["binary"] = True
            info = False
            cur = None
    files = {}
    for f in order:
        if f["binary"]:
            continue
        src, tgt = f["src"], f["tgt"]
        rename = src != "/dev/null" and tgt != "/dev/null" and src[2:] != tgt[2:]
        header = ""
        if rename:
            header = "rename from %s to %s" % (src[2:] if src.startswith("a/") else src,
                                               tgt[2:] if tgt.startswith("b/") else tgt)
            path = src[2:] if src.startswith("a/") else src
        else:
            path = tgt if src == "/dev/null" else src
            if path.startswith(("a/", "b/")):
                path = path[2:]
        files[path] = (header + "\n" + "\n".join(h.strip() for h in f["hunks"])).strip()
    return files


def unidiff_case(c):
    oracle, pred = patch_files(c["oracle"]), patch_files(c["pred"])
    if c.get("ignore_non_oracle"):
        pred = {p: v for p, v in pred.items() if p in oracle}
    return score(pred, oracle)


def real_unidiff_files(cases):
    """CWM's per-file normalisation done with the real `unidiff` package (0.7.5 as CWM used), when
    it can be imported (PYTHONPATH or SWEBOX_UNIDIFF_PATH); None otherwise. A crash inside unidiff
    other than its parse errors is reported as {"__exception__": name}."""
    import os
    if os.environ.get("SWEBOX_UNIDIFF_PATH"):
        sys.path.insert(0, os.environ["SWEBOX_UNIDIFF_PATH"])
    try:
        from unidiff import PatchSet
        from unidiff.errors import UnidiffParseError
    except ImportError:
        return None
    import unidiff
    version = getattr(unidiff, "VERSION", "unknown")
    if version != "0.7.5":
        # Other versions parse differently (Debian's 0.7.3 rejects some patches 0.7.5 reads).
        return {"__version__": version}
    out = []
    for text in cases:
        try:
            patch = PatchSet(text)
        except (UnidiffParseError, UnboundLocalError):
            out.append({})
            continue
        except Exception as e:  # e.g. AttributeError on a stray "GIT binary patch" line
            out.append({"__exception__": type(e).__name__})
            continue
        files = {}
        for pf in patch:
            if pf.is_binary_file:
                continue
            header, path = "", pf.path
            if pf.is_rename:
                src, tgt = pf.source_file, pf.target_file
                src = src[2:] if src.startswith("a/") else src
                tgt = tgt[2:] if tgt.startswith("b/") else tgt
                header, path = "rename from %s to %s" % (src, tgt), src
            files[path] = (header + "\n" + "\n".join(str(h).strip() for h in pf)).strip()
        out.append(files)
    return out


def time_similarity(cases):
    """CPython's cost of the similarity on each pair: one SequenceMatcher(autojunk=False).ratio()."""
    start = time.perf_counter()
    total = 0.0
    for c in cases:
        total += difflib.SequenceMatcher(None, c["pred"], c["oracle"], autojunk=False).ratio()
    return {"seconds": time.perf_counter() - start, "sum": total}


def main():
    req = json.load(sys.stdin)
    op, cases = req["op"], req["cases"]
    if op == "real_unidiff":
        json.dump(real_unidiff_files(cases), sys.stdout, ensure_ascii=False)
        return
    if op == "time_similarity":
        json.dump(time_similarity(cases), sys.stdout)
        return
    fn = {
        "difflib": difflib_case,
        "splitlines": lambda t: t.splitlines(),
        "findall": lambda t: [list(m) for m in BLOCK.findall(t)],
        "search_replace": search_replace_case,
        "unidiff": unidiff_case,
    }[op]
    json.dump([fn(c) for c in cases], sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
