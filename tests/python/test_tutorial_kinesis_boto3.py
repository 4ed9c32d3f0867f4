"""The seed tutorial's Kinesis Data Streams calls, made with boto3, answered as AWS answers them.

Run by tests/tutorial_boto3.rs (`cargo test --test tutorial_boto3`), which installs the pinned
requirements.txt into target/python-venv, starts `kinesis-operator emulator` and sets
KINESIS_ENDPOINT. By hand, against an emulator already running:

    KINESIS_ENDPOINT=http://127.0.0.1:4566 target/python-venv/bin/python -m pytest tests/python

Requests are signed with access key 123456789012, which the emulator takes as the account ID,
so ARNs and messages name the tutorial's account; the region is the tutorial's us-west-2.
Calls are not retried, so every error is seen as the emulator sends it.
"""

import datetime
import hashlib
import json
import os

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
REGION = "us-west-2"
MAX_HASH_KEY = 2**128 - 1
MIB = 1024 * 1024
# Short waiter polls: the emulator's CREATING/UPDATING/DELETING last well under a second,
# while the waiters' defaults (10 s between DescribeStream calls) are tuned for AWS's ~30 s.
# Four polls a second stay below AWS's 10 DescribeStream calls per second, which the emulator
# enforces, and leave room for the tests' own DescribeStream calls.
WAIT = {"Delay": 0.25, "MaxAttempts": 120}


def arn(name):
    return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}"


@pytest.fixture(scope="module")
def kinesis():
    endpoint = os.environ.get("KINESIS_ENDPOINT")
    if not endpoint:
        pytest.fail("KINESIS_ENDPOINT is not set: run through `cargo test --test tutorial_boto3`")
    session = boto3.session.Session(
        aws_access_key_id=ACCOUNT,
        aws_secret_access_key="any-secret",
        region_name=REGION,
    )
    return session.client(
        "kinesis",
        endpoint_url=endpoint,
        config=Config(
            retries={"total_max_attempts": 1},
            connect_timeout=5,
            read_timeout=60,
        ),
    )


def exists(kinesis, name):
    try:
        kinesis.describe_stream_summary(StreamName=name)
        return True
    except ClientError as e:
        if e.response["Error"]["Code"] == "ResourceNotFoundException":
            return False
        raise


def fresh_stream(kinesis, name, shards):
    """Creates `name` with `shards` shards (deleting a stream of that name left by another
    test first) and waits until it is ACTIVE."""
    if exists(kinesis, name):
        kinesis.delete_stream(StreamName=name)
        kinesis.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig=WAIT)
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig=WAIT)


def shards_of(kinesis, name):
    """Every shard of the stream, following DescribeStream's pages."""
    description = kinesis.describe_stream(StreamName=name)["StreamDescription"]
    shards = list(description["Shards"])
    while description["HasMoreShards"]:
        description = kinesis.describe_stream(
            StreamName=name, ExclusiveStartShardId=shards[-1]["ShardId"]
        )["StreamDescription"]
        shards.extend(description["Shards"])
    return shards


def is_open(shard):
    return "EndingSequenceNumber" not in shard["SequenceNumberRange"]


def hash_range(shard):
    r = shard["HashKeyRange"]
    return int(r["StartingHashKey"]), int(r["EndingHashKey"])


def assert_open_shards_cover_the_key_space(shards, count):
    """The open shards are `count` contiguous, nearly equal hash-key ranges from 0 to 2^128-1."""
    ranges = sorted(hash_range(s) for s in shards if is_open(s))
    assert len(ranges) == count, ranges
    assert ranges[0][0] == 0
    assert ranges[-1][1] == MAX_HASH_KEY
    for (_, end), (start, _) in zip(ranges, ranges[1:]):
        assert start == end + 1, ranges
    sizes = [end - start + 1 for start, end in ranges]
    assert max(sizes) - min(sizes) <= 1 << 64, sizes
    assert abs(sizes[0] - (1 << 128) // count) <= 1 << 64, sizes


def md5_hash_key(partition_key):
    """The hash key Kinesis routes a record by: the MD5 of its partition key as an integer."""
    return int(hashlib.md5(partition_key.encode("utf-8")).hexdigest(), 16)


def shard_for(shards, partition_key):
    """The open shard whose hash-key range holds the partition key's MD5."""
    key = md5_hash_key(partition_key)
    matches = [
        s["ShardId"] for s in shards if is_open(s) and hash_range(s)[0] <= key <= hash_range(s)[1]
    ]
    assert len(matches) == 1, (partition_key, key, matches)
    return matches[0]


def read_shard(kinesis, name, shard_id, limit=10):
    iterator = kinesis.get_shard_iterator(
        StreamName=name, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return kinesis.get_records(ShardIterator=iterator, Limit=limit)


def client_error(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


# --- CreateStream, as the tutorial's Python ---------------------------------------------------


def test_create_stream_returns_no_description_and_the_arn_comes_from_describe_stream_summary(
    kinesis,
):
    if exists(kinesis, "my-stream"):
        kinesis.delete_stream(StreamName="my-stream")
        kinesis.get_waiter("stream_not_exists").wait(StreamName="my-stream", WaiterConfig=WAIT)

    response = kinesis.create_stream(
        StreamName="my-stream",
        ShardCount=2,
        StreamModeDetails={"StreamMode": "PROVISIONED"},
    )
    # AWS answers CreateStream with HTTP 200 and an empty body: the tutorial's
    # response['StreamDescription']['StreamARN'] raises KeyError against AWS too.
    assert "StreamDescription" not in response
    assert set(response) == {"ResponseMetadata"}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["ResponseMetadata"]["RequestId"]

    summary = kinesis.describe_stream_summary(StreamName="my-stream")["StreamDescriptionSummary"]
    assert summary["StreamARN"] == "arn:aws:kinesis:us-west-2:123456789012:stream/my-stream"
    assert summary["StreamName"] == "my-stream"
    # A new stream is CREATING until AWS has provisioned it (the test runs the emulator with
    # a create delay, so it should be seen here; ACTIVE is allowed for a 0 s delay).
    assert summary["StreamStatus"] in ("CREATING", "ACTIVE")
    assert isinstance(summary["StreamCreationTimestamp"], datetime.datetime)

    kinesis.get_waiter("stream_exists").wait(StreamName="my-stream", WaiterConfig=WAIT)

    summary = kinesis.describe_stream_summary(StreamName="my-stream")["StreamDescriptionSummary"]
    assert summary["StreamStatus"] == "ACTIVE"
    assert summary["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert summary["OpenShardCount"] == 2
    assert summary["RetentionPeriodHours"] == 24
    assert summary["EncryptionType"] == "NONE"

    description = kinesis.describe_stream(StreamName="my-stream")["StreamDescription"]
    assert description["StreamARN"] == arn("my-stream")
    assert description["StreamStatus"] == "ACTIVE"
    assert description["HasMoreShards"] is False
    assert description["RetentionPeriodHours"] == 24
    assert [s["ShardId"] for s in description["Shards"]] == [
        "shardId-000000000000",
        "shardId-000000000001",
    ]
    # Two shards split the 128-bit key space in halves.
    assert [s["HashKeyRange"] for s in description["Shards"]] == [
        {
            "StartingHashKey": "0",
            "EndingHashKey": "170141183460469231731687303715884105727",
        },
        {
            "StartingHashKey": "170141183460469231731687303715884105728",
            "EndingHashKey": "340282366920938463463374607431768211455",
        },
    ]
    for shard in description["Shards"]:
        assert is_open(shard)
        assert shard["SequenceNumberRange"]["StartingSequenceNumber"].isdigit()
        assert "ParentShardId" not in shard


def test_stream_exists_waiter_returns_once_the_stream_is_active(kinesis):
    name = "my-stream-waiter"
    if exists(kinesis, name):
        kinesis.delete_stream(StreamName=name)
        kinesis.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig=WAIT)
    kinesis.create_stream(
        StreamName=name, ShardCount=1, StreamModeDetails={"StreamMode": "PROVISIONED"}
    )
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig=WAIT)
    description = kinesis.describe_stream(StreamName=name)["StreamDescription"]
    assert description["StreamStatus"] == "ACTIVE"
    assert len(description["Shards"]) == 1


# --- The tutorial's AWS CLI lines, as the SDK calls they make ---------------------------------


def test_cli_create_update_shard_count_uniform_scaling_and_delete_of_mystream(kinesis):
    # aws kinesis create-stream --stream-name MyStream --shard-count 2
    response = kinesis.create_stream(StreamName="MyStream", ShardCount=2)
    assert set(response) == {"ResponseMetadata"}
    kinesis.get_waiter("stream_exists").wait(StreamName="MyStream", WaiterConfig=WAIT)
    summary = kinesis.describe_stream_summary(StreamName="MyStream")["StreamDescriptionSummary"]
    assert summary["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert summary["OpenShardCount"] == 2
    parents = {s["ShardId"]: hash_range(s) for s in shards_of(kinesis, "MyStream")}

    # aws kinesis update-shard-count --stream-name MyStream --target-shard-count 4
    #     --scaling-type UNIFORM_SCALING
    response = kinesis.update_shard_count(
        StreamName="MyStream", TargetShardCount=4, ScalingType="UNIFORM_SCALING"
    )
    assert response["StreamName"] == "MyStream"
    assert response["CurrentShardCount"] == 2
    assert response["TargetShardCount"] == 4
    assert response["StreamARN"] == arn("MyStream")
    status = kinesis.describe_stream_summary(StreamName="MyStream")["StreamDescriptionSummary"][
        "StreamStatus"
    ]
    assert status in ("UPDATING", "ACTIVE")
    kinesis.get_waiter("stream_exists").wait(StreamName="MyStream", WaiterConfig=WAIT)

    # Doubling splits each shard in two: the 2 parents are closed, 4 children are open.
    shards = shards_of(kinesis, "MyStream")
    assert len(shards) == 6, shards
    closed = [s for s in shards if not is_open(s)]
    opened = [s for s in shards if is_open(s)]
    assert sorted(s["ShardId"] for s in closed) == sorted(parents)
    assert len(opened) == 4
    for shard in closed:
        assert shard["SequenceNumberRange"]["EndingSequenceNumber"].isdigit()
        assert hash_range(shard) == parents[shard["ShardId"]]
    assert_open_shards_cover_the_key_space(shards, 4)
    for parent, (start, end) in parents.items():
        children = [s for s in opened if s.get("ParentShardId") == parent]
        assert len(children) == 2, (parent, opened)
        ranges = sorted(hash_range(c) for c in children)
        assert ranges[0][0] == start and ranges[1][1] == end
        assert all("AdjacentParentShardId" not in c for c in children)
    summary = kinesis.describe_stream_summary(StreamName="MyStream")["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 4
    assert summary["StreamStatus"] == "ACTIVE"

    # aws kinesis delete-stream --stream-name MyStream
    response = kinesis.delete_stream(StreamName="MyStream")
    assert set(response) == {"ResponseMetadata"}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    kinesis.get_waiter("stream_not_exists").wait(StreamName="MyStream", WaiterConfig=WAIT)
    with pytest.raises(ClientError) as excinfo:
        kinesis.describe_stream(StreamName="MyStream")
    assert client_error(excinfo) == (
        "ResourceNotFoundException",
        "Stream MyStream under account 123456789012 not found.",
        400,
    )


def test_update_shard_count_raises_the_3_shard_my_stream_to_5(kinesis):
    fresh_stream(kinesis, "my-stream", 3)
    assert_open_shards_cover_the_key_space(shards_of(kinesis, "my-stream"), 3)

    # More than double the open shards is a limit of UpdateShardCount (AWS API Reference,
    # UpdateShardCount: "Scale up to more than double your current shard count").
    with pytest.raises(ClientError) as excinfo:
        kinesis.update_shard_count(
            StreamName="my-stream", TargetShardCount=7, ScalingType="UNIFORM_SCALING"
        )
    code, message, status = client_error(excinfo)
    assert (code, status) == ("LimitExceededException", 400), message

    # Up to double the open shards is allowed: 5 <= 2 * 3.
    response = kinesis.update_shard_count(
        StreamName="my-stream", TargetShardCount=5, ScalingType="UNIFORM_SCALING"
    )
    assert response["StreamName"] == "my-stream"
    assert response["CurrentShardCount"] == 3
    assert response["TargetShardCount"] == 5
    assert response["StreamARN"] == arn("my-stream")
    kinesis.get_waiter("stream_exists").wait(StreamName="my-stream", WaiterConfig=WAIT)

    shards = shards_of(kinesis, "my-stream")
    assert_open_shards_cover_the_key_space(shards, 5)
    ids = {s["ShardId"] for s in shards}
    for shard in shards:
        if not is_open(shard):
            assert shard["SequenceNumberRange"]["EndingSequenceNumber"].isdigit()
        for parent in ("ParentShardId", "AdjacentParentShardId"):
            if parent in shard:
                assert shard[parent] in ids
    summary = kinesis.describe_stream_summary(StreamName="my-stream")["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 5


# --- Writes and reads ---------------------------------------------------------------------------


def test_put_record_routes_by_the_md5_of_the_partition_key_and_get_records_returns_the_bytes(
    kinesis,
):
    fresh_stream(kinesis, "my-data-stream", 4)
    shards = shards_of(kinesis, "my-data-stream")
    payload = {
        "user_id": "12345",
        "timestamp": "2024-01-15T10:30:00Z",
        "action": "purchase",
        "item_id": "67890",
        "amount": 49.99,
    }
    data = json.dumps(payload).encode("utf-8")

    response = kinesis.put_record(StreamName="my-data-stream", Data=data, PartitionKey="12345")
    assert response["ShardId"] == shard_for(shards, "12345")
    assert response["SequenceNumber"].isdigit()
    assert response.get("EncryptionType", "NONE") == "NONE"

    got = read_shard(kinesis, "my-data-stream", response["ShardId"])
    assert len(got["Records"]) == 1
    record = got["Records"][0]
    assert record["Data"] == data
    assert json.loads(record["Data"]) == payload
    assert record["PartitionKey"] == "12345"
    assert record["SequenceNumber"] == response["SequenceNumber"]
    assert isinstance(record["ApproximateArrivalTimestamp"], datetime.datetime)
    assert record["ApproximateArrivalTimestamp"].tzinfo is not None
    assert got["NextShardIterator"]
    assert isinstance(got["MillisBehindLatest"], int)

    for shard in shards:
        if shard["ShardId"] != response["ShardId"]:
            assert read_shard(kinesis, "my-data-stream", shard["ShardId"])["Records"] == []


def test_put_records_routes_each_record_and_get_records_returns_them_in_order(kinesis):
    name = "my-data-stream-batch"
    fresh_stream(kinesis, name, 4)
    shards = shards_of(kinesis, name)
    records = [
        {"Data": b'{"value": 1, "source": "sensor-a"}', "PartitionKey": "partitionkey123"},
        {"Data": b'{"value": 2, "source": "sensor-b"}', "PartitionKey": "partitionkey456"},
    ]

    response = kinesis.put_records(StreamName=name, Records=records)
    assert response["FailedRecordCount"] == 0
    assert len(response["Records"]) == 2
    for sent, result in zip(records, response["Records"]):
        assert "ErrorCode" not in result
        assert result["ShardId"] == shard_for(shards, sent["PartitionKey"])
        assert result["SequenceNumber"].isdigit()

    by_shard = {}
    for sent, result in zip(records, response["Records"]):
        by_shard.setdefault(result["ShardId"], []).append((sent, result["SequenceNumber"]))
    for shard_id, expected in by_shard.items():
        got = read_shard(kinesis, name, shard_id)["Records"]
        assert [(r["Data"], r["PartitionKey"], r["SequenceNumber"]) for r in got] == [
            (sent["Data"], sent["PartitionKey"], seq) for sent, seq in expected
        ]


def test_get_records_limit_10_returns_10_and_the_next_iterator_the_rest(kinesis):
    name = "my-data-stream-limit"
    fresh_stream(kinesis, name, 1)
    sent = []
    for i in range(12):
        data = json.dumps({"user_id": "12345", "seq": i}).encode("utf-8")
        r = kinesis.put_record(StreamName=name, Data=data, PartitionKey="12345")
        sent.append((data, r["SequenceNumber"]))
    assert [int(s) for _, s in sent] == sorted(int(s) for _, s in sent)

    first = read_shard(kinesis, name, "shardId-000000000000", limit=10)
    assert [(r["Data"], r["SequenceNumber"]) for r in first["Records"]] == sent[:10]
    rest = kinesis.get_records(ShardIterator=first["NextShardIterator"], Limit=10)
    assert [(r["Data"], r["SequenceNumber"]) for r in rest["Records"]] == sent[10:]
    assert rest["MillisBehindLatest"] == 0

    # A LATEST iterator starts after the last record: it sees only what is written next.
    latest = kinesis.get_shard_iterator(
        StreamName=name, ShardId="shardId-000000000000", ShardIteratorType="LATEST"
    )["ShardIterator"]
    assert kinesis.get_records(ShardIterator=latest, Limit=10)["Records"] == []
    data = json.dumps({"user_id": "12345", "seq": 12}).encode("utf-8")
    r = kinesis.put_record(StreamName=name, Data=data, PartitionKey="12345")
    got = kinesis.get_records(ShardIterator=latest, Limit=10)["Records"]
    assert [(g["Data"], g["SequenceNumber"]) for g in got] == [(data, r["SequenceNumber"])]


# --- Errors -------------------------------------------------------------------------------------


def test_describe_of_a_missing_stream_is_resource_not_found_naming_stream_and_account(kinesis):
    with pytest.raises(ClientError) as excinfo:
        kinesis.describe_stream(StreamName="nope")
    assert client_error(excinfo) == (
        "ResourceNotFoundException",
        "Stream nope under account 123456789012 not found.",
        400,
    )
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException) as excinfo:
        kinesis.describe_stream_summary(StreamName="nope")
    assert client_error(excinfo) == (
        "ResourceNotFoundException",
        "Stream nope under account 123456789012 not found.",
        400,
    )


def test_a_record_over_1_mib_is_refused_and_one_of_1_mib_is_taken(kinesis):
    name = "my-data-stream-sizes"
    fresh_stream(kinesis, name, 1)
    key = "12345"

    # Data plus partition key of exactly 1 MiB: the largest record a default stream takes.
    largest = os.urandom(MIB - len(key))
    taken = kinesis.put_record(StreamName=name, Data=largest, PartitionKey=key)

    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=name, Data=b"x" * (MIB + 1), PartitionKey=key)
    code, message, status = client_error(excinfo)
    assert status == 400
    # AWS has answered ValidationException ("... at 'data' failed to satisfy constraint:
    # Member must have length less than or equal to 1048576"); since records of up to 10 MiB
    # became configurable per stream (MaxRecordSizeInKiB, default 1024) the model no longer
    # carries the 1 MiB bound, so the code is not pinned beyond a client error.
    assert code in ("ValidationException", "InvalidArgumentException"), (code, message)

    got = read_shard(kinesis, name, "shardId-000000000000")["Records"]
    assert [(r["SequenceNumber"], r["Data"]) for r in got] == [
        (taken["SequenceNumber"], largest)
    ]


def test_a_257_character_partition_key_is_a_validation_exception(kinesis):
    name = "my-data-stream-keys"
    fresh_stream(kinesis, name, 1)
    key = "k" * 257

    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=name, Data=b"{}", PartitionKey=key)
    code, message, status = client_error(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("1 validation error detected: "), message
    assert (
        "at 'partitionKey' failed to satisfy constraint: "
        "Member must have length less than or equal to 256" in message
    ), message

    with pytest.raises(ClientError) as excinfo:
        kinesis.put_records(StreamName=name, Records=[{"Data": b"{}", "PartitionKey": key}])
    code, message, status = client_error(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert (
        "at 'records.1.member.partitionKey' failed to satisfy constraint: "
        "Member must have length less than or equal to 256" in message
    ), message

    # 256 characters is the longest key.
    kinesis.put_record(StreamName=name, Data=b"{}", PartitionKey="k" * 256)
