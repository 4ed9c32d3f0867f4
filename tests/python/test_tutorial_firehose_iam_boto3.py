"""The tutorial's Kinesis Data Firehose and IAM calls, made with boto3, answered as AWS answers
them: records put to Firehose (directly or through a Kinesis stream) are read back from the
emulated S3 with boto3, byte for byte, under AWS's key format; the tutorial's IAM policy comes
back as it was sent.

Run by tests/tutorial_boto3.rs (`cargo test --test tutorial_boto3`), which installs the pinned
requirements.txt into target/python-venv, starts `kinesis-operator emulator` with
`--firehose-flush-interval 1s` (so the tutorial's 60 s buffering interval does not slow the
run; the API still reports 60 s) and sets KINESIS_ENDPOINT. By hand, against an emulator
already running with that flag:

    KINESIS_ENDPOINT=http://127.0.0.1:4566 target/python-venv/bin/python -m pytest \\
        tests/python/test_tutorial_firehose_iam_boto3.py

Requests are signed with access key 123456789012, which the emulator takes as the account ID,
so ARNs name the tutorial's account; the region is the tutorial's us-west-2. Calls are not
retried, so every error is seen as the emulator sends it.
"""

import datetime
import json
import os
import re
import time
from collections import Counter

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

ACCOUNT = "123456789012"
REGION = "us-west-2"
# Kinesis waiter polls: below AWS's 10 DescribeStream calls per second, which the emulator
# enforces (see test_tutorial_kinesis_boto3.py).
WAIT = {"Delay": 0.25, "MaxAttempts": 120}
# How long a delivery may take: the emulator flushes after 1 s; the rest is slack for a busy
# machine.
DELIVERY_TIMEOUT = 30.0
# What the key after the prefix looks like: `YYYY/MM/DD/HH/<name>-<version>-` then the first
# record's arrival as `YYYY-MM-DD-HH-MM-SS` and a UUID, all in UTC.
KEY_SUFFIX = re.compile(
    r"(?P<path>\d{4}/\d{2}/\d{2}/\d{2})/(?P<name>.+)-(?P<version>\d+)-"
    r"(?P<time>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})-"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)

# The tutorial's DirectPut delivery stream.
DELIVERY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/firehose_delivery_role"
# The tutorial's KinesisStreamAsSource delivery stream.
SOURCE_STREAM_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/my-stream"
SOURCE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/my-firehose-role"
S3_ROLE = f"arn:aws:iam::{ACCOUNT}:role/my-s3-role"
# The tutorial's IAM policy: write and read one stream.
POLICY_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "kinesis:PutRecord",
                "kinesis:PutRecords",
                "kinesis:GetRecords",
                "kinesis:GetShardIterator",
                "kinesis:DescribeStream",
            ],
            "Resource": f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/MyStream",
        }
    ],
}


@pytest.fixture(scope="module")
def session():
    if not os.environ.get("KINESIS_ENDPOINT"):
        pytest.fail("KINESIS_ENDPOINT is not set: run through `cargo test --test tutorial_boto3`")
    return boto3.session.Session(
        aws_access_key_id=ACCOUNT,
        aws_secret_access_key="any-secret",
        region_name=REGION,
    )


def client(session, service):
    return session.client(
        service,
        endpoint_url=os.environ["KINESIS_ENDPOINT"],
        config=Config(
            retries={"total_max_attempts": 1},
            connect_timeout=5,
            read_timeout=60,
        ),
    )


@pytest.fixture(scope="module")
def firehose(session):
    return client(session, "firehose")


@pytest.fixture(scope="module")
def s3(session):
    return client(session, "s3")


@pytest.fixture(scope="module")
def kinesis(session):
    return client(session, "kinesis")


@pytest.fixture(scope="module")
def iam(session):
    return client(session, "iam")


def error_code(e):
    return e.response["Error"]["Code"]


def fresh_bucket(s3, name):
    """Creates the bucket `name` in the tutorial's region, emptying and deleting a bucket of
    that name left by an earlier run first."""
    try:
        s3.head_bucket(Bucket=name)
    except ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] != 404:
            raise
    else:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for o in page.get("Contents", []):
                s3.delete_object(Bucket=name, Key=o["Key"])
        s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})


def delete_delivery_stream_if_any(firehose, name):
    try:
        firehose.delete_delivery_stream(DeliveryStreamName=name)
    except ClientError as e:
        if error_code(e) != "ResourceNotFoundException":
            raise
        return
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            firehose.describe_delivery_stream(DeliveryStreamName=name)
        except ClientError as e:
            if error_code(e) == "ResourceNotFoundException":
                return
            raise
        time.sleep(0.1)
    pytest.fail(f"delivery stream {name} was not deleted within {DELIVERY_TIMEOUT} s")


def wait_active(firehose, name):
    """Waits until the delivery stream is ACTIVE (botocore has no Firehose waiter) and returns
    its description."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while True:
        description = firehose.describe_delivery_stream(DeliveryStreamName=name)[
            "DeliveryStreamDescription"
        ]
        status = description["DeliveryStreamStatus"]
        if status == "ACTIVE":
            return description
        assert status == "CREATING", description
        assert time.monotonic() < deadline, f"{name} still {status} after {DELIVERY_TIMEOUT} s"
        time.sleep(0.1)


def fresh_stream(kinesis, name, shards):
    """Creates the Kinesis stream `name` (deleting one of that name first) and waits until it
    is ACTIVE."""
    try:
        kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
        kinesis.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig=WAIT)
    except ClientError as e:
        if error_code(e) != "ResourceNotFoundException":
            raise
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig=WAIT)


def delivered(s3, bucket, prefix, size):
    """The objects under `prefix` as {key: body}, once they hold `size` bytes in all."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while True:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
        total = sum(o["Size"] for o in listed)
        if total >= size:
            return {
                o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
                for o in listed
            }
        assert time.monotonic() < deadline, (
            f"{total} of {size} bytes delivered to s3://{bucket}/{prefix} "
            f"after {DELIVERY_TIMEOUT} s: {[o['Key'] for o in listed]}"
        )
        time.sleep(0.2)


def assert_key_format(key, prefix, name, earliest, latest):
    """`key` is `<prefix>YYYY/MM/DD/HH/<name>-1-YYYY-MM-DD-HH-MM-SS-<uuid>`, its time between
    `earliest` and `latest` (UTC) and its path the same hour."""
    assert key.startswith(prefix), key
    m = KEY_SUFFIX.fullmatch(key[len(prefix) :])
    assert m, f"{key} is not <prefix>YYYY/MM/DD/HH/<name>-<version>-YYYY-MM-DD-HH-MM-SS-<uuid>"
    assert m["name"] == name, key
    assert m["version"] == "1", key
    at = datetime.datetime.strptime(m["time"], "%Y-%m-%d-%H-%M-%S").replace(
        tzinfo=datetime.timezone.utc
    )
    assert m["path"] == at.strftime("%Y/%m/%d/%H"), key
    assert earliest.replace(microsecond=0) <= at <= latest, (key, earliest, latest)


def json_records(body):
    """Splits a body into the JSON documents it holds back to back, as the bytes they were
    written with; fails on anything between them (a newline, a separator)."""
    text = body.decode("ascii")
    decoder = json.JSONDecoder()
    out = []
    at = 0
    while at < len(text):
        _, end = decoder.raw_decode(text, at)
        out.append(text[at:end].encode("ascii"))
        at = end
    return out


def test_s3_backup_mode_inside_s3_destination_configuration_is_refused_by_boto3(firehose):
    # The tutorial passes S3BackupMode inside S3DestinationConfiguration, a shape that has no
    # such member: boto3 refuses the call before anything is sent.
    with pytest.raises(ParamValidationError, match="S3BackupMode"):
        firehose.create_delivery_stream(
            DeliveryStreamName="my-delivery-stream",
            DeliveryStreamType="DirectPut",
            S3DestinationConfiguration={
                "RoleARN": DELIVERY_ROLE,
                "BucketARN": "arn:aws:s3:::my-bucket",
                "Prefix": "kinesis-data/",
                "CompressionFormat": "UNCOMPRESSED",
                "EncryptionConfiguration": {"NoEncryptionConfig": "NoEncryption"},
                "BufferingHints": {"SizeInMBs": 123, "IntervalInSeconds": 60},
                "S3BackupMode": "FailedDataOnly",
            },
        )


def test_direct_put_delivers_the_records_to_s3_byte_for_byte(firehose, s3):
    fresh_bucket(s3, "my-bucket")
    delete_delivery_stream_if_any(firehose, "my-delivery-stream")
    response = firehose.create_delivery_stream(
        DeliveryStreamName="my-delivery-stream",
        DeliveryStreamType="DirectPut",
        S3DestinationConfiguration={
            "RoleARN": DELIVERY_ROLE,
            "BucketARN": "arn:aws:s3:::my-bucket",
            "Prefix": "kinesis-data/",
            "CompressionFormat": "UNCOMPRESSED",
            "EncryptionConfiguration": {"NoEncryptionConfig": "NoEncryption"},
            "BufferingHints": {"SizeInMBs": 123, "IntervalInSeconds": 60},
        },
    )
    assert (
        response["DeliveryStreamARN"]
        == f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/my-delivery-stream"
    )
    description = wait_active(firehose, "my-delivery-stream")
    assert description["DeliveryStreamType"] == "DirectPut"
    destination = description["Destinations"][0]["S3DestinationDescription"]
    assert destination["RoleARN"] == DELIVERY_ROLE
    assert destination["BucketARN"] == "arn:aws:s3:::my-bucket"
    assert destination["Prefix"] == "kinesis-data/"
    assert destination["CompressionFormat"] == "UNCOMPRESSED"
    assert destination["EncryptionConfiguration"] == {"NoEncryptionConfig": "NoEncryption"}
    # The flag shortens the flush interval, not what the API reports.
    assert destination["BufferingHints"] == {"SizeInMBs": 123, "IntervalInSeconds": 60}

    records = [
        json.dumps({"ticker": ticker, "price": price}).encode("utf-8")
        for ticker, price in [("AMZN", 183.32), ("MSFT", 411.65), ("GOOG", 171.95)]
    ]
    earliest = datetime.datetime.now(datetime.timezone.utc)
    for data in records:
        response = firehose.put_record(
            DeliveryStreamName="my-delivery-stream", Record={"Data": data}
        )
        assert response["RecordId"]
        assert response["Encrypted"] is False
    latest = datetime.datetime.now(datetime.timezone.utc)

    expected = b"".join(records)
    objects = delivered(s3, "my-bucket", "kinesis-data/", len(expected))
    for key in objects:
        assert_key_format(key, "kinesis-data/", "my-delivery-stream", earliest, latest)
    # Normally one object; should the records' arrivals straddle a flush, each object holds a
    # run of them in order. Either way nothing is added (no newline), altered or repeated.
    bodies = sorted(objects.values(), key=expected.find)
    assert all(expected.find(body) >= 0 for body in bodies), objects
    assert b"".join(bodies) == expected
    for key, body in objects.items():
        assert s3.head_object(Bucket="my-bucket", Key=key)["ContentLength"] == len(body)


def test_kinesis_stream_as_source_delivers_what_was_put_after_its_creation(
    firehose, kinesis, s3
):
    delete_delivery_stream_if_any(firehose, "my-firehose-stream")
    fresh_stream(kinesis, "my-stream", 2)
    fresh_bucket(s3, "my-s3-bucket")
    before = json.dumps({"event": "put before the delivery stream existed"}).encode("utf-8")
    kinesis.put_record(StreamName="my-stream", Data=before, PartitionKey="before")

    response = firehose.create_delivery_stream(
        DeliveryStreamName="my-firehose-stream",
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={
            "KinesisStreamARN": SOURCE_STREAM_ARN,
            "RoleARN": SOURCE_ROLE,
        },
        ExtendedS3DestinationConfiguration={
            "RoleARN": S3_ROLE,
            "BucketARN": "arn:aws:s3:::my-s3-bucket",
            "Prefix": "kinesis-data/",
        },
    )
    assert (
        response["DeliveryStreamARN"]
        == f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/my-firehose-stream"
    )
    description = wait_active(firehose, "my-firehose-stream")
    assert description["DeliveryStreamType"] == "KinesisStreamAsSource"
    source = description["Source"]["KinesisStreamSourceDescription"]
    assert source["KinesisStreamARN"] == SOURCE_STREAM_ARN
    assert source["RoleARN"] == SOURCE_ROLE
    destination = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert destination["RoleARN"] == S3_ROLE
    assert destination["BucketARN"] == "arn:aws:s3:::my-s3-bucket"
    assert destination["Prefix"] == "kinesis-data/"

    # Partition keys that land on both shards: the stream's order holds within each one.
    shards = set()
    after = []
    earliest = datetime.datetime.now(datetime.timezone.utc)
    for i in range(8):
        key = f"user-{i % 4}"
        data = json.dumps({"event": "click", "user": key, "n": i}).encode("utf-8")
        response = kinesis.put_record(StreamName="my-stream", Data=data, PartitionKey=key)
        shards.add(response["ShardId"])
        after.append((key, data))
    assert len(shards) == 2, shards

    expected = sum(len(data) for _, data in after)
    objects = delivered(s3, "my-s3-bucket", "kinesis-data/", expected)
    latest = datetime.datetime.now(datetime.timezone.utc)
    for key in objects:
        assert_key_format(key, "kinesis-data/", "my-firehose-stream", earliest, latest)
    got = [record for body in objects.values() for record in json_records(body)]
    assert before not in got
    assert Counter(got) == Counter(data for _, data in after)
    for body in objects.values():
        by_key = {}
        for record in json_records(body):
            by_key.setdefault(json.loads(record)["user"], []).append(record)
        for key, records in by_key.items():
            sent = [data for k, data in after if k == key]
            assert records == [data for data in sent if data in records], key

    # Nothing more arrives later: the record put before creation is never delivered.
    time.sleep(1.5)
    listed = s3.list_objects_v2(Bucket="my-s3-bucket", Prefix="kinesis-data/")["Contents"]
    assert sum(o["Size"] for o in listed) == expected, listed


def test_the_tutorials_policy_is_created_read_back_and_attached_to_a_user(iam):
    name = "KinesisStreamReadWrite"
    policy_arn = f"arn:aws:iam::{ACCOUNT}:policy/{name}"
    user = "kinesis-app"
    for cleanup in (
        lambda: iam.detach_user_policy(UserName=user, PolicyArn=policy_arn),
        lambda: iam.delete_user(UserName=user),
        lambda: iam.delete_policy(PolicyArn=policy_arn),
    ):
        try:
            cleanup()
        except ClientError as e:
            if error_code(e) != "NoSuchEntity":
                raise

    policy = iam.create_policy(
        PolicyName=name,
        PolicyDocument=json.dumps(POLICY_DOCUMENT),
        Description="Write and read MyStream",
    )["Policy"]
    assert policy["PolicyName"] == name
    assert policy["Arn"] == policy_arn
    assert policy["DefaultVersionId"] == "v1"
    assert policy["AttachmentCount"] == 0

    version = iam.get_policy_version(PolicyArn=policy_arn, VersionId="v1")["PolicyVersion"]
    # AWS returns the document URL-encoded; boto3 decodes it into the dict that was sent.
    assert version["Document"] == POLICY_DOCUMENT
    assert version["VersionId"] == "v1"
    assert version["IsDefaultVersion"] is True

    iam.create_user(UserName=user)
    iam.attach_user_policy(UserName=user, PolicyArn=policy_arn)
    attached = iam.list_attached_user_policies(UserName=user)
    assert attached["AttachedPolicies"] == [{"PolicyName": name, "PolicyArn": policy_arn}]
    assert attached["IsTruncated"] is False
    assert iam.get_policy(PolicyArn=policy_arn)["Policy"]["AttachmentCount"] == 1

    # An attached policy cannot be deleted; detached, it can.
    with pytest.raises(ClientError) as refused:
        iam.delete_policy(PolicyArn=policy_arn)
    assert error_code(refused.value) == "DeleteConflict"
    iam.detach_user_policy(UserName=user, PolicyArn=policy_arn)
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == []
    iam.delete_user(UserName=user)
    iam.delete_policy(PolicyArn=policy_arn)
