#!/usr/bin/env bash
# make demo: a local control plane, the Helm chart (CRDs, RBAC), the emulator and the operator
# (out of cluster, as the chart's ServiceAccount), with the stream
# examples and the tutorial's clickstream pipeline applied and Ready; clicks put to the stream
# are shown arriving in S3 (read back with the AWS CLI) and counted per user and product and
# minute by the pipeline's Flink SQL application (running on real Flink in the emulator), and
# the policy's rendered document is printed. Everything runs in the background;
# `make demo-down` stops it.
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

# The operator's objects and RBAC come from the Helm chart, as in a cluster. This control plane
# has no nodes, so the chart's Deployment never runs: the operator runs here, out of cluster,
# as the chart's ServiceAccount (a token from the TokenRequest API), with only the rights the
# chart grants it.
echo "demo: helm install kinesis-operator charts/kinesis-operator (namespace kinesis-system)"
helm upgrade --install kinesis-operator "${root}/charts/kinesis-operator" \
  --namespace kinesis-system --create-namespace --set replicaCount=1 > /dev/null
operator_kubeconfig="${dir}/operator.kubeconfig"
cp "${KUBECONFIG}" "${operator_kubeconfig}"
kubectl --kubeconfig "${operator_kubeconfig}" config set-credentials kinesis-operator \
  --token="$(kubectl create token kinesis-operator -n kinesis-system --duration=24h)" > /dev/null
kubectl --kubeconfig "${operator_kubeconfig}" config set-context --current \
  --user=kinesis-operator > /dev/null

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
endpoint="http://127.0.0.1:${port}"
for p in operator emulator; do
  [[ -f "${dir}/${p}.pid" ]] && kill "$(cat "${dir}/${p}.pid")" 2>/dev/null || true
done
"${bin}" emulator --listen "127.0.0.1:${port}" --create-delay 2s --update-delay 2s \
  --delete-delay 1s --firehose-flush-interval 2s \
  --flink-runner "${root}/target/runners/flink-runner.jar" \
  > "${dir}/emulator.log" 2>&1 &
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
KUBECONFIG="${operator_kubeconfig}" AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo \
  AWS_REGION=us-west-2 "${bin}" run --endpoint-url "${endpoint}" --resync-interval 30s \
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

# The tutorial's clickstream pipeline: stream -> Firehose -> S3, and a read/write policy. The
# bucket and the roles it names are made first, as a user's platform would have them.
venv="${root}/target/python-venv-awscli"
if ! "${venv}/bin/aws" --version > /dev/null 2>&1; then
  echo "demo: installing the AWS CLI into target/python-venv-awscli"
  python3 -m venv "${venv}"
  "${venv}/bin/pip" install --quiet --disable-pip-version-check \
    -r "${root}/tests/python/requirements-awscli.txt"
fi
aws() {
  AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_CONFIG_FILE=/dev/null \
    AWS_SHARED_CREDENTIALS_FILE=/dev/null "${venv}/bin/aws" --region us-west-2 \
    --endpoint-url "${endpoint}" "$@"
}
aws s3api create-bucket --bucket clickstream-archive \
  --create-bucket-configuration LocationConstraint=us-west-2 > /dev/null
trust='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
for role in clickstream-web clickstream-analytics; do
  aws iam create-role --role-name "${role}" --assume-role-policy-document "${trust}" > /dev/null
done
kubectl apply --server-side -n demo -f "${root}/examples/clickstream-pipeline.yaml"
echo "demo: waiting for the clickstream pipeline to be Ready"
for obj in kinesisstream/clickstream kinesisstream/clicks-per-minute \
  deliverystream/clickstream-archive streampolicy/clickstream-access \
  analyticsapplication/clicks-per-minute; do
  # The Flink application's JVM takes a few seconds to start.
  if ! kubectl wait -n demo --for=condition=Ready "${obj}" --timeout=180s > /dev/null; then
    echo "demo: ${obj} did not become Ready; its status and the operator log:" >&2
    kubectl get "${obj}" -n demo -o jsonpath='{.status.conditions}' >&2 || true
    echo >&2
    tail -n 40 "${dir}/operator.log" >&2
    exit 1
  fi
done
kubectl get kinesis -n demo -o wide

click='{"timestamp":"2026-12-07 10:00:00.000","user_id":"u1","product_id":"p42"}'
echo
echo "demo: putting clicks on stream clickstream, the first: ${click}"
aws kinesis put-record --stream-name clickstream --partition-key u1 \
  --data "${click}" > /dev/null
for user in u1 u2; do
  aws kinesis put-record --stream-name clickstream --partition-key "${user}" \
    --data "{\"timestamp\":\"2026-12-07 10:00:20.000\",\"user_id\":\"${user}\",\"product_id\":\"p42\"}" > /dev/null
done
# A click of the next minute on each of the four shards closes the first minute's window
# (a few seconds later, as the next minute's clicks come: the shards are read independently).
sleep 3
for hash in 1 85070591730234615865843651857942052865 170141183460469231731687303715884105729 \
  255211775190703847597530955573826158593; do
  aws kinesis put-record --stream-name clickstream --partition-key next \
    --explicit-hash-key "${hash}" \
    --data '{"timestamp":"2026-12-07 10:01:30.000","user_id":"u9","product_id":"p9"}' > /dev/null
done
key=""
for _ in $(seq 1 60); do
  key="$(aws s3api list-objects-v2 --bucket clickstream-archive --prefix clicks/ \
    --query 'Contents[0].Key' --output text 2>/dev/null || true)"
  [[ -n "${key}" && "${key}" != "None" ]] && break
  sleep 0.5
done
if [[ -z "${key}" || "${key}" == "None" ]]; then
  echo "demo: the click did not reach S3; the emulator log:" >&2
  tail -n 40 "${dir}/emulator.log" >&2
  exit 1
fi
aws s3 cp "s3://clickstream-archive/${key}" "${dir}/click.gz" > /dev/null
echo "demo: Firehose delivered it to s3://clickstream-archive/${key} (GZIP); its content:"
gunzip -c "${dir}/click.gz"
echo
echo "demo: AnalyticsApplication/clicks-per-minute (Flink SQL, a 1-minute tumbling window) wrote to clicks-per-minute:"
shard="$(aws kinesis list-shards --stream-name clicks-per-minute --query 'Shards[0].ShardId' --output text)"
counted=""
for _ in $(seq 1 60); do
  iterator="$(aws kinesis get-shard-iterator --stream-name clicks-per-minute --shard-id "${shard}" \
    --shard-iterator-type TRIM_HORIZON --query ShardIterator --output text)"
  counted="$(aws kinesis get-records --shard-iterator "${iterator}" --query 'Records[].Data' --output text)"
  [[ -n "${counted}" && "${counted}" != "None" ]] && break
  sleep 1
done
if [[ -z "${counted}" || "${counted}" == "None" ]]; then
  echo "demo: no counts in clicks-per-minute; the application's status and the emulator log:" >&2
  kubectl get analyticsapplication clicks-per-minute -n demo -o jsonpath='{.status}' >&2 || true
  echo >&2
  tail -n 40 "${dir}/emulator.log" >&2
  exit 1
fi
for record in ${counted}; do
  echo "${record}" | base64 -d
  echo
done
echo
echo "demo: the policy StreamPolicy/clickstream-access rendered and attached:"
kubectl get streampolicy clickstream-access -n demo -o jsonpath='{.status.renderedDocument}' \
  | python3 -m json.tool
kubectl get streampolicy clickstream-access -n demo -o jsonpath='attached to: {.status.attachedRoles}{"\n"}'
cat <<MSG

The demo is running (control plane, emulator at ${endpoint}, operator running as the Helm
chart's ServiceAccount kinesis-system/kinesis-operator; logs in target/demo/).
Try:
  export KUBECONFIG=${KUBECONFIG}
  kubectl get kinesis -A -o wide
  kubectl patch kst my-stream -n demo --type merge -p '{"spec":{"shardCount":5}}'   # watch it scale 2 -> 4 -> 5
  kubectl get kst orders -n demo -o jsonpath='{.status.consumers}'   # enhanced fan-out consumers
  kubectl explain kinesisstream.spec
  curl -s http://127.0.0.1:${metrics_port}/metrics | grep kinesis_operator_   # the operator's metrics
  AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo aws --region us-west-2 --endpoint-url ${endpoint} kinesis list-streams
  kubectl get deliverystream clickstream-archive -n demo -o yaml   # status: versionId, destinationId
  kubectl get streampolicy clickstream-access -n demo -o jsonpath='{.status.renderedDocument}'
  kubectl get kaa clicks-per-minute -n demo -o yaml   # status: applicationStatus, applicationVersionId
  kubectl patch kaa clicks-per-minute -n demo --type merge -p '{"spec":{"desiredState":"Stopped"}}'   # stops with a snapshot
Stop everything with: make demo-down
MSG
