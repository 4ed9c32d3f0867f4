"""The "Operator" section of BENCHMARKS.md, from target/bench/results-operator.json
(bench/operator.sh). Used by bench/render.py."""

# ACK's kinesis-controller as DESIGN §8 quotes it (measured on this machine kind, not by this
# run), and the targets derived from it.
ACK_READY_S = 75
ACK_CALLS_PER_STREAM = 9
ACK_PEAK_RSS_MIB = 68
TARGET_READY_S = ACK_READY_S / 5
TARGET_CALLS_PER_STREAM = 2.7
TARGET_RSS_MIB = ACK_PEAK_RSS_MIB / 2


def rate_limits_words(mode):
    """The operator's pacing in the words of the method paragraph."""
    if mode == "adaptive":
        return ("`--aws-rate-limits adaptive` (the default: full speed until throttled; with `--relax-limits` "
                "the emulator never throttles, so nothing waits)")
    if mode == "off":
        return "`--aws-rate-limits off` (no pacing)"
    return ("`--aws-rate-limits aws`: CreateStream paced at 4.5 per second, 90 % of AWS's quota, "
            "whatever the endpoint allows")


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


def seconds(text):
    """'20s', '10m', '1h', '500ms' -> seconds (None if unknown)."""
    import re
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*", text or "")
    if not m:
        return None
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


def op_name(op):
    return op.split(":", 1)[-1]


def with_per(total, per, digits=2):
    if total is None:
        return "—"
    return f"{num(total)} ({num(per, digits)})"


def mark(ok):
    return "—" if ok is None else ("yes" if ok else "**no**")


def pct(cpu_s, wall_s):
    return None if cpu_s is None or not wall_s else cpu_s / wall_s * 100


def by_op(phase, n):
    """"Op a.aa, Op b.bb" per stream."""
    ops = get(phase, "aws_calls", "by_operation") or {}
    if not ops:
        return "none"
    return ", ".join(f"{op_name(op)} {v / n:.2f}" for op, v in sorted(ops.items(), key=lambda kv: -kv[1]))


def errors_text(phase):
    errs = get(phase, "aws_calls", "errors_by_operation") or {}
    parts = [f"{op_name(op)}: " + ", ".join(f"{k} {v:,}" for k, v in o.items()) for op, o in errs.items()]
    return "; ".join(parts) if parts else "0"


def own_count(r, phase_key, per_reconcile=False):
    """The operator's own count of its AWS calls (kinesis_operator_aws_calls_total) per stream
    (or per reconcile), marked when it differs from what the emulator served."""
    ph = get(r, phase_key, "phase")
    own = get(ph, "aws_calls_operator_metrics")
    if not own or get(ph, "aws_calls", "source"):
        return "—"
    div = (get(ph, "reconciles", "total") if per_reconcile else r.get("n")) or 1
    ops = own.get("by_operation") or {}
    text = f"{own['total'] / div:.2f}"
    if ops:
        text += " (" + ", ".join(f"{op_name(op)} {v / div:.2f}" for op, v in sorted(ops.items(), key=lambda kv: -kv[1])) + ")"
    served = get(ph, "aws_calls", "total")
    if served is not None and served != own["total"]:
        text += f"; **{served - own['total']:+,} calls the metrics miss**"
    return text


def run_rows(runs, settings):
    default = settings.get("default_resync_interval")
    default_s = seconds(default)

    def idle_at_default(r):
        ms = get(r, "steady", "operator_cpu_ms_per_reconcile")
        if ms is None or not default_s:
            return "—"
        return f"{ms * r['n'] / 1000 / default_s * 100:.3f}"

    ready_ops = sorted({op for r in runs for op in (get(r, "ready", "phase", "aws_calls", "by_operation") or {})},
                       key=lambda op: -max((get(r, "ready", "phase", "aws_calls", "by_operation", op) or 0) for r in runs))

    def cpu_cell(r, phase_key, proc):
        ph = get(r, phase_key, "phase")
        c = get(ph, "cpu_s", proc)
        return "—" if c is None else f"{c:,.1f} s ({num(pct(c, get(ph, 'wall_s')))}%)"

    def k8s(r, key):
        ph = get(r, "ready", "phase")
        by = get(ph, "k8s_writes", "by_request") or {}
        n = r.get("n") or 0
        if not by:
            return "—"
        total = sum(by.values())
        parts = ", ".join(f"{k} {v / n:.2f}" for k, v in sorted(by.items(), key=lambda kv: -kv[1]))
        return f"{total:,} ({total / n:.2f}): {parts}"

    def ready_at(r):
        return " / ".join(num(get(r, "ready", k), 1) for k in ("first_ready_s", "p50_ready_s", "p90_ready_s"))

    def idle_calls(r):
        i = r.get("steady") or {}
        rd, wr = i.get("aws_reads_per_reconcile"), i.get("aws_writes_per_reconcile")
        if rd is None:
            return "— (no resync in the window)"
        ops = get(i, "phase", "aws_calls", "by_operation") or {}
        rec = get(i, "phase", "reconciles", "total") or 1
        detail = ", ".join(f"{op_name(op)} {v / rec:.2f}" for op, v in sorted(ops.items()))
        return f"{rd:.2f} / {wr:.2f} ({detail})"

    rows = [
        ("status", lambda r: r.get("status", "—")),
        ("**all Ready after, s** (from the start of `kubectl create`)", lambda r: num(get(r, "ready", "seconds"), 1)),
        ("  first / 50% / 90% Ready after, s", ready_at),
        ("  `kubectl create` of the N objects took, s", lambda r: num(get(r, "ready", "create_seconds"), 1)),
        ("  per object, created (seen by the watch) -> Ready, p50 / p99 / max, s",
         lambda r: " / ".join(num(get(r, "ready", "seen_to_ready_s", k), 2) for k in ("p50", "p99", "max"))),
        ("  Ready -> not Ready flaps", lambda r: num(get(r, "ready", "ready_flaps"))),
        ("**AWS calls until all Ready** (per stream), served by the emulator",
         lambda r: with_per(get(r, "ready", "phase", "aws_calls", "total"), get(r, "ready", "phase", "aws_calls", "per_stream"))),
    ]
    for op in ready_ops:
        rows.append((f"  {op_name(op)} (per stream)",
                     lambda r, op=op: with_per(get(r, "ready", "phase", "aws_calls", "by_operation", op),
                                               (get(r, "ready", "phase", "aws_calls", "by_operation", op) or 0) / (r.get("n") or 1))))
    rows += [
        ("  failed AWS calls, by outcome", lambda r: errors_text(get(r, "ready", "phase"))),
        ("  the operator's own count (its metrics), per stream", lambda r: own_count(r, "ready")),
        ("reconciles until all Ready (per stream)",
         lambda r: with_per(get(r, "ready", "phase", "reconciles", "total"), get(r, "ready", "phase", "reconciles", "per_stream"))),
        ("  by result", lambda r: ", ".join(f"{k} {v:,}" for k, v in sorted((get(r, "ready", "phase", "reconciles", "by_result") or {}).items())) or "—"),
        ("Kubernetes writes until all Ready (per stream)", lambda r: k8s(r, "ready")),
        ("**operator peak RSS (VmHWM), MiB** (create, Ready, idle)", lambda r: mib(r.get("operator_peak_rss_kib"))),
        ("operator CPU until all Ready (% of one core)", lambda r: cpu_cell(r, "ready", "operator")),
        ("kube-apiserver / etcd / emulator CPU until all Ready",
         lambda r: " / ".join(cpu_cell(r, "ready", p) for p in ("kube-apiserver", "etcd", "emulator"))),
        ("kubectl create + the watch (the bench itself) CPU, s", lambda r: num(get(r, "ready", "phase", "bench_cpu_s"), 1)),
        ("other processes' CPU until all Ready, s", lambda r: num(get(r, "ready", "phase", "other_processes_cpu_s"), 1)),
        ("**operator CPU while idle, % of one core** (nothing changing, no resync due)", lambda r: num(get(r, "idle", "operator_cpu_pct_of_core"), 2)),
        ("  operator RSS while idle, MiB", lambda r: mib(get(r, "idle", "operator_rss_kib"))),
        ("  AWS calls / reconciles in the idle window", lambda r: f"{num(get(r, 'idle', 'phase', 'aws_calls', 'total'))} / {num(get(r, 'idle', 'phase', 'reconciles', 'total'))}"),
        ("operator restart (resync interval {}): AWS calls per object".format(settings.get("resync_interval")),
         lambda r: f"{num(get(r, 'restart', 'phase', 'aws_calls', 'per_stream'), 2)} ({by_op(get(r, 'restart', 'phase'), r.get('n') or 1)})" if get(r, "restart") else "—"),
        ("  reconciles per object, Kubernetes writes", lambda r: f"{num(get(r, 'restart', 'phase', 'reconciles', 'per_stream'), 2)}, {num(get(r, 'restart', 'phase', 'k8s_writes', 'total'))}"),
        ("  restarted operator's CPU from its start to the steady-state window, s", lambda r: num(get(r, "restart", "phase", "cpu_s", "operator"), 2)),
        ("**steady state: AWS reads / writes per object per resync**", idle_calls),
        ("  resyncs per object in the {} s window".format(settings.get("idle_s")), lambda r: num(get(r, "steady", "reconciles_per_object"), 2)),
        ("  Kubernetes writes per resync", lambda r: num(get(r, "steady", "k8s_writes_per_reconcile"), 2)),
        ("  the operator's own count (its metrics), per resync", lambda r: own_count(r, "steady", per_reconcile=True)),
        ("  operator CPU per resync, ms", lambda r: num(get(r, "steady", "operator_cpu_ms_per_reconcile"), 2)),
        ("  operator CPU in the window, % of one core", lambda r: num(get(r, "steady", "operator_cpu_pct_of_core"), 2)),
        (f"  the same at the default resync interval ({default or '?'}), extrapolated", idle_at_default),
        ("  restarted operator's peak RSS (restart, resyncs, delete), MiB", lambda r: mib(r.get("steady_operator_peak_rss_kib"))),
        ("delete all: gone after, s", lambda r: num(get(r, "delete", "seconds"), 1)),
        ("  AWS calls per stream", lambda r: by_op(get(r, "delete", "phase"), r.get("n") or 1) if get(r, "delete", "phase") else "—"),
        ("  failed AWS calls", lambda r: errors_text(get(r, "delete", "phase"))),
        ("  the operator's own count (its metrics), per stream", lambda r: own_count(r, "delete")),
        ("operator warnings + errors logged", lambda r: num(r.get("operator_log_warnings"))),
    ]
    head = "| | " + " | ".join(f"N = {r.get('n')}" for r in runs) + " |"
    lines = [head, "|---|" + "---|" * len(runs)]
    for label, f in rows:
        lines.append(f"| {label} | " + " | ".join(str(f(r)).replace("|", "\\|") for r in runs) + " |")
    return lines


def targets(runs):
    ok_runs = [r for r in runs if r.get("n")]
    big = next((r for r in ok_runs if r.get("n") == 1000), None) or (max(ok_runs, key=lambda r: r["n"]) if ok_runs else None)
    if big is None:
        return []
    n = big["n"]
    ready_s = get(big, "ready", "seconds") if get(big, "ready", "all_ready") else None
    calls = get(big, "ready", "phase", "aws_calls", "per_stream")
    rss = big.get("operator_peak_rss_kib")
    rd, wr = get(big, "steady", "aws_reads_per_reconcile"), get(big, "steady", "aws_writes_per_reconcile")
    lines = [
        f"### Against the DESIGN §8 targets (N = {n})",
        "",
        "ACK's figures are those DESIGN §8 quotes for ACK's kinesis-controller v1.3.2 with its chart defaults, "
        "measured on this machine kind, per DESIGN §8; not measured by this run.",
        "",
        "| measure | ACK kinesis-controller v1.3.2 (per DESIGN §8) | target | ours, this run | met |",
        "|---|---|---|---|---|",
        f"| {n} KinesisStreams -> all Ready, emulator without delays | never Ready (Ready stays False until its 10 h resync); "
        f"ARN and ACTIVE after ~{ACK_READY_S} s | <= 1/5 of ACK's time: <= {TARGET_READY_S:.0f} s | "
        f"{num(ready_s, 1) + ' s' if ready_s is not None else 'not all Ready: ' + str(get(big, 'ready', 'ready_count')) + ' of ' + str(n)} | "
        f"{mark(None if get(big, 'ready') is None else (ready_s is not None and ready_s <= TARGET_READY_S))} |",
        f"| AWS calls per stream until Ready | {ACK_CALLS_PER_STREAM} ({ACK_CALLS_PER_STREAM * 1000:,} for 1000) | <= {TARGET_CALLS_PER_STREAM} | "
        f"{num(calls, 2)} | {mark(None if calls is None else calls <= TARGET_CALLS_PER_STREAM)} |",
        f"| operator peak RSS | ~{ACK_PEAK_RSS_MIB} MiB | <= half of ACK's: <= {TARGET_RSS_MIB:.0f} MiB | {mib(rss)} MiB | "
        f"{mark(None if rss is None else rss / 1024 <= TARGET_RSS_MIB)} |",
        f"| steady state per object | no reads for 10 h (drift goes unseen) | 1 read per resync, 0 writes when equal | "
        f"{num(rd, 2)} reads, {num(wr, 2)} writes per resync | {mark(None if rd is None else rd <= 1 and wr == 0)} |",
    ]
    return lines


def section(res):
    runs = res.get("runs") or []
    m, s = res["machine"], res["settings"]
    out = [
        "## Operator",
        "",
        f"Measured {res['date']} on {m['nproc']} cores ({m['cpu_model']}), {m['memory']}, Linux {m['kernel']}; "
        f"{res.get('operator_version', '?')} against kube-apiserver {res.get('control_plane', '?')}, all on the same "
        f"cores. The whole run took {res['run_seconds']} s.",
        "",
        f"For each N, a fresh etcd + kube-apiserver (`tools/cluster.sh`), a fresh emulator "
        f"(`kinesis-operator emulator {s.get('emulator')}`: no artificial delays, and the 500-shard account limit "
        f"lifted so 1000 streams fit) and a fresh operator (`kinesis-operator run`, "
        f"`--max-concurrent-reconciles` {s.get('max_concurrent_reconciles')}, `--resync-interval {s.get('resync_interval')}`, "
        + rate_limits_words(s.get('aws_rate_limits', 'aws')) + "). "
        f"N provisioned KinesisStreams with `shardCount: {s.get('shards')}` and nothing else in the spec are created by "
        f"{s.get('creators', 1)} parallel `kubectl create -f` processes, each with a multi-document manifest of every "
        f"{s.get('creators', 1)}th object; time runs from just before those commands until all N "
        "are Ready (Ready condition True and `status.observedGeneration` = `metadata.generation`), followed by one "
        "LIST + WATCH (`bench/operator.py`). AWS calls are the requests the emulator answered (its debug log has "
        "one line per request, so SDK retries count too); the operator's own count "
        "(`kinesis_operator_aws_calls_total`) is shown as a cross-check. Reconciles come from the operator's `/metrics`, "
        "Kubernetes writes from the API server's `apiserver_request_total` (kinesisstreams, their status, events; "
        "the bench's own create and delete left out), "
        "CPU from utime+stime in /proc, peak RSS from VmHWM. "
        f"Until all Ready the operator runs with `--resync-interval {s.get('ready_resync_interval')}`, so that no "
        f"resync is counted there. Idle: {s.get('settle_s')} s after all Ready, a {s.get('idle_s')} s window with "
        "nothing changing. Steady state: the operator is then restarted with "
        f"`--resync-interval {s.get('resync_interval')}`; its start reconciles every object once (\"restart\"), and "
        f"{s.get('settle_s')} s after that a {s.get('idle_s')} s window counts AWS calls per resync (reconcile) with "
        "nothing changed. Then all N are deleted (`kubectl delete --all "
        "--wait=false`) and timed until gone.",
        "",
    ]
    out += run_rows(runs, s)
    failed = [r for r in runs if r.get("status") != "ok"]
    if failed:
        out += ["", "Failures:", ""]
        for r in failed:
            errs = "; ".join(r.get("errors") or []) or "not all Ready"
            stuck = get(r, "ready", "stuck", "by_reason")
            if stuck:
                errs += f" (not Ready: {stuck})"
            out.append(f"- **N = {r.get('n')}**: {errs.replace(chr(10), ' ')[:800]}")
    warned = [r for r in runs if r.get("warnings")]
    if warned:
        out += ["", "Warnings:", ""]
        for r in warned:
            out.append(f"- N = {r.get('n')}: " + "; ".join(r["warnings"]))
    busy = [str(r.get("n")) for r in runs
            if (get(r, "ready", "phase", "other_processes_cpu_s") or 0) > 0.15 * (get(r, "ready", "phase", "wall_s") or 1e9)]
    if busy:
        out += ["", f"**Disturbed run**: other processes used more than 15% of a core while N = {', '.join(busy)} "
                "became Ready; its time is high. Rerun on a quiet machine."]
    bound = [str(r.get("n")) for r in runs
             if get(r, "ready", "seconds") is not None and get(r, "ready", "create_seconds") is not None
             and get(r, "ready", "seconds") - get(r, "ready", "create_seconds") < 1]
    if bound:
        out += ["", f"For N = {', '.join(bound)}, the last object was Ready less than 1 s after `kubectl create` "
                "returned: the time until all Ready is bounded by the creates (each kubectl POSTs one object at a "
                "time, and the API server shares the 2 cores with everything else); the created -> Ready row is the "
                "operator's own latency."]
    out += [""] + targets(runs)
    out += [
        "",
        "### How to reproduce",
        "",
        "```sh",
        "BENCH_PARTS=operator make bench             # this section only (make bench runs emulator and operator)",
        "BENCH_N=100 BENCH_IDLE=10 bench/operator.sh  # one N, shorter idle window",
        "```",
        "",
        "Knobs are listed at the top of `bench/operator.sh`. Needs cargo, python3, curl, jq and `make tools` "
        "(built if missing). Raw results: `target/bench/results-operator.json`; per-N snapshots and the operator, "
        "emulator and control plane logs: `target/bench/operator-n<N>/`.",
        "",
    ]
    return out
