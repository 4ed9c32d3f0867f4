"""The "## Firehose" section of BENCHMARKS.md from target/bench/results-firehose.json
(bench/firehose.sh); called by render.py."""

from render import get, num, mib


def peer_rows(peers):
    by = {p["peer"]: p for p in peers}

    def put(name):
        p = by.get(name)
        return get(p, "run", "put", "records_per_s") if p and p.get("status") == "ok" else None

    def ratio(p, base):
        v = put(p["peer"])
        return f"{v / base:.1f}x" if v is not None and base else "—"

    def both(a, b, digits=1):
        if a is None and b is None:
            return "—"
        return f"{num(a, digits)} / {num(b, digits)}"

    def exact(p):
        d = get(p, "run", "delivery")
        if not d or d.get("error"):
            return (d or {}).get("error", "—") if d else "—"
        return "yes" if d.get("byte_exact") else "**no**"

    def errors(p):
        r = get(p, "run") or {}
        parts = []
        failed = get(r, "put", "failed_records") or 0
        if failed:
            parts.append(f"{failed:,} records failed {get(r, 'put', 'error_codes')}")
        calls = get(r, "put", "call_errors") or 0
        if calls:
            parts.append(f"{calls} PutRecordBatch calls failed: {(get(r, 'put', 'first_error') or '')[:200]}")
        if get(r, "latency", "error"):
            parts.append(f"latency: {get(r, 'latency', 'error')}")
        return "; ".join(parts) if parts else "0"

    fc, moto = put("fakecloud"), put("moto")
    rows = [
        ("version", lambda p: p.get("version") or "—"),
        ("status", lambda p: p.get("status", "—")),
        ("PutRecordBatch, acknowledged records/s", lambda p: num(get(p, "run", "put", "records_per_s"))),
        ("  vs moto, same run", lambda p: ratio(p, moto)),
        ("  vs fakecloud, same run", lambda p: ratio(p, fc)),
        ("records acknowledged", lambda p: num(get(p, "run", "put", "records_acked"))),
        ("**lost** (acknowledged, not in S3)", lambda p: num(get(p, "run", "delivery", "lost"))),
        ("duplicates in S3", lambda p: num(get(p, "run", "delivery", "duplicates"))),
        ("bytes added to the records (delimiters, re-encoding)", lambda p: num(get(p, "run", "delivery", "bytes_added"))),
        ("delivered byte-exact", exact),
        ("objects written", lambda p: num(get(p, "run", "delivery", "objects"))),
        ("all records in S3 after the last put, s", lambda p: num(get(p, "run", "delivery", "all_visible_after_s"), 2)),
        ("put -> object visible, p50 / max, ms", lambda p: both(get(p, "run", "latency", "p50_ms"), get(p, "run", "latency", "max_ms"), 0)),
        ("PutRecordBatch call p50 / p99, ms", lambda p: both(get(p, "run", "put", "call_p50_ms"), get(p, "run", "put", "call_p99_ms"), 1)),
        ("server CPU per record put, µs", lambda p: num(get(p, "run", "server", "cpu_us_per_put_record"), 1)),
        ("errors", errors),
        ("start to first answer, ms", lambda p: num(p.get("first_answer_ms"), 1)),
        ("idle RSS, MiB", lambda p: mib(p.get("idle_rss_kib"))),
        ("peak RSS, MiB", lambda p: mib(get(p, "run", "server", "vm_hwm_kib"), 0)),
        ("  records stored in the emulated S3 by then, MiB", lambda p: stored(p)),
    ]
    head = "| | " + " | ".join(p["peer"] for p in peers) + " |"
    lines = [head, "|---|" + "---|" * len(peers)]
    for label, f in rows:
        lines.append(f"| {label} | " + " | ".join(str(f(p)).replace("|", "\\|") for p in peers) + " |")
    return lines


def stored(p):
    acked, size = get(p, "run", "put", "records_acked"), get(p, "run", "record_size")
    return "—" if acked is None or size is None else f"{acked * size / 1048576:,.0f}"


def section(res):
    peers = res["peers"]
    m, s = res["machine"], res["settings"]
    b = s["buffering"]
    out = [
        "## Firehose",
        "",
        f"Measured {res['date']} on {m['nproc']} cores ({m['cpu_model']}), {m['memory']}, Linux {m['kernel']}; "
        f"the server and the load generator share those cores. The whole run (builds cached) took {res['run_seconds']} s.",
        "",
        "Load, identical for every emulator (`bench/firehose.sh`, `loadgen firehose`, aws-sdk-firehose and aws-sdk-s3): "
        f"a bucket and a DirectPut delivery stream into it (ExtendedS3, UNCOMPRESSED, buffering {b['size_mb']} MiB or "
        f"{b['interval_s']} s), {s['writers']} concurrent writers each sending PutRecordBatch of {s['records_per_call']} x "
        f"{s['record_bytes']} B records for {s['put_seconds']} s; then the load generator waits until the objects hold "
        "every acknowledged byte, reads every object back and checks each record byte for byte (lost = acknowledged, "
        "not found; bytes added = bytes in the objects that belong to no record, such as a newline a peer appends); "
        f"then put -> object latency: a second delivery stream buffering for {s['latency_interval_s']} s, one record "
        "at a time, ListObjectsV2 polled every 10 ms until its object appears. AWS delivers a buffer when its size or "
        "its interval is reached, so an emulator that writes one object per call shows a latency near zero and many "
        "small objects.",
        "",
    ]
    out += peer_rows(peers)
    failed = [p for p in peers if p.get("status") != "ok"]
    if failed:
        out += ["", "Failures:", ""]
        for p in failed:
            err = (p.get("error") or "unknown error").strip().replace("\n", " ")
            out.append(f"- **{p['peer']}**: {err[:600]}")
    out += [
        "",
        "Peer settings: our emulator with `--relax-limits` (no flush-interval override: it honours the buffering "
        "hints); fakecloud's `fakecloud-firehose` and `fakecloud-s3` services alone behind `fakecloud-core`'s "
        "dispatcher (`bench/fakecloud-wrapper`); moto as `moto_server`; MiniStack (`GATEWAY_PORT`); LocalEmu "
        "(`localemu start`).",
        "",
        "```sh",
        "BENCH_PARTS=firehose make bench                                  # this section alone",
        "BENCH_PEERS='ours moto' BENCH_DURATION=5 bench/firehose.sh         # a subset, shorter",
        "```",
        "",
    ]
    return out
