#!/usr/bin/env python3
"""Writes kinesis-operator's container images as one OCI image layout, without a container
engine and without pulling a base image.

- `VERSION`: one layer holding the static binary, a CA bundle (Debian's ca-certificates,
  unpacked by `make tools`) and the passwd/group entries of the non-root user 65532.
- `VERSION-flink` (with --flink-runner and --jre-packages): the emulator's image for clusters
  where AnalyticsApplications run: the same first layer, then Debian's headless OpenJDK 17 with
  the libraries it loads (glibc, libgcc, libstdc++, zlib; the packages `make tools` unpacks and
  lists), then the Flink runner jar. Its environment points the emulator at both (JAVA_HOME,
  KINESIS_OPERATOR_FLINK_RUNNER), so `kinesis-operator emulator` runs Flink applications with
  no flag.

Reproducible: the same inputs give the same bytes and digests (entries sorted, owners and
modes fixed, every timestamp SOURCE_DATE_EPOCH, gzip without a name or time).

Also writes each image as one tar (for `skopeo copy oci-archive:...`, `crane push`, or
`docker load` after conversion) and an SPDX 2.3 SBOM of what it holds: the crates compiled into
the binary (from `cargo metadata`, i.e. Cargo.lock), and for the -flink image also the Debian
packages and the Maven artifacts shaded into the runner jar.

usage: tools/image.py --binary PATH --version V --ca-dir DIR --out DIR [--epoch SECONDS]
                      [--flink-runner JAR --jre-packages LIST]
"""

import argparse
import datetime
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile

UID = 65532
REPOSITORY = "ghcr.io/kinesis-operator/kinesis-operator"
SOURCE = "https://github.com/kinesis-operator/kinesis-operator"
JAVA_HOME = "/usr/lib/jvm/java-17-openjdk-amd64"
FLINK_RUNNER = "/usr/local/share/kinesis-operator/flink-runner.jar"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Link(str):
    """The target of a symbolic link entry."""


def tar_bytes(entries, epoch: int) -> bytes:
    """A tar of `entries` ((path, mode, uid, content)), content being bytes, None for a
    directory or a Link, sorted by path, every owner, mode and time fixed."""
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
            elif isinstance(content, Link):
                info.type = tarfile.SYMTYPE
                info.linkname = str(content)
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


def sbom(version: str, epoch: int, binary_digest: str, others=()) -> dict:
    """SPDX 2.3 document of the crates in the binary: the normal (not dev, not build)
    dependency graph of the kinesis-operator package on Linux, as Cargo.lock pins it; plus
    `others` (SPDX package entries the image also holds: Debian packages, Maven artifacts)."""
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
    for entry in others:
        spdx_packages.append(entry)
        relationships.append({"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": entry["SPDXID"]})
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


def spdx_package(kind: str, name: str, version: str, purl: str, download: str) -> dict:
    """An SPDX package entry for something other than a crate."""
    ref = f"SPDXRef-{kind}-{name}-{version}"
    ref = "".join(c if c.isalnum() or c in ".-" else "-" for c in ref)
    return {
        "SPDXID": ref,
        "name": name,
        "versionInfo": version,
        "downloadLocation": download,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl}],
    }


# What of a Debian package the -flink image leaves out: documentation and manual pages (each
# package's copyright file stays, under usr/share/doc/NAME/copyright).
def debian_kept(rel: str) -> bool:
    if rel.startswith(("usr/share/man/", "usr/share/lintian/", "usr/share/bug/")):
        return False
    if rel.startswith("usr/share/doc/"):
        parts = rel.split("/")
        # usr/share/doc/NAME itself, and usr/share/doc/NAME/copyright
        return len(parts) == 4 or (len(parts) == 5 and parts[4] == "copyright")
    return True


def debian_layer(package_dirs):
    """Layer entries of the unpacked Debian packages (dpkg-deb -x trees), owned by root with
    their packaged modes, and an SPDX entry per package (from the `.package` file tools/build.sh
    writes beside each tree)."""
    entries = {}
    packages = []
    for root in package_dirs:
        name, version = open(os.path.join(root, ".package")).read().split()
        packages.append(spdx_package(
            "Debian", name, version,
            f"pkg:deb/debian/{name}@{version}?arch=amd64&distro=debian-12",
            "NOASSERTION",
        ))
        for here, dirs, files in os.walk(root):
            dirs.sort()
            for n in dirs + sorted(files):
                full = os.path.join(here, n)
                rel = os.path.relpath(full, root)
                if rel in (".package", ".unpacked") or not debian_kept(rel):
                    continue
                st = os.lstat(full)
                mode = st.st_mode & 0o7777
                if os.path.islink(full):
                    entries[rel] = (rel, 0o777, 0, Link(os.readlink(full)))
                elif os.path.isdir(full):
                    entries.setdefault(rel, (rel, mode, 0, None))
                else:
                    entries[rel] = (rel, mode, 0, open(full, "rb").read())
    # A directory only documentation was in is left out with it.
    kept_dirs = {os.path.dirname(e[0]) for e in entries.values() if e[3] is not None}
    closure = set()
    for d in kept_dirs:
        while d:
            closure.add(d)
            d = os.path.dirname(d)
    entries = {k: v for k, v in entries.items() if v[3] is not None or k in closure}
    return list(entries.values()), packages


def maven_artifacts(jar: str):
    """SPDX entries of the Maven artifacts shaded into `jar`: the runtime dependencies Maven
    resolved for it, which `make runner-flink` lists beside it (flink-runner.dependencies.txt,
    `mvn dependency:list`), and the runner itself."""
    listing = os.path.splitext(jar)[0] + ".dependencies.txt"
    if not os.path.isfile(listing):
        sys.exit(f"image: {listing} is missing; run make runner-flink")
    pom = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "runners", "flink", "pom.xml")).read()
    own = re.search(r"<groupId>([^<]+)</groupId>\s*<artifactId>(flink-runner)</artifactId>\s*<version>([^<]+)</version>", pom)
    found = {own.groups()} if own else set()
    for line in open(listing):
        coordinates = line.strip().split(" ")[0].split(":")
        if len(coordinates) in (5, 6) and coordinates[-1] in ("compile", "runtime"):
            found.add((coordinates[0], coordinates[1], coordinates[-2]))
    out = []
    for g, a, v in sorted(found):
        out.append(spdx_package(
            "Maven", f"{g}:{a}", v, f"pkg:maven/{g}/{a}@{v}",
            f"https://repo1.maven.org/maven2/{g.replace('.', '/')}/{a}/{v}/{a}-{v}.jar",
        ))
    return out


class Image:
    """One image of the layout: its layers (gzipped tars), config and manifest."""

    def __init__(self, tag, layers, env, history, labels, created):
        self.tag = tag
        self.layers = layers
        config = {
            "created": created,
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "User": f"{UID}:{UID}",
                "Entrypoint": ["/usr/local/bin/kinesis-operator"],
                "Cmd": ["run"],
                "Env": env,
                "WorkingDir": "/home/nonroot",
                "Labels": labels,
            },
            "rootfs": {"type": "layers", "diff_ids": [sha256(tar) for tar, _ in layers]},
            "history": [{"created": created, "created_by": h} for h in history],
        }
        self.config = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(self.config), "size": len(self.config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha256(gz), "size": len(gz)} for _, gz in layers],
            "annotations": labels,
        }
        self.manifest = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()

    def blobs(self):
        out = {sha256(gz): gz for _, gz in self.layers}
        out[sha256(self.config)] = self.config
        out[sha256(self.manifest)] = self.manifest
        return out

    def descriptor(self):
        return {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": sha256(self.manifest),
            "size": len(self.manifest),
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {"org.opencontainers.image.ref.name": self.tag, "io.containerd.image.name": f"{REPOSITORY}:{self.tag}"},
        }

    def size(self):
        return sum(len(gz) for _, gz in self.layers) + len(self.config) + len(self.manifest)


def index_bytes(images) -> bytes:
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [i.descriptor() for i in images],
    }
    return json.dumps(index, sort_keys=True, separators=(",", ":")).encode()


LAYOUT = json.dumps({"imageLayoutVersion": "1.0.0"}).encode()


def dynamic_loader(binary: bytes):
    """The program interpreter (dynamic loader) an ELF executable asks for, or None for a static
    one: the PT_INTERP program header, read from the 64-bit little-endian ELF header."""
    if binary[:4] != b"\x7fELF" or binary[4] != 2 or binary[5] != 1:
        sys.exit("image: --binary is not a 64-bit little-endian ELF executable")
    phoff = int.from_bytes(binary[0x20:0x28], "little")
    phentsize = int.from_bytes(binary[0x36:0x38], "little")
    phnum = int.from_bytes(binary[0x38:0x3A], "little")
    for i in range(phnum):
        header = binary[phoff + i * phentsize:phoff + (i + 1) * phentsize]
        if int.from_bytes(header[0:4], "little") == 3:  # PT_INTERP
            offset = int.from_bytes(header[8:16], "little")
            size = int.from_bytes(header[32:40], "little")
            return binary[offset:offset + size].rstrip(b"\0").decode()
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--ca-dir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--epoch", type=int, default=int(os.environ.get("SOURCE_DATE_EPOCH", "0")))
    parser.add_argument("--no-sbom", action="store_true", help="skip the SBOMs (no cargo needed)")
    parser.add_argument("--require-static", action="store_true", help="refuse a dynamically linked binary (the image has no C library to load it)")
    parser.add_argument("--flink-runner", help="the Flink runner jar: also write the VERSION-flink image")
    parser.add_argument("--jre-packages", help="file listing the unpacked Debian packages of the -flink image's Java runtime (make tools writes target/tools/flink-image-packages.txt)")
    args = parser.parse_args()
    if bool(args.flink_runner) != bool(args.jre_packages):
        sys.exit("image: --flink-runner and --jre-packages go together (the -flink image needs both)")
    epoch = args.epoch

    binary = open(args.binary, "rb").read()
    loader = dynamic_loader(binary)
    if args.require_static and loader:
        sys.exit(f"image: {args.binary} is dynamically linked (it asks for {loader}), but the image has no C library: "
                 "build the static binary with `make build` and pass `$(make -s print-release-bin)`")
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
    base = tar_bytes(entries, epoch)
    base_layer = (base, gzipped(base))
    created = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    labels = {
        "org.opencontainers.image.title": "kinesis-operator",
        "org.opencontainers.image.description": "Kubernetes operator for Amazon Kinesis, with its AWS emulator",
        "org.opencontainers.image.version": args.version,
        "org.opencontainers.image.source": SOURCE,
        "org.opencontainers.image.licenses": "Apache-2.0",
        "org.opencontainers.image.created": created,
    }
    env = [
        "PATH=/usr/local/bin",
        "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
        "HOME=/home/nonroot",
    ]
    base_history = "tools/image.py: the static kinesis-operator binary, CA bundle, nonroot user"
    images = [Image(args.version, [base_layer], env, [base_history], labels, created)]
    sboms = {args.version: ()}

    if args.flink_runner:
        dirs = [line.strip() for line in open(args.jre_packages) if line.strip()]
        jre_entries, debs = debian_layer(dirs)
        if not any(e[0] == f"{JAVA_HOME.lstrip('/')}/bin/java" for e in jre_entries):
            sys.exit(f"image: no {JAVA_HOME}/bin/java in the packages of {args.jre_packages}; run make tools")
        jre = tar_bytes(jre_entries, epoch)
        runner_path = FLINK_RUNNER.lstrip("/")
        runner_dirs = ["usr/local/share", "usr/local/share/kinesis-operator"]
        runner = tar_bytes(
            [(d, 0o755, 0, None) for d in runner_dirs]
            + [(runner_path, 0o644, 0, open(args.flink_runner, "rb").read())],
            epoch,
        )
        flink_labels = dict(labels)
        flink_labels["org.opencontainers.image.description"] = (
            "kinesis-operator with Java 17 and the Flink runner: the AWS emulator that runs Managed Flink applications"
        )
        flink_env = env[:1] + [f"JAVA_HOME={JAVA_HOME}", f"KINESIS_OPERATOR_FLINK_RUNNER={FLINK_RUNNER}"] + env[1:]
        tag = f"{args.version}-flink"
        images.append(Image(
            tag,
            [base_layer, (jre, gzipped(jre)), (runner, gzipped(runner))],
            flink_env,
            [base_history, "tools/image.py: Debian's openjdk-17-jre-headless and the libraries it loads", "tools/image.py: the Flink runner (runners/flink)"],
            flink_labels,
            created,
        ))
        sboms[tag] = debs + maven_artifacts(args.flink_runner)

    blobs = {}
    for image in images:
        blobs.update(image.blobs())
    oci = os.path.join(args.out, "oci")
    os.makedirs(os.path.join(oci, "blobs", "sha256"), exist_ok=True)
    keep = {d.split(":")[1] for d in blobs}
    for name in os.listdir(os.path.join(oci, "blobs", "sha256")):
        if name not in keep:
            os.remove(os.path.join(oci, "blobs", "sha256", name))
    for digest, data in blobs.items():
        open(os.path.join(oci, "blobs", "sha256", digest.split(":")[1]), "wb").write(data)
    open(os.path.join(oci, "index.json"), "wb").write(index_bytes(images))
    open(os.path.join(oci, "oci-layout"), "wb").write(LAYOUT)

    report = {}
    for image in images:
        # One archive per image: a layout holding that image alone.
        archive_entries = [("oci-layout", 0o644, 0, LAYOUT), ("index.json", 0o644, 0, index_bytes([image])), ("blobs", 0o755, 0, None), ("blobs/sha256", 0o755, 0, None)]
        archive_entries += [(f"blobs/sha256/{d.split(':')[1]}", 0o644, 0, b) for d, b in image.blobs().items()]
        archive = os.path.join(args.out, f"kinesis-operator-{image.tag}.oci.tar")
        open(archive, "wb").write(tar_bytes(archive_entries, epoch))
        if not args.no_sbom:
            doc = sbom(image.tag, epoch, sha256(binary), sboms[image.tag])
            open(os.path.join(args.out, f"kinesis-operator-{image.tag}.spdx.json"), "w").write(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        report[image.tag] = {
            "reference": f"{REPOSITORY}:{image.tag}",
            "manifest_digest": sha256(image.manifest),
            "compressed_size_bytes": image.size(),
            "uncompressed_layer_bytes": sum(len(tar) for tar, _ in image.layers),
            "archive": archive,
        }
    plain = report[args.version]
    print(json.dumps(dict(plain, layout=oci, images=report), indent=1))


if __name__ == "__main__":
    main()
