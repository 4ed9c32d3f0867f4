#!/usr/bin/env bash
# Builds the pinned local control plane binaries (etcd, kube-apiserver, kubectl, helm) from the
# Go module proxy into target/tools/bin, and unpacks Debian's packages of Prometheus (prometheus
# and promtool, for tests/observability.rs), umoci (reads OCI images, for make image) and
# ca-certificates (the image's CA bundle) there, and the Java runtime packages of the emulator's
# `-flink` image (OpenJDK 17 headless and the libraries it loads). Idempotent: a binary whose version stamp matches
# is kept. Go's module and build caches stay in their default places in $HOME, and so does the
# .debs (~/.cache/kinesis-operator), so a fresh clone on a machine that has built these
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
# umoci reads and unpacks OCI images (make image verifies the image with it); ca-certificates is
# the CA bundle the image carries.
UMOCI_DEB_VERSION="0.4.7+ds-3+b7"
UMOCI_DEB_SHA256="8adce0c435368b8514425bfa31647ff1629241c97331ba4cd3da838a61a58e5a"
CA_CERTIFICATES_DEB_VERSION="20250419~deb12u2"
CA_CERTIFICATES_DEB_SHA256="b9f76b5271a7ac373fd5e7e1b5b826a71ddd702b42a0d104955ecb1acfffc94b"
# The Java runtime of the emulator's `-flink` image (runs the Flink runner, make image): Debian's
# headless OpenJDK 17 and the shared libraries it loads (glibc, libgcc, libstdc++, zlib; and
# gcc-12-base, which holds libgcc's and libstdc++'s copyright), as NAME VERSION SHA256.
# Listed, unpacked, in target/tools/flink-image-packages.txt.
FLINK_IMAGE_DEBS=(
  "libc6 2.36-9+deb12u14 ba4f88f73dbc3ae9055f3c20f4523bfdbaf1ad13ff95e258924f77d20b4fbedf"
  "gcc-12-base 12.2.0-14+deb12u1 1896a2aacf4ad681ff5eacc24a5b0ca4d5d9c9b9c9e4b6de5197bc1e116ea619"
  "libgcc-s1 12.2.0-14+deb12u1 3016e62cb4b7cd8038822870601f5ed131befe942774d0f745622cc77d8a88f7"
  "libstdc++6 12.2.0-14+deb12u1 5cd3171216d4ab0fc911cfe9c35509bf2dd8f47761c43b7f6a4296701551a24d"
  "zlib1g 1:1.2.13.dfsg-1+deb12u1 ad9f1ea0537a32c9eaecc619563a9db596a5dee33afce8393b1083f22d301e1d"
  "openjdk-17-jre-headless 17.0.21.1+2-1~deb12u1 6bbc6940ce68e1faaefd6bb3495cfe018a96bde54e069697131b9b459b822293"
)

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

# debian NAME VERSION SHA256 [BINARY...]: Debian's package NAME unpacked (dpkg -x, nothing
# installed system-wide) into target/tools/NAME-VERSION, each BINARY of its /usr/bin linked into
# bin. The .deb is kept in ~/.cache/kinesis-operator (CI caches $HOME), fetched with apt-get
# download when it is not there, and checked against its pinned SHA-256.
debian() {
  local name="$1" version="$2" sha256="$3"
  shift 3
  local dir="${root}/target/tools/${name}-${version}"
  local present=1
  [[ -f "${dir}/.unpacked" ]] || present=0
  for b in "$@"; do have "${b}" "${version}" || present=0; done
  if [[ ${present} == 1 ]]; then
    echo "tools: ${name} ${version} present"
    return
  fi
  local cache="${XDG_CACHE_HOME:-${HOME}/.cache}/kinesis-operator"
  local arch
  arch="$(dpkg --print-architecture)"
  local deb
  mkdir -p "${cache}"
  deb="$(ls "${cache}/${name}_${version//:/%3a}_"{"${arch}",all}.deb 2>/dev/null | head -n 1 || true)"
  if [[ -z "${deb}" ]] || ! echo "${sha256}  ${deb}" | sha256sum --check --status 2>/dev/null; then
    echo "tools: downloading Debian's ${name} ${version} into ${cache}"
    [[ -n "${deb}" ]] && rm -f "${deb}"
    (cd "${cache}" && apt-get download "${name}=${version}")
    deb="$(ls "${cache}/${name}_${version//:/%3a}_"{"${arch}",all}.deb 2>/dev/null | head -n 1 || true)"
    echo "${sha256}  ${deb}" | sha256sum --check --status || {
      echo "tools: ${deb} does not have the pinned SHA-256 ${sha256}" >&2
      exit 1
    }
  fi
  rm -rf "${dir}.tmp" && mkdir -p "${dir}.tmp"
  dpkg-deb -x "${deb}" "${dir}.tmp"
  echo "${name} ${version}" > "${dir}.tmp/.package"
  touch "${dir}.tmp/.unpacked"
  rm -rf "${dir}" && mv "${dir}.tmp" "${dir}"
  for b in "$@"; do
    ln -sfn "../${name}-${version}/usr/bin/${b}" "${bin}/${b}"
    "${bin}/${b}" --version > /dev/null
    echo "${version}" > "${bin}/${b}.version"
  done
  echo "tools: ${name} ${version} unpacked"
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
    debian prometheus "${PROMETHEUS_DEB_VERSION}" "${PROMETHEUS_DEB_SHA256}" prometheus promtool
    debian umoci "${UMOCI_DEB_VERSION}" "${UMOCI_DEB_SHA256}" umoci
    debian ca-certificates "${CA_CERTIFICATES_DEB_VERSION}" "${CA_CERTIFICATES_DEB_SHA256}"
    list="${root}/target/tools/flink-image-packages.txt"
    : > "${list}.tmp"
    for entry in "${FLINK_IMAGE_DEBS[@]}"; do
      read -r name version sha256 <<< "${entry}"
      debian "${name}" "${version}" "${sha256}"
      echo "${root}/target/tools/${name}-${version}" >> "${list}.tmp"
    done
    mv "${list}.tmp" "${list}"
    ;;
  *) echo "usage: tools/build.sh [all]" >&2; exit 2 ;;
esac
