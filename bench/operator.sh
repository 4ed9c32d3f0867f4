#!/usr/bin/env bash
# `make bench`, operator part (DESIGN §8): N KinesisStreams applied at once against the emulator
# (no delays), on a real etcd + kube-apiserver (tools/cluster.sh). For each N, a fresh control
# plane, emulator and operator; measured:
#   - time from `kubectl create -f` of all N objects to all N Ready (Ready condition True at the
#     current generation), followed with one LIST+WATCH (bench/operator.py watch)
#   - AWS calls the operator made (its /metrics, by operation), reconciles, Kubernetes writes
#     (the API server's apiserver_request_total for kinesisstreams and events)
#   - operator peak RSS (VmHWM) and CPU (utime+stime from /proc), and the other processes' CPU
#   - idle: BENCH_IDLE seconds after all Ready with nothing changing: operator CPU and RSS
#   - steady state: the operator restarted with --resync-interval BENCH_RESYNC; the calls of its
#     start (every object reconciled once), then BENCH_IDLE seconds of resyncs: AWS reads and
#     writes per object per resync
#   - deletion: `kubectl delete` of all N, time until all are gone (finalizers released)
# Writes target/bench/results-operator.json and renders the "Operator" section of BENCHMARKS.md.
#
# BENCH_SCENARIO=pipeline (`make bench` part `pipeline`) measures the same phases with N objects
# of three kinds that name each other (DESIGN §8, "500 mixed objects with references"): 40%
# KinesisStreams, 30% DeliveryStreams each reading one of them by `streamRef` into an S3 bucket,
# 30% StreamPolicies each naming two of them in `statements` and attached to a role; the bucket
# and roles are made in the emulator first. All N are created at once, the kinds interleaved,
# each dependent just before the stream it names last and by the same `kubectl create`, so that
# dependents arrive before their streams are Ready. Besides the figures above, by kind: per object, the delay from its
# last dependency becoming Ready (or its own creation, if later) to itself Ready, from the
# watch's receipt times (sub-second); AWS calls per object to Ready against the minimum (create
# + one describe per AWS resource, + the role attachment of a policy), from the operator's
# metrics by service (kinesis, firehose, iam + sts); Kubernetes writes per object; steady-state
# AWS reads per object per resync. Writes target/bench/results-pipeline.json and renders the
# "Operator: mixed kinds with references" section of BENCHMARKS.md.
#
# Knobs (environment):
#   BENCH_SCENARIO     streams (default) or pipeline
#   BENCH_N            object counts of the streams scenario, one run each (default: 100 1000)
#   BENCH_PIPELINE_N   object counts of the pipeline scenario, one run each (default: 500)
#   BENCH_TRACE_CALLS  1: until all Ready, the operator logs every AWS call at debug level with
#                      the object and the reason kube-runtime woke its pass (about 20 log lines a
#                      call, a little operator CPU), so that the calls beyond the minimum are
#                      attributed to what woke them (default: 1 in the pipeline scenario, 0 else)
#   BENCH_SHARDS       shardCount of every (provisioned) stream (default 1)
#   BENCH_IDLE         seconds of the idle window and of the steady-state window (default 30)
#   BENCH_SETTLE       seconds before each window (default 5)
#   BENCH_READY_RESYNC the operator's --resync-interval until all Ready and while idle
#                      (default: the operator's default, so that no resync is counted there)
#   BENCH_RESYNC       --resync-interval of the restarted operator in the steady-state window
#                      (default 20s)
#   BENCH_CONCURRENCY  the operator's --max-concurrent-reconciles (default: the operator's own)
#   BENCH_RATE_LIMITS  the operator's --aws-rate-limits (default adaptive, the operator's own: it
#                      never waits against --relax-limits; `aws` paces CreateStream at 4.5/s as
#                      it would on real AWS; `off` never paces)
#   BENCH_CREATORS     parallel `kubectl create` processes that create the N objects (default 4;
#                      one kubectl creates objects one after another, ~19 ms each here)
#   BENCH_TIMEOUT      seconds to wait for all Ready, and for all gone (default 600)
#   BENCH_NO_BUILD     set to 1 to use the binary of `make build` as it is
#   BENCH_OPERATOR     another kinesis-operator binary to measure (implies BENCH_NO_BUILD=1)
#   BENCH_NO_RENDER    set to 1 to leave BENCHMARKS.md alone
#
# Needs cargo, python3, curl, jq and the control plane binaries of `make tools` (built here if
# missing). A run that fails (control plane, emulator or operator not starting, objects stuck)
# is recorded with its error and makes the script exit 1; the others are still measured.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/target/bench"
LOGS="$BENCH/logs"
CARGO=${CARGO:-cargo}
SCENARIO=${BENCH_SCENARIO:-streams}
case $SCENARIO in
streams)
	NS_LIST=${BENCH_N:-"100 1000"}
	TRACE_CALLS=${BENCH_TRACE_CALLS:-0}
	KINDS=KinesisStream PLURALS=kinesisstreams
	RESULTS=results-operator.json
	BENCH_PART=operator
	;;
pipeline)
	NS_LIST=${BENCH_PIPELINE_N:-500}
	TRACE_CALLS=${BENCH_TRACE_CALLS:-1}
	KINDS=KinesisStream,DeliveryStream,StreamPolicy PLURALS=kinesisstreams,deliverystreams,streampolicies
	RESULTS=results-pipeline.json
	BENCH_PART=pipeline
	;;
*)
	echo "bench: BENCH_SCENARIO is streams or pipeline, not '$SCENARIO'" >&2
	exit 1
	;;
esac
SHARDS=${BENCH_SHARDS:-1}
IDLE=${BENCH_IDLE:-30}
SETTLE=${BENCH_SETTLE:-5}
RESYNC=${BENCH_RESYNC:-20s}
READY_RESYNC=${BENCH_READY_RESYNC:-}
CONCURRENCY=${BENCH_CONCURRENCY:-}
RATE_LIMITS=${BENCH_RATE_LIMITS:-adaptive}
CREATORS=${BENCH_CREATORS:-4}
TIMEOUT=${BENCH_TIMEOUT:-600}
REGION=us-east-1
[[ -n ${BENCH_OPERATOR:-} ]] && BENCH_NO_BUILD=1
TOOLS="$ROOT/target/tools/bin"
HELPER="$ROOT/bench/operator.py"
export PATH="$TOOLS:$PATH"

for tool in "$CARGO" jq python3 curl; do
	command -v "$tool" >/dev/null || {
		echo "bench: $tool is needed" >&2
		exit 1
	}
done
mkdir -p "$BENCH" "$LOGS"
RUN_START=$(date +%s)
LOADAVG_AT_START=$(cut -d' ' -f1 /proc/loadavg)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
OPERATOR=${BENCH_OPERATOR:-$(ours_bin)}

stop_pid() { # pid: TERM, then KILL after 10 s
	local pid=$1 i
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
}

# What is running for the current N; the EXIT trap stops all of it.
OP_PID= EMU_PID= CLUSTER_DIR=
stop_all() {
	stop_pid "$OP_PID"
	OP_PID=
	stop_pid "$EMU_PID"
	EMU_PID=
	if [[ -n $CLUSTER_DIR ]]; then
		"$ROOT/tools/cluster.sh" down "$CLUSTER_DIR" >/dev/null 2>&1 || say "stopping the control plane in $CLUSTER_DIR failed"
		CLUSTER_DIR=
	fi
}
trap stop_all EXIT
trap 'exit 130' INT TERM

wait_http() { # url seconds pid: until the URL answers 200, or the process exits
	local url=$1 secs=$2 pid=$3 i
	for ((i = 0; i < secs * 10; i++)); do
		curl -fsS --max-time 1 "$url" >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------------------------------------

# one N: leaves its files in $run (meta.json, create.json, idle-*.json, delete.json, logs)
bench_n() {
	local n=$1 run=$2 ns="bench" err=() emu_port m_port h_port metrics pids kc counts='null' account=
	local -a op_args
	rm -rf "$run" && mkdir -p "$run"
	CLUSTER_DIR="$run/cluster"
	kc="$CLUSTER_DIR/kubeconfig"

	write_meta() {
		local warn
		warn=$(cat "$run"/operator*.log 2>/dev/null | grep -cE '"level":"(WARN|ERROR)"')
		jq -n --argjson n "$n" --arg scenario "$SCENARIO" --argjson counts "$counts" --arg ns "$ns" --argjson shards "$SHARDS" \
			--arg resync "$RESYNC" --argjson idle "$IDLE" --argjson settle "$SETTLE" \
			--arg ready_resync "${READY_RESYNC:-default}" --arg conc "${CONCURRENCY:-default}" --arg args "${op_args[*]:-}" \
			--argjson warn "${warn:-0}" \
			'{n: $n, scenario: $scenario, counts: $counts, operator_log_warnings: $warn, namespace: $ns, shards: $shards, resync: $resync, ready_resync: $ready_resync, idle_s: $idle,
			  settle_s: $settle, concurrency: $conc, operator_args: $args,
			  errors: $ARGS.positional}' --args "${err[@]}" >"$run/meta.json"
	}

	start_operator() { # log, RUST_LOG, extra args...: starts OP_PID, waits for /readyz
		local log=$1 rust_log=$2
		shift 2
		op_args=(run --endpoint-url "http://127.0.0.1:$emu_port" --region "$REGION"
			--metrics-addr "127.0.0.1:$m_port" --health-addr "127.0.0.1:$h_port" --log-format json
			--aws-rate-limits "$RATE_LIMITS" "$@")
		[[ -n $CONCURRENCY ]] && op_args+=(--max-concurrent-reconciles "$CONCURRENCY")
		AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench RUST_LOG=$rust_log \
			"$OPERATOR" "${op_args[@]}" >"$log" 2>&1 </dev/null &
		OP_PID=$!
		if ! wait_http "http://127.0.0.1:$h_port/readyz" 30 "$OP_PID"; then
			err+=("the operator did not become ready: $(tail -c 600 "$log")")
			write_meta
			return 1
		fi
		sleep 2 # its watch is established
	}
	set_pids() {
		pids="operator=$OP_PID,emulator=$EMU_PID,kube-apiserver=$(cat "$CLUSTER_DIR/kube-apiserver.pid"),etcd=$(cat "$CLUSTER_DIR/etcd.pid")"
	}
	snap() { # name
		python3 "$HELPER" snap --cluster "$CLUSTER_DIR" --kinds "$KINDS" --pids "$pids" --metrics "$metrics" >"$run/$1.json" 2>>"$run/snap.err"
	}
	wait_reconciles() { # seconds: until the operator has reconciled every kind's objects at least once each
		local secs=$1 i kind want got short
		for ((i = 0; i < secs * 2; i++)); do
			short=
			for kind in ${KINDS//,/ }; do
				want=$(jq -r --arg k "$kind" '.[$k] // 0' <<<"$counts")
				[[ $counts == null ]] && want=$n
				got=$(curl -fsS --max-time 2 "$metrics" 2>/dev/null |
					awk -v k="kind=\"$kind\"" '/^kinesis_operator_reconciles_total\{/ && index($0, k) {s += $NF} END {printf "%d", s}')
				((${got:-0} >= want)) || short=1
			done
			[[ -z $short ]] && return 0
			sleep 0.5
		done
		return 1
	}

	say "N=$n: control plane"
	if ! "$ROOT/tools/cluster.sh" up "$CLUSTER_DIR" --owner-pid $$ >"$run/cluster.log" 2>&1; then
		err+=("control plane did not start: $(tail -c 600 "$run/cluster.log")")
		write_meta
		return 1
	fi
	export KUBECONFIG=$kc
	if ! { kubectl apply --server-side -f "$ROOT/crds/" &&
		kubectl wait --for=condition=Established crd --all --timeout=60s &&
		kubectl create namespace "$ns"; } >"$run/crds.log" 2>&1; then
		err+=("installing the CRDs failed: $(tail -c 600 "$run/crds.log")")
		write_meta
		return 1
	fi

	emu_port=$(free_port)
	# Its debug log has one line per request answered: the AWS calls as the server saw them.
	RUST_LOG=info,kinesis_operator::emulator::server=debug "$OPERATOR" emulator \
		--listen "127.0.0.1:$emu_port" --relax-limits --log-format json \
		--create-delay 0s --update-delay 0s --delete-delay 0s \
		>"$run/emulator.log" 2>&1 </dev/null &
	EMU_PID=$!
	if ! wait_http "http://127.0.0.1:$emu_port/health" 30 "$EMU_PID"; then
		err+=("the emulator did not start: $(tail -c 600 "$run/emulator.log")")
		write_meta
		return 1
	fi

	if [[ $SCENARIO == pipeline ]]; then
		# The bucket and roles the objects name, as a user's platform would have them.
		if ! account=$(python3 "$HELPER" setup-aws "http://127.0.0.1:$emu_port" "$n" 2>"$run/setup-aws.err"); then
			err+=("making the bucket and roles in the emulator failed: $(tail -c 600 "$run/setup-aws.err")")
			write_meta
			return 1
		fi
		counts=$(python3 "$HELPER" counts "$n")
	fi

	m_port=$(free_port)
	h_port=$(free_port)
	metrics="http://127.0.0.1:$m_port/metrics"
	# The first operator runs with the resync interval of BENCH_READY_RESYNC (default: its
	# own), so that no resync lands among the calls counted until all Ready.
	# With BENCH_TRACE_CALLS, each AWS call's debug lines carry the reconcile's spans: the
	# object, the reason of its pass (kube-runtime's "reconciling object") and the operation.
	local trace='aws_smithy_runtime::client::orchestrator[try_op]=debug,aws_sdk_kinesis=debug,aws_sdk_firehose=debug,aws_sdk_iam=debug,aws_sdk_sts=debug'
	start_operator "$run/operator.log" "${RUST_LOG:-info}$([[ $TRACE_CALLS == 1 ]] && echo ",$trace")" \
		${READY_RESYNC:+--resync-interval "$READY_RESYNC"} || return 1
	local part creates=()
	for ((part = 0; part < CREATORS; part++)); do
		python3 "$HELPER" manifest "$n" "$ns" "$SHARDS" --part "$part" --parts "$CREATORS" \
			--scenario "$SCENARIO" ${account:+--account "$account"} >"$run/objects-$part.yaml"
		creates+=("kubectl create -f $run/objects-$part.yaml >/dev/null & p+=(\$!);")
	done
	set_pids
	wait_quiet
	say "N=$n: creating $n objects ($([[ $counts == null ]] && echo KinesisStreams || jq -r 'to_entries | map("\(.value) \(.key)") | join(", ")' <<<"$counts")) at once, waiting until all are Ready (timeout $TIMEOUT s)"
	python3 "$HELPER" watch --cluster "$CLUSTER_DIR" --namespace "$ns" --until ready --n "$n" \
		--kinds "$KINDS" $([[ $SCENARIO == pipeline ]] && echo --record-objects) \
		--timeout "$TIMEOUT" --pids "$pids" --metrics "$metrics" -- \
		bash -c "set -e; p=(); ${creates[*]} for q in \"\${p[@]}\"; do wait \"\$q\"; done" >"$run/create.json" 2>"$run/create.err"
	if ! [[ -s $run/create.json ]] || ! jq -e . "$run/create.json" >/dev/null 2>&1; then
		err+=("following the objects failed: $(tail -c 600 "$run/create.err")")
		write_meta
		return 1
	fi
	say "N=$n: $(jq -c '{all_ready: .ok, seconds, ready, error}' "$run/create.json")"
	kill -0 "$OP_PID" 2>/dev/null || err+=("the operator exited: $(tail -c 600 "$run/operator.log")")

	sleep "$SETTLE"
	say "N=$n: idle window of $IDLE s"
	snap idle-start
	sleep "$IDLE"
	snap idle-end

	# Steady state: a second operator resyncing every BENCH_RESYNC. It starts by reconciling
	# every object once (measured as "restart"); the window starts after that.
	stop_pid "$OP_PID"
	OP_PID=
	# Before the new operator starts: its counters start at zero, its first pass is quick.
	snap restart-start
	say "N=$n: operator restarted with --resync-interval $RESYNC; steady-state window of $IDLE s"
	start_operator "$run/operator-steady.log" "${RUST_LOG:-info}" --resync-interval "$RESYNC" || return 1
	set_pids
	wait_reconciles 120 || err+=("after the restart, the operator did not reconcile all $n objects within 120 s")
	sleep "$SETTLE"
	snap steady-start
	sleep "$IDLE"
	snap steady-end
	[[ -s $run/snap.err ]] && err+=("snapshots: $(tail -c 600 "$run/snap.err")")

	say "N=$n: deleting all, waiting until they are gone"
	python3 "$HELPER" watch --cluster "$CLUSTER_DIR" --namespace "$ns" --until gone --n "$n" --kinds "$KINDS" \
		--timeout "$TIMEOUT" --pids "$pids" --metrics "$metrics" -- \
		kubectl delete "$PLURALS" --all -n "$ns" --wait=false >"$run/delete.json" 2>"$run/delete.err"
	[[ -s $run/delete.json ]] && jq -e . "$run/delete.json" >/dev/null 2>&1 || err+=("following the deletion failed: $(tail -c 600 "$run/delete.err")")
	say "N=$n: $(jq -c '{all_gone: .ok, seconds, objects_seen, error}' "$run/delete.json" 2>/dev/null)"
	kill -0 "$OP_PID" 2>/dev/null || err+=("the operator exited: $(tail -c 600 "$run/operator-steady.log")")
	write_meta
	return 0
}

# ---------------------------------------------------------------------------------------------

if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
	say "building the operator (release)"
	if ! build_ours >"$LOGS/operator.build" 2>&1; then
		tail -n 30 "$LOGS/operator.build" >&2
		say "kinesis-operator does not build; nothing measured"
		exit 1
	fi
fi
[[ -x $OPERATOR ]] || {
	say "$OPERATOR is missing"
	exit 1
}
if [[ ! -x $TOOLS/kube-apiserver || ! -x $TOOLS/etcd || ! -x $TOOLS/kubectl ]]; then
	say "building the control plane binaries (make tools)"
	"$ROOT/tools/build.sh" >"$LOGS/tools.build" 2>&1 || {
		tail -n 30 "$LOGS/tools.build" >&2
		say "make tools failed; nothing measured"
		exit 1
	}
fi

VERSION="$("$OPERATOR" version 2>/dev/null | head -1)"
# The last commit that changed the operator's code, not the bench's.
[[ -z ${BENCH_OPERATOR:-} ]] && VERSION="$VERSION ($(git -C "$ROOT" log -1 --format=%h -- src Cargo.toml Cargo.lock 2>/dev/null)$([[ -n $(git -C "$ROOT" status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]] && echo ' + uncommitted changes'))"
default_of() { # run's option -> its default value, from --help
	"$OPERATOR" run --help 2>/dev/null | sed -n "/$1/,/default:/p" | grep -o 'default: [^]]*' | head -1 | cut -d' ' -f2
}
DEFAULT_CONC=$(default_of --max-concurrent-reconciles)
DEFAULT_RESYNC=$(default_of --resync-interval)
failed=0
results=()
for n in $NS_LIST; do
	run="$BENCH/$BENCH_PART-n$n"
	bench_n "$n" "$run" || failed=1
	stop_all
	cp "$run"/operator.log "$LOGS/$BENCH_PART-n$n.log" 2>/dev/null
	cp "$run"/operator-steady.log "$LOGS/$BENCH_PART-steady-n$n.log" 2>/dev/null
	r=$(python3 "$HELPER" summarize "$run" 2>"$run/summarize.err") ||
		r=$(jq -n --argjson n "$n" --arg e "summarizing failed: $(tail -c 600 "$run/summarize.err")" '{n: $n, status: "failed", errors: [$e]}')
	[[ $(jq -r .status <<<"$r") == ok ]] || failed=1
	results+=("$r")
	say "N=$n: $(jq -c '{status, ready_s: .ready.seconds, aws_calls_per_object: .ready.phase.aws_calls.per_stream, peak_rss_mib: ((.operator_peak_rss_kib // 0) / 1024 | floor), idle_cpu_pct: .idle.operator_cpu_pct_of_core, errors}' <<<"$r")"
	[[ $SCENARIO == pipeline ]] && say "N=$n: $(jq -c '{delay_after_last_dependency_s: (.pipeline.dependency_delay_s.all // {} | {p50, p99, max}), aws_calls_per_object: (.pipeline.ready_calls // {} | map_values({per_object, minimum_per_object, extra}))}' <<<"$r")"
done

RUN_END=$(date +%s)
machine_args
printf '%s\n' "${results[@]}" | jq -s "${MACHINE_ARGS[@]}" --arg loadavg "$LOADAVG_AT_START" \
	--arg version "$VERSION" \
	--arg k8s "$(cat "$TOOLS/kube-apiserver.version" 2>/dev/null) / etcd $(cat "$TOOLS/etcd.version" 2>/dev/null)" \
	--arg conc "${CONCURRENCY:-${DEFAULT_CONC:-?} (default)}" \
	--arg resync "$RESYNC" --arg default_resync "${DEFAULT_RESYNC:-}" \
	--arg ready_resync "${READY_RESYNC:-${DEFAULT_RESYNC:-?} (default)}" --argjson idle "$IDLE" --argjson settle "$SETTLE" \
	--argjson shards "$SHARDS" --argjson seconds "$((RUN_END - RUN_START))" \
	--argjson creators "$CREATORS" --arg rate_limits "$RATE_LIMITS" --arg scenario "$SCENARIO" --arg trace "$TRACE_CALLS" '
	{date: $date, scenario: $scenario,
	 machine: {nproc: ($nproc | tonumber), cpu_model: $cpu, memory: $mem, kernel: $kernel, loadavg_at_start: $loadavg},
	 operator_version: $version, control_plane: $k8s,
	 settings: {shards: $shards, resync_interval: $resync, default_resync_interval: $default_resync,
	            ready_resync_interval: $ready_resync, idle_s: $idle, settle_s: $settle,
	            max_concurrent_reconciles: $conc, creators: $creators, aws_rate_limits: $rate_limits,
	            trace_calls: ($trace == "1"),
	            emulator: "--relax-limits --create-delay 0s --update-delay 0s --delete-delay 0s"},
	 run_seconds: $seconds,
	 runs: .}' >"$BENCH/$RESULTS"
say "results in target/bench/$RESULTS (run took $((RUN_END - RUN_START)) s)"

if [[ ${BENCH_NO_RENDER:-0} != 1 ]]; then
	python3 "$ROOT/bench/render.py" "$BENCH/$RESULTS" "$ROOT/BENCHMARKS.md" &&
		say "BENCHMARKS.md: $([[ $SCENARIO == pipeline ]] && echo 'Operator: mixed kinds with references' || echo Operator) section rendered"
fi
exit "$failed"
