#!/usr/bin/env python3
"""CWM's own trace reader (demos/cwmdbg.py of a facebookresearch/cwm checkout) on swebox's traces.

    python3 scripts/cwm_trace_check.py --cwm CHECKOUT --traces TRACES.jsonl

cwmdbg.py reads a trace frame by frame from a model server's token replies. Here its CWMDebugger
runs unchanged, loaded from the checkout (nothing of CWM is copied into swebox), with two stand-ins
of ours: a tokenizer whose ids are CWM's special-token ids and, for text, the code point + 200000
(encode and decode are exact inverses, so the text CWM's code sees is the text swebox wrote); and a
`requests.post` that answers each request with the next frame of a swebox trace's text (cut into
tokens at the special tokens' text), as a model that predicts the trace perfectly would. The debugger reads frame after frame (its `_step`, which parses
a reply) to the end; every
frame it builds must match the record's structured event (kind, source line, LOCALS with its "..", VALUE), it must end
exactly where swebox's trace ends (<|end_of_text|>), and its `local_vars` (which resolves "..") must
resolve every name at every frame. Exit 0 when all traces agree, 1 with the first differences, 2 for
a checkout inside this repository, 77 when the checkout has no demos/cwmdbg.py.
"""
import argparse
import importlib.util
import json
import os
import re
import sys
import types

SPECIAL = {"bos": 128000, "eos": 128001, "frame_sep": 128100, "action_sep": 128101, "return_sep": 128102,
           "call_sep": 128103, "line_sep": 128104, "exception_sep": 128105, "arg_sep": 128106,
           "trace_context_start": 128107}
TEXT_BASE = 200000


class Tokenizer:
    bos_id, eos_id = SPECIAL["bos"], SPECIAL["eos"]
    frame_sep_id = FRAME_SEP_ID = SPECIAL["frame_sep"]
    action_sep_id, return_sep_id = SPECIAL["action_sep"], SPECIAL["return_sep"]
    call_sep_id, line_sep_id = SPECIAL["call_sep"], SPECIAL["line_sep"]
    exception_sep_id, arg_sep_id = SPECIAL["exception_sep"], SPECIAL["arg_sep"]
    trace_context_start_id = SPECIAL["trace_context_start"]

    def encode(self, text):
        return [TEXT_BASE + ord(c) for c in text]

    def decode(self, ids, cut_at_stop_tokens=True):
        names = {v: k for k, v in SPECIAL.items()}
        return "".join(chr(i - TEXT_BASE) if i >= TEXT_BASE else "<|%s|>" % names.get(i, i) for i in ids)


EVENT_TOKEN = {"call": "call_sep", "line": "line_sep", "return": "return_sep", "exception": "exception_sep"}


def text_tokens(text, tok):
    """swebox's rendered text as token ids: each special token's text its id, the rest encoded."""
    names = "|".join(re.escape(n) for n in SPECIAL if n not in ("bos", "eos"))
    pattern = re.compile(r"<\|(%s|begin_of_text|end_of_text)\|>" % names)
    ids, at = [], 0
    for m in pattern.finditer(text):
        ids += tok.encode(text[at:m.start()])
        name = {"begin_of_text": "bos", "end_of_text": "eos"}.get(m.group(1), m.group(1))
        ids.append(SPECIAL[name])
        at = m.end()
    return ids + tok.encode(text[at:])


class PerfectModel:
    """requests.post: the next frame of the trace being replayed, as swebox's text has it."""

    def __init__(self, tokenizer):
        self.tok = tokenizer
        self.frames = []      # each frame's token ids, <|frame_sep|> included
        self.complete = True

    def load(self, text):
        ids = text_tokens(text, self.tok)
        start = ids.index(self.tok.frame_sep_id) + 1      # after the prompt
        self.frames, frame = [], []
        for i in ids[start:]:
            frame.append(i)
            if i == self.tok.frame_sep_id:
                self.frames.append(frame)
                frame = []
        self.complete = frame == [self.tok.eos_id]

    def post(self, url, json=None):
        prompt = json["prompt"]
        done = prompt.count(self.tok.frame_sep_id) - 1          # frames already in the prompt
        forced = prompt[-1] in (SPECIAL[v] for v in EVENT_TOKEN.values())
        if done >= len(self.frames):
            reply = [self.tok.eos_id] if self.complete else []
        else:
            reply = list(self.frames[done])
            if forced:
                if reply[0] != prompt[-1]:
                    raise AssertionError("frame %d: cwmdbg asked for event %d, the trace has %d" % (done + 1, prompt[-1], reply[0]))
                reply = reply[1:]
        return types.SimpleNamespace(json=lambda: {"choices": [{"tokens": reply}]})


def load_cwmdbg(checkout, model):
    requests = types.ModuleType("requests")
    requests.post = model.post
    tokenizers = types.ModuleType("cwm.text.tokenizers")
    tokenizers.CWMInstructTokenizer = Tokenizer
    tokenizers.build_tokenizer = lambda **kw: Tokenizer()
    for name, module in [("requests", requests), ("cwm", types.ModuleType("cwm")),
                         ("cwm.text", types.ModuleType("cwm.text")), ("cwm.text.tokenizers", tokenizers)]:
        sys.modules[name] = module
    spec = importlib.util.spec_from_file_location("cwmdbg", os.path.join(checkout, "demos", "cwmdbg.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check(record, cwmdbg, model):
    text = record["text"]
    context = text[len("<|begin_of_text|><|trace_context_start|>"):text.index("<|frame_sep|>")]
    model.load(text)
    events = record["events"]
    dbg = cwmdbg.CWMDebugger(context, Tokenizer(), "localhost", 0)
    dbg.reset()
    # _step() with no event: read whatever event the reply starts with. (step() would force a line
    # after every call, and Python's own traces have call after call: a coroutine's resume enters
    # the awaited coroutine's frame next.)
    while not dbg.done and len(dbg.frames) < len(model.frames):
        dbg._step()
    if model.complete and not dbg.done:
        dbg._step()   # reads <|end_of_text|>
    problems = []
    if len(dbg.frames) != len(events):
        problems.append("cwmdbg read %d frames, swebox's events are %d" % (len(dbg.frames), len(events)))
    if dbg.done != record["complete"]:
        problems.append("cwmdbg's end (%s) differs from swebox's complete (%s)" % (dbg.done, record["complete"]))
    for i, (f, e) in enumerate(zip(dbg.frames, events)):
        want = (e["event"].upper(), e["source"], {k: v for k, v in e.get("locals", [])}, e.get("value"))
        got = (f.event.name, f.source_line, f.local_vars, f.arg)
        if got != want:
            problems.append("frame %d: cwmdbg %r, swebox %r" % (i + 1, got, want))
    # cwmdbg's resolution of "..", frame by frame (its local_vars reads the current frame).
    frames = list(dbg.frames)
    for i in range(len(frames)):
        dbg.frames[:] = frames[:i + 1]
        unresolved = [k for k, v in dbg.local_vars.items() if v == ".."]
        if unresolved:
            problems.append("frame %d: cwmdbg cannot resolve %s" % (i + 1, unresolved))
    dbg.frames[:] = frames
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cwm", required=True)
    parser.add_argument("--traces", required=True)
    parser.add_argument("--max-frames", type=int, default=2000,
                        help="skip longer traces (cwmdbg re-sends every earlier frame at each step: quadratic)")
    args = parser.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    if os.path.realpath(args.cwm).startswith(repo + os.sep):
        print("the CWM checkout %s is inside this repository: nothing of CWM may be committed here; put it elsewhere" % args.cwm)
        return 2
    if not os.path.isfile(os.path.join(args.cwm, "demos", "cwmdbg.py")):
        print("no demos/cwmdbg.py in %s" % args.cwm)
        return 77
    model = PerfectModel(Tokenizer())
    cwmdbg = load_cwmdbg(args.cwm, model)
    checked = failed = frames = long = 0
    for line in open(args.traces):
        record = json.loads(line)
        if "text" not in record or record.get("text_ambiguous"):
            continue
        if len(record["events"]) > args.max_frames:
            long += 1
            continue
        problems = check(record, cwmdbg, model)
        checked += 1
        frames += len(record["events"])
        if problems:
            failed += 1
            print("%s input %d:" % (record["id"], record["input_index"]))
            for p in problems[:5]:
                print("  " + p[:400])
    print("cwmdbg read %d traces (%d frames): %d differ; %d longer than %d frames skipped" % (checked, frames, failed, long, args.max_frames))
    return 1 if failed or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
