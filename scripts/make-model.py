#!/usr/bin/env python3
"""Writes a model with N aggregates (10 per context, with policies between contexts) to stdout,
for scripts/bench-generate.sh.

Usage: make-model.py N [--plain | --lean]

By default every aggregate has behaviour (the language's version 2): a `status` enum field with
a lifecycle over three commands, `requires` guards with comparisons, `count` and arithmetic, an
event that `sets` a field by arithmetic, an entity with an `@key` (upserted by its event), a
named type (`Quantity`), and contexts with a subdomain kind.

`--plain` writes the older model without any of that (three commands and three events per
aggregate, no rules), which a `ddd` from before the behaviour syntax can also read: the
side-by-side comparison with a baseline build uses it.

`--lean` writes the plain model's aggregates (the same three commands and three events) with
behaviour added: a lifecycle, guards with `count`, `len` and arithmetic, and a `sets`. Beside
`--plain` it shows what the rules themselves cost, on the same commands."""
import sys

args = [a for a in sys.argv[1:] if not a.startswith("--")]
flags = {a for a in sys.argv[1:] if a.startswith("--")}
if len(args) != 1 or not flags <= {"--plain", "--lean"} or len(flags) > 1:
    sys.exit("usage: make-model.py N [--plain | --lean]")
n = int(args[0])
plain = "--plain" in flags
lean = "--lean" in flags
per = 10
contexts = (n + per - 1) // per
out = ["system Bench", "", "value Money { amount_cents: i64 @range(0..), currency: String @len(3) }", ""]
if not plain:
    out += ["/// How many of one product.", "type Quantity = u32 @range(1..=99)", ""]


def plain_aggregate(name):
    return [
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


def lean_aggregate(name, c):
    return [
        f"  aggregate {name} {{",
        "    title: String",
        "    amount: Money",
        "    tags: Vec<String>",
        f"    status: Status{c}",
        "    revision: u32",
        f"    lifecycle status {{ Draft -> Closed by Close{name} }}",
        f"    command Create{name}(title: String @len(1..=80), amount: Money) creates emits {name}Created",
        f"    command Tag{name}(labels: Vec<String>) requires status == Draft and count(labels) * 2 <= 200"
        f" else \"a closed {name} keeps its tags\" emits {name}Tagged",
        f"    command Close{name}() requires len(title) > 0 emits {name}Closed",
        f"    event {name}Created(title: String, amount: Money)",
        f"    event {name}Tagged(labels: Vec<String>) sets tags = labels, revision = revision + 1",
        f"    event {name}Closed(title: String)",
        "  }",
    ]


def behaviour_aggregate(name, c):
    return [
        f"  /// Aggregate {name}.",
        f"  aggregate {name} {{",
        "    title: String",
        "    amount: Money",
        "    tags: Vec<String>",
        f"    status: Status{c}",
        f"    lines: Vec<Line{name}>",
        "    total_cents: i64",
        "",
        f"    entity Line{name} {{ product: Uuid @key, quantity: Quantity, price_cents: i64 }}",
        "",
        "    lifecycle status {",
        f"      Draft -> Open by Open{name}",
        f"      Open -> Closed by Close{name}",
        f"      Draft, Open -> Cancelled by Cancel{name}",
        "    }",
        "",
        f"    command Create{name}(title: String @len(1..=80), amount: Money) creates emits {name}Created",
        f"    command Open{name}() emits {name}Opened",
        f"    command AddLine{name}(product: Uuid, quantity: Quantity, price_cents: i64 @range(0..=1000000))"
        f" requires status == Open and count(lines) < 50 and quantity * 2 <= 198"
        f" else \"an open {name} takes at most 50 lines\" emits {name}LineAdded",
        f"    command Tag{name}(labels: Vec<String>) requires status in {{Draft, Open}} and count(tags) + count(labels) <= 100"
        f" and len(title) > 0 emits {name}Tagged",
        f"    command Close{name}() requires total_cents >= amount.amount_cents else \"not paid in full\" emits {name}Closed",
        f"    command Cancel{name}(reason: String @len(1..=200)) emits {name}Cancelled",
        "",
        f"    event {name}Created(title: String, amount: Money)",
        f"    event {name}Opened()",
        f"    event {name}LineAdded(product: Uuid, quantity: Quantity, price_cents: i64)"
        " sets total_cents = total_cents + price_cents * quantity",
        f"    event {name}Tagged(labels: Vec<String>) sets tags = labels",
        f"    event {name}Closed(title: String)",
        f"    event {name}Cancelled(reason: String)",
        "  }",
    ]


for c in range(contexts):
    kind = "" if plain else f" : {('core', 'supporting', 'generic')[c % 3]}"
    out.append(f"context C{c}{kind} {{")
    if not plain:
        out.append(f"  enum Status{c} {{ Draft, Open, Closed, Cancelled }}")
    count = min(per, n - c * per)
    for a in range(count):
        name = f"A{c}x{a}"
        if plain:
            out += plain_aggregate(name)
        elif lean:
            out += lean_aggregate(name, c)
        else:
            out += behaviour_aggregate(name, c)
    out.append(f"  publishes A{c}x0Created")
    if c > 0:
        out.append(f"  on C{c-1}.A{c-1}x0Created run A{c}x0.CreateA{c}x0")
    out += ["}", ""]
print("\n".join(out))
