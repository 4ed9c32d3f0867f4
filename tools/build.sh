#!/usr/bin/env bash
# Builds the pinned local control plane binaries (etcd, kube-apiserver, kubectl, helm) from the
# Go module proxy into target/tools/bin. Idempotent: a binary whose version stamp matches is kept.
# Go's module and build caches stay in their default places in $HOME, so a fresh clone on a
# machine that has built these before only links them again.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${root}/target/tools/bin"
mkdir -p "${bin}"

K8S_VERSION="v1.34.2"
ETCD_VERSION="v3.6.5"
HELM_VERSION="v3.19.0"

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
    ;;
  *) echo "usage: tools/build.sh [all]" >&2; exit 2 ;;
esac
