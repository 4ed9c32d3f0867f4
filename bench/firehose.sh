#!/usr/bin/env bash
# `make bench`, Firehose part (DESIGN §8): PutRecordBatch throughput and put -> object-in-S3
# latency of our emulator beside the free emulators that serve Firehose and S3 on one port
# (fakecloud, moto, MiniStack, LocalEmu), in one run, with the same load generator
# (`loadgen firehose`) on the same machine. Every acknowledged record is read back from S3 and
# checked byte for byte: lost, duplicated and altered records are reported beside the speed.
# Writes target/bench/results-firehose.json and renders the "Firehose" section of BENCHMARKS.md.
#
# Knobs (environment):
#   BENCH_PEERS     which emulators, in order (default: ours fakecloud moto ministack localemu)
#   BENCH_DURATION  seconds of the PutRecordBatch phase (default 10)
#   BENCH_WRITERS   concurrent writers (default 8)
#   BENCH_BUFFER_S  buffering interval of the delivery streams, seconds (default 0)
#   BENCH_NO_RENDER set to 1 to leave BENCHMARKS.md alone
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/target/bench"
BUILD="$ROOT/target/bench-build"
LOGS="$BENCH/logs-firehose"
CARGO=${CARGO:-cargo}
PEERS=${BENCH_PEERS:-"ours fakecloud moto ministack localemu"}
DURATION=${BENCH_DURATION:-10}
WRITERS=${BENCH_WRITERS:-8}
BATCH=500
RECORD_SIZE=750
REGION=us-east-1
# Buffering hints of the measured delivery stream: 5 MiB or BUFFER_S seconds, whichever first;
# the latency stream buffers for BUFFER_S too: an object should be visible within that interval
# + 1 s (DESIGN §8). The default 0 is AWS's zero buffering, which every peer accepts (fakecloud
# refuses 1..59 s).
BUFFER_MB=5
BUFFER_S=${BENCH_BUFFER_S:-0}

# Pinned peer versions (fakecloud's is pinned in bench/fakecloud-wrapper/Cargo.toml).
MOTO_VERSION=5.2.5
MINISTACK_VERSION=1.5.33
LOCALEMU_VERSION=1.3.2

LOADGEN="$BUILD/release/loadgen"
FAKECLOUD="$BUILD/release/fakecloud-firehose-bench"

for tool in "$CARGO" jq python3; do
	command -v "$tool" >/dev/null || {
		echo "bench: $tool is needed" >&2
		exit 1
	}
done
mkdir -p "$BENCH" "$LOGS"
RUN_START=$(date +%s)
BENCH_PART=firehose
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
OURS=$(ours_bin)

# ---------------------------------------------------------------------------------------------
# builds and installs; each prints nothing on success and leaves its error in $LOGS/<peer>.install

build_loadgen() {
	CARGO_TARGET_DIR="$BUILD" "$CARGO" build --release --locked --quiet \
		--manifest-path "$ROOT/bench/loadgen/Cargo.toml"
}

install_ours() { build_ours && [[ -x $OURS ]]; }

install_fakecloud() {
	CARGO_TARGET_DIR="$BUILD" "$CARGO" build --release --locked --quiet \
		--manifest-path "$ROOT/bench/fakecloud-wrapper/Cargo.toml" && [[ -x $FAKECLOUD ]]
}

install_moto() { pip_install "$BENCH/moto-venv" "moto[server]==$MOTO_VERSION" "moto-$MOTO_VERSION"; }
install_ministack() { pip_install "$BENCH/ministack-venv" "ministack==$MINISTACK_VERSION" "ministack-$MINISTACK_VERSION"; }
install_localemu() { pip_install "$BENCH/localemu-venv" "localemu==$LOCALEMU_VERSION" "localemu-$LOCALEMU_VERSION"; }

version_of() {
	case $1 in
	ours) echo "$("$OURS" version 2>/dev/null | head -1) ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$([[ -n $(git -C "$ROOT" status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]] && echo ' + uncommitted changes'))" ;;
	fakecloud) echo "fakecloud-firehose + fakecloud-s3 $(awk '/^name = "fakecloud-firehose"/{getline; print $3}' "$ROOT/bench/fakecloud-wrapper/Cargo.lock" | tr -d '"') (services alone, behind fakecloud-core's dispatcher)" ;;
	moto) echo "moto $("$BENCH/moto-venv/bin/python" -c 'import moto; print(moto.__version__)' 2>/dev/null) ($("$BENCH/moto-venv/bin/python" --version 2>&1))" ;;
	ministack) echo "ministack $("$BENCH/ministack-venv/bin/pip" show ministack 2>/dev/null | awk '/^Version/{print $2}') ($("$BENCH/ministack-venv/bin/python" --version 2>&1))" ;;
	localemu) echo "localemu $("$BENCH/localemu-venv/bin/pip" show localemu 2>/dev/null | awk '/^Version/{print $2}') ($("$BENCH/localemu-venv/bin/python" --version 2>&1))" ;;
	esac
}

launch() { # peer port log -> JSON line on stdout
	local peer=$1 port=$2 log=$3
	local -a args=(launch --endpoint "http://127.0.0.1:$port" --region "$REGION" --log "$log")
	case $peer in
	ours) args+=(-- "$OURS" emulator --listen "127.0.0.1:$port" --relax-limits) ;;
	fakecloud) args+=(-- "$FAKECLOUD" "127.0.0.1:$port" "$REGION") ;;
	moto) args+=(-- "$BENCH/moto-venv/bin/moto_server" -H 127.0.0.1 -p "$port") ;;
	ministack) args+=(--env "GATEWAY_PORT=$port" --env "GATEWAY_HOST=127.0.0.1" -- "$BENCH/ministack-venv/bin/ministack") ;;
	localemu) args+=(-- "$BENCH/localemu-venv/bin/localemu" start --host 127.0.0.1 --port "$port") ;;
	esac
	"$LOADGEN" "${args[@]}"
}

SERVER_PID=
cleanup() { [[ -n $SERVER_PID ]] && stop_server "$SERVER_PID"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# one peer: prints its result object (JSON) on stdout
bench_peer() {
	local peer=$1 err port log launch_json pid first idle run_json version
	log="$LOGS/$peer.log"
	say "$peer: installing / building"
	if ! "install_$peer" >"$LOGS/$peer.install" 2>&1; then
		err=$(tail -c 1500 "$LOGS/$peer.install")
		jq -n --arg peer "$peer" --arg e "install failed: $err" '{peer: $peer, status: "failed", error: $e}'
		return
	fi
	version=$(version_of "$peer")
	wait_quiet
	port=$(free_port)
	say "$peer ($version): starting on port $port"
	launch_json=$(launch "$peer" "$port" "$log")
	pid=$(jq -r '.pid // empty' <<<"$launch_json" 2>/dev/null)
	SERVER_PID=$pid
	err=$(jq -r '.error // empty' <<<"$launch_json" 2>/dev/null)
	if [[ -z $launch_json || -n $err ]]; then
		[[ -n $pid ]] && stop_server "$pid"
		SERVER_PID=
		jq -n --arg peer "$peer" --arg v "$version" --arg e "start failed: ${err:-no output} $(tail -c 800 "$log" 2>/dev/null)" \
			'{peer: $peer, version: $v, status: "failed", error: $e}'
		return
	fi
	first=$(jq '.first_answer_ms' <<<"$launch_json")
	sleep 1
	idle=$("$LOADGEN" proc --pid "$pid")
	say "$peer: first answer after $first ms; idle $(jq .rss_kib <<<"$idle") KiB; running the load"
	run_json=$("$LOADGEN" firehose --endpoint "http://127.0.0.1:$port" --region "$REGION" --server-pid "$pid" \
		--writers "$WRITERS" --batch "$BATCH" --record-size "$RECORD_SIZE" --duration-s "$DURATION" \
		--buffer-mb "$BUFFER_MB" --buffer-s "$BUFFER_S" --latency-interval-s "$BUFFER_S" \
		2>>"$LOGS/$peer.loadgen.err" | tail -1)
	stop_server "$pid"
	SERVER_PID=
	if ! jq -e . >/dev/null 2>&1 <<<"$run_json"; then
		run_json=$(jq -n --arg e "loadgen produced no result: $(tail -c 800 "$LOGS/$peer.loadgen.err")" '{error: $e}')
	fi
	jq -n --arg peer "$peer" --arg v "$version" --argjson first "$first" --argjson idle "$idle" \
		--argjson run "$run_json" '
		{peer: $peer, version: $v,
		 status: (if $run.error then "failed" else "ok" end),
		 error: ($run.error // null),
		 first_answer_ms: $first, idle_rss_kib: $idle.rss_kib,
		 run: $run}'
}

# ---------------------------------------------------------------------------------------------

say "building the load generator"
if ! build_loadgen >"$LOGS/loadgen.build" 2>&1; then
	cat "$LOGS/loadgen.build" >&2
	say "the load generator does not build; nothing measured"
	exit 1
fi

results=()
for peer in $PEERS; do
	if ! declare -F "install_$peer" >/dev/null; then
		results+=("$(jq -n --arg p "$peer" '{peer: $p, status: "failed", error: "unknown peer"}')")
		continue
	fi
	# Not in a subshell, so the EXIT trap sees SERVER_PID.
	bench_peer "$peer" >"$BENCH/firehose-peer-$peer.json"
	r=$(cat "$BENCH/firehose-peer-$peer.json")
	results+=("$r")
	say "$peer: $(jq -c '{status, put: .run.put.records_per_s, lost: .run.delivery.lost, dup: .run.delivery.duplicates, added: .run.delivery.bytes_added, visible: .run.latency.p50_ms, error}' <<<"$r")"
done

RUN_END=$(date +%s)
machine_args
printf '%s\n' "${results[@]}" | jq -s "${MACHINE_ARGS[@]}" \
	--argjson seconds "$((RUN_END - RUN_START))" \
	--argjson duration "$DURATION" --argjson writers "$WRITERS" --argjson batch "$BATCH" \
	--argjson size "$RECORD_SIZE" --argjson mb "$BUFFER_MB" --argjson s "$BUFFER_S" '
	{part: "firehose", date: $date,
	 machine: {nproc: ($nproc | tonumber), cpu_model: $cpu, memory: $mem, kernel: $kernel},
	 settings: {put_seconds: $duration, writers: $writers, records_per_call: $batch,
	            record_bytes: $size, buffering: {size_mb: $mb, interval_s: $s}, latency_interval_s: $s},
	 run_seconds: $seconds,
	 peers: .}' >"$BENCH/results-firehose.json"
say "results in target/bench/results-firehose.json (run took $((RUN_END - RUN_START)) s)"

if [[ ${BENCH_NO_RENDER:-0} != 1 ]]; then
	python3 "$ROOT/bench/render.py" "$BENCH/results-firehose.json" "$ROOT/BENCHMARKS.md" &&
		say "BENCHMARKS.md: Firehose section rendered"
fi
