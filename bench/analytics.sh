#!/usr/bin/env bash
# `make bench`, Managed Service for Apache Flink part (DESIGN §5.5, §8): the tutorial's
# `LIKE '%error%'` filter (examples/analytics-filter.yaml) created and started through
# aws-sdk-kinesisanalyticsv2 against our emulator, which runs it on real Apache Flink (the
# runner JVM of `make runner-flink`). `loadgen analytics` measures the time from
# StartApplication's answer to the first output line and to RUNNING (BENCH_STARTS times, the
# median reported), then input records/s accepted and error lines/s through the filter, checking
# that the output holds exactly the expected lines, and the runner JVM's memory.
# No peer: LocalStack runs Flink only in its paid edition, and kinesis-mock, kinesalite, moto and
# the other free emulators run no Flink application at all.
# Writes target/bench/results-analytics.json and renders the
# "Managed Service for Apache Flink (emulator)" section of BENCHMARKS.md.
#
# Knobs (environment):
#   BENCH_RUNS          runs of the whole measurement, each on a fresh emulator (default 2)
#   BENCH_STARTS        StartApplication measurements per run (default 3)
#   BENCH_RECORDS       log lines of the throughput phase, half of them errors (default 200000)
#   BENCH_WRITERS       concurrent PutRecords writers (default 4)
#   BENCH_SHARDS        shards of the input and of the output stream (default 1)
#   BENCH_TRICKLE       lines per second put while waiting for the first output (default 5)
#   BENCH_MEMORY_MIB    the emulator's --analytics-memory-mib (default: the emulator's own)
#   BENCH_NO_BUILD      set to 1 to use the binary of `make build` and the runner jar as they are
#   BENCH_OPERATOR      another kinesis-operator binary to measure (implies BENCH_NO_BUILD=1)
#   BENCH_FLINK_RUNNER  another runner jar (default target/runners/flink-runner.jar)
#   BENCH_NO_RENDER     set to 1 to leave BENCHMARKS.md alone
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/target/bench"
BUILD="$ROOT/target/bench-build"
LOGS="$BENCH/logs-analytics"
CARGO=${CARGO:-cargo}
RUNS=${BENCH_RUNS:-2}
STARTS=${BENCH_STARTS:-3}
RECORDS=${BENCH_RECORDS:-200000}
WRITERS=${BENCH_WRITERS:-4}
SHARDS=${BENCH_SHARDS:-1}
TRICKLE=${BENCH_TRICKLE:-5}
MEMORY_MIB=${BENCH_MEMORY_MIB:-}
BATCH=500
REGION=us-west-2
[[ -n ${BENCH_OPERATOR:-} ]] && BENCH_NO_BUILD=1
RUNNER=${BENCH_FLINK_RUNNER:-$ROOT/target/runners/flink-runner.jar}
LOADGEN="$BUILD/release/loadgen"

for tool in "$CARGO" jq python3 java; do
	command -v "$tool" >/dev/null || {
		echo "bench: $tool is needed" >&2
		exit 1
	}
done
mkdir -p "$BENCH" "$LOGS"
RUN_START=$(date +%s)
BENCH_PART=analytics
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
OURS=${BENCH_OPERATOR:-$(ours_bin)}

SERVER_PID=
cleanup() { [[ -n $SERVER_PID ]] && stop_server "$SERVER_PID"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

say "building the load generator"
if ! CARGO_TARGET_DIR="$BUILD" "$CARGO" build --release --locked --quiet \
	--manifest-path "$ROOT/bench/loadgen/Cargo.toml" >"$LOGS/loadgen.build" 2>&1; then
	cat "$LOGS/loadgen.build" >&2
	say "the load generator does not build; nothing measured"
	exit 1
fi
if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
	say "building the emulator (make build) and the Flink runner (make runner-flink)"
	if ! build_ours >"$LOGS/build.log" 2>&1 ||
		{ [[ -z ${BENCH_FLINK_RUNNER:-} ]] && ! make -s -C "$ROOT" --no-print-directory runner-flink >>"$LOGS/build.log" 2>&1; }; then
		tail -30 "$LOGS/build.log" >&2
		say "the build failed; nothing measured"
		exit 1
	fi
fi
for f in "$OURS" "$RUNNER"; do
	[[ -e $f ]] || {
		say "$f is missing (make build; make runner-flink)"
		exit 1
	}
done
VERSION="$("$OURS" version 2>/dev/null | head -1)"
[[ -z ${BENCH_OPERATOR:-} ]] && VERSION="$VERSION ($(git -C "$ROOT" log -1 --format=%h -- src Cargo.toml Cargo.lock 2>/dev/null)$([[ -n $(git -C "$ROOT" status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]] && echo ' + uncommitted changes'))"
JAVA_VERSION=$(java -version 2>&1 | head -1)

# one run on a fresh emulator: prints its result object (JSON) on stdout
bench_run() {
	local i=$1 port log launch_json pid err first run_json
	local -a memory=()
	[[ -n $MEMORY_MIB ]] && memory=(--analytics-memory-mib "$MEMORY_MIB")
	log="$LOGS/emulator-$i.log"
	wait_quiet
	port=$(free_port)
	say "run $i: starting the emulator on port $port"
	launch_json=$("$LOADGEN" launch --endpoint "http://127.0.0.1:$port" --region "$REGION" --log "$log" \
		-- "$OURS" emulator --listen "127.0.0.1:$port" --relax-limits --flink-runner "$RUNNER" "${memory[@]}")
	pid=$(jq -r '.pid // empty' <<<"$launch_json" 2>/dev/null)
	SERVER_PID=$pid
	err=$(jq -r '.error // empty' <<<"$launch_json" 2>/dev/null)
	if [[ -z $launch_json || -n $err ]]; then
		[[ -n $pid ]] && stop_server "$pid"
		SERVER_PID=
		jq -n --argjson i "$i" --arg e "start failed: ${err:-no output} $(tail -c 800 "$log" 2>/dev/null)" \
			'{run: $i, status: "failed", error: $e}'
		return
	fi
	first=$(jq '.first_answer_ms' <<<"$launch_json")
	say "run $i: emulator answering after $first ms; starting the filter $STARTS times, then $RECORDS records"
	run_json=$("$LOADGEN" analytics --endpoint "http://127.0.0.1:$port" --region "$REGION" --server-pid "$pid" \
		--shards "$SHARDS" --starts "$STARTS" --trickle-per-s "$TRICKLE" --records "$RECORDS" \
		--writers "$WRITERS" --batch "$BATCH" 2>"$LOGS/loadgen-$i.err" | tail -1)
	stop_server "$pid"
	SERVER_PID=
	if ! jq -e . >/dev/null 2>&1 <<<"$run_json"; then
		run_json=$(jq -n --arg e "loadgen produced no result: $(tail -c 800 "$LOGS/loadgen-$i.err")" '{error: $e}')
	fi
	jq -n --argjson i "$i" --argjson first "$first" --argjson r "$run_json" '
		{run: $i,
		 status: (if $r.error then "failed" elif $r.throughput.output.exact then "ok" else "inexact" end),
		 error: ($r.error // null), first_answer_ms: $first} + ($r | del(.error))'
}

results=()
rc=0
for ((i = 1; i <= RUNS; i++)); do
	bench_run "$i" >"$BENCH/analytics-run-$i.json"
	r=$(cat "$BENCH/analytics-run-$i.json")
	results+=("$r")
	[[ $(jq -r .status <<<"$r") == ok ]] || rc=1
	say "run $i: $(jq -c '{status, first_output_ms: .start.to_first_output_ms_median, running_ms: .start.to_running_ms_median,
		put_per_s: .throughput.put.records_per_s, matching_per_s: .throughput.output.matching_per_s,
		lost: .throughput.output.lost, dup: .throughput.output.duplicates, jvm_hwm_kib: .throughput.runner_jvm.vm_hwm_kib, error}' <<<"$r")"
done

RUN_END=$(date +%s)
machine_args
printf '%s\n' "${results[@]}" | jq -s "${MACHINE_ARGS[@]}" \
	--arg version "$VERSION" --arg java "$JAVA_VERSION" \
	--argjson seconds "$((RUN_END - RUN_START))" \
	--argjson starts "$STARTS" --argjson records "$RECORDS" --argjson writers "$WRITERS" \
	--argjson batch "$BATCH" --argjson shards "$SHARDS" --argjson trickle "$TRICKLE" \
	--arg memory "$MEMORY_MIB" '
	{part: "analytics", date: $date, version: $version, java: $java,
	 machine: {nproc: ($nproc | tonumber), cpu_model: $cpu, memory: $mem, kernel: $kernel},
	 settings: {starts: $starts, records: $records, writers: $writers, records_per_call: $batch,
	            shards: $shards, trickle_per_s: $trickle,
	            analytics_memory_mib: (if $memory == "" then null else ($memory | tonumber) end)},
	 run_seconds: $seconds,
	 runs: .}' >"$BENCH/results-analytics.json"
say "results in target/bench/results-analytics.json (took $((RUN_END - RUN_START)) s)"

if [[ ${BENCH_NO_RENDER:-0} != 1 ]]; then
	python3 "$ROOT/bench/render.py" "$BENCH/results-analytics.json" "$ROOT/BENCHMARKS.md" &&
		say "BENCHMARKS.md: Managed Service for Apache Flink section rendered"
fi
exit $rc
