"""boto3 and the AWS CLI against the emulated S3: they read what the Rust SDK wrote, and what
they write reads back, answered as AWS answers them.

Run by tests/s3_conformance.rs (`cargo test --test s3_conformance boto3`), which writes the
bucket `from-rust` with aws-sdk-s3, then runs this file with pytest from target/python-venv
(tests/python/requirements.txt) and sets S3_ENDPOINT and AWS_CLI (the `aws` of
target/python-venv-awscli, tests/python/requirements-awscli.txt).

Requests are signed with access key AKIDTEST, the Rust test's, so both act for the same
account. Calls are not retried, so every error is seen as the emulator sends it.
"""

import hashlib
import io
import os
import subprocess

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

BUCKET = "from-rust"
MIB = 1024 * 1024
# What tests/s3_conformance.rs wrote into BUCKET.
GREETING = b"hello from the Rust SDK"
BIG = bytes(i % 251 for i in range(5 * MIB + 100))


def endpoint():
    url = os.environ.get("S3_ENDPOINT")
    if not url:
        pytest.fail("S3_ENDPOINT is not set: run through `cargo test --test s3_conformance`")
    return url


@pytest.fixture(scope="module")
def s3():
    session = boto3.session.Session(
        aws_access_key_id="AKIDTEST",
        aws_secret_access_key="secret",
        region_name="us-east-1",
    )
    return session.client(
        "s3",
        endpoint_url=endpoint(),
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def aws(*args, stdin=None):
    """Runs the AWS CLI against the emulator; its stdout."""
    cli = os.environ.get("AWS_CLI")
    if not cli:
        pytest.fail("AWS_CLI is not set: run through `cargo test --test s3_conformance`")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_ACCESS_KEY_ID": "AKIDTEST",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_MAX_ATTEMPTS": "1",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    done = subprocess.run(
        [cli, "--endpoint-url", endpoint(), *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, f"aws {' '.join(args)}: {done.stderr.decode()}"
    return done.stdout


def test_lists_what_the_rust_sdk_wrote(s3):
    listed = s3.list_objects_v2(Bucket=BUCKET)
    assert [o["Key"] for o in listed["Contents"]] == ["big.bin", "docs/a.txt", "docs/b.json"]
    assert listed["KeyCount"] == 3
    sizes = {o["Key"]: o["Size"] for o in listed["Contents"]}
    assert sizes["big.bin"] == len(BIG)
    grouped = s3.list_objects_v2(Bucket=BUCKET, Delimiter="/")
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["docs/"]
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, PaginationConfig={"PageSize": 1})
    assert [o["Key"] for page in pages for o in page.get("Contents", [])] == [
        "big.bin",
        "docs/a.txt",
        "docs/b.json",
    ]
    v1 = s3.list_objects(Bucket=BUCKET, Prefix="docs/")
    assert [o["Key"] for o in v1["Contents"]] == ["docs/a.txt", "docs/b.json"]
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert BUCKET in names


def test_reads_bytes_and_metadata_the_rust_sdk_wrote(s3):
    got = s3.get_object(Bucket=BUCKET, Key="docs/a.txt")
    assert got["Body"].read() == GREETING
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"writer": "rust"}
    assert got["ETag"] == '"%s"' % hashlib.md5(GREETING).hexdigest()
    big = s3.get_object(Bucket=BUCKET, Key="big.bin")
    assert big["Body"].read() == BIG
    assert big["ETag"].endswith('-2"')
    ranged = s3.get_object(Bucket=BUCKET, Key="big.bin", Range="bytes=10-19")
    assert ranged["Body"].read() == BIG[10:20]
    assert ranged["ContentRange"] == f"bytes 10-19/{len(BIG)}"


def test_boto3_uploads_read_back(s3):
    s3.put_object(Bucket=BUCKET, Key="py/put.txt", Body=b"from boto3", Metadata={"k": "v"})
    got = s3.get_object(Bucket=BUCKET, Key="py/put.txt", ChecksumMode="ENABLED")
    assert got["Body"].read() == b"from boto3"
    assert got["Metadata"] == {"k": "v"}
    assert "ChecksumCRC32" in got or "ChecksumCRC64NVME" in got
    data = bytes(i % 13 for i in range(6 * MIB))
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    s3.upload_fileobj(io.BytesIO(data), BUCKET, "py/multipart.bin", Config=config)
    head = s3.head_object(Bucket=BUCKET, Key="py/multipart.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].endswith('-2"')
    out = io.BytesIO()
    s3.download_fileobj(BUCKET, "py/multipart.bin", out)
    assert out.getvalue() == data
    s3.copy_object(Bucket=BUCKET, Key="py/copy.txt", CopySource={"Bucket": BUCKET, "Key": "py/put.txt"})
    assert s3.get_object(Bucket=BUCKET, Key="py/copy.txt")["Body"].read() == b"from boto3"
    deleted = s3.delete_objects(
        Bucket=BUCKET, Delete={"Objects": [{"Key": "py/put.txt"}, {"Key": "py/copy.txt"}]}
    )
    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["py/copy.txt", "py/put.txt"]


def test_errors_are_s3_errors(s3):
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=BUCKET, Key="missing")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="no-such-bucket-here")
    assert e.value.response["Error"]["Code"] == "NoSuchBucket"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=BUCKET, Key="missing")
    assert e.value.response["Error"]["Code"] == "404"


def test_the_aws_cli_lists_copies_and_reads(s3):
    listing = aws("s3", "ls", f"s3://{BUCKET}/docs/").decode()
    assert "a.txt" in listing and "b.json" in listing
    assert aws("s3", "cp", f"s3://{BUCKET}/docs/a.txt", "-") == GREETING
    aws("s3", "cp", "-", f"s3://{BUCKET}/cli/stdin.txt", stdin=b"piped through the CLI")
    assert s3.get_object(Bucket=BUCKET, Key="cli/stdin.txt")["Body"].read() == b"piped through the CLI"
    buckets = aws("s3", "ls").decode()
    assert BUCKET in buckets
    aws("s3", "rm", f"s3://{BUCKET}/cli/stdin.txt")
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="cli/")
