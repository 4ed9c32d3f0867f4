#!/usr/bin/env bash
# Builds the pinned local control plane binaries (etcd, kube-apiserver, kubectl, helm) from the
# Go module proxy into target/tools/bin, and unpacks Debian's Prometheus package (prometheus and
# promtool, for tests/observability.rs) there. Idempotent: a binary whose version stamp matches
# is kept. Go's module and build caches stay in their default places in $HOME, and so does the
# Prometheus .deb (~/.cache/kinesis-operator), so a fresh clone on a machine that has built these
# before only links them again, offline.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${root}/target/tools/bin"
mkdir -p "${bin}"

K8S_VERSION="v1.34.2"
ETCD_VERSION="v3.6.5"
HELM_VERSION="v3.19.0"
# Debian bookworm's prometheus package, pinned by version and checksum.
PROMETHEUS_DEB_VERSION="2.42.0+ds-5+deb12u1"
PROMETHEUS_DEB_SHA256="81d59a24fce84f7fbe97a45a4f2914b6a5881b5cd1db2a6a0e129e515e1a5f55"

export CGO_ENABLED=0
export GOFLAGS="-buildvcs=false -mod=readonly"

# have NAME VERSION: true when bin/NAME exists and was built for VERSION.
have() {
  [[ -x "${bin}/$1" && -f "${bin}/$1.version" && "$(cat "${bin}/$1.version")" == "$2" ]]
}

# build NAME VERSION MODULE_DIR PACKAGE [LDFLAGS]
build() {
  local name="$1" version="$2" dir="$3" pkg="$4" ldflags="${5:-}"
  if have "${name}" "${version}"; then
    echo "tools: ${name} ${version} present"
    return
  fi
  echo "tools: building ${name} ${version} (cold: minutes; cached in Go's build cache afterwards)"
  local start=${SECONDS}
  (cd "${root}/tools/${dir}" && go build -trimpath -ldflags "-s -w ${ldflags}" -o "${bin}/${name}.tmp" "${pkg}")
  mv "${bin}/${name}.tmp" "${bin}/${name}"
  echo "${version}" > "${bin}/${name}.version"
  echo "tools: ${name} ${version} built in $((SECONDS - start))s"
}

# prometheus: Debian's package unpacked (dpkg -x, nothing installed system-wide) into
# target/tools/prometheus-<version>, prometheus and promtool linked into bin. The .deb is kept in
# ~/.cache/kinesis-operator (CI caches $HOME), fetched with apt-get download when it is not there.
prometheus() {
  local version="${PROMETHEUS_DEB_VERSION}"
  if have prometheus "${version}" && have promtool "${version}"; then
    echo "tools: prometheus ${version} present"
    return
  fi
  local cache="${XDG_CACHE_HOME:-${HOME}/.cache}/kinesis-operator"
  local deb="${cache}/prometheus_${version//:/%3a}_$(dpkg --print-architecture).deb"
  mkdir -p "${cache}"
  if ! echo "${PROMETHEUS_DEB_SHA256}  ${deb}" | sha256sum --check --status 2>/dev/null; then
    echo "tools: downloading Debian's prometheus ${version} into ${cache}"
    rm -f "${deb}"
    (cd "${cache}" && apt-get download "prometheus=${version}")
    echo "${PROMETHEUS_DEB_SHA256}  ${deb}" | sha256sum --check --status || {
      echo "tools: ${deb} does not have the pinned SHA-256 ${PROMETHEUS_DEB_SHA256}" >&2
      exit 1
    }
  fi
  local dir="${root}/target/tools/prometheus-${version}"
  rm -rf "${dir}.tmp" && mkdir -p "${dir}.tmp"
  dpkg-deb -x "${deb}" "${dir}.tmp"
  rm -rf "${dir}" && mv "${dir}.tmp" "${dir}"
  for name in prometheus promtool; do
    ln -sfn "../prometheus-${version}/usr/bin/${name}" "${bin}/${name}"
    "${bin}/${name}" --version > /dev/null
    echo "${version}" > "${bin}/${name}.version"
  done
  echo "tools: prometheus ${version} unpacked"
}

minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
k8s_ldflags="-X k8s.io/component-base/version.gitVersion=${K8S_VERSION}"
k8s_ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor}"
k8s_ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=${K8S_VERSION}"
k8s_ldflags+=" -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=${minor}"

case "${1:-all}" in
  all)
    build etcd "${ETCD_VERSION}" etcd .
    build kube-apiserver "${K8S_VERSION}" k8s k8s.io/kubernetes/cmd/kube-apiserver "${k8s_ldflags}"
    build kubectl "${K8S_VERSION}" k8s k8s.io/kubernetes/cmd/kubectl "${k8s_ldflags}"
    build helm "${HELM_VERSION}" helm helm.sh/helm/v3/cmd/helm \
      "-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}"
    prometheus
    ;;
  *) echo "usage: tools/build.sh [all]" >&2; exit 2 ;;
esac
