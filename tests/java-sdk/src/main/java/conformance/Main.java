package conformance;

import java.math.BigInteger;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.ChildShard;
import software.amazon.awssdk.services.kinesis.model.DescribeLimitsResponse;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamResponse;
import software.amazon.awssdk.services.kinesis.model.EncryptionType;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.InvalidArgumentException;
import software.amazon.awssdk.services.kinesis.model.ListShardsResponse;
import software.amazon.awssdk.services.kinesis.model.ListStreamsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.ProvisionedThroughputExceededException;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResultEntry;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.ResourceInUseException;
import software.amazon.awssdk.services.kinesis.model.ResourceNotFoundException;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardFilterType;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kinesis.model.StreamDescription;
import software.amazon.awssdk.services.kinesis.model.StreamDescriptionSummary;
import software.amazon.awssdk.services.kinesis.model.StreamStatus;

/**
 * Runs a Kinesis scenario against an endpoint with the AWS SDK for Java v2 (sync and async) and
 * then v1, over CBOR (their default; JSON with {@code -Daws.cborEnabled=false} for v2 and
 * {@code -Dcom.amazonaws.sdk.disableCbor=true} for v1), and exits non-zero with a message at the
 * first mismatch.
 *
 * <p>Usage: {@code Main <endpoint> [all|v2|async|v1]}. Account 000000000000, region us-east-1.
 */
public final class Main {
    static final String CBOR = "application/x-amz-cbor-1.1";
    static final String JSON = "application/x-amz-json-1.1";
    /** The body type the v2 SDK uses: CBOR unless {@code -Daws.cborEnabled=false}. */
    static final String V2_TYPE = Boolean.parseBoolean(System.getProperty("aws.cborEnabled", "true")) ? CBOR : JSON;
    /** The body type the v1 SDK uses: CBOR unless {@code -Dcom.amazonaws.sdk.disableCbor}. */
    static final String V1_TYPE = System.getProperty("com.amazonaws.sdk.disableCbor") == null ? CBOR : JSON;
    static final String ACCOUNT = "000000000000";
    static final BigInteger MAX_HASH = BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE);

    private Main() {}

    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: conformance.Main <endpoint-url> [all|v2|async|v1]");
            System.exit(2);
        }
        String endpoint = args[0];
        String mode = args.length > 1 ? args[1] : "all";
        long start = System.nanoTime();
        try {
            if (mode.equals("all") || mode.equals("v2")) {
                new Main().v2(endpoint);
            }
            if (mode.equals("all") || mode.equals("async")) {
                Async.run(endpoint);
            }
            if (mode.equals("all") || mode.equals("v1")) {
                V1.run(endpoint);
            }
        } catch (Check.Mismatch e) {
            System.out.println("FAIL: " + e.getMessage());
            e.printStackTrace(System.out);
            System.exit(1);
        } catch (Throwable e) {
            System.out.println("FAIL: unexpected " + e);
            e.printStackTrace(System.out);
            System.exit(1);
        }
        System.out.printf("OK: %d checks passed in %d ms%n", Check.passed(),
            (System.nanoTime() - start) / 1_000_000);
        System.exit(0);
    }

    static final long T0 = System.nanoTime();

    static void step(String what) {
        System.out.printf("== %6d ms  %s%n", (System.nanoTime() - T0) / 1_000_000, what);
    }

    /** Counts requests and checks every one went out, and came back, as {@link #V2_TYPE}. */
    static final class CborOnly implements ExecutionInterceptor {
        final AtomicInteger exchanges = new AtomicInteger();

        /** The type of requests: the SDK always sends SubscribeToShard (an event stream) as JSON. */
        static String expected(ExecutionAttributes attributes) {
            String operation = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
            return "SubscribeToShard".equals(operation) ? JSON : V2_TYPE;
        }

        @Override
        public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
            String sent = context.httpRequest().firstMatchingHeader("Content-Type").orElse("<none>");
            Check.equal(expected(attributes), sent, "v2 request Content-Type");
        }

        @Override
        public void afterTransmission(Context.AfterTransmission context, ExecutionAttributes attributes) {
            if ("SubscribeToShard".equals(attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME))) {
                return; // application/vnd.amazon.eventstream
            }
            String got = context.httpResponse().firstMatchingHeader("Content-Type").orElse("<none>");
            Check.equal(expected(attributes), got, "v2 response Content-Type (HTTP " + context.httpResponse().statusCode() + ")");
            exchanges.incrementAndGet();
        }
    }

    /** The shard whose hash-key range holds the MD5 of the partition key (or the explicit hash key). */
    static String shardFor(List<Shard> shards, String partitionKey, String explicitHashKey) {
        BigInteger hash;
        if (explicitHashKey != null) {
            hash = new BigInteger(explicitHashKey);
        } else {
            try {
                hash = new BigInteger(1, MessageDigest.getInstance("MD5")
                    .digest(partitionKey.getBytes(StandardCharsets.UTF_8)));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
        for (Shard s : shards) {
            BigInteger lo = new BigInteger(s.hashKeyRange().startingHashKey());
            BigInteger hi = new BigInteger(s.hashKeyRange().endingHashKey());
            if (hash.compareTo(lo) >= 0 && hash.compareTo(hi) <= 0) {
                return s.shardId();
            }
        }
        throw new Check.Mismatch("no shard holds hash " + hash);
    }

    /** A record as written. */
    record Sent(String partitionKey, String explicitHashKey, byte[] data) {}

    /** The bytes 0, 1, ..., 255. */
    static byte[] allBytes() {
        byte[] b = new byte[256];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) i;
        }
        return b;
    }

    /** Record {@code i} of the PutRecords batch: binary, not UTF-8, of varied sizes. */
    static byte[] batchData(int i) {
        int size = switch (i) {
            case 0 -> 1;
            case 9 -> 70_000; // a 4-byte CBOR length
            default -> 20 + i * 37;
        };
        byte[] b = new byte[size];
        for (int j = 0; j < size; j++) {
            b[j] = (byte) (j * 31 + i * 7 + 0x80);
        }
        return b;
    }

    void v2(String endpoint) throws Exception {
        CborOnly cbor = new CborOnly();
        try (KinesisClient kinesis = KinesisClient.builder()
            .endpointOverride(URI.create(endpoint))
            .region(Region.US_EAST_1)
            .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDJAVASDKV2", "secret")))
            .httpClient(UrlConnectionHttpClient.builder()
                .connectionTimeout(Duration.ofSeconds(5))
                .socketTimeout(Duration.ofSeconds(20))
                .build())
            .overrideConfiguration(ClientOverrideConfiguration.builder()
                .retryStrategy(AwsRetryStrategy.doNotRetry())
                .apiCallTimeout(Duration.ofSeconds(30))
                .addExecutionInterceptor(cbor)
                .build())
            .build()) {
            run(kinesis);
        }
        Check.that(cbor.exchanges.get() > 0, "the v2 interceptor saw no exchange");
        System.out.println("v2: " + cbor.exchanges.get() + " " + V2_TYPE + " exchanges, " + throttled + " GetRecords throttled and retried");
    }

    void run(KinesisClient kinesis) throws Exception {
        String name = "java-sdk-v2";
        String arn = "arn:aws:kinesis:us-east-1:" + ACCOUNT + ":stream/" + name;

        step("v2 CreateStream " + name + " (2 shards), then DescribeStreamSummary until ACTIVE");
        kinesis.createStream(b -> b.streamName(name).shardCount(2));
        StreamDescriptionSummary summary = null;
        Instant deadline = Instant.now().plusSeconds(30);
        while (Instant.now().isBefore(deadline)) {
            summary = kinesis.describeStreamSummary(b -> b.streamName(name)).streamDescriptionSummary();
            if (summary.streamStatus() == StreamStatus.ACTIVE) {
                break;
            }
            Thread.sleep(50);
        }
        Check.equal(StreamStatus.ACTIVE, summary.streamStatus(), "DescribeStreamSummary StreamStatus after 30 s");
        Check.equal(name, summary.streamName(), "DescribeStreamSummary StreamName");
        Check.equal(arn, summary.streamARN(), "DescribeStreamSummary StreamARN");
        Check.equal(2, summary.openShardCount(), "DescribeStreamSummary OpenShardCount");
        Check.equal(24, summary.retentionPeriodHours(), "DescribeStreamSummary RetentionPeriodHours");
        Check.recent(summary.streamCreationTimestamp(), "DescribeStreamSummary StreamCreationTimestamp");

        step("v2 CreateStream again: ResourceInUseException");
        try {
            kinesis.createStream(b -> b.streamName(name).shardCount(1));
            throw new Check.Mismatch("a second CreateStream " + name + " succeeded");
        } catch (ResourceInUseException e) {
            Check.equal(400, e.statusCode(), "ResourceInUseException status");
            Check.equal("ResourceInUseException", e.awsErrorDetails().errorCode(), "ResourceInUseException code");
            Check.that(e.awsErrorDetails().errorMessage() != null
                && e.awsErrorDetails().errorMessage().contains(name),
                "ResourceInUseException message names the stream: " + e.awsErrorDetails().errorMessage());
        }

        step("v2 DescribeStream");
        DescribeStreamResponse described = kinesis.describeStream(b -> b.streamName(name));
        StreamDescription desc = described.streamDescription();
        Check.equal(name, desc.streamName(), "DescribeStream StreamName");
        Check.equal(arn, desc.streamARN(), "DescribeStream StreamARN");
        Check.equal(StreamStatus.ACTIVE, desc.streamStatus(), "DescribeStream StreamStatus");
        Check.equal(false, desc.hasMoreShards(), "DescribeStream HasMoreShards");
        Check.recent(desc.streamCreationTimestamp(), "DescribeStream StreamCreationTimestamp");
        Check.equal(summary.streamCreationTimestamp(), desc.streamCreationTimestamp(),
            "DescribeStream and DescribeStreamSummary StreamCreationTimestamp");
        List<Shard> shards = desc.shards();
        Check.equal(2, shards.size(), "DescribeStream shard count");
        Check.equal("shardId-000000000000", shards.get(0).shardId(), "first shard id");
        Check.equal("shardId-000000000001", shards.get(1).shardId(), "second shard id");
        BigInteger half = BigInteger.ONE.shiftLeft(127);
        Check.equal("0", shards.get(0).hashKeyRange().startingHashKey(), "shard 0 StartingHashKey");
        Check.equal(half.subtract(BigInteger.ONE).toString(), shards.get(0).hashKeyRange().endingHashKey(),
            "shard 0 EndingHashKey");
        Check.equal(half.toString(), shards.get(1).hashKeyRange().startingHashKey(), "shard 1 StartingHashKey");
        Check.equal(MAX_HASH.toString(), shards.get(1).hashKeyRange().endingHashKey(), "shard 1 EndingHashKey");
        for (Shard s : shards) {
            Check.that(s.parentShardId() == null, s.shardId() + " has no parent");
            Check.that(s.sequenceNumberRange() != null
                && s.sequenceNumberRange().startingSequenceNumber() != null
                && s.sequenceNumberRange().startingSequenceNumber().matches("\\d+"),
                s.shardId() + " StartingSequenceNumber is numeric: " + s.sequenceNumberRange());
            Check.that(s.sequenceNumberRange().endingSequenceNumber() == null, s.shardId() + " is open");
        }

        step("v2 DescribeLimits (no input: an empty CBOR map)");
        DescribeLimitsResponse limits = kinesis.describeLimits();
        Check.equal(2, limits.openShardCount(), "DescribeLimits OpenShardCount");
        Check.that(limits.shardLimit() != null && limits.shardLimit() >= 2, "DescribeLimits ShardLimit: " + limits.shardLimit());

        step("v2 ListStreams");
        ListStreamsResponse listed = kinesis.listStreams(b -> b.limit(10));
        Check.equal(List.of(name), listed.streamNames(), "ListStreams StreamNames");
        Check.equal(1, listed.streamSummaries().size(), "ListStreams StreamSummaries");
        Check.equal(arn, listed.streamSummaries().get(0).streamARN(), "ListStreams StreamARN");
        Check.equal(desc.streamCreationTimestamp(), listed.streamSummaries().get(0).streamCreationTimestamp(),
            "ListStreams StreamCreationTimestamp");

        step("v2 ListShards (plain, and with a FROM_TIMESTAMP filter: a CBOR timestamp in a nested structure)");
        ListShardsResponse listedShards = kinesis.listShards(b -> b.streamName(name));
        Check.equal(shards, listedShards.shards(), "ListShards shards (as DescribeStream's)");
        ListShardsResponse filtered = kinesis.listShards(b -> b.streamName(name)
            .shardFilter(f -> f.type(ShardFilterType.FROM_TIMESTAMP).timestamp(Instant.now().minusSeconds(3600))));
        Check.equal(shards, filtered.shards(), "ListShards FROM_TIMESTAMP an hour ago");
        ListShardsResponse atTimestamp = kinesis.listShards(b -> b.streamName(name)
            .shardFilter(f -> f.type(ShardFilterType.AT_TIMESTAMP).timestamp(Instant.now().plusSeconds(5))));
        Check.equal(shards, atTimestamp.shards(), "ListShards AT_TIMESTAMP now (both shards open)");

        // What was written, by sequence number.
        Map<String, Sent> written = new LinkedHashMap<>();
        Map<String, String> shardOf = new LinkedHashMap<>();
        Instant beforePuts = Instant.now();

        step("v2 PutRecord with the bytes 0..255");
        byte[] binary = allBytes();
        PutRecordResponse put = kinesis.putRecord(b -> b.streamName(name).partitionKey("binary-0-255")
            .data(SdkBytes.fromByteArray(binary)));
        Check.equal(shardFor(shards, "binary-0-255", null), put.shardId(), "PutRecord ShardId (MD5 of the key)");
        Check.equal(EncryptionType.NONE, put.encryptionType(), "PutRecord EncryptionType");
        Check.that(put.sequenceNumber() != null && put.sequenceNumber().matches("\\d{20,}"),
            "PutRecord SequenceNumber is numeric: " + put.sequenceNumber());
        written.put(put.sequenceNumber(), new Sent("binary-0-255", null, binary));
        shardOf.put(put.sequenceNumber(), put.shardId());

        step("v2 PutRecords with 10 records (one with an ExplicitHashKey, one of 70000 bytes)");
        List<Sent> batch = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            String key = i == 5 ? "ключ-\uD83D\uDD11-5" : "key-" + i; // UTF-8 text, MD5 over its bytes
            batch.add(new Sent(key, i == 3 ? MAX_HASH.toString() : null, batchData(i)));
        }
        List<PutRecordsRequestEntry> entries = new ArrayList<>();
        for (Sent s : batch) {
            entries.add(PutRecordsRequestEntry.builder().partitionKey(s.partitionKey())
                .explicitHashKey(s.explicitHashKey()).data(SdkBytes.fromByteArray(s.data())).build());
        }
        PutRecordsResponse puts = kinesis.putRecords(b -> b.streamName(name).records(entries));
        Check.equal(0, puts.failedRecordCount(), "PutRecords FailedRecordCount");
        Check.equal(10, puts.records().size(), "PutRecords Records");
        for (int i = 0; i < 10; i++) {
            PutRecordsResultEntry r = puts.records().get(i);
            Sent s = batch.get(i);
            Check.that(r.errorCode() == null, "PutRecords record " + i + " failed: " + r.errorCode() + " " + r.errorMessage());
            Check.equal(shardFor(shards, s.partitionKey(), s.explicitHashKey()), r.shardId(), "PutRecords record " + i + " ShardId");
            Check.that(r.sequenceNumber() != null && r.sequenceNumber().matches("\\d{20,}"),
                "PutRecords record " + i + " SequenceNumber is numeric: " + r.sequenceNumber());
            Check.that(!written.containsKey(r.sequenceNumber()), "sequence number " + r.sequenceNumber() + " is unique");
            written.put(r.sequenceNumber(), s);
            shardOf.put(r.sequenceNumber(), r.shardId());
        }
        Check.equal("shardId-000000000001", puts.records().get(3).shardId(), "ExplicitHashKey 2^128-1 lands on the last shard");

        step("v2 GetShardIterator TRIM_HORIZON and GetRecords on every shard");
        Map<String, List<Record>> readBack = new LinkedHashMap<>();
        for (Shard shard : shards) {
            String iterator = kinesis.getShardIterator(b -> b.streamName(name).shardId(shard.shardId())
                .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
            List<Record> records = readAll(kinesis, iterator, 4, shard.shardId() + " TRIM_HORIZON");
            readBack.put(shard.shardId(), records);
        }
        int total = 0;
        for (Map.Entry<String, List<Record>> e : readBack.entrySet()) {
            String shardId = e.getKey();
            List<String> expectedSeqs = new ArrayList<>();
            for (Map.Entry<String, String> w : shardOf.entrySet()) {
                if (w.getValue().equals(shardId)) {
                    expectedSeqs.add(w.getKey());
                }
            }
            expectedSeqs.sort((a, b) -> new BigInteger(a).compareTo(new BigInteger(b)));
            List<String> gotSeqs = new ArrayList<>();
            for (Record r : e.getValue()) {
                gotSeqs.add(r.sequenceNumber());
            }
            Check.equal(expectedSeqs, gotSeqs, "GetRecords " + shardId + " sequence numbers, in order");
            for (Record r : e.getValue()) {
                Sent s = written.get(r.sequenceNumber());
                Check.equal(s.partitionKey(), r.partitionKey(), "GetRecords " + r.sequenceNumber() + " PartitionKey");
                Check.bytes(s.data(), r.data().asByteArray(), "GetRecords " + r.sequenceNumber() + " Data");
                Check.recent(r.approximateArrivalTimestamp(), "GetRecords " + r.sequenceNumber() + " ApproximateArrivalTimestamp");
                Check.that(!r.approximateArrivalTimestamp().isBefore(beforePuts.minusSeconds(1)),
                    "ApproximateArrivalTimestamp " + r.approximateArrivalTimestamp() + " is not before the put (" + beforePuts + ")");
                total++;
            }
        }
        Check.equal(11, total, "records read back");

        step("v2 GetShardIterator AT_TIMESTAMP (a CBOR tag-1 timestamp in epoch milliseconds)");
        for (Shard shard : shards) {
            List<Record> all = readBack.get(shard.shardId());
            // An hour before the stream existed: everything.
            List<Record> early = readAt(kinesis, name, shard.shardId(), Instant.now().minusSeconds(3600));
            Check.equal(seqs(all), seqs(early), "AT_TIMESTAMP an hour ago on " + shard.shardId());
            // Now, after the last write: nothing.
            Thread.sleep(5);
            List<Record> now = readAt(kinesis, name, shard.shardId(), Instant.now());
            Check.equal(List.of(), seqs(now), "AT_TIMESTAMP now (after every write) on " + shard.shardId());
            if (all.isEmpty()) {
                continue;
            }
            // At the last record's arrival: the records that arrived at or after it.
            Instant at = all.get(all.size() - 1).approximateArrivalTimestamp();
            List<String> expected = new ArrayList<>();
            for (Record r : all) {
                if (!r.approximateArrivalTimestamp().isBefore(at)) {
                    expected.add(r.sequenceNumber());
                }
            }
            Check.equal(expected, seqs(readAt(kinesis, name, shard.shardId(), at)),
                "AT_TIMESTAMP " + at + " (the last arrival) on " + shard.shardId());
        }

        step("v2 GetShardIterator AT_TIMESTAMP in the future: InvalidArgumentException quoting the milliseconds sent");
        Instant future = Instant.now().plusSeconds(3600);
        try {
            kinesis.getShardIterator(b -> b.streamName(name).shardId("shardId-000000000000")
                .shardIteratorType(ShardIteratorType.AT_TIMESTAMP).timestamp(future));
            throw new Check.Mismatch("AT_TIMESTAMP an hour from now succeeded");
        } catch (InvalidArgumentException e) {
            String message = e.awsErrorDetails().errorMessage();
            Check.that(message != null && message.startsWith(
                "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: "
                    + future.toEpochMilli() + ", currentTimestampInMillis: "),
                "AT_TIMESTAMP in the future: message should quote timestampInMillis " + future.toEpochMilli() + ", got: " + message);
        }

        step("v2 GetShardIterator AT_TIMESTAMP without a Timestamp: InvalidArgumentException");
        try {
            kinesis.getShardIterator(b -> b.streamName(name).shardId("shardId-000000000000")
                .shardIteratorType(ShardIteratorType.AT_TIMESTAMP));
            throw new Check.Mismatch("AT_TIMESTAMP without a Timestamp succeeded");
        } catch (InvalidArgumentException e) {
            Check.equal("InvalidArgumentException", e.awsErrorDetails().errorCode(), "InvalidArgumentException code");
        }

        step("v2 DescribeStream of a missing stream: ResourceNotFoundException");
        try {
            kinesis.describeStream(b -> b.streamName("missing"));
            throw new Check.Mismatch("DescribeStream of a missing stream succeeded");
        } catch (ResourceNotFoundException e) {
            Check.equal(400, e.statusCode(), "ResourceNotFoundException HTTP status");
            Check.equal("ResourceNotFoundException", e.awsErrorDetails().errorCode(), "ResourceNotFoundException code");
            Check.equal("Stream missing under account " + ACCOUNT + " not found.", e.awsErrorDetails().errorMessage(),
                "ResourceNotFoundException message");
            Check.that(e.requestId() != null && !e.requestId().isEmpty(), "ResourceNotFoundException has a request ID");
        } catch (AwsServiceException e) {
            throw new Check.Mismatch("DescribeStream of a missing stream threw " + e.getClass().getName()
                + " (code " + e.awsErrorDetails().errorCode() + "), not ResourceNotFoundException: " + e.getMessage());
        }

        step("v2 PutRecord to a missing stream: ResourceNotFoundException");
        try {
            kinesis.putRecord(b -> b.streamName("missing").partitionKey("k").data(SdkBytes.fromByteArray(new byte[] {1})));
            throw new Check.Mismatch("PutRecord to a missing stream succeeded");
        } catch (ResourceNotFoundException e) {
            Check.equal("ResourceNotFoundException", e.awsErrorDetails().errorCode(), "PutRecord ResourceNotFoundException code");
        }

        step("v2 PutRecord of the largest record (1 MiB of data and key) and GetRecords of it");
        String bigKey = "big";
        byte[] big = new byte[(1 << 20) - bigKey.length()];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i ^ (i >>> 8) ^ (i >>> 16));
        }
        Thread.sleep(1100); // a fresh second of write and read throughput on the shard
        PutRecordResponse bigPut = kinesis.putRecord(b -> b.streamName(name).partitionKey(bigKey)
            .explicitHashKey("0").data(SdkBytes.fromByteArray(big)));
        Check.equal("shardId-000000000000", bigPut.shardId(), "1 MiB PutRecord ShardId");
        String bigIterator = kinesis.getShardIterator(b -> b.streamName(name).shardId("shardId-000000000000")
            .shardIteratorType(ShardIteratorType.AT_SEQUENCE_NUMBER).startingSequenceNumber(bigPut.sequenceNumber()))
            .shardIterator();
        List<Record> bigRead = kinesis.getRecords(b -> b.shardIterator(bigIterator).limit(1)).records();
        Check.equal(1, bigRead.size(), "GetRecords AT_SEQUENCE_NUMBER of the 1 MiB record");
        Check.equal(bigPut.sequenceNumber(), bigRead.get(0).sequenceNumber(), "1 MiB record SequenceNumber");
        Check.bytes(big, bigRead.get(0).data().asByteArray(), "1 MiB record Data");

        step("v2 PutRecord one byte over 1 MiB: rejected");
        try {
            byte[] tooBig = new byte[(1 << 20) - bigKey.length() + 1];
            kinesis.putRecord(b -> b.streamName(name).partitionKey(bigKey).data(SdkBytes.fromByteArray(tooBig)));
            throw new Check.Mismatch("a PutRecord of 1 MiB + 1 byte succeeded");
        } catch (AwsServiceException e) {
            Check.equal(400, e.statusCode(), "oversized PutRecord HTTP status (" + e.awsErrorDetails().errorCode() + ")");
            System.out.println("   " + e.awsErrorDetails().errorCode() + ": " + e.awsErrorDetails().errorMessage());
        }

        step("v2 SplitShard shard 0, then GetRecords reads the closed parent to its end and names its ChildShards");
        String lastOfShard0 = bigPut.sequenceNumber();
        BigInteger quarter = BigInteger.ONE.shiftLeft(126);
        kinesis.splitShard(b -> b.streamName(name).shardToSplit("shardId-000000000000")
            .newStartingHashKey(quarter.toString()));
        StreamStatus afterSplit = null;
        for (int i = 0; i < 600 && afterSplit != StreamStatus.ACTIVE; i++) {
            if (i > 0) {
                Thread.sleep(50);
            }
            afterSplit = kinesis.describeStreamSummary(b -> b.streamName(name)).streamDescriptionSummary().streamStatus();
        }
        Check.equal(StreamStatus.ACTIVE, afterSplit, "StreamStatus after SplitShard");
        List<Shard> afterShards = kinesis.listShards(b -> b.streamName(name)).shards();
        Check.equal(4, afterShards.size(), "ListShards after SplitShard");
        Shard parent = afterShards.get(0);
        Check.equal("shardId-000000000000", parent.shardId(), "the split shard is listed first");
        Check.that(parent.sequenceNumberRange().endingSequenceNumber() != null, "the split shard has an EndingSequenceNumber");
        Check.equal(List.of("shardId-000000000002", "shardId-000000000003"),
            List.of(afterShards.get(2).shardId(), afterShards.get(3).shardId()), "children of the split");
        for (Shard child : afterShards.subList(2, 4)) {
            Check.equal("shardId-000000000000", child.parentShardId(), child.shardId() + " ParentShardId");
        }
        Check.equal(quarter.subtract(BigInteger.ONE).toString(), afterShards.get(2).hashKeyRange().endingHashKey(),
            "first child EndingHashKey");
        Check.equal(quarter.toString(), afterShards.get(3).hashKeyRange().startingHashKey(), "second child StartingHashKey");
        String afterLast = kinesis.getShardIterator(b -> b.streamName(name).shardId("shardId-000000000000")
            .shardIteratorType(ShardIteratorType.AFTER_SEQUENCE_NUMBER).startingSequenceNumber(lastOfShard0)).shardIterator();
        GetRecordsResponse end = null;
        for (int call = 0; call < 10; call++) {
            String it = afterLast;
            try {
                end = kinesis.getRecords(b -> b.shardIterator(it));
            } catch (ProvisionedThroughputExceededException e) {
                throttled++;
                sleep(200);
                continue;
            }
            break;
        }
        Check.that(end != null, "GetRecords at the end of the closed shard was throttled 10 times");
        Check.equal(List.of(), end.records(), "GetRecords after the last record of the closed shard");
        Check.that(end.nextShardIterator() == null, "a closed shard read to its end has no NextShardIterator: " + end.nextShardIterator());
        Check.that(end.childShards() != null && end.childShards().size() == 2, "GetRecords ChildShards: " + end.childShards());
        for (int i = 0; i < 2; i++) {
            ChildShard child = end.childShards().get(i);
            Check.equal(afterShards.get(2 + i).shardId(), child.shardId(), "ChildShards[" + i + "] ShardId");
            Check.equal(List.of("shardId-000000000000"), child.parentShards(), "ChildShards[" + i + "] ParentShards");
            Check.equal(afterShards.get(2 + i).hashKeyRange(), child.hashKeyRange(), "ChildShards[" + i + "] HashKeyRange");
        }

        step("v2 DeleteStream");
        kinesis.deleteStream(b -> b.streamName(name));
    }

    /** GetRecords calls answered with ProvisionedThroughputExceededException (and retried). */
    static int throttled;

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static List<String> seqs(List<Record> records) {
        List<String> out = new ArrayList<>();
        for (Record r : records) {
            out.add(r.sequenceNumber());
        }
        return out;
    }

    static List<Record> readAt(KinesisClient kinesis, String stream, String shardId, Instant at) {
        String iterator = kinesis.getShardIterator(b -> b.streamName(stream).shardId(shardId)
            .shardIteratorType(ShardIteratorType.AT_TIMESTAMP).timestamp(at)).shardIterator();
        return readAll(kinesis, iterator, 10_000, shardId + " AT_TIMESTAMP " + at);
    }

    /** GetRecords until a page comes back empty and caught up. */
    static List<Record> readAll(KinesisClient kinesis, String iterator, int limit, String what) {
        Check.that(iterator != null && !iterator.isEmpty(), what + ": GetShardIterator gave no iterator");
        List<Record> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int call = 0; call < 40; call++) {
            String it = iterator;
            GetRecordsResponse page;
            try {
                page = kinesis.getRecords(b -> b.shardIterator(it).limit(limit));
            } catch (ProvisionedThroughputExceededException e) {
                // AWS allows 5 GetRecords calls per second per shard; back off as consumers do.
                Check.equal("ProvisionedThroughputExceededException", e.awsErrorDetails().errorCode(), "throttling code");
                throttled++;
                sleep(200);
                continue;
            }
            for (Record r : page.records()) {
                Check.that(seen.add(r.sequenceNumber()), what + ": record " + r.sequenceNumber() + " returned twice");
                out.add(r);
            }
            Check.that(page.millisBehindLatest() != null, what + ": GetRecords MillisBehindLatest is missing");
            Check.that(page.nextShardIterator() != null, what + ": an open shard has a NextShardIterator");
            if (page.records().isEmpty() && page.millisBehindLatest() == 0) {
                return out;
            }
            iterator = page.nextShardIterator();
        }
        throw new Check.Mismatch(what + ": GetRecords did not catch up in 40 calls");
    }
}
