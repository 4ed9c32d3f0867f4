package conformance;

import com.amazonaws.ClientConfiguration;
import com.amazonaws.Request;
import com.amazonaws.Response;
import com.amazonaws.auth.AWSStaticCredentialsProvider;
import com.amazonaws.auth.BasicAWSCredentials;
import com.amazonaws.client.builder.AwsClientBuilder.EndpointConfiguration;
import com.amazonaws.handlers.RequestHandler2;
import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.kinesis.AmazonKinesisClientBuilder;
import com.amazonaws.services.kinesis.model.CreateStreamRequest;
import com.amazonaws.services.kinesis.model.DescribeStreamRequest;
import com.amazonaws.services.kinesis.model.DescribeStreamSummaryRequest;
import com.amazonaws.services.kinesis.model.GetRecordsRequest;
import com.amazonaws.services.kinesis.model.GetRecordsResult;
import com.amazonaws.services.kinesis.model.GetShardIteratorRequest;
import com.amazonaws.services.kinesis.model.InvalidArgumentException;
import com.amazonaws.services.kinesis.model.PutRecordRequest;
import com.amazonaws.services.kinesis.model.PutRecordResult;
import com.amazonaws.services.kinesis.model.PutRecordsRequest;
import com.amazonaws.services.kinesis.model.PutRecordsRequestEntry;
import com.amazonaws.services.kinesis.model.PutRecordsResult;
import com.amazonaws.services.kinesis.model.Record;
import com.amazonaws.services.kinesis.model.ResourceNotFoundException;
import com.amazonaws.services.kinesis.model.StreamDescription;
import com.amazonaws.services.kinesis.model.StreamDescriptionSummary;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The same kind of scenario with the AWS SDK for Java v1 ({@code aws-java-sdk-kinesis}), the SDK
 * of KCL 1.x and of Flink's Kinesis source, over CBOR (its default) or JSON.
 */
final class V1 {
    private V1() {}

    /** Counts requests and checks every one went out, and came back, as {@link Main#V1_TYPE}. */
    static final class CborOnly extends RequestHandler2 {
        final AtomicInteger exchanges = new AtomicInteger();

        @Override
        public void beforeRequest(Request<?> request) {
            Check.equal(Main.V1_TYPE, request.getHeaders().get("Content-Type"), "v1 request Content-Type");
        }

        @Override
        public void afterResponse(Request<?> request, Response<?> response) {
            Check.equal(Main.V1_TYPE, response.getHttpResponse().getHeaders().get("Content-Type"), "v1 response Content-Type");
            exchanges.incrementAndGet();
        }
    }

    static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    static void run(String endpoint) throws Exception {
        System.setProperty("aws.java.v1.disableDeprecationAnnouncement", "true");
        CborOnly cbor = new CborOnly();
        AmazonKinesis kinesis = AmazonKinesisClientBuilder.standard()
            .withEndpointConfiguration(new EndpointConfiguration(endpoint, "us-east-1"))
            .withCredentials(new AWSStaticCredentialsProvider(new BasicAWSCredentials("AKIDJAVASDKV1", "secret")))
            .withClientConfiguration(new ClientConfiguration()
                .withMaxErrorRetry(0)
                .withConnectionTimeout(5_000)
                .withSocketTimeout(20_000))
            .withRequestHandlers(cbor)
            .build();
        try {
            run(kinesis);
        } finally {
            kinesis.shutdown();
        }
        Check.that(cbor.exchanges.get() > 0, "the v1 handler saw no exchange");
        System.out.println("v1: " + cbor.exchanges.get() + " " + Main.V1_TYPE + " exchanges");
    }

    static void run(AmazonKinesis kinesis) throws Exception {
        String name = "java-sdk-v1";
        String shardId = "shardId-000000000000";

        Main.step("v1 CreateStream " + name + " (1 shard), then DescribeStreamSummary until ACTIVE");
        kinesis.createStream(new CreateStreamRequest().withStreamName(name).withShardCount(1));
        StreamDescriptionSummary summary = null;
        Instant deadline = Instant.now().plusSeconds(30);
        while (Instant.now().isBefore(deadline)) {
            summary = kinesis.describeStreamSummary(new DescribeStreamSummaryRequest().withStreamName(name))
                .getStreamDescriptionSummary();
            if ("ACTIVE".equals(summary.getStreamStatus())) {
                break;
            }
            Thread.sleep(50);
        }
        Check.equal("ACTIVE", summary.getStreamStatus(), "v1 DescribeStreamSummary StreamStatus after 30 s");
        Check.recent(summary.getStreamCreationTimestamp().toInstant(), "v1 DescribeStreamSummary StreamCreationTimestamp");

        Main.step("v1 DescribeStream");
        StreamDescription desc = kinesis.describeStream(new DescribeStreamRequest().withStreamName(name)).getStreamDescription();
        Check.recent(desc.getStreamCreationTimestamp().toInstant(), "v1 DescribeStream StreamCreationTimestamp");
        Check.equal(1, desc.getShards().size(), "v1 DescribeStream shard count");
        Check.equal("0", desc.getShards().get(0).getHashKeyRange().getStartingHashKey(), "v1 StartingHashKey");
        Check.equal(Main.MAX_HASH.toString(), desc.getShards().get(0).getHashKeyRange().getEndingHashKey(), "v1 EndingHashKey");

        Main.step("v1 PutRecord with the bytes 0..255, PutRecords with 3 records");
        byte[] binary = Main.allBytes();
        PutRecordResult put = kinesis.putRecord(new PutRecordRequest().withStreamName(name)
            .withPartitionKey("binary-0-255").withData(ByteBuffer.wrap(binary)));
        Check.equal(shardId, put.getShardId(), "v1 PutRecord ShardId");
        List<byte[]> expected = new ArrayList<>();
        expected.add(binary);
        List<PutRecordsRequestEntry> entries = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            byte[] data = Main.batchData(i);
            expected.add(data);
            entries.add(new PutRecordsRequestEntry().withPartitionKey("key-" + i).withData(ByteBuffer.wrap(data)));
        }
        PutRecordsResult puts = kinesis.putRecords(new PutRecordsRequest().withStreamName(name).withRecords(entries));
        Check.equal(0, puts.getFailedRecordCount(), "v1 PutRecords FailedRecordCount");

        Main.step("v1 GetShardIterator TRIM_HORIZON and GetRecords");
        String iterator = kinesis.getShardIterator(new GetShardIteratorRequest().withStreamName(name)
            .withShardId(shardId).withShardIteratorType("TRIM_HORIZON")).getShardIterator();
        GetRecordsResult page = kinesis.getRecords(new GetRecordsRequest().withShardIterator(iterator));
        List<Record> records = page.getRecords();
        Check.equal(expected.size(), records.size(), "v1 GetRecords record count");
        Check.equal(put.getSequenceNumber(), records.get(0).getSequenceNumber(), "v1 first record SequenceNumber");
        for (int i = 0; i < records.size(); i++) {
            Record r = records.get(i);
            Check.bytes(expected.get(i), bytes(r.getData()), "v1 GetRecords record " + i + " Data");
            Check.recent(r.getApproximateArrivalTimestamp().toInstant(), "v1 GetRecords record " + i + " ApproximateArrivalTimestamp");
        }
        Check.equal(0L, page.getMillisBehindLatest(), "v1 GetRecords MillisBehindLatest");

        Main.step("v1 GetShardIterator AT_TIMESTAMP");
        if (Main.V1_TYPE.equals(Main.JSON)) {
            // SDK v1 without CBOR writes the Timestamp in milliseconds where JSON means seconds, and
            // AWS reads it 1000x too late (aws/aws-sdk-java#2588): so must the emulator.
            Date hourAgo = Date.from(Instant.now().minusSeconds(3600));
            try {
                kinesis.getShardIterator(new GetShardIteratorRequest().withStreamName(name).withShardId(shardId)
                    .withShardIteratorType("AT_TIMESTAMP").withTimestamp(hourAgo));
                throw new Check.Mismatch("v1 over JSON: AT_TIMESTAMP succeeded, but the SDK sends milliseconds as seconds");
            } catch (InvalidArgumentException e) {
                Check.that(e.getErrorMessage() != null && e.getErrorMessage().contains("timestampInMillis: " + hourAgo.getTime() * 1000 + ","),
                    "v1 over JSON: AT_TIMESTAMP should be read as timestampInMillis " + hourAgo.getTime() * 1000 + ", got: " + e.getErrorMessage());
            }
        } else {
            atTimestamp(kinesis, name, shardId, expected.size());
        }

        Main.step("v1 DescribeStream of a missing stream: ResourceNotFoundException");
        try {
            kinesis.describeStream(new DescribeStreamRequest().withStreamName("missing"));
            throw new Check.Mismatch("v1 DescribeStream of a missing stream succeeded");
        } catch (ResourceNotFoundException e) {
            Check.equal(400, e.getStatusCode(), "v1 ResourceNotFoundException HTTP status");
            Check.equal("ResourceNotFoundException", e.getErrorCode(), "v1 ResourceNotFoundException code");
            Check.equal("Stream missing under account " + Main.ACCOUNT + " not found.", e.getErrorMessage(),
                "v1 ResourceNotFoundException message");
            Check.that(e.getRequestId() != null && !e.getRequestId().isEmpty(), "v1 ResourceNotFoundException has a request ID");
        } catch (com.amazonaws.AmazonServiceException e) {
            throw new Check.Mismatch("v1 DescribeStream of a missing stream threw " + e.getClass().getName()
                + " (code " + e.getErrorCode() + "), not ResourceNotFoundException: " + e.getMessage());
        }
    }

    /** AT_TIMESTAMP an hour ago reads all {@code count} records; now, none; in an hour, an error. */
    static void atTimestamp(AmazonKinesis kinesis, String name, String shardId, int count) throws Exception {
        String early = kinesis.getShardIterator(new GetShardIteratorRequest().withStreamName(name).withShardId(shardId)
            .withShardIteratorType("AT_TIMESTAMP").withTimestamp(Date.from(Instant.now().minusSeconds(3600)))).getShardIterator();
        Check.equal(count, kinesis.getRecords(new GetRecordsRequest().withShardIterator(early)).getRecords().size(),
            "v1 AT_TIMESTAMP an hour ago: record count");
        Thread.sleep(5);
        String now = kinesis.getShardIterator(new GetShardIteratorRequest().withStreamName(name).withShardId(shardId)
            .withShardIteratorType("AT_TIMESTAMP").withTimestamp(new Date())).getShardIterator();
        Check.equal(0, kinesis.getRecords(new GetRecordsRequest().withShardIterator(now)).getRecords().size(),
            "v1 AT_TIMESTAMP now (after every write): record count");
        Date future = Date.from(Instant.now().plusSeconds(3600));
        try {
            kinesis.getShardIterator(new GetShardIteratorRequest().withStreamName(name).withShardId(shardId)
                .withShardIteratorType("AT_TIMESTAMP").withTimestamp(future));
            throw new Check.Mismatch("v1 AT_TIMESTAMP an hour from now succeeded");
        } catch (InvalidArgumentException e) {
            Check.that(e.getErrorMessage() != null && e.getErrorMessage().contains("timestampInMillis: " + future.getTime() + ","),
                "v1 AT_TIMESTAMP in the future: message should quote timestampInMillis " + future.getTime() + ", got: " + e.getErrorMessage());
        }
    }
}
