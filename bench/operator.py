#!/usr/bin/env python3
"""Helpers of bench/operator.sh (standard library only).

  operator.py manifest N NAMESPACE SHARDS         N KinesisStreams as one multi-document YAML
  operator.py watch --cluster DIR --namespace NS --until ready|gone --n N --timeout S
                    [--pids name=pid,...] [--metrics URL] -- CMD...
      LISTs and WATCHes the namespace's KinesisStreams, then runs CMD (the create or the delete)
      and follows the objects until all N are Ready (status.conditions[Ready] == "True" and
      status.observedGeneration == metadata.generation) or all are gone, or until the timeout.
      Snapshots (process CPU/RSS, operator metrics, apiserver write counts) are taken just
      before CMD starts and just after the end. Prints one JSON object.
  operator.py snap --cluster DIR [--pids ...] [--metrics URL]    one snapshot, as JSON
  operator.py summarize RUN_DIR                   the result of one N from the files in RUN_DIR

Following the objects with one watch costs the machine far less than polling `kubectl get`
with 1000 objects, and sees every transition (Ready -> not Ready flaps are counted).
"""

import argparse
import http.client
import json
import os
import re
import resource
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

GROUP, VERSION, PLURAL = "kinesis.operator.dev", "v1alpha1", "kinesisstreams"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------
# manifest


def manifest(n, namespace, shards, part=0, parts=1):
    """Objects bench-0000 .. bench-<n-1>; with parts > 1 only every parts-th, from part."""
    docs = []
    for i in range(part, n, parts):
        docs.append(
            f"apiVersion: {GROUP}/{VERSION}\nkind: KinesisStream\nmetadata:\n"
            f"  name: bench-{i:04d}\n  namespace: {namespace}\n"
            f"spec:\n  mode: Provisioned\n  shardCount: {shards}\n"
        )
    return "---\n".join(docs)


# ---------------------------------------------------------------------------------------------
# Kubernetes API, with the admin client certificate of tools/cluster.sh


class Api:
    def __init__(self, cluster):
        server = open(os.path.join(cluster, "server")).read().strip()
        m = re.match(r"https://([^:/]+):(\d+)", server)
        self.host, self.port = m.group(1), int(m.group(2))
        pki = os.path.join(cluster, "pki")
        self.ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
        self.ctx.load_cert_chain(os.path.join(pki, "admin.crt"), os.path.join(pki, "admin.key"))

    def conn(self, timeout=30):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)

    def get(self, path):
        c = self.conn()
        try:
            c.request("GET", path)
            r = c.getresponse()
            body = r.read()
            if r.status != 200:
                raise RuntimeError(f"GET {path}: HTTP {r.status}: {body[:300]!r}")
            return body
        finally:
            c.close()


def ready_of(obj):
    st = obj.get("status") or {}
    if st.get("observedGeneration") != obj["metadata"].get("generation"):
        return False, None
    for c in st.get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True", c
    return False, None


def describe_stuck(objs):
    """Why objects are not Ready: counts by (Ready status, reason), and a few examples."""
    reasons, examples = {}, []
    for name, obj in sorted(objs.items()):
        ok, cond = ready_of(obj)
        if ok:
            continue
        st = obj.get("status") or {}
        if cond is None:
            key = "no status" if not st else "observedGeneration behind or no Ready condition"
            msg = ""
        else:
            key = f"Ready={cond.get('status')} {cond.get('reason')}"
            msg = cond.get("message") or ""
        reasons[key] = reasons.get(key, 0) + 1
        if len(examples) < 5:
            examples.append({"name": name, "state": key, "message": msg[:300],
                             "streamStatus": st.get("streamStatus")})
    return {"by_reason": reasons, "examples": examples}


# ---------------------------------------------------------------------------------------------
# snapshots


def proc_stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime
        rss = hwm = None
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
        return {"cpu_s": cpu, "rss_kib": rss, "hwm_kib": hwm}
    except (OSError, IndexError, ValueError) as e:
        return {"error": f"pid {pid}: {e}"}


def machine_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / CLK_TCK


def parse_prom(text, name):
    """{labels-dict-as-sorted-tuple: value} of the samples of metric `name`."""
    out = {}
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        m = re.match(r"^" + re.escape(name) + r"(\{(.*)\})?\s+(\S+)", line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[tuple(sorted(labels.items()))] = float(m.group(3))
    return out


def operator_metrics(url):
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    calls = {}
    for labels, v in parse_prom(text, "kinesis_operator_aws_calls_total").items():
        d = dict(labels)
        op = f"{d.get('service', '?')}:{d.get('operation', '?')}"
        calls.setdefault(op, {})[d.get("outcome", "?")] = v
    reconciles = {}
    for labels, v in parse_prom(text, "kinesis_operator_reconciles_total").items():
        d = dict(labels)
        reconciles.setdefault(d.get("kind", "?"), {})[d.get("result", "?")] = v
    return {"aws_calls": calls, "reconciles": reconciles}


def apiserver_writes(api):
    """Writes the API server served, by verb and resource, for the resources the operator
    writes (kinesisstreams, their status, events)."""
    text = api.get("/metrics").decode()
    out = {}
    for labels, v in parse_prom(text, "apiserver_request_total").items():
        d = dict(labels)
        if d.get("verb") in ("GET", "LIST", "WATCH", "WATCHLIST", "CONNECT"):
            continue
        if d.get("resource") not in (PLURAL, "events"):
            continue
        key = f"{d['verb']} {d['resource']}" + (f"/{d['subresource']}" if d.get("subresource") else "")
        out[key] = out.get(key, 0) + v
    return out


def snapshot(api, pids, metrics_url):
    s = {"t": time.time(), "machine_busy_s": machine_busy(),
         "procs": {name: proc_stat(pid) for name, pid in pids.items()}}
    if metrics_url:
        try:
            s["operator"] = operator_metrics(metrics_url)
        except Exception as e:  # noqa: BLE001 - reported, not fatal
            s["operator_error"] = str(e)
    if api:
        try:
            s["apiserver_writes"] = apiserver_writes(api)
        except Exception as e:  # noqa: BLE001
            s["apiserver_error"] = str(e)
    return s


def parse_pids(text):
    out = {}
    for part in filter(None, (text or "").split(",")):
        name, pid = part.split("=")
        out[name] = int(pid)
    return out


# ---------------------------------------------------------------------------------------------
# watch


def watch(args):
    api = Api(args.cluster)
    pids = parse_pids(args.pids)
    base = f"/apis/{GROUP}/{VERSION}/namespaces/{args.namespace}/{PLURAL}"
    objs, first_ready, first_seen, flaps = {}, {}, {}, 0
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    ready_now = set()
    deadline = None
    proc = None
    t0 = before = None
    done_at = None
    result = {"until": args.until, "n": args.n}
    # The command's output goes to a file: a pipe nobody reads while watching could fill up.
    out_file = tempfile.TemporaryFile()

    cmd_done = None

    def check_cmd():
        nonlocal cmd_done
        if cmd_done is None and proc is not None and proc.poll() is not None:
            cmd_done = time.time()

    def done():
        check_cmd()
        if args.until == "ready":
            return len(ready_now) >= args.n
        return len(objs) == 0

    def see(kind, obj):
        nonlocal flaps
        name = obj["metadata"]["name"]
        if kind == "DELETED":
            objs.pop(name, None)
            ready_now.discard(name)
            return
        objs[name] = obj
        if t0 is not None:
            first_seen.setdefault(name, time.time())
        ok, _ = ready_of(obj)
        if ok:
            if name not in ready_now and t0 is not None:
                first_ready.setdefault(name, time.time())
            ready_now.add(name)
        elif name in ready_now:
            ready_now.discard(name)
            flaps += 1

    while True:
        listed = json.loads(api.get(base))
        objs.clear()
        ready_now.clear()
        for o in listed.get("items", []):
            see("ADDED", o)
        rv = listed["metadata"]["resourceVersion"]
        if proc is None:
            # The watch starts from this list: now run the command under measurement.
            before = snapshot(api, pids, args.metrics)
            t0 = time.time()
            deadline = t0 + args.timeout
            proc = subprocess.Popen(args.command, stdout=out_file, stderr=subprocess.STDOUT)
        if done():
            done_at = time.time()
            break
        remaining = deadline - time.time()
        if remaining <= 0:
            break
        c = api.conn(timeout=remaining + 30)
        try:
            c.request("GET", f"{base}?watch=1&resourceVersion={rv}&allowWatchBookmarks=true"
                             f"&timeoutSeconds={max(1, min(int(remaining) + 1, 60))}")
            r = c.getresponse()
            if r.status != 200:
                raise RuntimeError(f"watch: HTTP {r.status}: {r.read()[:300]!r}")
            while True:
                line = r.readline()
                if not line:
                    break
                ev = json.loads(line)
                if ev["type"] == "ERROR":  # e.g. 410 Gone: relist
                    break
                if ev["type"] == "BOOKMARK":
                    continue
                see(ev["type"], ev["object"])
                if done():
                    done_at = time.time()
                    break
        except (OSError, http.client.HTTPException) as e:
            result.setdefault("watch_errors", []).append(str(e))
        finally:
            c.close()
        if done_at is not None or time.time() >= deadline:
            break
    after = snapshot(api, pids, args.metrics)

    # The command (kubectl create / delete) normally finished long ago.
    check_cmd()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    out_file.seek(0)
    out = out_file.read()
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    # This watcher's and the command's (kubectl's) CPU, so that they are not counted as
    # "other processes".
    result["bench_cpu_s"] = (ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime
                             + kids.ru_utime + kids.ru_stime)
    result.update({
        "ok": done_at is not None and proc.returncode == 0,
        "t0": t0,
        "seconds": None if done_at is None else done_at - t0,
        "command": " ".join(args.command[:3]),
        "command_rc": proc.returncode,
        "command_output_tail": out.decode(errors="replace")[-800:] if proc.returncode else None,
        "objects_seen": len(objs),
        "ready": len(ready_now),
        "ready_flaps": flaps,
        "before": before,
        "after": after,
    })
    result["command_seconds"] = None if cmd_done is None else cmd_done - t0
    if args.until == "ready":
        times = sorted(t - t0 for t in first_ready.values())
        result["first_ready_s"] = times[0] if times else None
        for q in (50, 90, 99):
            k = max(0, min(len(times) - 1, -(-len(times) * q // 100) - 1))
            result[f"p{q}_ready_s"] = times[k] if len(times) >= args.n else None
        # Per object, from the watch first showing it (just after its create) to Ready: how
        # far the operator lags behind the creates.
        lag = sorted(first_ready[k] - first_seen[k] for k in first_ready if k in first_seen)
        if lag:
            result["seen_to_ready_s"] = {"p50": lag[len(lag) // 2],
                                         "p99": lag[min(len(lag) - 1, len(lag) * 99 // 100)],
                                         "max": lag[-1]}
        if done_at is None:
            result["stuck"] = describe_stuck(objs)
    elif done_at is None:
        result["remaining"] = sorted(objs)[:10]
        result["stuck"] = describe_stuck(objs)
    if done_at is None:
        result["error"] = (f"timeout after {args.timeout} s: {len(ready_now)} of {args.n} Ready"
                           if args.until == "ready" else
                           f"timeout after {args.timeout} s: {len(objs)} objects still present")
    elif proc.returncode != 0:
        result["error"] = f"{result['command']} exited {proc.returncode}"
    print(json.dumps(result))
    return 0 if result["ok"] else 1


# ---------------------------------------------------------------------------------------------
# summarize


READ_PREFIXES = ("Describe", "List", "Get")


def emulator_requests(path):
    """Every request the emulator answered, from its JSON debug log: [(epoch s, op, outcome)].
    None when the log has no request lines (e.g. its log target moved), so that a missing
    count is never reported as zero calls."""
    import datetime

    out = []
    try:
        f = open(path, errors="replace")
    except OSError:
        return None
    with f:
        for line in f:
            if '"operation"' not in line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            fields = rec.get("fields") or {}
            op = fields.get("operation")
            if not op:
                continue
            outcome = fields["code"] if "code" in fields else "ok" if fields.get("message") == "ok" else None
            if outcome is None:
                continue
            ts = rec.get("timestamp", "")
            m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$", ts)
            if not m:
                continue
            t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(
                tzinfo=datetime.timezone.utc).timestamp() + float(m.group(2) or 0)
            out.append((t, f"kinesis:{op}", outcome))
    return out or None


def served_between(requests, a, b):
    """The emulator's requests between snapshots a and b: {operation: {outcome: n}}."""
    if requests is None or not a or not b:
        return None
    out = {}
    for t, op, outcome in requests:
        if a["t"] <= t < b["t"]:
            d = out.setdefault(op, {})
            d[outcome] = d.get(outcome, 0) + 1
    return out


def calls_summary(calls, n):
    total = sum(sum(o.values()) for o in calls.values())
    reads = sum(sum(o.values()) for op, o in calls.items() if op.split(":")[-1].startswith(READ_PREFIXES))
    errors = {op: {k: v for k, v in o.items() if k != "ok"} for op, o in calls.items()}
    return {"total": total, "per_stream": total / n if n else None,
            "reads": reads, "writes": total - reads,
            "by_operation": {op: sum(o.values()) for op, o in sorted(calls.items())},
            "errors_by_operation": {op: o for op, o in errors.items() if o}}


def delta_calls(a, b):
    """AWS calls between snapshots a and b: {operation: {outcome: n}}."""
    ca = (a or {}).get("operator", {}).get("aws_calls", {})
    cb = (b or {}).get("operator", {}).get("aws_calls", {})
    out = {}
    for op, outcomes in cb.items():
        for outcome, v in outcomes.items():
            d = v - ca.get(op, {}).get(outcome, 0)
            if d:
                out.setdefault(op, {})[outcome] = int(d)
    return out


def delta_reconciles(a, b):
    ra = (a or {}).get("operator", {}).get("reconciles", {}).get("KinesisStream", {})
    rb = (b or {}).get("operator", {}).get("reconciles", {}).get("KinesisStream", {})
    return {k: int(v - ra.get(k, 0)) for k, v in rb.items() if v - ra.get(k, 0)}


def delta_dict(a, b, key):
    da, db = (a or {}).get(key, {}), (b or {}).get(key, {})
    return {k: int(v - da.get(k, 0)) for k, v in db.items() if v - da.get(k, 0)}


def cpu(a, b, name):
    pa, pb = (a or {}).get("procs", {}).get(name, {}), (b or {}).get("procs", {}).get(name, {})
    if "cpu_s" in pa and "cpu_s" in pb:
        return pb["cpu_s"] - pa["cpu_s"]
    return None


def phase(a, b, n, requests=None, bench_cpu=None):
    """What happened between snapshots a and b, with n objects. AWS calls are those the
    emulator served (every HTTP request, SDK retries included); the operator's own count from
    its metrics is kept next to them as a cross-check."""
    counted = calls_summary(delta_calls(a, b), n)
    served = served_between(requests, a, b)
    rec = delta_reconciles(a, b)
    wall = (b["t"] - a["t"]) if a and b else None
    cpus = {name: cpu(a, b, name) for name in (b or {}).get("procs", {})}
    busy = (b["machine_busy_s"] - a["machine_busy_s"]) if a and b else None
    known = sum(v for v in cpus.values() if v is not None)
    # The bench's own kubectl create / delete of the objects are not the operator's writes.
    k8s = {k: v for k, v in delta_dict(a, b, "apiserver_writes").items()
           if k not in ("POST kinesisstreams", "DELETE kinesisstreams")}
    return {
        "wall_s": wall,
        "aws_calls": calls_summary(served, n) if served is not None else dict(counted, source="operator metrics"),
        "aws_calls_operator_metrics": counted,
        "reconciles": {"total": sum(rec.values()), "per_stream": sum(rec.values()) / n if n else None,
                       "by_result": rec},
        "k8s_writes": {"total": sum(k8s.values()), "by_request": dict(sorted(k8s.items()))},
        "cpu_s": cpus,
        "bench_cpu_s": bench_cpu,
        "other_processes_cpu_s": None if busy is None else max(0.0, busy - known - (bench_cpu or 0)),
    }


def summarize(run_dir):
    def load(name):
        p = os.path.join(run_dir, name)
        if not os.path.exists(p):
            return None
        try:
            return json.load(open(p))
        except ValueError as e:
            return {"error": f"{name}: unreadable: {e}"}

    meta = load("meta.json") or {}
    n = meta.get("n")
    out = dict(meta)
    errors = list(meta.get("errors", []))
    create, idle0, idle1, delete = (load(f) for f in ("create.json", "idle-start.json", "idle-end.json", "delete.json"))
    requests = emulator_requests(os.path.join(run_dir, "emulator.log"))
    warnings = []
    if requests is None:
        warnings.append("no request lines in the emulator log: AWS calls are the operator's own count")

    if create:
        if create.get("error"):
            errors.append(f"create: {create['error']}")
        ph = phase(create.get("before"), create.get("after"), n, requests, create.get("bench_cpu_s")) if create.get("after") else None
        out["ready"] = {
            "all_ready": bool(create.get("ok")),
            "seconds": create.get("seconds"),
            "ready_count": create.get("ready"),
            "first_ready_s": create.get("first_ready_s"),
            "p50_ready_s": create.get("p50_ready_s"),
            "p90_ready_s": create.get("p90_ready_s"),
            "ready_flaps": create.get("ready_flaps"),
            "stuck": create.get("stuck"),
            "create_command_rc": create.get("command_rc"),
            "create_seconds": create.get("command_seconds"),
            "seen_to_ready_s": create.get("seen_to_ready_s"),
            "phase": ph,
            "operator_hwm_kib": ((create.get("after") or {}).get("procs", {}).get("operator") or {}).get("hwm_kib"),
        }
    def hwm(snap):
        return (((snap or {}).get("procs") or {}).get("operator") or {}).get("hwm_kib")

    if idle0 and idle1:
        ph = phase(idle0, idle1, n, requests)
        op_cpu = ph["cpu_s"].get("operator")
        out["idle"] = {
            "phase": ph,
            "operator_cpu_pct_of_core": None if op_cpu is None or not ph["wall_s"] else op_cpu / ph["wall_s"] * 100,
            "operator_rss_kib": (((idle1.get("procs") or {}).get("operator")) or {}).get("rss_kib"),
        }
    restart0, steady0, steady1 = (load(f) for f in ("restart-start.json", "steady-start.json", "steady-end.json"))
    if restart0 and steady0:
        ph = phase(restart0, steady0, n, requests)
        # The operator started after restart0: its CPU is all it used since its start.
        ph["cpu_s"]["operator"] = (((steady0.get("procs") or {}).get("operator")) or {}).get("cpu_s")
        out["restart"] = {"phase": ph}
    if steady0 and steady1:
        ph = phase(steady0, steady1, n, requests)
        op_cpu = ph["cpu_s"].get("operator")
        resyncs = ph["reconciles"]["total"]
        out["steady"] = {
            "phase": ph,
            "operator_cpu_pct_of_core": None if op_cpu is None or not ph["wall_s"] else op_cpu / ph["wall_s"] * 100,
            "reconciles_per_object": resyncs / n if n else None,
            "aws_reads_per_reconcile": ph["aws_calls"]["reads"] / resyncs if resyncs else None,
            "aws_writes_per_reconcile": ph["aws_calls"]["writes"] / resyncs if resyncs else None,
            "k8s_writes_per_reconcile": ph["k8s_writes"]["total"] / resyncs if resyncs else None,
            "operator_cpu_ms_per_reconcile": None if op_cpu is None or not resyncs else op_cpu / resyncs * 1000,
        }
    if delete:
        if delete.get("error"):
            errors.append(f"delete: {delete['error']}")
        out["delete"] = {
            "all_gone": bool(delete.get("ok")),
            "seconds": delete.get("seconds"),
            "remaining": delete.get("remaining"),
            "stuck": delete.get("stuck"),
            "phase": phase(delete.get("before"), delete.get("after"), n, requests, delete.get("bench_cpu_s")) if delete.get("after") else None,
        }
        out["steady_operator_peak_rss_kib"] = hwm(delete.get("after"))
    # The first operator's peak: creation of all N, Ready, idle.
    out["operator_peak_rss_kib"] = hwm(idle1) or hwm(idle0) or hwm((create or {}).get("after"))
    out["errors"] = errors
    out["warnings"] = warnings
    out["status"] = "ok" if not errors and (out.get("ready") or {}).get("all_ready") else "failed"
    return out


# ---------------------------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("manifest")
    m.add_argument("n", type=int)
    m.add_argument("namespace")
    m.add_argument("shards", type=int)
    m.add_argument("--part", type=int, default=0)
    m.add_argument("--parts", type=int, default=1)
    w = sub.add_parser("watch")
    w.add_argument("--cluster", required=True)
    w.add_argument("--namespace", required=True)
    w.add_argument("--until", choices=("ready", "gone"), required=True)
    w.add_argument("--n", type=int, required=True)
    w.add_argument("--timeout", type=float, default=600)
    w.add_argument("--pids")
    w.add_argument("--metrics")
    w.add_argument("command", nargs="+")
    s = sub.add_parser("snap")
    s.add_argument("--cluster", required=True)
    s.add_argument("--pids")
    s.add_argument("--metrics")
    u = sub.add_parser("summarize")
    u.add_argument("run_dir")
    a = p.parse_args()
    if a.cmd == "manifest":
        sys.stdout.write(manifest(a.n, a.namespace, a.shards, a.part, a.parts))
        return 0
    if a.cmd == "watch":
        return watch(a)
    if a.cmd == "snap":
        print(json.dumps(snapshot(Api(a.cluster), parse_pids(a.pids), a.metrics)))
        return 0
    print(json.dumps(summarize(a.run_dir)))
    return 0


if __name__ == "__main__":
    socket.setdefaulttimeout(60)
    sys.exit(main())
