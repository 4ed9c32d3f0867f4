#!/usr/bin/env python3
"""Helpers of bench/operator.sh (standard library only).

  operator.py manifest N NAMESPACE SHARDS [--scenario streams|pipeline] [--account ID]
      N KinesisStreams as one multi-document YAML; with `--scenario pipeline`, N objects of
      three kinds naming each other (see pipeline_manifest)
  operator.py counts N                            the pipeline's objects by kind, as JSON
  operator.py setup-aws ENDPOINT N
      the bucket and IAM roles the pipeline's N objects name, made in the emulator; prints the
      account id
  operator.py watch --cluster DIR --namespace NS --until ready|gone --n N --timeout S
                    [--kinds KinesisStream,...] [--pids name=pid,...] [--metrics URL] -- CMD...
      LISTs and WATCHes the namespace's objects of those kinds (one watch per kind), then runs
      CMD (the create or the delete) and follows the objects until all N are Ready
      (status.conditions[Ready] == "True" and status.observedGeneration ==
      metadata.generation) or all are gone, or until the timeout. Snapshots (process CPU/RSS,
      operator metrics, apiserver write counts) are taken just before CMD starts and just after
      the end. Prints one JSON object; with --until ready it holds, per object, when the watch
      first saw it, when it first saw it Ready, and the streams it names.
  operator.py snap --cluster DIR [--kinds ...] [--pids ...] [--metrics URL]    one snapshot
  operator.py summarize RUN_DIR                   the result of one N from the files in RUN_DIR

Following the objects with one watch costs the machine far less than polling `kubectl get`
with 1000 objects, and sees every transition (Ready -> not Ready flaps are counted).
"""

import argparse
import http.client
import json
import os
import queue
import re
import resource
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

GROUP, VERSION = "kinesis.operator.dev", "v1alpha1"
# The kinds the bench creates, their plurals, and the AWS services whose calls are theirs (the
# operator's metrics name the service of each call; GetCallerIdentity, once per operator
# process, finds the account of the policies' ARNs).
KINDS = {"KinesisStream": "kinesisstreams", "DeliveryStream": "deliverystreams",
         "StreamPolicy": "streampolicies"}
SERVICE_KIND = {"kinesis": "KinesisStream", "firehose": "DeliveryStream", "iam": "StreamPolicy",
                "sts": "StreamPolicy"}
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


# The pipeline scenario: what its objects name in AWS (made by setup-aws before they are created).
PIPELINE_BUCKET = "bench-pipeline"
PIPELINE_FIREHOSE_ROLE = "bench-firehose"
POLICIES_PER_ROLE = 10  # IAM's PoliciesPerRole quota, which the emulator enforces


def pipeline_counts(n):
    """(streams, delivery streams, policies) of n objects: 40% / 30% / 30%."""
    streams = max(1, round(n * 0.4))
    deliveries = min(n - streams, round(n * 0.3))
    return streams, deliveries, n - streams - deliveries


def pipeline_roles(n):
    """The IAM roles the policies are attached to: one per POLICIES_PER_ROLE policies."""
    policies = pipeline_counts(n)[2]
    return [f"bench-role-{r:02d}" for r in range(-(-policies // POLICIES_PER_ROLE))]


def pipeline_objects(n, namespace, shards, account):
    """n objects of three kinds, in the order they are created: [(group, (kind, name, deps,
    yaml))], the group being the index of the stream the object names last (or is).

    - KinesisStreams s-NNNN (provisioned, `shards` shards);
    - DeliveryStreams d-NNNN, each reading one stream by `streamRef` (KinesisStreamAsSource)
      into the bucket PIPELINE_BUCKET, both roles PIPELINE_FIREHOSE_ROLE;
    - StreamPolicies p-NNNN, each naming two streams by `streamRef` (Write on one, Read and
      Describe on both, as the tutorial's clickstream policy) and attached to one role.

    Interleaved: each dependent comes just before the stream it names last, so that dependents
    usually arrive before their streams are Ready (and wait for them)."""
    streams, deliveries, policies = pipeline_counts(n)
    roles = pipeline_roles(n)
    role_arn = f"arn:aws:iam::{account}:role/{PIPELINE_FIREHOSE_ROLE}"
    head = f"apiVersion: {GROUP}/{VERSION}\nkind: {{kind}}\nmetadata:\n  name: {{name}}\n  namespace: {namespace}\nspec:\n"
    keyed = []
    for i in range(streams):
        name = f"s-{i:04d}"
        keyed.append(((i, 1), ("KinesisStream", name, [],
                                head.format(kind="KinesisStream", name=name)
                                + f"  mode: Provisioned\n  shardCount: {shards}\n")))
    for j in range(deliveries):
        name, src = f"d-{j:04d}", j % streams
        keyed.append(((src, 0), ("DeliveryStream", name, [f"s-{src:04d}"],
                                 head.format(kind="DeliveryStream", name=name)
                                 + "  source:\n    kinesisStream:\n"
                                 f"      streamRef:\n        name: s-{src:04d}\n"
                                 f"      roleARN: {role_arn}\n"
                                 "  destination:\n    s3:\n"
                                 f"      bucketARN: arn:aws:s3:::{PIPELINE_BUCKET}\n"
                                 f"      roleARN: {role_arn}\n      prefix: {name}/\n"
                                 "      bufferingHints:\n        sizeInMBs: 1\n        intervalInSeconds: 60\n")))
    for k in range(policies):
        name = f"p-{k:04d}"
        a, b = k % streams, (k + streams // 2) % streams
        deps = sorted({f"s-{a:04d}", f"s-{b:04d}"})
        keyed.append(((max(a, b), 0), ("StreamPolicy", name, deps,
                                       head.format(kind="StreamPolicy", name=name)
                                       + "  statements:\n"
                                       f"  - streams:\n    - streamRef:\n        name: s-{a:04d}\n"
                                       "    access: [Write]\n"
                                       f"  - streams:\n    - streamRef:\n        name: s-{a:04d}\n"
                                       f"    - streamRef:\n        name: s-{b:04d}\n"
                                       "    access: [Read, Describe]\n"
                                       f"  attachToRoles: [{roles[k // POLICIES_PER_ROLE]}]\n")))
    keyed.sort(key=lambda kv: kv[0])
    return [(key[0], obj) for key, obj in keyed]


def pipeline_manifest(n, namespace, shards, account, part=0, parts=1):
    """The objects of one of `parts` parallel creators: a stream and the dependents that name
    it last go to the same creator, dependents first, so that they are created before it."""
    objs = pipeline_objects(n, namespace, shards, account)
    return "---\n".join(yaml for group, (_, _, _, yaml) in objs if group % parts == part)


def deps_of(kind, obj):
    """The KinesisStreams (names, same namespace) an object names by `streamRef`."""
    spec = obj.get("spec") or {}
    ns = obj["metadata"].get("namespace")
    refs = []
    if kind == "DeliveryStream":
        refs = [((spec.get("source") or {}).get("kinesisStream") or {}).get("streamRef")]
    elif kind == "StreamPolicy":
        refs = [s.get("streamRef") for st in spec.get("statements") or [] for s in st.get("streams") or []]
    return sorted({f"KinesisStream/{r['name']}" for r in refs
                   if r and r.get("name") and r.get("namespace", ns) == ns})


def setup_aws(endpoint, roles):
    """Makes the bucket and the roles the pipeline's objects name, as a user's platform would
    have them, in the emulator (which reads the service from the SigV4 credential scope and
    checks no signature here); returns the account id (STS GetCallerIdentity)."""
    def call(service, method, path, body=None):
        headers = {"Authorization": "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/"
                                    f"{service}/aws4_request, SignedHeaders=host, Signature=0"}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(endpoint.rstrip("/") + path, data=data, method=method, headers=headers)
        try:
            return urllib.request.urlopen(req, timeout=10).read().decode()
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{service} {method} {path} {body or ''}: HTTP {e.code}: {e.read()[:300]!r}") from None

    call("s3", "PUT", f"/{PIPELINE_BUCKET}")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "firehose.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    for role in [PIPELINE_FIREHOSE_ROLE] + roles:
        call("iam", "POST", "/", {"Action": "CreateRole", "Version": "2010-05-08", "RoleName": role,
                                 "AssumeRolePolicyDocument": trust})
    who = call("sts", "POST", "/", {"Action": "GetCallerIdentity", "Version": "2011-06-15"})
    m = re.search(r"<Account>(\d+)</Account>", who)
    if not m:
        raise RuntimeError(f"GetCallerIdentity: no account in {who[:300]!r}")
    return m.group(1)


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


def apiserver_writes(api, plurals):
    """Writes the API server served, by verb and resource, for the resources the operator
    writes (the objects of the kinds measured, their status, events)."""
    text = api.get("/metrics").decode()
    out = {}
    for labels, v in parse_prom(text, "apiserver_request_total").items():
        d = dict(labels)
        if d.get("verb") in ("GET", "LIST", "WATCH", "WATCHLIST", "CONNECT"):
            continue
        if d.get("resource") not in (*plurals, "events"):
            continue
        key = f"{d['verb']} {d['resource']}" + (f"/{d['subresource']}" if d.get("subresource") else "")
        if not d.get("code", "200").startswith("2"):
            key += f" (refused: {d['code']})"  # e.g. a conflict: counted, it cost a round trip
        out[key] = out.get(key, 0) + v
    return out


def snapshot(api, pids, metrics_url, plurals=(KINDS["KinesisStream"],)):
    s = {"t": time.time(), "machine_busy_s": machine_busy(),
         "procs": {name: proc_stat(pid) for name, pid in pids.items()}}
    if metrics_url:
        try:
            s["operator"] = operator_metrics(metrics_url)
        except Exception as e:  # noqa: BLE001 - reported, not fatal
            s["operator_error"] = str(e)
    if api:
        try:
            s["apiserver_writes"] = apiserver_writes(api, plurals)
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


def parse_kinds(text):
    kinds = [k for k in (text or "KinesisStream").split(",") if k]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise SystemExit(f"unknown kinds {unknown} (known: {', '.join(KINDS)})")
    return kinds


def follow(api, namespace, kind, events, stop):
    """One kind's LIST, then WATCH from it (again after an expiry or an error), into `events`
    as (receipt time, event type, kind, object); a ("LISTED", kind) marks the end of the first
    LIST. Runs until `stop` is set."""
    base = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{KINDS[kind]}"
    first = True
    while not stop.is_set():
        try:
            listed = json.loads(api.get(base))
        except (OSError, RuntimeError, http.client.HTTPException, ValueError) as e:
            events.put((time.time(), "WATCH_ERROR", kind, f"list: {e}"))
            time.sleep(0.5)
            continue
        now = time.time()
        events.put((now, "RELIST", kind, listed.get("items", [])))
        if first:
            events.put((now, "LISTED", kind, None))
            first = False
        rv = listed["metadata"]["resourceVersion"]
        c = api.conn(timeout=90)
        try:
            c.request("GET", f"{base}?watch=1&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=60")
            r = c.getresponse()
            if r.status != 200:
                raise RuntimeError(f"watch: HTTP {r.status}: {r.read()[:300]!r}")
            while not stop.is_set():
                line = r.readline()
                if not line:
                    break
                now = time.time()
                ev = json.loads(line)
                if ev["type"] == "ERROR":  # e.g. 410 Gone: relist
                    break
                if ev["type"] != "BOOKMARK":
                    events.put((now, ev["type"], kind, ev["object"]))
        except (OSError, RuntimeError, http.client.HTTPException, ValueError) as e:
            events.put((time.time(), "WATCH_ERROR", kind, str(e)))
        finally:
            c.close()


def watch(args):
    api = Api(args.cluster)
    pids = parse_pids(args.pids)
    kinds = parse_kinds(args.kinds)
    plurals = tuple(KINDS[k] for k in kinds)
    # Objects by "Kind/name"; times are when this process received the event that showed it.
    objs, first_ready, first_seen, deps, course, flaps = {}, {}, {}, {}, {}, 0
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    ready_now = set()
    result = {"until": args.until, "n": args.n, "kinds": kinds}
    # The command's output goes to a file: a pipe nobody reads while watching could fill up.
    out_file = tempfile.TemporaryFile()
    proc = t0 = None
    cmd_done = done_at = None

    def check_cmd():
        nonlocal cmd_done
        if cmd_done is None and proc is not None and proc.poll() is not None:
            cmd_done = time.time()

    def done():
        check_cmd()
        if args.until == "ready":
            return len(ready_now) >= args.n
        return proc is not None and len(objs) == 0

    def see(t, etype, kind, obj):
        nonlocal flaps
        key = f"{kind}/{obj['metadata']['name']}"
        if etype == "DELETED":
            objs.pop(key, None)
            ready_now.discard(key)
            return
        objs[key] = obj
        if t0 is not None:
            first_seen.setdefault(key, t)
            deps.setdefault(key, deps_of(kind, obj))
            # The Ready condition's course (status and reason), to tell which passes happened.
            cond = next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), None)
            step = [cond.get("status"), cond.get("reason")] if cond else None
            seen_steps = course.setdefault(key, [])
            if step and (not seen_steps or seen_steps[-1][1:] != step):
                seen_steps.append([round(t - t0, 3)] + step)
        ok, _ = ready_of(obj)
        if ok:
            if key not in ready_now and t0 is not None:
                first_ready.setdefault(key, t)
            ready_now.add(key)
        elif key in ready_now:
            ready_now.discard(key)
            flaps += 1

    events, stop = queue.Queue(), threading.Event()
    for kind in kinds:
        threading.Thread(target=follow, args=(api, args.namespace, kind, events, stop), daemon=True).start()
    listed = set()
    deadline = time.time() + args.timeout + 60
    while True:
        try:
            t, etype, kind, payload = events.get(timeout=1)
        except queue.Empty:
            t = etype = None
        if etype == "LISTED":
            listed.add(kind)
            if listed == set(kinds):
                # Every kind is listed and its watch starts from that list: now run the
                # command under measurement.
                before = snapshot(api, pids, args.metrics, plurals)
                t0 = time.time()
                deadline = t0 + args.timeout
                proc = subprocess.Popen(args.command, stdout=out_file, stderr=subprocess.STDOUT)
        elif etype == "RELIST":
            for key in [k for k in objs if k.startswith(kind + "/")]:
                if key not in {f"{kind}/{o['metadata']['name']}" for o in payload}:
                    see(t, "DELETED", kind, objs[key])
            for o in payload:
                see(t, "ADDED", kind, o)
        elif etype == "WATCH_ERROR":
            result.setdefault("watch_errors", []).append(f"{kind}: {payload}")
        elif etype is not None:
            see(t, etype, kind, payload)
        if proc is not None and done():
            done_at = t if t is not None else time.time()
            break
        if time.time() >= deadline:
            if proc is None:
                result["error"] = f"the watches did not start within {args.timeout + 60} s: {result.get('watch_errors')}"
                print(json.dumps(result))
                return 1
            break
    stop.set()
    after = snapshot(api, pids, args.metrics, plurals)

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
        if args.record_objects:
            # Seconds from t0, at the watch's receipt: sub-second, unlike lastTransitionTime.
            result["objects"] = {k: {"seen_s": first_seen[k] - t0,
                                     "ready_s": first_ready[k] - t0 if k in first_ready else None,
                                     "deps": deps.get(k, []),
                                     "ready_condition": course.get(k, [])}
                                 for k in sorted(first_seen)}
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


def delta_reconciles(a, b, kind=None):
    """Reconciles between snapshots a and b by result: of `kind`, or of every kind."""
    ra = (a or {}).get("operator", {}).get("reconciles", {})
    rb = (b or {}).get("operator", {}).get("reconciles", {})
    out = {}
    for k, results in rb.items():
        if kind is not None and k != kind:
            continue
        for result, v in results.items():
            d = int(v - ra.get(k, {}).get(result, 0))
            if d:
                out[result] = out.get(result, 0) + d
    return out


def delta_dict(a, b, key):
    da, db = (a or {}).get(key, {}), (b or {}).get(key, {})
    return {k: int(v - da.get(k, 0)) for k, v in db.items() if v - da.get(k, 0)}


def cpu(a, b, name):
    pa, pb = (a or {}).get("procs", {}).get(name, {}), (b or {}).get("procs", {}).get(name, {})
    if "cpu_s" in pa and "cpu_s" in pb:
        return pb["cpu_s"] - pa["cpu_s"]
    return None


def phase(a, b, n, requests=None, bench_cpu=None, counts=None):
    """What happened between snapshots a and b, with n objects. AWS calls are those the
    emulator served (every HTTP request, SDK retries included); the operator's own count from
    its metrics is kept next to them as a cross-check. With `counts` ({kind: objects}), also
    per kind: AWS calls (the operator's count, by the service of each call), reconciles and
    Kubernetes writes."""
    raw = delta_calls(a, b)
    counted = calls_summary(raw, n)
    served = served_between(requests, a, b)
    rec = delta_reconciles(a, b)
    wall = (b["t"] - a["t"]) if a and b else None
    cpus = {name: cpu(a, b, name) for name in (b or {}).get("procs", {})}
    busy = (b["machine_busy_s"] - a["machine_busy_s"]) if a and b else None
    known = sum(v for v in cpus.values() if v is not None)
    # The bench's own kubectl create / delete of the objects are not the operator's writes.
    k8s = {k: v for k, v in delta_dict(a, b, "apiserver_writes").items()
           if k.split("/")[0] not in {f"{verb} {plural}" for plural in KINDS.values() for verb in ("POST", "DELETE")}}
    by_kind = None
    if counts:
        by_kind = {}
        for kind, count in counts.items():
            mine = {op: o for op, o in raw.items() if SERVICE_KIND.get(op.split(":")[0]) == kind}
            rk = delta_reconciles(a, b, kind)
            writes = {k: v for k, v in k8s.items() if k.split(" ")[1].split("/")[0] == KINDS[kind]}
            by_kind[kind] = {
                "objects": count,
                "aws_calls": calls_summary(mine, count),
                "reconciles": {"total": sum(rk.values()), "per_object": sum(rk.values()) / count if count else None,
                               "by_result": rk},
                "k8s_writes": {"total": sum(writes.values()), "per_object": sum(writes.values()) / count if count else None,
                               "by_request": dict(sorted(writes.items()))},
            }
        unknown = {op: o for op, o in raw.items() if op.split(":")[0] not in SERVICE_KIND}
        if unknown:
            by_kind["unattributed"] = {"aws_calls": calls_summary(unknown, 1)}
    out = {
        "wall_s": wall,
        "aws_calls": (calls_summary(served, n) if served is not None and counts is None
                      else dict(counted, source="operator metrics")),
        "aws_calls_operator_metrics": counted,
        "reconciles": {"total": sum(rec.values()), "per_stream": sum(rec.values()) / n if n else None,
                       "by_result": rec},
        "k8s_writes": {"total": sum(k8s.values()), "by_request": dict(sorted(k8s.items()))},
        "cpu_s": cpus,
        "bench_cpu_s": bench_cpu,
        "other_processes_cpu_s": None if busy is None else max(0.0, busy - known - (bench_cpu or 0)),
    }
    if by_kind is not None:
        out["by_kind"] = by_kind
        # Requests the emulator served (Kinesis and Firehose; its log has no IAM lines), beside
        # the operator's count of the same services: SDK retries would show as a difference.
        served = served_between(requests, a, b)
        if served is not None:
            out["emulator_json_rpc_served"] = sum(sum(o.values()) for o in served.values())
            out["operator_json_rpc_counted"] = sum(sum(o.values()) for op, o in raw.items()
                                                   if op.split(":")[0] in ("kinesis", "firehose"))
    return out


# The AWS calls that must happen for one object to become Ready (DESIGN §8: create + one
# describe per AWS resource, and the writes its spec asks for), by kind and operation.
# GetCallerIdentity is needed once per operator process, not per object.
MINIMUM_CALLS = {
    "KinesisStream": {"kinesis:CreateStream": 1, "kinesis:DescribeStreamSummary": 1},
    "DeliveryStream": {"firehose:CreateDeliveryStream": 1, "firehose:DescribeDeliveryStream": 1},
    # The bench's policies are attached to one role each.
    "StreamPolicy": {"iam:CreatePolicy": 1, "iam:GetPolicy": 1, "iam:AttachRolePolicy": 1},
}
ONCE_PER_PROCESS = {"sts:GetCallerIdentity": 1}


def quantiles(xs):
    xs = sorted(xs)
    if not xs:
        return None
    return {"count": len(xs), "p50": xs[len(xs) // 2], "p99": xs[min(len(xs) - 1, len(xs) * 99 // 100)],
            "max": xs[-1]}


def dependency_delays(objects):
    """Per object, from the moment it could become Ready to the moment it was: the later of its
    own creation (the watch first showing it) and its last dependency becoming Ready (the
    watch first showing that stream Ready at its generation), to itself Ready. By kind, and
    how many dependents arrived before their last dependency was Ready."""
    by_kind, waited, never, delays = {}, {}, [], []
    for key, o in objects.items():
        kind = key.split("/")[0]
        if o.get("ready_s") is None:
            never.append(key)
            continue
        dep_ready = [objects.get(d, {}).get("ready_s") for d in o.get("deps") or []]
        if any(t is None for t in dep_ready):
            never.append(key)  # Ready although a stream it names never was (not expected)
            continue
        start = max([o["seen_s"]] + dep_ready)
        if dep_ready and max(dep_ready) > o["seen_s"]:
            waited[kind] = waited.get(kind, 0) + 1
        by_kind.setdefault(kind, []).append(o["ready_s"] - start)
        delays.append((o["ready_s"] - start, key, start))
    out = {kind: dict(quantiles(v), arrived_before_last_dependency_ready=waited.get(kind, 0))
           for kind, v in sorted(by_kind.items())}
    out["all"] = quantiles([x for v in by_kind.values() for x in v])
    out["not_ready_or_dependency_not_ready"] = sorted(never)[:20]
    # The slowest, with the course of their Ready condition (seconds from the start).
    out["slowest"] = [{"object": key, "delay_s": d, "could_be_ready_at_s": start,
                       "ready_condition": objects[key].get("ready_condition")}
                      for d, key, start in sorted(delays, reverse=True)[:5]]
    return out


def calls_against_minimum(by_kind):
    """Per kind: AWS calls per object against MINIMUM_CALLS, and the calls beyond it by
    operation (with their outcomes, so that retries of failed calls show)."""
    out = {}
    for kind, minimum in MINIMUM_CALLS.items():
        k = (by_kind or {}).get(kind)
        if not k or not k.get("objects"):
            continue
        n = k["objects"]
        ops = k["aws_calls"]["by_operation"]
        allowed = {op: per * n for op, per in minimum.items()}
        allowed.update({op: v for op, v in ONCE_PER_PROCESS.items() if SERVICE_KIND.get(op.split(":")[0]) == kind})
        extra = {op: v - allowed.get(op, 0) for op, v in ops.items() if v > allowed.get(op, 0)}
        out[kind] = {
            "objects": n,
            "per_object": k["aws_calls"]["total"] / n,
            "minimum_per_object": sum(minimum.values()),
            "minimum": minimum,
            "by_operation_per_object": {op: v / n for op, v in ops.items()},
            "extra": extra,
            "extra_per_object": sum(extra.values()) / n,
            "errors_by_operation": k["aws_calls"]["errors_by_operation"],
            "within_minimum": k["aws_calls"]["total"] <= sum(allowed.values()),
        }
    return out


def log_time(ts):
    """Epoch seconds of a JSON log line's RFC 3339 UTC timestamp (None if not one)."""
    import datetime

    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$", ts or "")
    if not m:
        return None
    return datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp() + float(m.group(2) or 0)


SDK_SERVICE = {"Kinesis": "kinesis", "Firehose": "firehose", "IAM": "iam", "STS": "sts"}


def traced_calls(path, until=None):
    """The AWS calls of a BENCH_TRACE_CALLS operator log, one per SDK invocation: [(t,
    "Kind/name", "service:Operation", wake reason)], the reason being kube-runtime's
    ("object updated", "related object updated", "error policy requested retry", ...). None
    when the log has no such lines."""
    out, seen = [], set()
    try:
        f = open(path, errors="replace")
    except OSError:
        return None
    with f:
        for line in f:
            if "OKed initial request" not in line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            spans = rec.get("spans") or []
            call = next((sp for sp in spans if "rpc.method" in sp), None)
            if not call or call.get("sdk_invocation_id") in seen:
                continue
            seen.add(call.get("sdk_invocation_id"))
            t = log_time(rec.get("timestamp"))
            if t is None or (until is not None and t > until):
                continue
            woke = next((sp for sp in spans if sp.get("name") == "reconciling object"), {})
            ref = woke.get("object.ref", "")  # Kind.version.group/name.namespace
            m = re.match(r"(\w+)\.[^/]*/([^.]+)", ref)
            obj = f"{m.group(1)}/{m.group(2)}" if m else "?"
            reason = (woke.get("object.reason") or "?").split(":")[0]
            service = SDK_SERVICE.get(call.get("rpc.service"), (call.get("rpc.service") or "?").lower())
            out.append((t, obj, f"{service}:{call['rpc.method']}", reason))
    return out or None


def extra_calls_by_reason(calls):
    """Per kind and operation, the calls beyond each object's minimum (its later ones), by
    what woke the pass that made them; and all calls by wake reason."""
    by_obj = {}
    for t, obj, op, reason in sorted(calls):
        by_obj.setdefault(obj, []).append((op, reason))
    extra, woken = {}, {}
    for obj, ops in by_obj.items():
        kind = obj.split("/")[0]
        minimum = dict(MINIMUM_CALLS.get(kind, {}))
        for op, reason in ops:
            w = woken.setdefault(kind, {})
            w[reason] = w.get(reason, 0) + 1
            if op in ONCE_PER_PROCESS:
                continue
            if minimum.get(op, 0) > 0:
                minimum[op] -= 1
                continue
            e = extra.setdefault(kind, {}).setdefault(op, {})
            e[reason] = e.get(reason, 0) + 1
    return {"extra": extra, "all_calls": woken}


def pipeline_summary(meta, create, out, run_dir=None):
    """The pipeline scenario's figures beside the common ones: dependency delays, AWS calls
    by kind against the minimum, Kubernetes writes by kind, steady-state reads by kind."""
    res = {"counts": meta.get("counts")}
    objects = (create or {}).get("objects")
    if objects:
        res["dependency_delay_s"] = dependency_delays(objects)
        res["objects"] = objects
    ready_kinds = get_path(out, "ready", "phase", "by_kind")
    if ready_kinds:
        res["ready_calls"] = calls_against_minimum(ready_kinds)
        res["ready_k8s_writes"] = {kind: v["k8s_writes"] for kind, v in ready_kinds.items() if "k8s_writes" in v}
        res["ready_reconciles"] = {kind: v["reconciles"] for kind, v in ready_kinds.items() if "reconciles" in v}
    steady_kinds = get_path(out, "steady", "phase", "by_kind")
    if steady_kinds:
        steady = {}
        for kind, v in steady_kinds.items():
            if "reconciles" not in v:
                continue
            rec = v["reconciles"]["total"]
            calls = v["aws_calls"]
            steady[kind] = {
                "resyncs": rec,
                "resyncs_per_object": v["reconciles"]["per_object"],
                "aws_reads_per_resync": calls["reads"] / rec if rec else None,
                "aws_writes_per_resync": calls["writes"] / rec if rec else None,
                "by_operation_per_resync": {op: c / rec for op, c in calls["by_operation"].items()} if rec else {},
                "k8s_writes_per_resync": v["k8s_writes"]["total"] / rec if rec else None,
            }
        res["steady"] = steady
    calls = traced_calls(os.path.join(run_dir, "operator.log"), get_path(create, "after", "t")) if run_dir else None
    if calls:
        res["wake_reasons"] = extra_calls_by_reason(calls)
        res["traced_calls"] = len(calls)
    restart_kinds = get_path(out, "restart", "phase", "by_kind")
    if restart_kinds:
        res["restart_calls_per_object"] = {
            kind: {op: c / v["objects"] for op, c in v["aws_calls"]["by_operation"].items()}
            for kind, v in restart_kinds.items() if v.get("objects")}
    return res


def log_warnings(run_dir):
    """The operator's WARN and ERROR lines (both operators), counted by kind, message and the
    start of the error (up to its first details), so that a report can say what they were."""
    out = {}
    for name in ("operator.log", "operator-steady.log"):
        try:
            f = open(os.path.join(run_dir, name), errors="replace")
        except OSError:
            continue
        with f:
            for line in f:
                if '"level":"WARN"' not in line and '"level":"ERROR"' not in line:
                    continue
                try:
                    fields = json.loads(line).get("fields") or {}
                except ValueError:
                    continue
                error = re.sub(r"\s+", " ", str(fields.get("error", "")))
                error = re.split(r" \(Status \{| details:", error)[0][:160]
                key = " | ".join(x for x in (name, fields.get("kind", ""), fields.get("message", ""), error) if x)
                out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def get_path(d, *path):
    for p in path:
        if not isinstance(d, dict) or d.get(p) is None:
            return None
        d = d[p]
    return d


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
    counts = meta.get("counts")  # the pipeline scenario: objects by kind
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
        ph = phase(create.get("before"), create.get("after"), n, requests, create.get("bench_cpu_s"), counts) if create.get("after") else None
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
        ph = phase(idle0, idle1, n, requests, counts=counts)
        op_cpu = ph["cpu_s"].get("operator")
        out["idle"] = {
            "phase": ph,
            "operator_cpu_pct_of_core": None if op_cpu is None or not ph["wall_s"] else op_cpu / ph["wall_s"] * 100,
            "operator_rss_kib": (((idle1.get("procs") or {}).get("operator")) or {}).get("rss_kib"),
        }
    restart0, steady0, steady1 = (load(f) for f in ("restart-start.json", "steady-start.json", "steady-end.json"))
    if restart0 and steady0:
        ph = phase(restart0, steady0, n, requests, counts=counts)
        # The operator started after restart0: its CPU is all it used since its start.
        ph["cpu_s"]["operator"] = (((steady0.get("procs") or {}).get("operator")) or {}).get("cpu_s")
        out["restart"] = {"phase": ph}
    if steady0 and steady1:
        ph = phase(steady0, steady1, n, requests, counts=counts)
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
            "phase": phase(delete.get("before"), delete.get("after"), n, requests, delete.get("bench_cpu_s"), counts) if delete.get("after") else None,
        }
        out["steady_operator_peak_rss_kib"] = hwm(delete.get("after"))
    # The first operator's peak: creation of all N, Ready, idle.
    out["operator_peak_rss_kib"] = hwm(idle1) or hwm(idle0) or hwm((create or {}).get("after"))
    if counts:
        out["pipeline"] = pipeline_summary(meta, create, out, run_dir)
        out["operator_log_warnings_by_message"] = log_warnings(run_dir)
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
    m.add_argument("--scenario", choices=("streams", "pipeline"), default="streams")
    m.add_argument("--account", default="000000000000")
    c = sub.add_parser("counts")
    c.add_argument("n", type=int)
    a = sub.add_parser("setup-aws")
    a.add_argument("endpoint")
    a.add_argument("n", type=int, help="the pipeline's object count (how many roles)")
    w = sub.add_parser("watch")
    w.add_argument("--cluster", required=True)
    w.add_argument("--namespace", required=True)
    w.add_argument("--until", choices=("ready", "gone"), required=True)
    w.add_argument("--n", type=int, required=True)
    w.add_argument("--timeout", type=float, default=600)
    w.add_argument("--kinds", default="KinesisStream")
    w.add_argument("--record-objects", action="store_true",
                   help="with --until ready: each object's seen and Ready times and the streams it names")
    w.add_argument("--pids")
    w.add_argument("--metrics")
    w.add_argument("command", nargs="+")
    s = sub.add_parser("snap")
    s.add_argument("--cluster", required=True)
    s.add_argument("--kinds", default="KinesisStream")
    s.add_argument("--pids")
    s.add_argument("--metrics")
    u = sub.add_parser("summarize")
    u.add_argument("run_dir")
    a = p.parse_args()
    if a.cmd == "manifest":
        if a.scenario == "pipeline":
            sys.stdout.write(pipeline_manifest(a.n, a.namespace, a.shards, a.account, a.part, a.parts))
        else:
            sys.stdout.write(manifest(a.n, a.namespace, a.shards, a.part, a.parts))
        return 0
    if a.cmd == "counts":
        print(json.dumps(dict(zip(KINDS, pipeline_counts(a.n)))))
        return 0
    if a.cmd == "setup-aws":
        print(setup_aws(a.endpoint, pipeline_roles(a.n)))
        return 0
    if a.cmd == "watch":
        return watch(a)
    if a.cmd == "snap":
        plurals = tuple(KINDS[k] for k in parse_kinds(a.kinds))
        print(json.dumps(snapshot(Api(a.cluster), parse_pids(a.pids), a.metrics, plurals)))
        return 0
    print(json.dumps(summarize(a.run_dir)))
    return 0


if __name__ == "__main__":
    socket.setdefaulttimeout(60)
    sys.exit(main())
