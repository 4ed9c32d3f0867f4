"""The "Operator: mixed kinds with references" section of BENCHMARKS.md, from
target/bench/results-pipeline.json (bench/operator.sh with BENCH_SCENARIO=pipeline). Used by
bench/render.py, which places it after the "Operator" section."""

from render_operator import get, mark, mib, num, op_name, pct

HEADING = "## Operator: mixed kinds with references"
KINDS = ("KinesisStream", "DeliveryStream", "StreamPolicy")
# DESIGN §8: each object Ready within this many seconds of its last dependency.
TARGET_DELAY_S = 2.0

# When the operator makes each call, so that a reader can tell why a count exceeds the
# minimum. This describes the operator's code (src/controller), not this run's figures.
WHEN = {
    "kinesis:DescribeStreamSummary": "once per pass; more than one per stream means more than one pass (a stream still CREATING, a requeue, a second watch event)",
    "kinesis:ListTagsForStream": "the deep check: a stream this process did not create, or every few resyncs",
    "firehose:DescribeDeliveryStream": "once per pass after the inputs are read; more than one per delivery stream means more than one pass after its create. A change of the stream it reads wakes it only when what the reference resolves to changed (readiness, ARN, deletion, consent) and it is not already Ready with that stream's ARN (src/controller/references.rs)",
    "firehose:ListTagsForDeliveryStream": "the deep check: a delivery stream this process did not create, or every sixth resync",
    "firehose:CreateDeliveryStream": "a pass that finds no ARN in status and nothing it created: a second create answers ResourceInUseException",
    "iam:GetPolicy": "a pass on a policy this process created earlier (its CreatePolicy answer replaces the describe of the first pass)",
    "iam:GetPolicyVersion": "the default version's document, read when this process has not seen that version",
    "iam:ListEntitiesForPolicy": "the attached roles, listed on the deep check or when the attachment count moved",
    "iam:CreatePolicy": "a pass that finds no ARN in status: a second create answers EntityAlreadyExists",
    "sts:GetCallerIdentity": "the account of the policies' ARNs, once per operator process",
}


def per_op(ops, div, digits=2, name=op_name):
    if not ops:
        return "none"
    return ", ".join(f"{name(op)} {v / div:.{digits}f}" for op, v in sorted(ops.items(), key=lambda kv: -kv[1]))


def delay_cell(d):
    if not d:
        return "—"
    return f"{num(d.get('p50'), 2)} / {num(d.get('p99'), 2)} / {num(d.get('max'), 2)}"


def kind_rows(r):
    """One row per kind of one run."""
    p = r.get("pipeline") or {}
    delays = p.get("dependency_delay_s") or {}
    calls = p.get("ready_calls") or {}
    writes = p.get("ready_k8s_writes") or {}
    recs = p.get("ready_reconciles") or {}
    steady = p.get("steady") or {}
    restart = p.get("restart_calls_per_object") or {}
    lines = [
        "| kind | objects | arrived before their last dependency was Ready | Ready after its last dependency (or its creation), p50 / p99 / max, s "
        "| AWS calls per object until all Ready (by operation) | minimum | beyond the minimum, calls (failed) "
        "| reconciles per object (by result) | Kubernetes writes per object (by request) "
        "| steady state: AWS reads / writes per resync (by operation) | restarted operator's first pass, AWS calls per object |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in KINDS:
        c = calls.get(kind) or {}
        n = c.get("objects") or get(p, "counts", kind) or 0
        d = delays.get(kind) or {}
        waited = d.get("arrived_before_last_dependency_ready")
        extra = c.get("extra") or {}
        errs = c.get("errors_by_operation") or {}
        extra_text = "; ".join(
            f"{op_name(op)} +{v:,}" + (f" ({', '.join(f'{k} {x:,}' for k, x in errs[op].items())})" if op in errs else "")
            for op, v in sorted(extra.items(), key=lambda kv: -kv[1])) or "none"
        rk = recs.get(kind) or {}
        wk = writes.get(kind) or {}
        sk = steady.get(kind) or {}
        steady_text = "—"
        if sk.get("aws_reads_per_resync") is not None:
            steady_text = (f"{sk['aws_reads_per_resync']:.2f} / {sk['aws_writes_per_resync']:.2f} ("
                           + ", ".join(f"{op_name(op)} {v:.2f}" for op, v in sorted(sk.get("by_operation_per_resync", {}).items()))
                           + f"; {num(sk.get('resyncs_per_object'), 1)} resyncs per object)")
        cells = [
            kind, num(n),
            "—" if kind == "KinesisStream" else (f"{num(waited)} of {num(n)}" if waited is not None else "—"),
            delay_cell(d),
            (f"{c['per_object']:.2f} (" + ", ".join(f"{op_name(op)} {v:.2f}" for op, v in sorted(c.get("by_operation_per_object", {}).items(), key=lambda kv: -kv[1])) + ")") if c else "—",
            (f"{c['minimum_per_object']} (" + " + ".join(op_name(op) for op in c.get("minimum", {})) + ")") if c else "—",
            extra_text if c else "—",
            f"{num(rk.get('per_object'), 2)} (" + ", ".join(f"{k} {v:,}" for k, v in sorted((rk.get("by_result") or {}).items())) + ")" if rk else "—",
            f"{num(wk.get('per_object'), 2)} (" + per_op(wk.get("by_request"), n or 1, name=str) + ")" if wk else "—",
            steady_text,
            ", ".join(f"{op_name(op)} {v:.2f}" for op, v in sorted((restart.get(kind) or {}).items(), key=lambda kv: -kv[1])) or "—",
        ]
        lines.append("| " + " | ".join(str(x).replace("|", "\\|") for x in cells) + " |")
    return lines


def run_rows(runs):
    def cpu_cell(r, phase_key, proc):
        ph = get(r, phase_key, "phase")
        c = get(ph, "cpu_s", proc)
        return "—" if c is None else f"{c:,.1f} s ({num(pct(c, get(ph, 'wall_s')))}%)"

    def events(r):
        by = get(r, "ready", "phase", "k8s_writes", "by_request") or {}
        return num(by.get("POST events", 0) + by.get("PATCH events", 0))

    def cross(r):
        s, c = get(r, "ready", "phase", "emulator_json_rpc_served"), get(r, "ready", "phase", "operator_json_rpc_counted")
        if s is None:
            return "— (no request lines in the emulator log)"
        return f"{num(s)} / {num(c)}" + ("" if s == c else f" (**{s - c:+,} the metrics miss**)")

    rows = [
        ("status", lambda r: r.get("status", "—")),
        ("objects: KinesisStreams / DeliveryStreams / StreamPolicies",
         lambda r: " / ".join(num(get(r, "counts", k)) for k in KINDS)),
        ("**all Ready after, s** (from the start of `kubectl create`)", lambda r: num(get(r, "ready", "seconds"), 1)),
        ("  first / 50% / 90% Ready after, s",
         lambda r: " / ".join(num(get(r, "ready", k), 1) for k in ("first_ready_s", "p50_ready_s", "p90_ready_s"))),
        ("  `kubectl create` of the N objects took, s", lambda r: num(get(r, "ready", "create_seconds"), 1)),
        ("**every object: Ready after its last dependency (or its creation), p50 / p99 / max, s**",
         lambda r: delay_cell(get(r, "pipeline", "dependency_delay_s", "all"))),
        ("  Ready -> not Ready flaps", lambda r: num(get(r, "ready", "ready_flaps"))),
        ("**AWS calls until all Ready** (per object), the operator's count",
         lambda r: f"{num(get(r, 'ready', 'phase', 'aws_calls', 'total'))} ({num(get(r, 'ready', 'phase', 'aws_calls', 'per_stream'), 2)})"),
        ("  Kinesis + Firehose requests the emulator served / the operator counted", cross),
        ("Kubernetes writes until all Ready (per object), events included",
         lambda r: f"{num(get(r, 'ready', 'phase', 'k8s_writes', 'total'))} ({num((get(r, 'ready', 'phase', 'k8s_writes', 'total') or 0) / (r.get('n') or 1), 2)}), of which events {events(r)}"),
        ("**operator peak RSS (VmHWM), MiB** (create, Ready, idle)", lambda r: mib(r.get("operator_peak_rss_kib"))),
        ("operator CPU until all Ready (% of one core)", lambda r: cpu_cell(r, "ready", "operator")),
        ("kube-apiserver / etcd / emulator CPU until all Ready",
         lambda r: " / ".join(cpu_cell(r, "ready", p) for p in ("kube-apiserver", "etcd", "emulator"))),
        ("other processes' CPU until all Ready, s", lambda r: num(get(r, "ready", "phase", "other_processes_cpu_s"), 1)),
        ("**operator CPU while idle, % of one core** (nothing changing, no resync due)", lambda r: num(get(r, "idle", "operator_cpu_pct_of_core"), 2)),
        ("  operator RSS while idle, MiB", lambda r: mib(get(r, "idle", "operator_rss_kib"))),
        ("  AWS calls / reconciles in the idle window",
         lambda r: f"{num(get(r, 'idle', 'phase', 'aws_calls', 'total'))} / {num(get(r, 'idle', 'phase', 'reconciles', 'total'))}"),
        ("**steady state: AWS reads / writes per object per resync**, all kinds",
         lambda r: "— (no resync in the window)" if get(r, "steady", "aws_reads_per_reconcile") is None else
         f"{get(r, 'steady', 'aws_reads_per_reconcile'):.2f} / {get(r, 'steady', 'aws_writes_per_reconcile'):.2f}"),
        ("  Kubernetes writes per resync", lambda r: num(get(r, "steady", "k8s_writes_per_reconcile"), 2)),
        ("  operator CPU per resync, ms", lambda r: num(get(r, "steady", "operator_cpu_ms_per_reconcile"), 2)),
        ("delete all: gone after, s", lambda r: num(get(r, "delete", "seconds"), 1)),
        ("  AWS calls per object", lambda r: per_op(get(r, "delete", "phase", "aws_calls", "by_operation"), r.get("n") or 1)),
        ("operator warnings + errors logged", lambda r: num(r.get("operator_log_warnings"))),
    ]
    head = "| | " + " | ".join(f"N = {r.get('n')}" for r in runs) + " |"
    lines = [head, "|---|" + "---|" * len(runs)]
    for label, f in rows:
        lines.append(f"| {label} | " + " | ".join(str(f(r)).replace("|", "\\|") for r in runs) + " |")
    return lines


def targets(r):
    n = r.get("n")
    p = r.get("pipeline") or {}
    d = get(p, "dependency_delay_s", "all") or {}
    late = None
    if get(r, "ready", "all_ready"):
        late = d.get("max")
    lines = [
        f"### Against the DESIGN §8 targets (N = {n})",
        "",
        "| measure | target | ours, this run | met |",
        "|---|---|---|---|",
        f"| {n} mixed objects with references -> all Ready | each object Ready within {TARGET_DELAY_S:.0f} s of its last dependency | "
        + (f"max {late:.2f} s (p99 {d.get('p99', 0):.2f} s)" if late is not None else
           f"not all Ready: {get(r, 'ready', 'ready_count')} of {n}")
        + f" | {mark(None if get(r, 'ready') is None else (late is not None and late <= TARGET_DELAY_S))} |",
    ]
    for kind in KINDS:
        c = get(p, "ready_calls", kind)
        if not c:
            continue
        extra = ", ".join(f"{op_name(op)} +{v:,}" for op, v in sorted(c["extra"].items(), key=lambda kv: -kv[1]))
        lines.append(
            f"| AWS calls per {kind} until Ready | <= {c['minimum_per_object']} (" + " + ".join(op_name(op) for op in c["minimum"]) + ") | "
            f"{c['per_object']:.2f}" + (f"; beyond the minimum: {extra}" if extra else "")
            + f" | {mark(c['within_minimum'])} |")
    for kind in KINDS:
        s = get(p, "steady", kind)
        if not s:
            continue
        rd, wr = s.get("aws_reads_per_resync"), s.get("aws_writes_per_resync")
        lines.append(f"| steady state per {kind} | 1 read per resync, 0 writes when equal | "
                     f"{num(rd, 2)} reads, {num(wr, 2)} writes per resync | "
                     f"{mark(None if rd is None else rd <= 1 and wr == 0)} |")
    return lines


def explanations(r):
    """Why calls beyond the minimum happen, for the operations that exceeded it in this run:
    when the operator's code makes them, and (BENCH_TRACE_CALLS) what woke the passes that
    made them in this run."""
    extra = {op for c in (get(r, "pipeline", "ready_calls") or {}).values() for op in c.get("extra", {})}
    woken = get(r, "pipeline", "wake_reasons", "extra") or {}
    for ops in woken.values():
        extra |= set(ops)
    out = []
    for op in sorted(extra):
        line = f"- `{op_name(op)}`"
        traced = [(kind, woken[kind][op]) for kind in woken if op in woken[kind]]
        if traced:
            line += " beyond each object's minimum, by what woke the pass (kube-runtime's reason): " + "; ".join(
                f"{kind} " + ", ".join(f"{reason} {n:,}" for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]))
                for kind, reasons in traced)
        if op in WHEN:
            line += f". When the operator makes it: {WHEN[op]}"
        out.append(line + ".")
    all_calls = get(r, "pipeline", "wake_reasons", "all_calls") or {}
    if all_calls:
        out.append("- every AWS call until all Ready, by what woke its pass: " + "; ".join(
            f"{kind} " + ", ".join(f"{reason} {n:,}" for reason, n in sorted(v.items(), key=lambda kv: -kv[1]))
            for kind, v in sorted(all_calls.items())) + ".")
    return (["", "Calls beyond the minimum in this run, and why:", ""] + out) if out else []


def section(res):
    runs = res.get("runs") or []
    m, s = res["machine"], res["settings"]
    out = [
        HEADING,
        "",
        f"Measured {res['date']} on {m['nproc']} cores ({m['cpu_model']}), {m['memory']}, Linux {m['kernel']}; "
        f"{res.get('operator_version', '?')} against kube-apiserver {res.get('control_plane', '?')}, all on the same "
        f"cores. The whole run took {res['run_seconds']} s"
        + (f"; the machine's 1-minute load average when it started: {m['loadavg_at_start']} (other work, such as builds, "
           "shared the cores)" if float(m.get("loadavg_at_start") or 0) >= 1 else "") + ".",
        "",
        "The same phases as the KinesisStream figures above (`bench/operator.sh` with `BENCH_SCENARIO=pipeline`: a fresh "
        f"control plane, emulator `{s.get('emulator')}` and operator `--aws-rate-limits {s.get('aws_rate_limits')}`, "
        f"`--max-concurrent-reconciles` {s.get('max_concurrent_reconciles')}), with N objects of three kinds that name "
        f"each other: 40% KinesisStreams (`shardCount: {s.get('shards')}`), 30% DeliveryStreams each reading one of them "
        "by `streamRef` (KinesisStreamAsSource) into an S3 bucket, 30% StreamPolicies each naming two of them in "
        "`statements` (Write on one, Read and Describe on both) and attached to one IAM role (10 policies per role, "
        "IAM's quota). The bucket and roles are made in the emulator first. All N are created at once by "
        f"{s.get('creators')} parallel `kubectl create -f`, the kinds interleaved with each dependent just before "
        "the stream it names last in the same creator, so that most dependents arrive before their streams are Ready and wait "
        "(`WaitingForDependency`). One watch per kind records when each object was first seen and first Ready at its "
        "generation (receipt times, sub-second; `lastTransitionTime` has 1 s resolution); an object's delay runs from "
        "the later of its creation and its last dependency becoming Ready. AWS calls are the operator's own count "
        "(`kinesis_operator_aws_calls_total`, by service: kinesis -> KinesisStream, firehose -> DeliveryStream, "
        "iam and sts -> StreamPolicy; the emulator's log has no line per IAM request, its Kinesis and Firehose "
        "requests are shown as a cross-check)"
        + ("; until all Ready the operator logs every AWS call at debug level (`BENCH_TRACE_CALLS=1`) with its object "
           "and the reason kube-runtime woke the pass, which attributes the calls beyond the minimum below"
           if s.get("trace_calls") else "")
        + "; the minimum is create + one describe per AWS resource, plus the one "
        "role attachment of a policy. Kubernetes writes from the API server's `apiserver_request_total` (the "
        "objects, their status, events; the bench's own create and delete left out). Idle, restart, steady state "
        f"(`--resync-interval {s.get('resync_interval')}`, a {s.get('idle_s')} s window) and delete as above.",
        "",
    ]
    out += run_rows(runs)
    for r in runs:
        out += ["", f"By kind, N = {r.get('n')}:", ""]
        out += kind_rows(r)
        out += explanations(r)
        slow = [x for x in get(r, "pipeline", "dependency_delay_s", "slowest") or [] if x["delay_s"] > TARGET_DELAY_S]
        if slow:
            out += ["", f"Objects Ready more than {TARGET_DELAY_S:.0f} s after their last dependency (or creation), "
                    f"N = {r.get('n')}, slowest first (seconds from the start: when it could be Ready; its Ready condition's course):", ""]
            out += [f"- {x['object']}: {x['delay_s']:.2f} s after {x['could_be_ready_at_s']:.2f} s; "
                    + ", ".join(f"{c[0]:.2f} {c[1]} {c[2]}" for c in x.get("ready_condition") or []) for x in slow]
        warns = r.get("operator_log_warnings_by_message") or {}
        if warns:
            out += ["", f"Operator warnings and errors logged, N = {r.get('n')} (log | kind | message | error):", ""]
            out += [f"- {v:,} x {k}" for k, v in list(warns.items())[:8]]
    failed = [r for r in runs if r.get("status") != "ok"]
    if failed:
        out += ["", "Failures:", ""]
        for r in failed:
            errs = "; ".join(r.get("errors") or []) or "not all Ready"
            stuck = get(r, "ready", "stuck", "by_reason")
            if stuck:
                errs += f" (not Ready: {stuck})"
            out.append(f"- **N = {r.get('n')}**: {errs.replace(chr(10), ' ')[:800]}")
    busy = [str(r.get("n")) for r in runs
            if (get(r, "ready", "phase", "other_processes_cpu_s") or 0) > 0.15 * (get(r, "ready", "phase", "wall_s") or 1e9)]
    if busy:
        out += ["", f"**Disturbed run**: other processes used more than 15% of a core while N = {', '.join(busy)} "
                "became Ready (the machine was shared, e.g. with builds); its times are high. Rerun on a quiet machine."]
    big = max((r for r in runs if r.get("n")), key=lambda r: r["n"], default=None)
    if big:
        out += [""] + targets(big)
    out += [
        "",
        "### How to reproduce",
        "",
        "```sh",
        "BENCH_PARTS=pipeline make bench                                     # this section only",
        "BENCH_SCENARIO=pipeline BENCH_PIPELINE_N=30 BENCH_IDLE=10 bench/operator.sh   # a small run",
        "```",
        "",
        "Knobs are listed at the top of `bench/operator.sh`. Raw results: `target/bench/results-pipeline.json` (per "
        "object: seen and Ready times, the streams it names); snapshots and logs: `target/bench/pipeline-n<N>/`.",
        "",
    ]
    return out
