#!/usr/bin/env python3
"""Writes a model with N aggregates (10 per context, with policies between contexts) to stdout,
for scripts/bench-generate.sh. Usage: make-model.py N"""
import sys

n = int(sys.argv[1])
per = 10
contexts = (n + per - 1) // per
out = ["system Bench", "", "value Money { amount_cents: i64 @range(0..), currency: String @len(3) }", ""]
for c in range(contexts):
    out.append(f"context C{c} {{")
    count = min(per, n - c * per)
    for a in range(count):
        name = f"A{c}x{a}"
        out += [
            f"  aggregate {name} {{",
            "    title: String",
            "    amount: Money",
            "    tags: Vec<String>",
            "    open: bool",
            f"    command Create{name}(title: String @len(1..=80), amount: Money) creates emits {name}Created",
            f"    command Tag{name}(tags: Vec<String>) emits {name}Tagged",
            f"    command Close{name}() emits {name}Closed",
            f"    event {name}Created(title: String, amount: Money)",
            f"    event {name}Tagged(tags: Vec<String>)",
            f"    event {name}Closed(title: String)",
            "  }",
        ]
    out.append(f"  publishes A{c}x0Created")
    if c > 0:
        out.append(f"  on C{c-1}.A{c-1}x0Created run A{c}x0.CreateA{c}x0")
    out += ["}", ""]
print("\n".join(out))
