# Shared by the `make bench` parts (bench/run.sh, bench/firehose.sh, bench/operator.sh,
# bench/analytics.sh): logging, free ports, waiting for a quiet machine, stopping servers,
# installing peers into target/bench, describing the machine in the results.
# Source it after setting BENCH_PART (the name in log lines) and BENCH (the install directory).

# Our binary as shipped: the one `make build` makes (static, link-ordered; see the Makefile).
ours_bin() { make -s -C "$ROOT" --no-print-directory print-release-bin; }
build_ours() { make -s -C "$ROOT" --no-print-directory build CARGO="${CARGO:-cargo}"; }

# The machine a run was on, as jq arguments for the results document ($date, $nproc, $cpu,
# $mem, $kernel): sets the array MACHINE_ARGS.
machine_args() {
	MACHINE_ARGS=(
		--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
		--arg nproc "$(nproc)"
		--arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
		--arg mem "$(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
		--arg kernel "$(uname -r)"
	)
}

say() { printf '[bench %s %s] %s\n' "${BENCH_PART:-}" "$(date +%H:%M:%S)" "$*" >&2; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Other work on this 2-core machine skews every number: before each measurement, wait (up to
# 60 s) for a second in which the rest of the machine uses less than 30% of one core.
wait_quiet() {
	local i a b u n s id io irq sirq st
	for ((i = 0; i < 60; i++)); do
		read -r _ u n s id io irq sirq st _ </proc/stat
		a=$((u + n + s + irq + sirq + st))
		sleep 1
		read -r _ u n s id io irq sirq st _ </proc/stat
		b=$((u + n + s + irq + sirq + st))
		((b - a < 30 * $(getconf CLK_TCK) / 100)) && return 0
	done
	say "the machine is still busy; measuring anyway (see the 'other processes' figures)"
}

stop_server() { # pid: its process group, TERM then KILL after 5 s
	local pid=$1 i
	kill -TERM -- "-$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null
}

npm_install() { # dir package version
	local dir=$1 pkg=$2 ver=$3
	[[ -f $dir/.installed-$pkg-$ver ]] && return 0
	rm -rf "$dir" && mkdir -p "$dir" &&
		npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "$pkg@$ver" &&
		touch "$dir/.installed-$pkg-$ver"
}

pip_install() { # venv requirement (e.g. "moto[server]==5.2.5") marker
	local venv=$1 req=$2 marker=$3
	[[ -f $venv/.installed-$marker ]] && return 0
	rm -rf "$venv" && python3 -m venv "$venv" &&
		"$venv/bin/pip" install --quiet "$req" &&
		touch "$venv/.installed-$marker"
}
