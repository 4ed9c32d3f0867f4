#!/usr/bin/env bash
# make demo: a local control plane, the CRDs, the emulator and the operator, with the stream
# example applied and Ready. Everything runs in the background; `make demo-down` stops it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${root}/target/demo"
bin="${root}/target/debug/kinesis-operator"
export PATH="${root}/target/tools/bin:${PATH}"
export KUBECONFIG="${root}/target/cluster/kubeconfig"

stop() {
  for p in operator emulator; do
    if [[ -f "${dir}/${p}.pid" ]]; then
      kill "$(cat "${dir}/${p}.pid")" 2>/dev/null || true
      rm -f "${dir}/${p}.pid"
    fi
  done
  "${root}/tools/cluster.sh" down
}

if [[ "${1:-up}" == "down" ]]; then
  stop
  echo "demo: stopped"
  exit 0
fi

mkdir -p "${dir}"
echo "demo: building kinesis-operator"
cargo build --quiet --locked
"${root}/tools/cluster.sh" up
kubectl apply --server-side -f "${root}/crds/" > /dev/null
kubectl wait --for=condition=Established crd --all --timeout=60s > /dev/null

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
endpoint="http://127.0.0.1:${port}"
for p in operator emulator; do
  [[ -f "${dir}/${p}.pid" ]] && kill "$(cat "${dir}/${p}.pid")" 2>/dev/null || true
done
"${bin}" emulator --listen "127.0.0.1:${port}" --create-delay 2s --update-delay 2s \
  --delete-delay 1s > "${dir}/emulator.log" 2>&1 &
echo $! > "${dir}/emulator.pid"
for _ in $(seq 1 100); do
  curl -fsS "${endpoint}/health" > /dev/null 2>&1 && break
  sleep 0.1
done
echo "${endpoint}" > "${dir}/endpoint"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
metrics_port="$(free_port)"
health_port="$(free_port)"
AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-west-2 \
  "${bin}" run --endpoint-url "${endpoint}" --resync-interval 30s \
  --metrics-addr "127.0.0.1:${metrics_port}" --health-addr "127.0.0.1:${health_port}" \
  > "${dir}/operator.log" 2>&1 &
echo $! > "${dir}/operator.pid"

kubectl create namespace demo --dry-run=client -o yaml | kubectl apply -f - > /dev/null
streams=(kinesis-stream.yaml kinesis-stream-fan-out.yaml)
for example in "${streams[@]}"; do
  kubectl apply --server-side -n demo -f "${root}/examples/${example}"
done
echo "demo: waiting for my-stream and orders to be Ready"
for name in my-stream orders; do
  if ! kubectl wait -n demo --for=condition=Ready "kinesisstream/${name}" --timeout=120s > /dev/null; then
    echo "demo: ${name} did not become Ready; its status and the operator log:" >&2
    kubectl get kinesisstream "${name}" -n demo -o jsonpath='{.status.conditions}' >&2 || true
    echo >&2
    tail -n 40 "${dir}/operator.log" >&2
    exit 1
  fi
done
kubectl get kinesis -n demo -o wide
cat <<MSG

The demo is running (control plane, emulator at ${endpoint}, operator; logs in target/demo/).
Try:
  export KUBECONFIG=${KUBECONFIG}
  kubectl get kinesis -A -o wide
  kubectl patch kst my-stream -n demo --type merge -p '{"spec":{"shardCount":5}}'   # watch it scale 2 -> 4 -> 5
  kubectl get kst orders -n demo -o jsonpath='{.status.consumers}'   # enhanced fan-out consumers
  kubectl explain kinesisstream.spec
  curl -s http://127.0.0.1:${metrics_port}/metrics | grep kinesis_operator_   # the operator's metrics
  AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo aws --region us-west-2 --endpoint-url ${endpoint} kinesis list-streams
Stop everything with: make demo-down
MSG
