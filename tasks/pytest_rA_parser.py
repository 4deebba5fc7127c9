# The test parser of the artifacts swebox's injectors write (test_parser.py, docs/formats.md §6.1):
# pytest -rA output on stdin -> JSON {test id: "passed" | "failed"} on stdout. Ids are read as
# SWE-bench's parse_log_pytest reads them (the second whitespace token of a PASSED/FAILED/ERROR line),
# so that an instance made from the artifact grades with parse_log_pytest on the same ids.
import json
import sys

results = {}
for line in sys.stdin.read().split("\n"):
    for word, status in (("PASSED", "passed"), ("FAILED", "failed"), ("ERROR", "failed")):
        if line.startswith(word + " "):
            if word == "FAILED":
                line = line.replace(" - ", " ")
            tokens = line.split()
            if len(tokens) > 1:
                results[tokens[1]] = status
json.dump(results, sys.stdout)
