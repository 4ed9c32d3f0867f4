#!/usr/bin/env python3
"""Render the results of `make bench` into BENCHMARKS.md.

Usage: render.py RESULTS_JSON BENCHMARKS_MD. target/bench/results-emulator.json (bench/run.sh)
becomes the "## Emulator" section, target/bench/results-firehose.json (bench/firehose.sh) the
"## Firehose" section, target/bench/results-operator.json (bench/operator.sh) the
"## Operator" section, target/bench/results-pipeline.json (bench/operator.sh with
BENCH_SCENARIO=pipeline) the "## Operator: mixed kinds with references" section,
target/bench/results-analytics.json (bench/analytics.sh) the "## Managed Service for Apache
Flink (emulator)" section. Only that
section, up to the next "## " heading, is replaced; the rest of the file is kept. A section not
yet in the file is appended (the mixed-kinds section right after "## Operator", beside the
KinesisStream figures; the Flink section right after "## Firehose").
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render_analytics as analytics  # noqa: E402
import render_firehose as firehose  # noqa: E402
import render_operator as operator  # noqa: E402
import render_pipeline as pipeline  # noqa: E402

HEADER = """# Benchmarks

Measured by `make bench` on the project's machine kind; the numbers below are rewritten by each
run (`bench/run.sh`, `bench/firehose.sh`, `bench/operator.sh`, `bench/analytics.sh`, `bench/render.py`). Timed tests never assert them
(DESIGN §8).
"""


def get(d, *path):
    for p in path:
        if not isinstance(d, dict) or d.get(p) is None:
            return None
        d = d[p]
    return d


def num(x, digits=0):
    if x is None:
        return "—"
    if digits == 0:
        return f"{round(x):,}"
    return f"{x:,.{digits}f}"


def mib(kib, digits=1):
    return "—" if kib is None else f"{kib / 1024:,.{digits}f}"


def pct(x):
    return None if x is None else x * 100


def share(p, cpu_key, phase):
    cpu, wall = get(p, "run", "server", cpu_key), get(p, "run", phase, "elapsed_s")
    return None if cpu is None or not wall else cpu / wall * 100


def peer_rows(peers):
    by = {p["peer"]: p for p in peers}

    def put(name):
        p = by.get(name)
        return get(p, "run", "put", "records_per_s") if p and p.get("status") == "ok" else None

    kl, fc = put("kinesalite"), put("fakecloud")

    def ratio(p, base):
        v = put(p["peer"])
        return f"{v / base:.1f}x" if v is not None and base else "—"

    def both(a, b, digits=1):
        if a is None and b is None:
            return "—"
        return f"{num(a, digits)} / {num(b, digits)}"

    def errors(p):
        r = get(p, "run") or {}
        parts = []
        failed = get(r, "put", "records_failed") or 0
        if failed:
            parts.append(f"{failed:,} records failed {json.dumps(get(r, 'put', 'failed_codes'))}")
        for phase, name in (("put", "PutRecords"), ("read", "GetRecords")):
            n = get(r, phase, "call_errors") or 0
            if n:
                parts.append(f"{n} {name} calls failed")
        for key, name in (("put_errors", "PutRecord"), ("poll_errors", "latency polls"), ("missed", "latency records never seen")):
            n = get(r, "latency", key) or 0
            if n:
                parts.append(f"{n} {name}")
        if get(r, "read", "complete") is False:
            parts.append("re-read incomplete")
        return "; ".join(parts) if parts else "0"

    rows = [
        ("version", lambda p: p.get("version") or "—"),
        ("status", lambda p: p.get("status", "—")),
        ("PutRecords, acknowledged records/s", lambda p: num(get(p, "run", "put", "records_per_s"))),
        ("  vs kinesalite, same run", lambda p: ratio(p, kl)),
        ("  vs fakecloud, same run", lambda p: ratio(p, fc)),
        ("records acknowledged", lambda p: num(get(p, "run", "put", "records_acked"))),
        ("**lost** (acknowledged, never read back)", lambda p: num(get(p, "run", "read", "lost"))),
        ("duplicates read", lambda p: num(get(p, "run", "read", "duplicates"))),
        ("out of sequence-number order within a shard", lambda p: num(get(p, "run", "read", "order_violations"))),
        ("errors", errors),
        ("GetRecords re-read, records/s", lambda p: num(get(p, "run", "read", "records_per_s"))),
        ("put->get latency p50 / p99, ms", lambda p: both(get(p, "run", "latency", "p50_ms"), get(p, "run", "latency", "p99_ms"), 1)),
        ("PutRecords call p50 / p99, ms", lambda p: both(get(p, "run", "put", "call_p50_ms"), get(p, "run", "put", "call_p99_ms"), 1)),
        ("server CPU per record, put / get, µs", lambda p: both(get(p, "run", "server", "cpu_us_per_put_record"), get(p, "run", "server", "cpu_us_per_read_record"), 1)),
        ("server memory per stored 750 B record, bytes", lambda p: num(get(p, "run", "server", "bytes_per_stored_record"))),
        ("start to first answer, ms", lambda p: num(p.get("first_answer_ms"), 1)),
        ("idle RSS, MiB", lambda p: mib(p.get("idle_rss_kib"))),
        ("peak RSS, MiB", lambda p: mib(p.get("peak_rss_kib"), 0)),
        ("server CPU while putting / re-reading, % of one core", lambda p: both(share(p, "cpu_put_s", "put"), share(p, "cpu_read_s", "read"), 0)),
        ("load generator CPU while putting / re-reading, % of one core", lambda p: both(pct(get(p, "run", "loadgen", "cpu_put_share_of_wall")), pct(get(p, "run", "loadgen", "cpu_read_share_of_wall")), 0)),
        ("other processes' CPU while putting / re-reading, % of one core", lambda p: both(pct(get(p, "run", "machine", "other_cpu_put_share")), pct(get(p, "run", "machine", "other_cpu_read_share")), 0)),
    ]
    head = "| | " + " | ".join(p["peer"] for p in peers) + " |"
    sep = "|---|" + "---|" * len(peers)
    lines = [head, sep]
    for label, f in rows:
        lines.append(f"| {label} | " + " | ".join(str(f(p)).replace("|", "\\|") for p in peers) + " |")
    return lines


def targets(peers):
    by = {p["peer"]: p for p in peers}
    ours = by.get("ours")

    def g(name, *path):
        p = by.get(name)
        return get(p, *path) if p and p.get("status") == "ok" else None

    put_o, put_f, put_k = (g(n, "run", "put", "records_per_s") for n in ("ours", "fakecloud", "kinesalite"))
    lost = g("ours", "run", "read", "lost")
    p99 = g("ours", "run", "latency", "p99_ms")
    mem = g("ours", "run", "server", "bytes_per_stored_record")
    first = ours.get("first_answer_ms") if ours else None
    idle = ours.get("idle_rss_kib") if ours else None

    def mark(ok):
        return "—" if ok is None else ("yes" if ok else "**no**")

    def rel(a, b):
        return f"{a / b:.1f}x" if a is not None and b else "—"

    cpu_o, cpu_f = (g(n, "run", "server", "cpu_us_per_put_record") for n in ("ours", "fakecloud"))
    put_ok = None
    if None not in (put_o, put_f, lost, cpu_o, cpu_f):
        put_ok = put_o >= put_f and cpu_o * 3 <= cpu_f and lost == 0
    rows = [
        ("PutRecords, limits relaxed, 750 B records",
         "0 lost; rec/s never below fakecloud's; server CPU per record <= 1/3 of fakecloud's (same run)",
         f"{num(put_o)} rec/s = {rel(put_o, put_f)} fakecloud, {rel(put_o, put_k)} kinesalite; {num(lost)} lost; "
         f"{num(cpu_o, 1)} µs server CPU per record vs fakecloud's {num(cpu_f, 1)} µs "
         f"({'—' if None in (cpu_o, cpu_f) or not cpu_f else f'{cpu_o / cpu_f:.2f}'})",
         mark(put_ok)),
        ("put->get latency", "p99 < 5 ms", f"p99 {num(p99, 1)} ms", mark(None if p99 is None else p99 < 5)),
        ("memory per stored 750 B record", "<= 800 B", f"{num(mem)} B", mark(None if mem is None else mem <= 800)),
        ("start to first answer / idle RSS", "< 10 ms / < 5 MiB with every service",
         f"{num(first, 1)} ms / {mib(idle, 2)} MiB",
         mark(None if first is None or idle is None else first < 10 and idle < 5 * 1024)),
    ]
    lines = ["| measure | target (DESIGN §8) | ours, this run | met |", "|---|---|---|---|"]
    for r in rows:
        lines.append("| " + " | ".join(r) + " |")
    return lines


def section(res):
    peers = res["peers"]
    m, s = res["machine"], res["settings"]
    out = [
        "## Emulator",
        "",
        f"Measured {res['date']} on {m['nproc']} cores ({m['cpu_model']}), {m['memory']}, Linux {m['kernel']}; "
        f"the server and the load generator share those cores. The whole run (builds cached) took {res['run_seconds']} s.",
        "",
        f"Load, identical for every emulator: a 4-shard stream created by the load generator (`bench/loadgen`, "
        f"aws-sdk-kinesis over JSON), {s['writers']} concurrent writers each sending PutRecords of "
        f"{s['records_per_call']} x {s['record_bytes']} B records for {s['put_seconds']} s; then every record is re-read "
        "from TRIM_HORIZON on every shard and counted by id (lost = acknowledged but never read); then put->get "
        "latency: one writer puts a record carrying its send time, readers poll GetRecords on LATEST iterators of all "
        "shards continuously, latency is from the start of PutRecord to the record being seen (up to 1000 samples or 10 s). "
        "Server CPU is utime+stime from /proc over each phase divided by the records of that phase; memory per stored "
        "record is (RSS 1 s after the put phase - RSS before it) / records acknowledged; peak RSS is VmHWM. "
        "With 2 cores shared by server and load generator, a fast server saturates the machine (compare the two CPU "
        "rows): its records/s are then bounded by the machine, and server CPU per record is the fairer comparison.",
        "",
    ]
    out += peer_rows(peers)
    busy = [p["peer"] for p in peers if (get(p, "run", "machine", "other_cpu_put_share") or 0) > 0.15]
    if busy:
        out += ["", f"**Disturbed run**: other processes used more than 15% of a core while {', '.join(busy)} "
                "took the put load; their numbers are low. Rerun on a quiet machine."]
    failed = [p for p in peers if p.get("status") != "ok"]
    if failed:
        out += ["", "Failures:", ""]
        for p in failed:
            err = (p.get("error") or "unknown error").strip().replace("\n", " ")
            out.append(f"- **{p['peer']}**: {err[:600]}")
    out += ["", "### Against the DESIGN §8 targets", ""]
    out += targets(peers)
    out += [
        "",
        "Peer settings: our emulator with `--relax-limits`; kinesalite in memory with "
        "`--createStreamMs 0 --deleteStreamMs 0 --updateStreamMs 0`; kinesis-mock (`node main.js` of npm "
        "`kinesis-local`) on its plain-HTTP port with every `*_DURATION` at `0ms` and `LOG_LEVEL=WARN`; moto as "
        "`moto_server`; fakecloud's `fakecloud-kinesis` service alone behind `fakecloud-core`'s dispatcher "
        "(`bench/fakecloud-wrapper`; the whole fakecloud binary takes about 2 h to build here). None of them enforces "
        "per-shard write limits, so none throttles this load.",
        "",
        "### How to reproduce",
        "",
        "```sh",
        "make bench                      # builds, installs the peers into target/bench/ (cached), runs, renders this section",
        "BENCH_PEERS='ours kinesalite' BENCH_DURATION=5 bench/run.sh   # a subset, shorter",
        "```",
        "",
        "Needs cargo, node and npm, python3 (venv) and jq, and access to crates.io, npm and PyPI on the first run. "
        "Raw results: `target/bench/results-emulator.json`; server logs: `target/bench/logs/`. "
        "The load generator alone: `target/bench-build/release/loadgen run --endpoint http://127.0.0.1:PORT "
        "[--server-pid PID]` prints one JSON line.",
        "",
    ]
    return out


def main():
    res = json.load(open(sys.argv[1]))
    path = sys.argv[2]
    try:
        lines = open(path).read().splitlines()
    except FileNotFoundError:
        lines = HEADER.splitlines() + [""]
    after = None
    if res.get("scenario") == "pipeline":
        heading, new, after = pipeline.HEADING, pipeline.section(res), "## Operator"
    elif res.get("part") == "analytics":
        heading, new, after = analytics.HEADING, analytics.section(res), "## Firehose"
    elif "runs" in res:
        heading, new = "## Operator", operator.section(res)
    elif res.get("part") == "firehose":
        heading, new = "## Firehose", firehose.section(res)
    else:
        heading, new = "## Emulator", section(res)
    start = next((i for i, l in enumerate(lines) if l.strip() == heading), None)
    anchor = next((i for i, l in enumerate(lines) if after and l.strip() == after), None)
    if start is None and anchor is not None:
        end = next((i for i in range(anchor + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines = lines[:end] + new + lines[end:]
    elif start is None:
        while lines and not lines[-1].strip():
            lines.pop()
        lines += [""] + new
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines = lines[:start] + new + lines[end:]
    while lines and not lines[-1].strip():
        lines.pop()
    open(path, "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
