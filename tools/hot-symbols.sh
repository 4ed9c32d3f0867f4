#!/usr/bin/env bash
# Regenerates tools/hot-symbols.txt, the linker's function order for the release binary
# (`make build` hands it to lld as --symbol-ordering-file through build.rs).
#
# Why: the kernel maps a file-backed page fault's whole 64 KiB neighbourhood ("fault-around"),
# so code run at start lands in RSS by 64 KiB windows. In a 20 MB text section the emulator's
# start and first answer touch ~100 windows scattered among the operator's and the SDKs' code:
# most of its idle RSS. Placed together, the same functions fill a few hundred KiB.
#
# What: the functions the emulator runs from start through its first answer (ListStreams, as
# `make bench` does) and one second of idling, then those a short Kinesis load adds (the
# benchmarked path), in that order; recorded with valgrind's callgrind on an unstripped build of
# the same code. Names that no longer exist are ignored by the linker, so a stale list costs
# only memory, never correctness: re-run after large changes to startup or the Kinesis path.
#
# Needs valgrind, jq and the bench load generator (LOADGEN, else built into target/bench-build).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CARGO=${CARGO:-cargo}
TARGET=${RELEASE_TARGET:-$(rustc -vV | sed -n 's/^host: //p')}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
WORK="$TARGET_DIR/hot-symbols"
LOADGEN=${LOADGEN:-$TARGET_DIR/bench-build/release/loadgen}
OUT="$ROOT/tools/hot-symbols.txt"

say() { printf '[hot-symbols %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
mkdir -p "$WORK"

if [[ ! -x $LOADGEN ]]; then
	say "building the load generator"
	CARGO_TARGET_DIR="$TARGET_DIR/bench-build" "$CARGO" build --release --locked --quiet \
		--manifest-path "$ROOT/bench/loadgen/Cargo.toml"
fi

# Same flags as `make build` (so the dependencies are reused), symbols kept for valgrind.
say "building an unstripped release binary"
RUSTFLAGS=$(make -s -C "$ROOT" --no-print-directory print-release-rustflags) \
	"$CARGO" rustc --release --locked --quiet --target "$TARGET" --bin kinesis-operator -- -C strip=none
cp "$TARGET_DIR/$TARGET/release/kinesis-operator" "$WORK/kinesis-operator"

names() { # callgrind output -> function names, one a line
	sed -n -E 's/^c?fn=\([0-9]+\) (.+)$/\1/p' "$1" | sed -E "s/'[0-9]+$//" | grep -v '^0x' | awk '!seen[$0]++'
}

record() { # phase: start the emulator under callgrind, run the phase's client, stop it
	local phase=$1 port launch pid
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	launch=$("$LOADGEN" launch --endpoint "http://127.0.0.1:$port" --log "$WORK/$phase.log" -- \
		valgrind --tool=callgrind --demangle=no --callgrind-out-file="$WORK/callgrind.$phase" \
		"$WORK/kinesis-operator" emulator --listen "127.0.0.1:$port" --relax-limits)
	pid=$(jq -r .pid <<<"$launch")
	sleep 1
	if [[ $phase == load ]]; then
		"$LOADGEN" run --endpoint "http://127.0.0.1:$port" --writers 2 --batch 100 --record-size 750 \
			--shards 2 --duration-s 2 >/dev/null 2>"$WORK/load.err" || say "load: see $WORK/load.err"
	fi
	kill -TERM -- "-$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
}

say "recording start, first answer and idling"
record idle
say "recording a short Kinesis load"
record load
{
	names "$WORK/callgrind.idle"
	names "$WORK/callgrind.load"
} | awk '!seen[$0]++' >"$OUT"
say "$(wc -l <"$OUT") functions in ${OUT#"$ROOT"/}"
