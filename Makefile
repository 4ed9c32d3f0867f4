# kinesis-operator: the entry points of DESIGN §7.
SHELL := /usr/bin/env bash
CARGO ?= cargo
export PATH := $(CURDIR)/target/tools/bin:$(PATH)

.SECONDEXPANSION:

.PHONY: help build tools cluster-up cluster-down crds chart-lint test lint unit demo demo-down runner-flink image

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# The shipped binary (the one `make bench` measures and the container image carries): statically
# linked and not position-independent, so that it needs no shared library (glibc's `files` and
# `dns` name lookup are built in) and the loader relocates nothing at start; functions laid out
# in tools/hot-symbols.txt's order (see build.rs). Its idle memory is DESIGN section 8's
# "< 5 MiB" (BENCHMARKS.md, "Emulator start and idle memory").
RELEASE_TARGET ?= $(shell rustc -vV | sed -n 's/^host: //p')
RELEASE_RUSTFLAGS := -C target-feature=+crt-static -C relocation-model=static
RELEASE_BIN := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)/$(RELEASE_TARGET)/release/kinesis-operator

build: ## build the shipped kinesis-operator binary (release, static): path by `make print-release-bin`
	RUSTFLAGS="$(RELEASE_RUSTFLAGS)" KINESIS_OPERATOR_SYMBOL_ORDER="$(CURDIR)/tools/hot-symbols.txt" \
		$(CARGO) build --release --locked --target $(RELEASE_TARGET)

IMAGE_DIR := $(CURDIR)/target/image
IMAGE_VERSION = $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
image: build tools runner-flink ## the container images as one OCI layout (target/image/oci): VERSION and the emulator's VERSION-flink (Java 17 + the Flink runner); an archive and SBOM of each; verified with umoci (reads them, unpacks them, runs the binary and the Java inside)
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || echo 0) python3 tools/image.py \
		--binary "$(RELEASE_BIN)" --require-static --version "$(IMAGE_VERSION)" \
		--ca-dir "$$(ls -d $(CURDIR)/target/tools/ca-certificates-* | head -n 1)" --out "$(IMAGE_DIR)" \
		--flink-runner "$(RUNNER_FLINK_JAR)" --jre-packages "$(CURDIR)/target/tools/flink-image-packages.txt"
	rm -rf "$(IMAGE_DIR)/verify" && target/tools/bin/umoci unpack --rootless \
		--image "$(IMAGE_DIR)/oci:$(IMAGE_VERSION)" "$(IMAGE_DIR)/verify" > /dev/null
	"$(IMAGE_DIR)/verify/rootfs/usr/local/bin/kinesis-operator" version
	rm -rf "$(IMAGE_DIR)/verify" && target/tools/bin/umoci unpack --rootless \
		--image "$(IMAGE_DIR)/oci:$(IMAGE_VERSION)-flink" "$(IMAGE_DIR)/verify" > /dev/null
	"$(IMAGE_DIR)/verify/rootfs/usr/local/bin/kinesis-operator" version
	"$(IMAGE_DIR)/verify/rootfs/lib64/ld-linux-x86-64.so.2" --library-path "$(IMAGE_DIR)/verify/rootfs/lib/x86_64-linux-gnu:$(IMAGE_DIR)/verify/rootfs/usr/lib/x86_64-linux-gnu" \
		"$(IMAGE_DIR)/verify/rootfs/usr/lib/jvm/java-17-openjdk-amd64/bin/java" -version
	rm -rf "$(IMAGE_DIR)/verify"

.PHONY: print-release-bin print-release-rustflags hot-symbols
print-release-bin: ## path of the binary `make build` makes
	@echo $(RELEASE_BIN)

print-release-rustflags:
	@echo $(RELEASE_RUSTFLAGS)

hot-symbols: ## re-record tools/hot-symbols.txt (the release binary's function order; needs valgrind)
	RELEASE_TARGET=$(RELEASE_TARGET) ./tools/hot-symbols.sh

tools: ## build pinned etcd, kube-apiserver, kubectl, helm; unpack Debian's prometheus, promtool into target/tools/bin (idempotent)
	./tools/build.sh

cluster-up: tools ## start etcd + kube-apiserver; kubeconfig at target/cluster/kubeconfig
	./tools/cluster.sh up

cluster-down: ## stop the local control plane and remove its files
	./tools/cluster.sh down

# The chart's crds/ (installed by `helm install`) and the CRD chart's files/ (templated, so that
# `helm upgrade` upgrades them) are copies of crds/; tests/chart.rs fails when they drift.
CHART_CRD_DIRS := charts/kinesis-operator/crds charts/kinesis-operator-crds/files

crds: ## regenerate crds/ (and the charts' copies) from the Rust types
	$(CARGO) run --quiet --locked -- crds --out-dir crds
	@for dir in $(CHART_CRD_DIRS); do rm -f $$dir/*.yaml; mkdir -p $$dir; cp crds/*.yaml $$dir/; done

# The value combinations the chart is linted with (tests/chart.rs renders the same ones and
# has the API server validate them).
CHART_VALUE_SETS := \
	"" \
	"replicaCount=1" \
	"watchNamespace=apps" \
	"emulator.enabled=true" \
	"emulator.enabled=true,emulator.persistence.enabled=false,replicaCount=1" \
	"emulator.enabled=true,emulator.flink.enabled=false,image.tag=1.2.3" \
	"metrics.serviceMonitor.enabled=true,rbac.secrets.namespaces={apps,web}" \
	"rbac.create=false,serviceAccount.create=false,serviceAccount.name=existing" \
	"metrics.prometheusRule.enabled=true,metrics.prometheusRule.groups.leader=false,metrics.grafanaDashboard.enabled=true"

chart-lint: tools ## helm lint --strict the charts with the main value combinations
	@set -e; for values in $(CHART_VALUE_SETS); do \
		echo "helm lint --strict charts/kinesis-operator --set '$$values'"; \
		helm lint --strict --quiet charts/kinesis-operator $${values:+--set "$$values"}; \
	done
	helm lint --strict --quiet charts/kinesis-operator-crds

demo: tools runner-flink ## control plane + CRDs + emulator + operator; the stream examples and the clickstream pipeline Ready, clicks archived to S3 and counted by Flink; left running
	./tools/demo.sh up

demo-down: ## stop what make demo started
	./tools/demo.sh down

# The Flink SQL runner the emulator starts per running AnalyticsApplication (runners/flink/
# README.md): one shaded jar, rebuilt only when its pom or sources change. Maven works offline
# from ~/.m2 once the first build has downloaded Flink (~190 MB); online only when that fails.
RUNNER_FLINK_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)/runners
RUNNER_FLINK_JAR := $(RUNNER_FLINK_DIR)/flink-runner.jar
RUNNER_FLINK_SOURCES := runners/flink/pom.xml $(shell find runners/flink/src -type f 2>/dev/null)
MVN := mvn -q -B -Dstyle.color=never
NEED_MVN := command -v mvn >/dev/null || { echo "runner-flink: needs Maven 3.8+ and a JDK 17 (apt-get install maven openjdk-17-jdk-headless)" >&2; exit 1; }
RUNNER_FLINK_MVN := $(MVN) -DbuildDir=$(RUNNER_FLINK_DIR)/flink-build
# Example JAR applications (runners/flink/examples/NAME, a DataStream job as AWS's templates
# build one): target/runners/examples/NAME.jar, rebuilt when their pom or sources change.
RUNNER_EXAMPLES := uppercase
RUNNER_EXAMPLE_JARS := $(RUNNER_EXAMPLES:%=$(RUNNER_FLINK_DIR)/examples/%.jar)

RUNNER_FLINK_DEPS := $(RUNNER_FLINK_DIR)/flink-runner.dependencies.txt

runner-flink: $(RUNNER_FLINK_JAR) $(RUNNER_FLINK_DEPS) $(RUNNER_EXAMPLE_JARS) ## build the Flink runner into target/runners/flink-runner.jar with the list of what it bundles (for the image's SBOM), and the example JAR application the tests run (Maven, Java 17)

$(RUNNER_FLINK_JAR): $(RUNNER_FLINK_SOURCES)
	@$(NEED_MVN)
	cd runners/flink && { $(RUNNER_FLINK_MVN) -o package 2>/dev/null || $(RUNNER_FLINK_MVN) package; }
	cp $(RUNNER_FLINK_DIR)/flink-build/flink-runner.jar $@.tmp && mv $@.tmp $@

# The Maven artifacts shaded into the jar (their own pom.properties are mostly not in it).
$(RUNNER_FLINK_DEPS): runners/flink/pom.xml
	@mkdir -p $(RUNNER_FLINK_DIR)
	cd runners/flink && { $(RUNNER_FLINK_MVN) -o dependency:list -DincludeScope=runtime -DoutputFile=$@.tmp >/dev/null 2>&1 \
		|| $(RUNNER_FLINK_MVN) dependency:list -DincludeScope=runtime -DoutputFile=$@.tmp >/dev/null; }
	mv $@.tmp $@

$(RUNNER_FLINK_DIR)/examples/%.jar: runners/flink/examples/%/pom.xml $$(shell find runners/flink/examples/$$*/src -type f 2>/dev/null)
	@$(NEED_MVN)
	cd runners/flink/examples/$* && { $(MVN) -DbuildDir=$(RUNNER_FLINK_DIR)/examples-build/$* -o package 2>/dev/null || $(MVN) -DbuildDir=$(RUNNER_FLINK_DIR)/examples-build/$* package; }
	mkdir -p $(@D) && cp $(RUNNER_FLINK_DIR)/examples-build/$*/$*.jar $@.tmp && mv $@.tmp $@

lint: ## rustfmt and clippy, warnings are errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

test: tools lint chart-lint runner-flink ## everything: lint, unit, integration against the real control plane, the Flink runner
	$(CARGO) test --locked --all-targets

# Parts of `make bench`; one alone: BENCH_PARTS=operator make bench
BENCH_PARTS ?= emulator firehose operator pipeline analytics

.PHONY: bench
bench: ## benchmarks into BENCHMARKS.md: emulator vs peers (bench/run.sh), Firehose vs peers (bench/firehose.sh), N streams -> Ready (bench/operator.sh), 500 mixed objects with references -> Ready (pipeline: bench/operator.sh, BENCH_SCENARIO=pipeline), Flink SQL filter StartApplication -> first output and records/s on real Flink (analytics: bench/analytics.sh)
	@rc=0; for part in $(BENCH_PARTS); do \
		case $$part in \
		emulator) ./bench/run.sh || rc=1 ;; \
		firehose) ./bench/firehose.sh || rc=1 ;; \
		operator) BENCH_SCENARIO=streams ./bench/operator.sh || rc=1 ;; \
		pipeline) BENCH_SCENARIO=pipeline ./bench/operator.sh || rc=1 ;; \
		analytics) ./bench/analytics.sh || rc=1 ;; \
		*) echo "bench: unknown part '$$part' (parts: emulator firehose operator pipeline analytics)" >&2; rc=1 ;; \
		esac; \
	done; exit $$rc
