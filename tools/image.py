#!/usr/bin/env python3
"""Writes kinesis-operator's container image as an OCI image layout, without a container
engine and without pulling a base image: one layer holding the static binary, a CA bundle
(Debian's ca-certificates, unpacked by `make tools`) and the passwd/group entries of the
non-root user 65532, plus the image config, manifest and index.

Reproducible: the same inputs give the same bytes and digests (entries sorted, owners and
modes fixed, every timestamp SOURCE_DATE_EPOCH, gzip without a name or time).

Also writes the layout as one tar (for `skopeo copy oci-archive:...`, `crane push`, or
`docker load` after conversion) and an SPDX 2.3 SBOM of the crates compiled into the binary
(from `cargo metadata`, i.e. Cargo.lock).

usage: tools/image.py --binary PATH --version V --ca-dir DIR --out DIR [--epoch SECONDS]
"""

import argparse
import datetime
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

UID = 65532
REPOSITORY = "ghcr.io/kinesis-operator/kinesis-operator"
SOURCE = "https://github.com/kinesis-operator/kinesis-operator"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_bytes(entries, epoch: int) -> bytes:
    """A tar of `entries` ((path, mode, uid, content or None for a directory)), sorted by
    path, every owner, mode and time fixed."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, mode, uid, content in sorted(entries, key=lambda e: e[0]):
            info = tarfile.TarInfo(path)
            info.mode = mode
            info.uid = info.gid = uid
            info.uname = info.gname = ""
            info.mtime = epoch
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def gzipped(data: bytes) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=6, mtime=0) as gz:
        gz.write(data)
    return out.getvalue()


def ca_bundle(ca_dir: str) -> bytes:
    """Debian's Mozilla CA certificates, concatenated in name order."""
    mozilla = os.path.join(ca_dir, "usr", "share", "ca-certificates", "mozilla")
    names = sorted(n for n in os.listdir(mozilla) if n.endswith(".crt"))
    if not names:
        sys.exit(f"image: no certificates under {mozilla}; run make tools")
    return b"".join(open(os.path.join(mozilla, n), "rb").read().rstrip(b"\n") + b"\n" for n in names)


def sbom(version: str, epoch: int, binary_digest: str) -> dict:
    """SPDX 2.3 document of the crates in the binary: the normal (not dev, not build)
    dependency graph of the kinesis-operator package on Linux, as Cargo.lock pins it."""
    meta = json.loads(
        subprocess.run(
            [
                "cargo", "metadata", "--format-version", "1", "--locked",
                "--filter-platform", "x86_64-unknown-linux-gnu",
            ],
            check=True, capture_output=True,
        ).stdout
    )
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    packages = {p["id"]: p for p in meta["packages"]}
    root = next(p["id"] for p in meta["packages"] if p["name"] == "kinesis-operator")
    seen, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        for dep in nodes[pid]["deps"]:
            if any(k["kind"] is None for k in dep["dep_kinds"]):
                todo.append(dep["pkg"])
    created = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    spdx_packages = []
    relationships = []

    def spdx_ref(pid: str) -> str:
        p = packages[pid]
        return f"SPDXRef-Package-{p['name']}-{p['version']}".replace("_", "-").replace("+", "-")

    for pid in sorted(seen, key=lambda i: (packages[i]["name"], packages[i]["version"])):
        p = packages[pid]
        ref = spdx_ref(pid)
        entry = {
            "SPDXID": ref,
            "name": p["name"],
            "versionInfo": p["version"],
            "downloadLocation": (
                f"https://crates.io/api/v1/crates/{p['name']}/{p['version']}/download"
                if (p.get("source") or "").startswith("registry+") else "NOASSERTION"
            ),
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": p.get("license") or "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": f"pkg:cargo/{p['name']}@{p['version']}",
            }],
        }
        if pid == root:
            entry["checksums"] = [{"algorithm": "SHA256", "checksumValue": binary_digest.split(":")[1]}]
            relationships.append({"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": ref})
        else:
            relationships.append({"spdxElementId": spdx_ref(root), "relationshipType": "DEPENDS_ON", "relatedSpdxElement": ref})
        spdx_packages.append(entry)
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"kinesis-operator-{version}",
        "documentNamespace": f"{SOURCE}/sbom/{version}/{binary_digest.split(':')[1]}",
        "creationInfo": {"created": created.strftime("%Y-%m-%dT%H:%M:%SZ"), "creators": ["Tool: tools/image.py"]},
        "packages": spdx_packages,
        "relationships": relationships,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--ca-dir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--epoch", type=int, default=int(os.environ.get("SOURCE_DATE_EPOCH", "0")))
    parser.add_argument("--no-sbom", action="store_true", help="skip the SBOM (no cargo needed)")
    args = parser.parse_args()
    epoch = args.epoch

    binary = open(args.binary, "rb").read()
    entries = [
        ("etc", 0o755, 0, None),
        ("etc/passwd", 0o644, 0, b"root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"),
        ("etc/group", 0o644, 0, b"root:x:0:\nnonroot:x:65532:\n"),
        ("etc/ssl", 0o755, 0, None),
        ("etc/ssl/certs", 0o755, 0, None),
        ("etc/ssl/certs/ca-certificates.crt", 0o644, 0, ca_bundle(args.ca_dir)),
        ("home", 0o755, 0, None),
        ("home/nonroot", 0o700, UID, None),
        ("tmp", 0o1777, 0, None),
        ("usr", 0o755, 0, None),
        ("usr/local", 0o755, 0, None),
        ("usr/local/bin", 0o755, 0, None),
        ("usr/local/bin/kinesis-operator", 0o755, 0, binary),
    ]
    layer = tar_bytes(entries, epoch)
    layer_gz = gzipped(layer)
    created = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    labels = {
        "org.opencontainers.image.title": "kinesis-operator",
        "org.opencontainers.image.description": "Kubernetes operator for Amazon Kinesis, with its AWS emulator",
        "org.opencontainers.image.version": args.version,
        "org.opencontainers.image.source": SOURCE,
        "org.opencontainers.image.licenses": "Apache-2.0",
        "org.opencontainers.image.created": created,
    }
    config = {
        "created": created,
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "User": f"{UID}:{UID}",
            "Entrypoint": ["/usr/local/bin/kinesis-operator"],
            "Cmd": ["run"],
            "Env": [
                "PATH=/usr/local/bin",
                "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
                "HOME=/home/nonroot",
            ],
            "WorkingDir": "/home/nonroot",
            "Labels": labels,
        },
        "rootfs": {"type": "layers", "diff_ids": [sha256(layer)]},
        "history": [{"created": created, "created_by": "tools/image.py: the static kinesis-operator binary, CA bundle, nonroot user"}],
    }
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(config_bytes), "size": len(config_bytes)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha256(layer_gz), "size": len(layer_gz)}],
        "annotations": labels,
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": sha256(manifest_bytes),
            "size": len(manifest_bytes),
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {"org.opencontainers.image.ref.name": args.version, "io.containerd.image.name": f"{REPOSITORY}:{args.version}"},
        }],
    }
    index_bytes = json.dumps(index, sort_keys=True, separators=(",", ":")).encode()
    layout = json.dumps({"imageLayoutVersion": "1.0.0"}).encode()

    blobs = {d: b for d, b in ((sha256(layer_gz), layer_gz), (sha256(config_bytes), config_bytes), (sha256(manifest_bytes), manifest_bytes))}
    oci = os.path.join(args.out, "oci")
    os.makedirs(os.path.join(oci, "blobs", "sha256"), exist_ok=True)
    keep = {d.split(":")[1] for d in blobs}
    for name in os.listdir(os.path.join(oci, "blobs", "sha256")):
        if name not in keep:
            os.remove(os.path.join(oci, "blobs", "sha256", name))
    for digest, data in blobs.items():
        open(os.path.join(oci, "blobs", "sha256", digest.split(":")[1]), "wb").write(data)
    open(os.path.join(oci, "index.json"), "wb").write(index_bytes)
    open(os.path.join(oci, "oci-layout"), "wb").write(layout)

    archive_entries = [("oci-layout", 0o644, 0, layout), ("index.json", 0o644, 0, index_bytes), ("blobs", 0o755, 0, None), ("blobs/sha256", 0o755, 0, None)]
    archive_entries += [(f"blobs/sha256/{d.split(':')[1]}", 0o644, 0, b) for d, b in blobs.items()]
    archive = os.path.join(args.out, f"kinesis-operator-{args.version}.oci.tar")
    open(archive, "wb").write(tar_bytes(archive_entries, epoch))

    if not args.no_sbom:
        doc = sbom(args.version, epoch, sha256(binary))
        open(os.path.join(args.out, f"kinesis-operator-{args.version}.spdx.json"), "w").write(json.dumps(doc, indent=1, sort_keys=True) + "\n")

    size = len(layer_gz) + len(config_bytes) + len(manifest_bytes)
    print(json.dumps({
        "reference": f"{REPOSITORY}:{args.version}",
        "manifest_digest": sha256(manifest_bytes),
        "compressed_size_bytes": size,
        "uncompressed_layer_bytes": len(layer),
        "layout": oci,
        "archive": archive,
    }, indent=1))


if __name__ == "__main__":
    main()
