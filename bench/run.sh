#!/usr/bin/env bash
# `make bench`, emulator part (DESIGN §8): our emulator side by side with the peer emulators
# fakecloud, kinesalite, kinesis-mock and moto, in one run, with the same load generator
# (bench/loadgen) on the same machine. Writes target/bench/results-emulator.json and renders the
# "Emulator" section of BENCHMARKS.md.
#
# Knobs (environment):
#   BENCH_PEERS     which emulators, in order (default: ours fakecloud kinesalite kinesis-mock moto)
#   BENCH_DURATION  seconds of the PutRecords phase (default 10)
#   BENCH_WRITERS   concurrent PutRecords writers (default 8)
#   BENCH_NO_RENDER set to 1 to leave BENCHMARKS.md alone
#
# Peers are installed into target/bench/ (cached by version), the bench helpers are built with
# CARGO_TARGET_DIR=target/bench-build so they never take the main target dir's lock. A peer that
# fails to install, start or run is reported with its error, never dropped.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/target/bench"
BUILD="$ROOT/target/bench-build"
LOGS="$BENCH/logs"
CARGO=${CARGO:-cargo}
PEERS=${BENCH_PEERS:-"ours fakecloud kinesalite kinesis-mock moto"}
DURATION=${BENCH_DURATION:-10}
WRITERS=${BENCH_WRITERS:-8}
BATCH=500
RECORD_SIZE=750
SHARDS=4
REGION=us-east-1

# Pinned peer versions (fakecloud's is pinned in bench/fakecloud-wrapper/Cargo.toml).
KINESALITE_VERSION=3.3.3
KINESIS_LOCAL_VERSION=0.6.2
MOTO_VERSION=5.2.5

LOADGEN="$BUILD/release/loadgen"
FAKECLOUD="$BUILD/release/fakecloud-kinesis-bench"

for tool in "$CARGO" jq python3; do
	command -v "$tool" >/dev/null || {
		echo "bench: $tool is needed" >&2
		exit 1
	}
done
mkdir -p "$BENCH" "$LOGS"
RUN_START=$(date +%s)
BENCH_PART=emulator
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
OURS=$(ours_bin)

# ---------------------------------------------------------------------------------------------
# builds and installs; each prints nothing on success and leaves its error in $LOGS/<peer>.install

build_loadgen() {
	CARGO_TARGET_DIR="$BUILD" "$CARGO" build --release --locked --quiet \
		--manifest-path "$ROOT/bench/loadgen/Cargo.toml"
}

install_ours() {
	# The emulator may change under us: always rebuild (this may wait on the target dir's lock).
	build_ours && [[ -x $OURS ]]
}

install_fakecloud() {
	CARGO_TARGET_DIR="$BUILD" "$CARGO" build --release --locked --quiet \
		--manifest-path "$ROOT/bench/fakecloud-wrapper/Cargo.toml" && [[ -x $FAKECLOUD ]]
}

install_kinesalite() { npm_install "$BENCH/kinesalite" kinesalite "$KINESALITE_VERSION"; }
install_kinesis-mock() { npm_install "$BENCH/kinesis-mock" kinesis-local "$KINESIS_LOCAL_VERSION"; }

install_moto() { pip_install "$BENCH/moto-venv" "moto[server]==$MOTO_VERSION" "moto-$MOTO_VERSION"; }

# ---------------------------------------------------------------------------------------------
# per peer: version and launch arguments (after `loadgen launch ... --`)

version_of() {
	case $1 in
	ours) echo "$("$OURS" version 2>/dev/null | head -1) ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$([[ -n $(git -C "$ROOT" status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]] && echo ' + uncommitted changes'))" ;;
	fakecloud) echo "fakecloud-kinesis $(awk '/^name = "fakecloud-kinesis"/{getline; print $3}' "$ROOT/bench/fakecloud-wrapper/Cargo.lock" | tr -d '"') (service alone, behind fakecloud-core's dispatcher)" ;;
	kinesalite) echo "kinesalite $(node -p "require('$BENCH/kinesalite/node_modules/kinesalite/package.json').version" 2>/dev/null) (node $(node --version))" ;;
	kinesis-mock) echo "kinesis-mock $(node -p "require('$BENCH/kinesis-mock/node_modules/kinesis-local/package.json').version" 2>/dev/null) (npm kinesis-local, node $(node --version))" ;;
	moto) echo "moto $("$BENCH/moto-venv/bin/python" -c 'import moto; print(moto.__version__)' 2>/dev/null) ($("$BENCH/moto-venv/bin/python" --version 2>&1))" ;;
	esac
}

launch() { # peer port log -> JSON line on stdout
	local peer=$1 port=$2 log=$3
	local -a args=(launch --endpoint "http://127.0.0.1:$port" --region "$REGION" --log "$log")
	case $peer in
	ours) args+=(-- "$OURS" emulator --listen "127.0.0.1:$port" --relax-limits) ;;
	fakecloud) args+=(-- "$FAKECLOUD" "127.0.0.1:$port" "$REGION") ;;
	kinesalite)
		args+=(-- node "$BENCH/kinesalite/node_modules/kinesalite/cli.js" --port "$port"
			--createStreamMs 0 --deleteStreamMs 0 --updateStreamMs 0 --shardLimit 1000)
		;;
	kinesis-mock)
		# Plain HTTP port for the benchmark; the TLS port must be free too. Every state-change
		# delay set to zero, logs at WARN.
		local tls
		tls=$(free_port)
		args+=(--cwd "$BENCH/kinesis-mock/node_modules/kinesis-local"
			--env "KINESIS_MOCK_PLAIN_PORT=$port" --env "KINESIS_MOCK_TLS_PORT=$tls"
			--env CREATE_STREAM_DURATION=0ms --env DELETE_STREAM_DURATION=0ms
			--env UPDATE_SHARD_COUNT_DURATION=0ms --env UPDATE_STREAM_MODE_DURATION=0ms
			--env MERGE_SHARDS_DURATION=0ms --env SPLIT_SHARD_DURATION=0ms
			--env SHARD_LIMIT=1000 --env LOG_LEVEL=WARN --env SHOULD_PERSIST_DATA=false
			-- node main.js)
		;;
	moto) args+=(-- "$BENCH/moto-venv/bin/moto_server" -H 127.0.0.1 -p "$port") ;;
	esac
	"$LOADGEN" "${args[@]}"
}

SERVER_PID=
cleanup() { [[ -n $SERVER_PID ]] && stop_server "$SERVER_PID"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# one peer: prints its result object (JSON) on stdout
bench_peer() {
	local peer=$1 err port log launch_json pid first idle run_json after version
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
	run_json=$("$LOADGEN" run --endpoint "http://127.0.0.1:$port" --region "$REGION" --server-pid "$pid" \
		--writers "$WRITERS" --batch "$BATCH" --record-size "$RECORD_SIZE" --shards "$SHARDS" \
		--duration-s "$DURATION" 2>>"$LOGS/$peer.loadgen.err" | tail -1)
	after=$("$LOADGEN" proc --pid "$pid" 2>/dev/null || echo '{"error": "server gone"}')
	stop_server "$pid"
	SERVER_PID=
	if ! jq -e . >/dev/null 2>&1 <<<"$run_json"; then
		run_json=$(jq -n --arg e "loadgen produced no result: $(tail -c 800 "$LOGS/$peer.loadgen.err")" '{error: $e}')
	fi
	jq -n --arg peer "$peer" --arg v "$version" --argjson first "$first" --argjson idle "$idle" \
		--argjson after "$after" --argjson run "$run_json" '
		{peer: $peer, version: $v,
		 status: (if $run.error then "failed" else "ok" end),
		 error: ($run.error // null),
		 first_answer_ms: $first, idle_rss_kib: $idle.rss_kib,
		 peak_rss_kib: ($after.hwm_kib // $run.server.vm_hwm_kib // null),
		 server_cpu_total_s: (if $after.cpu_s then ($after.cpu_s - $idle.cpu_s) else null end),
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
	bench_peer "$peer" >"$BENCH/peer-$peer.json"
	r=$(cat "$BENCH/peer-$peer.json")
	results+=("$r")
	say "$peer: $(jq -c '{status, put: .run.put.records_per_s, lost: .run.read.lost, dup: .run.read.duplicates, p99: .run.latency.p99_ms, error}' <<<"$r")"
done

RUN_END=$(date +%s)
machine_args
printf '%s\n' "${results[@]}" | jq -s "${MACHINE_ARGS[@]}" \
	--arg rustc "$(rustc --version 2>/dev/null)" \
	--argjson seconds "$((RUN_END - RUN_START))" \
	--argjson duration "$DURATION" --argjson writers "$WRITERS" --argjson batch "$BATCH" \
	--argjson size "$RECORD_SIZE" --argjson shards "$SHARDS" '
	{date: $date,
	 machine: {nproc: ($nproc | tonumber), cpu_model: $cpu, memory: $mem, kernel: $kernel, rustc: $rustc},
	 settings: {put_seconds: $duration, writers: $writers, records_per_call: $batch,
	            record_bytes: $size, shards: $shards},
	 run_seconds: $seconds,
	 peers: .}' >"$BENCH/results-emulator.json"
say "results in target/bench/results-emulator.json (run took $((RUN_END - RUN_START)) s)"

if [[ ${BENCH_NO_RENDER:-0} != 1 ]]; then
	python3 "$ROOT/bench/render.py" "$BENCH/results-emulator.json" "$ROOT/BENCHMARKS.md" &&
		say "BENCHMARKS.md: Emulator section rendered"
fi
