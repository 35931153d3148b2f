#!/usr/bin/env python3
"""Reads a model written by scripts/make-model.py (the default, behaviour one) on stdin and
writes its next version to stdout, for scripts/bench-diff.sh: every aggregate changes the way a
year of evolution would change it, so `ddd diff` has thousands of changes of every verdict.

Per aggregate:
- a state field added (`note: Option<String>`): safe;
- its `...Closed` event raised to v2 with a field that has a default: safe;
- its `Cancel...` command's `reason` constrained more tightly (`@len(1..=100)`): breaking for
  HTTP clients;
- the first aggregate of each context (whose `...Created` event its context publishes) drops
  `amount` from that event: breaking for stored events and other contexts.

Usage: make-model.py 1000 | evolve-model.py > new.ddd"""
import re
import sys

text = sys.stdin.read()
rules = [
    (r"(\n    total_cents: i64\n)", r"\1    note: Option<String>\n"),
    (r"event (\w+)Closed\(title: String\)", r'event \1Closed v2(title: String, closed_by: String = "owner")'),
    (r"(command Cancel\w+\(reason: String) @len\(1\.\.=200\)", r"\1 @len(1..=100)"),
    (r"event (A\d+x0)Created\(title: String, amount: Money\)", r"event \1Created(title: String)"),
]
for pattern, replacement in rules:
    text, count = re.subn(pattern, replacement, text)
    if count == 0:
        sys.exit(f"evolve-model.py: nothing matches {pattern!r}: not a make-model.py model?")
sys.stdout.write(text)
