#!/usr/bin/env bash
# A local Kubernetes control plane: etcd + kube-apiserver on free loopback ports, with
# generated certificates and RBAC on. Used by `make cluster-up` / `make cluster-down`, the demo,
# the benchmarks and the Rust test support (tests/support/envtest.rs).
#
#   tools/cluster.sh up   [DIR] [--owner-pid PID] [--apiserver-arg ARG]...
#                                                   start; ready when it returns
#   tools/cluster.sh down [DIR]                     stop; leaves no process, port or file behind
#   tools/cluster.sh user DIR NAME [GROUP...]       write DIR/users/NAME.kubeconfig (client cert)
#
# DIR defaults to target/cluster. The admin kubeconfig is DIR/kubeconfig (user `admin`, group
# system:masters). With --owner-pid, a watchdog stops the control plane when that process
# exits, however it exits (the tests use this so that a killed test run leaks nothing). Each
# --apiserver-arg is passed on to kube-apiserver (e.g. --audit-policy-file=...).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${root}/target/tools/bin"

die() { echo "cluster: $*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# sign DIR NAME SUBJECT [SAN]: a P-256 key and a certificate signed by DIR/pki/ca.
sign() {
  local dir="$1" name="$2" subject="$3" san="${4:-}"
  local pki="${dir}/pki"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "${pki}/${name}.key" -out "${pki}/${name}.csr" -subj "${subject}" 2>/dev/null
  local ext="${pki}/${name}.ext"
  if [[ -n "${san}" ]]; then
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "${san}" > "${ext}"
  else
    printf 'extendedKeyUsage=clientAuth\n' > "${ext}"
  fi
  openssl x509 -req -in "${pki}/${name}.csr" -CA "${pki}/ca.crt" -CAkey "${pki}/ca.key" \
    -CAcreateserial -days 365 -extfile "${ext}" -out "${pki}/${name}.crt" 2>/dev/null
  rm -f "${pki}/${name}.csr" "${ext}"
}

# kubeconfig SERVER CA CERT KEY USER OUT
kubeconfig() {
  local server="$1" ca="$2" cert="$3" key="$4" user="$5" out="$6"
  cat > "${out}" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: ${server}
    certificate-authority-data: $(base64 -w0 < "${ca}")
users:
- name: ${user}
  user:
    client-certificate-data: $(base64 -w0 < "${cert}")
    client-key-data: $(base64 -w0 < "${key}")
contexts:
- name: local
  context:
    cluster: local
    user: ${user}
    namespace: default
current-context: local
EOF
}

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop PIDFILE: SIGTERM, wait up to 40 s (kube-apiserver's graceful shutdown can take 30 s),
# then SIGKILL.
stop() {
  local pidfile="$1"
  pid_alive "${pidfile}" || { rm -f "${pidfile}"; return 0; }
  local pid; pid="$(cat "${pidfile}")"
  kill -TERM "${pid}" 2>/dev/null || true
  for _ in $(seq 1 400); do
    kill -0 "${pid}" 2>/dev/null || { rm -f "${pidfile}"; return 0; }
    sleep 0.1
  done
  kill -KILL "${pid}" 2>/dev/null || true
  while kill -0 "${pid}" 2>/dev/null; do sleep 0.1; done
  rm -f "${pidfile}"
}

down() {
  local dir="$1"
  [[ -d "${dir}" ]] || return 0
  stop "${dir}/watchdog.pid"
  stop "${dir}/kube-apiserver.pid"
  stop "${dir}/etcd.pid"
  rm -rf "${dir}"
}

up() {
  local dir="$1" owner="$2"; shift 2
  local extra=("$@") attempt="${UP_ATTEMPT:-1}"
  for tool in etcd kube-apiserver; do
    [[ -x "${bin}/${tool}" ]] || die "${bin}/${tool} is missing: run 'make tools' first"
  done
  if pid_alive "${dir}/kube-apiserver.pid"; then
    echo "cluster: already running (kubeconfig ${dir}/kubeconfig)"
    return 0
  fi
  down "${dir}"
  mkdir -p "${dir}/pki" "${dir}/etcd" "${dir}/logs" "${dir}/users"
  local pki="${dir}/pki"

  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
    -keyout "${pki}/ca.key" -out "${pki}/ca.crt" -subj "/CN=kinesis-operator-local-ca" 2>/dev/null
  sign "${dir}" serving "/CN=kube-apiserver" "IP:127.0.0.1,DNS:localhost"
  sign "${dir}" admin "/O=system:masters/CN=admin"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "${pki}/sa.key" 2>/dev/null
  openssl pkey -in "${pki}/sa.key" -pubout -out "${pki}/sa.pub" 2>/dev/null

  local etcd_port peer_port api_port
  etcd_port="$(free_port)"; peer_port="$(free_port)"; api_port="$(free_port)"

  setsid "${bin}/etcd" --name local --data-dir "${dir}/etcd" \
    --listen-client-urls "http://127.0.0.1:${etcd_port}" \
    --advertise-client-urls "http://127.0.0.1:${etcd_port}" \
    --listen-peer-urls "http://127.0.0.1:${peer_port}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${peer_port}" \
    --initial-cluster "local=http://127.0.0.1:${peer_port}" \
    --unsafe-no-fsync --log-level warn \
    > "${dir}/logs/etcd.log" 2>&1 < /dev/null &
  echo $! > "${dir}/etcd.pid"

  setsid "${bin}/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:${etcd_port}" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "${api_port}" \
    --tls-cert-file "${pki}/serving.crt" --tls-private-key-file "${pki}/serving.key" \
    --client-ca-file "${pki}/ca.crt" \
    --authorization-mode RBAC \
    --service-cluster-ip-range 10.0.0.0/24 \
    --service-account-issuer "https://127.0.0.1:${api_port}" \
    --service-account-key-file "${pki}/sa.pub" \
    --service-account-signing-key-file "${pki}/sa.key" \
    --api-audiences "https://127.0.0.1:${api_port}" \
    --disable-admission-plugins ServiceAccount \
    --allow-privileged=true \
    --cert-dir "${dir}/pki" \
    ${extra[@]+"${extra[@]}"} \
    > "${dir}/logs/kube-apiserver.log" 2>&1 < /dev/null &
  echo $! > "${dir}/kube-apiserver.pid"

  local server="https://127.0.0.1:${api_port}"
  echo "${server}" > "${dir}/server"
  kubeconfig "${server}" "${pki}/ca.crt" "${pki}/admin.crt" "${pki}/admin.key" admin "${dir}/kubeconfig"

  if [[ -n "${owner}" ]]; then
    # The watchdog outlives this script and stops the control plane when the owner exits.
    setsid bash -c '
      owner="$1"; dir="$2"
      while kill -0 "${owner}" 2>/dev/null; do sleep 1; done
      for p in kube-apiserver etcd; do
        [[ -f "${dir}/${p}.pid" ]] && kill -KILL "$(cat "${dir}/${p}.pid")" 2>/dev/null
      done
      rm -rf "${dir}"
    ' watchdog "${owner}" "${dir}" > /dev/null 2>&1 < /dev/null &
    echo $! > "${dir}/watchdog.pid"
  fi

  local deadline=$((SECONDS + 90))
  until curl -fsS --max-time 2 --cacert "${pki}/ca.crt" --cert "${pki}/admin.crt" \
      --key "${pki}/admin.key" "${server}/readyz" > /dev/null 2>&1; do
    if ! pid_alive "${dir}/kube-apiserver.pid" || ! pid_alive "${dir}/etcd.pid"; then
      # A port found free a moment ago can be taken before etcd or kube-apiserver binds it
      # (by any process's outgoing connection): start again on other ports, twice at most.
      if (( attempt < 3 )) && grep -qs "address already in use" "${dir}/logs/etcd.log" "${dir}/logs/kube-apiserver.log"; then
        echo "cluster: a port was taken during start-up; starting again on other ports" >&2
        down "${dir}"
        UP_ATTEMPT=$((attempt + 1)) up "${dir}" "${owner}" ${extra[@]+"${extra[@]}"}
        return
      fi
      tail -n 30 "${dir}/logs/etcd.log" "${dir}/logs/kube-apiserver.log" >&2 || true
      down "${dir}"
      die "the control plane exited during start-up (logs above)"
    fi
    if (( SECONDS > deadline )); then
      tail -n 30 "${dir}/logs/kube-apiserver.log" >&2 || true
      down "${dir}"
      die "kube-apiserver was not ready within 90 s (log above)"
    fi
    sleep 0.2
  done
  echo "cluster: ready at ${server}; kubeconfig ${dir}/kubeconfig"
}

user() {
  local dir="$1" name="$2"; shift 2
  [[ -f "${dir}/pki/ca.key" ]] || die "no control plane in ${dir}: run 'tools/cluster.sh up ${dir}' first"
  local subject=""
  for group in "$@"; do subject+="/O=${group}"; done
  subject+="/CN=${name}"
  local safe="user-${name//[^a-zA-Z0-9_.-]/_}"
  sign "${dir}" "${safe}" "${subject}"
  kubeconfig "$(cat "${dir}/server")" "${dir}/pki/ca.crt" "${dir}/pki/${safe}.crt" \
    "${dir}/pki/${safe}.key" "${name}" "${dir}/users/${name//[^a-zA-Z0-9_.-]/_}.kubeconfig"
  echo "${dir}/users/${name//[^a-zA-Z0-9_.-]/_}.kubeconfig"
}

cmd="${1:-}"; shift || true
case "${cmd}" in
  up)
    dir="${root}/target/cluster"; owner=""; extra=()
    while (( $# )); do
      case "$1" in
        --owner-pid) owner="$2"; shift 2 ;;
        --apiserver-arg) extra+=("$2"); shift 2 ;;
        *) dir="$1"; shift ;;
      esac
    done
    up "${dir}" "${owner}" ${extra[@]+"${extra[@]}"}
    ;;
  down) down "${1:-${root}/target/cluster}" ;;
  user) (( $# >= 2 )) || die "usage: tools/cluster.sh user DIR NAME [GROUP...]"; user "$@" ;;
  *) die "usage: tools/cluster.sh up [DIR] [--owner-pid PID] [--apiserver-arg ARG]... | down [DIR] | user DIR NAME [GROUP...]" ;;
esac
