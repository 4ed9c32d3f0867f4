"""The "## Managed Service for Apache Flink (emulator)" section of BENCHMARKS.md from
target/bench/results-analytics.json (bench/analytics.sh); called by render.py."""

from render_operator import get, mib, num

HEADING = "## Managed Service for Apache Flink (emulator)"

# DESIGN §8: Flink application start -> first output record.
TARGET_FIRST_OUTPUT_S = 10
TARGET_JVM_MB = 400


def secs(ms_value, digits=1):
    return "—" if ms_value is None else f"{ms_value / 1000:,.{digits}f}"


def starts(r):
    runs = get(r, "start", "runs") or []
    return ", ".join(secs(x.get("to_first_output_ms")) for x in runs) or "—"


def errors(r):
    parts = []
    put = get(r, "throughput", "put") or {}
    if put.get("retried_records"):
        parts.append(f"{put['retried_records']:,} records refused and put again")
    if put.get("call_errors"):
        parts.append(f"{put['call_errors']} PutRecords calls failed: {(put.get('first_error') or '')[:200]}")
    if get(r, "throughput", "output", "error"):
        parts.append(f"output: {get(r, 'throughput', 'output', 'error')}")
    if r.get("error"):
        parts.append(r["error"][:600])
    return "; ".join(parts) if parts else "0"


def run_rows(runs):
    rows = [
        ("status", lambda r: r.get("status", "—")),
        ("StartApplication -> first output line, s (median)", lambda r: secs(get(r, "start", "to_first_output_ms_median"))),
        ("  each start, s", starts),
        ("StartApplication -> RUNNING, s (median)", lambda r: secs(get(r, "start", "to_running_ms_median"))),
        ("StartApplication call, ms (first start)", lambda r: num(first_call(r), 1)),
        ("StopApplication (force) -> READY, s (each)", lambda r: ", ".join(secs(x) for x in (get(r, "start", "stop_ms") or [])) or "—"),
        ("log lines put (half of them errors)", lambda r: num(get(r, "throughput", "put", "accepted"))),
        ("PutRecords, accepted input records/s", lambda r: num(get(r, "throughput", "put", "records_per_s"))),
        ("error lines through the filter, records/s (first put -> last output)", lambda r: num(get(r, "throughput", "output", "matching_per_s"))),
        ("  input records/s end to end (same interval)", lambda r: num(get(r, "throughput", "output", "input_per_s_end_to_end"))),
        ("  first output line after the first put, s", lambda r: num(get(r, "throughput", "output", "first_output_after_s"), 2)),
        ("  last output line after the last put, s", lambda r: num(get(r, "throughput", "output", "last_output_after_last_put_s"), 2)),
        ("error lines expected / received", lambda r: f"{num(get(r, 'throughput', 'output', 'expected'))} / {num(get(r, 'throughput', 'output', 'received'))}"),
        ("**lost** / duplicated / not matching the filter", lambda r: " / ".join(num(get(r, "throughput", "output", k)) for k in ("lost", "duplicates", "unexpected"))),
        ("output exactly the expected set", lambda r: exact(r)),
        ("runner JVM peak RSS (VmHWM), MiB", lambda r: mib(get(r, "throughput", "runner_jvm", "vm_hwm_kib"), 0)),
        ("runner JVM RSS after the load, MiB", lambda r: mib(get(r, "throughput", "runner_jvm", "rss_kib"), 0)),
        ("emulator start to first answer, ms", lambda r: num(r.get("first_answer_ms"), 1)),
        ("errors", errors),
    ]
    head = "| | " + " | ".join(f"run {r['run']}" for r in runs) + " |"
    lines = [head, "|---|" + "---|" * len(runs)]
    for label, f in rows:
        lines.append(f"| {label} | " + " | ".join(str(f(r)).replace("|", "\\|") for r in runs) + " |")
    return lines


def first_call(r):
    runs = get(r, "start", "runs") or []
    return runs[0].get("start_call_ms") if runs else None


def exact(r):
    e = get(r, "throughput", "output", "exact")
    return "—" if e is None else ("yes" if e else "**no**")


def targets(runs):
    ok = [r for r in runs if r.get("status") == "ok"]
    firsts = [get(r, "start", "to_first_output_ms_median") for r in ok]
    firsts = [x for x in firsts if x is not None]
    hwm = [get(r, "throughput", "runner_jvm", "vm_hwm_kib") for r in ok]
    hwm = [x for x in hwm if x is not None]
    worst_first = max(firsts) / 1000 if firsts else None
    worst_mb = max(hwm) * 1024 / 1e6 if hwm else None  # MB, as the target

    def verdict(value, target):
        if value is None:
            return "not measured"
        return "met" if value < target else "**missed**"

    return [
        "| measure | target | measured (worst run) | |",
        "|---|---|---|---|",
        f"| StartApplication -> first output record | < {TARGET_FIRST_OUTPUT_S} s | "
        f"{'—' if worst_first is None else f'{worst_first:.1f} s'} | {verdict(worst_first, TARGET_FIRST_OUTPUT_S)} |",
        f"| RSS per running application (runner JVM peak) | < {TARGET_JVM_MB} MB | "
        f"{'—' if worst_mb is None else f'{worst_mb:.0f} MB'} | {verdict(worst_mb, TARGET_JVM_MB)} |",
    ]


def section(res):
    runs = res["runs"]
    m, s = res["machine"], res["settings"]
    heap = s.get("analytics_memory_mib")
    out = [
        HEADING,
        "",
        f"Measured {res['date']} on {m['nproc']} cores ({m['cpu_model']}), {m['memory']}, Linux {m['kernel']}; "
        "the emulator, its Flink runner JVM and the load generator share those cores. "
        f"{res['version']}, {res['java']}. The whole run (builds cached) took {res['run_seconds']} s.",
        "",
        "Load (`bench/analytics.sh`, `loadgen analytics`, aws-sdk-kinesis and aws-sdk-kinesisanalyticsv2; each run on a "
        "fresh `kinesis-operator emulator --relax-limits --flink-runner target/runners/flink-runner.jar"
        f"{'' if heap is None else f' --analytics-memory-mib {heap}'}`): "
        f"the tutorial's two streams ({s['shards']} shard each) and its `LIKE '%error%'` filter "
        "(examples/analytics-filter.yaml; Flink SQL in the `kinesis.operator.sql` property group, as the operator "
        "sends it, snapshots off), run by real Apache Flink in the runner JVM. "
        f"Start: StartApplication, then {s['trickle_per_s']:g} JSON log lines per second put to the input "
        "(every other one an error) while the output stream is polled every 20 ms; the figure is the time from "
        "StartApplication's answer to the first of those error lines in the output (the source reads from LATEST, so "
        f"it is how long a line put now takes to come out; resolution {2 / s['trickle_per_s']:g} s), "
        f"{s['starts']} starts per run (StopApplication with Force between them), median. "
        f"Throughput, on the running application: {s['records']:,} log lines (half of them errors) put by "
        f"{s['writers']} concurrent writers in PutRecords of {s['records_per_call']} as fast as the emulator accepts "
        "them, while the output is read until every expected error line arrived and 3 s more; the output must hold "
        "exactly the expected lines (none lost, none duplicated, none that the filter should have dropped). "
        "The runner JVM's memory is read from /proc (the emulator's `java` child). Flink's Kinesis source polls each "
        "shard's GetRecords 5 times a second and a call returns at most 10,000 records (AWS's limit), so one input "
        "shard passes at most 50,000 records/s whatever the CPU (`BENCH_SHARDS` for more).",
        "",
    ]
    out += run_rows(runs)
    failed = [r for r in runs if r.get("status") != "ok"]
    if failed:
        out += ["", "Failures:", ""]
        for r in failed:
            err = (r.get("error") or "the output was not exactly the expected set").strip().replace("\n", " ")
            out.append(f"- **run {r['run']}**: {err[:600]}")
    out += ["", "### Against the DESIGN §8 targets", ""]
    out += targets(runs)
    out += [
        "",
        "No peer figure: LocalStack runs Flink applications only in its paid edition, and kinesis-mock, kinesalite, "
        "moto and the other free emulators run no Flink application at all (AWS Managed Flink itself takes minutes "
        "from StartApplication to RUNNING).",
        "",
        "```sh",
        "BENCH_PARTS=analytics make bench                         # this section alone",
        "BENCH_RUNS=1 BENCH_RECORDS=10000 bench/analytics.sh      # shorter",
        "```",
        "",
        "Raw results: `target/bench/results-analytics.json`; emulator and runner logs: `target/bench/logs-analytics/`.",
        "",
    ]
    return out
