#!/usr/bin/env python3
"""Splits perf samples of ddd-core's command path into the operations they were spent in.

The rules below name ddd-core internals (repository.rs, memory/store.rs) as of this writing;
update them when those change. Only samples inside the bench's timed loop count.

    cd benches/command-path
    CARGO_TARGET_DIR=../../target cargo build --profile profiling
    perf record -g --call-graph dwarf,32768 -F 4000 -o ours.data \
        ../../target/profiling/ddd-bench-command-path --only ours --commands 10 --rounds 30 --warmup 0 >/dev/null
    perf script -i ours.data --inline -F ip,sym | python3 profile/perf-attribute.py
"""
import collections
import re
import sys

LOOP = "ddd_bench_command_path::run::{{closure}}"
EXECUTE = "Repository<A,S>::execute::{{closure}}"
POLL = "Instrumented<T> as core::future::future::Future>::poll"


def samples(lines):
    current = []
    for line in lines:
        line = line.strip()
        if not line:
            if current:
                yield current
            current = []
            continue
        parts = line.split(None, 1)
        current.append(parts[1] if len(parts) > 1 else parts[0])
    if current:
        yield current


# (label, predicate over the stack below `Instrumented::poll`, root first), first match wins.
RULES = [
    ("execute_inner: command id Uuid::now_v7()", lambda s: "now_v7" in s and "repository::envelopes" not in s),
    ("envelopes: event id Uuid::now_v7()", lambda s: "now_v7" in s),
    ("envelopes: Utc::now()", lambda s: "repository::envelopes" in s and "Utc::now" in s),
    ("envelopes: rest (String/metadata clones, Vec)", lambda s: "repository::envelopes" in s),
    ("State::append: checks::batch_is_well_formed", lambda s: "batch_is_well_formed" in s),
    ("State::append: already_stored (positions_by_id lookups)", lambda s: "already_stored" in s),
    ("State::append: stream_version (StreamId hash lookup)", lambda s: "stream_version" in s),
    ("State::append: index: unpublished BTreeSet insert", lambda s: "State::index" in s and "BTree" in s),
    ("State::append: index: streams.get_mut (StreamId hash)", lambda s: "State::index" in s and "get_mut" in s),
    ("State::append: index: positions_by_id.insert (SipHash of Uuid)", lambda s: "State::index" in s and "::insert" in s),
    ("State::append: index: rest", lambda s: "State::index" in s),
    ("State::append: Utc::now()", lambda s: "State::append" in s and "Utc::now" in s),
    ("State::append: Record (Arc::new, envelope clone, Box of payload clone)",
     lambda s: "State::append" in s and ("Arc<T>::new" in s or "Envelope<E> as core::clone::Clone" in s or "Box<T>::new" in s)),
    ("State::append: rest", lambda s: "State::append" in s),
    ("store append: lock + glue", lambda s: "EventStore>::append" in s),
    ("load_current: store.load (tail read)", lambda s: "EventStore>::load" in s),
    ("load_current: cache remove", lambda s: "load_current" in s),
    ("keep (cache insert)", lambda s: "Repository<A,S>::keep" in s),
    ("snapshot_if_due", lambda s: "snapshot_if_due" in s),
    ("decide (BankAccount::handle)", lambda s: "as ddd_core::aggregate::Aggregate>::handle" in s),
    ("apply (AggregateRoot::apply)", lambda s: "AggregateRoot<A>::apply" in s),
    ("StreamId::new(id.to_string())", lambda s: "to_string" in s or "StreamId::new" in s),
    ("drops of envelopes/requests", lambda s: "drop_in_place" in s),
]


def main():
    counts = collections.Counter()
    total = 0
    for stack in samples(sys.stdin):
        root_first = "\n".join(reversed(stack))
        if LOOP not in root_first:
            continue
        total += 1
        below = root_first.split(LOOP, 1)[1]
        if EXECUTE not in below:
            counts["bench loop outside execute (drop of the returned Executed, iteration)"] += 1
            continue
        below = below.split(EXECUTE, 1)[1]
        if POLL not in below:
            counts["execute_with: tracing span creation / drop"] += 1
            continue
        inner = below.split(POLL, 1)[1]
        label = next((name for name, pred in RULES if pred(inner)), None)
        if label is None:
            leaf = stack[0]
            kind = "malloc/free" if re.search(r"malloc|free|_int_", leaf) else "Instrumented::poll / inlined glue"
            label = f"other in execute_inner/attempt: {kind}"
        counts[label] += 1
    print(f"samples in the timed loop: {total}")
    for label, n in counts.most_common():
        print(f"{100.0 * n / total:6.1f}%  {label}")


if __name__ == "__main__":
    main()
