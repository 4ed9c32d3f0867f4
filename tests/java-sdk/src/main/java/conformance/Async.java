package conformance;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.model.Consumer;
import software.amazon.awssdk.services.kinesis.model.ConsumerDescription;
import software.amazon.awssdk.services.kinesis.model.ConsumerStatus;
import software.amazon.awssdk.services.kinesis.model.PutRecordResponse;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kinesis.model.StartingPosition;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardEvent;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardResponseHandler;
import software.amazon.awssdk.services.kinesis.model.StreamStatus;

/**
 * The asynchronous v2 client on Netty, as KCL 2.x and Flink's Kinesis sink build it, over
 * HTTP/1.1 and over HTTP/2 without TLS (prior knowledge), with enhanced fan-out on HTTP/2.
 */
final class Async {
    private Async() {}

    static void run(String endpoint) throws Exception {
        // -Dconformance.async.protocols=HTTP1_1 leaves HTTP/2 (and so enhanced fan-out) out.
        for (String p : System.getProperty("conformance.async.protocols", "HTTP1_1,HTTP2").split(",")) {
            Protocol protocol = Protocol.valueOf(p.trim());
            Main.CborOnly cbor = new Main.CborOnly();
            // Not closed: closing waits out Netty's 2-second quiet period, and the JVM exits soon.
            KinesisAsyncClient kinesis = KinesisAsyncClient.builder()
                .endpointOverride(URI.create(endpoint))
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDJAVASDKV2", "secret")))
                .httpClientBuilder(NettyNioAsyncHttpClient.builder()
                    .protocol(protocol)
                    .connectionTimeout(Duration.ofSeconds(5))
                    .readTimeout(Duration.ofSeconds(20)))
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                    .retryStrategy(AwsRetryStrategy.doNotRetry())
                    .apiCallTimeout(Duration.ofSeconds(30))
                    .addExecutionInterceptor(cbor)
                    .build())
                .build();
            // SubscribeToShard needs HTTP/2.
            run(kinesis, "java-sdk-async-" + protocol.name().toLowerCase().replace('_', '-'), protocol == Protocol.HTTP2);
            System.out.println("async " + protocol + ": " + cbor.exchanges.get() + " " + Main.V2_TYPE + " exchanges");
        }
    }

    static void run(KinesisAsyncClient kinesis, String name, boolean fanOut) throws Exception {
        Main.step("v2 async " + name + ": CreateStream, PutRecord, GetRecords");
        kinesis.createStream(b -> b.streamName(name).shardCount(1)).join();
        for (int i = 0; i < 600; i++) {
            StreamStatus status = kinesis.describeStreamSummary(b -> b.streamName(name)).join()
                .streamDescriptionSummary().streamStatus();
            if (status == StreamStatus.ACTIVE) {
                break;
            }
            Thread.sleep(50);
        }
        byte[] data = Main.allBytes();
        PutRecordResponse put = kinesis.putRecord(b -> b.streamName(name).partitionKey("k")
            .data(SdkBytes.fromByteArray(data))).join();
        String iterator = kinesis.getShardIterator(b -> b.streamName(name).shardId(put.shardId())
            .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).join().shardIterator();
        List<Record> records = kinesis.getRecords(b -> b.shardIterator(iterator)).join().records();
        Check.equal(1, records.size(), name + " GetRecords record count");
        Check.equal(put.sequenceNumber(), records.get(0).sequenceNumber(), name + " SequenceNumber");
        Check.bytes(data, records.get(0).data().asByteArray(), name + " Data");
        Check.recent(records.get(0).approximateArrivalTimestamp(), name + " ApproximateArrivalTimestamp");
        if (fanOut) {
            fanOut(kinesis, name, put, data);
        }
        kinesis.deleteStream(b -> b.streamName(name).enforceConsumerDeletion(true)).join();
    }

    /**
     * Enhanced fan-out as KCL 2.x does it: RegisterStreamConsumer, DescribeStreamConsumer until
     * ACTIVE, then SubscribeToShard (an HTTP/2 event stream whose events are in the request's
     * protocol) from TRIM_HORIZON and from AT_TIMESTAMP.
     */
    static void fanOut(KinesisAsyncClient kinesis, String name, PutRecordResponse put, byte[] data) throws Exception {
        Main.step("v2 async " + name + ": RegisterStreamConsumer, SubscribeToShard (enhanced fan-out)");
        String streamArn = kinesis.describeStreamSummary(b -> b.streamName(name)).join()
            .streamDescriptionSummary().streamARN();
        Consumer registered = kinesis.registerStreamConsumer(b -> b.streamARN(streamArn).consumerName("kcl-app"))
            .join().consumer();
        Check.equal(streamArn + "/consumer/kcl-app:", registered.consumerARN().substring(0,
            registered.consumerARN().lastIndexOf(':') + 1), "RegisterStreamConsumer ConsumerARN");
        Check.recent(registered.consumerCreationTimestamp(), "RegisterStreamConsumer ConsumerCreationTimestamp");
        ConsumerDescription consumer = null;
        for (int i = 0; i < 600; i++) {
            consumer = kinesis.describeStreamConsumer(b -> b.consumerARN(registered.consumerARN())).join()
                .consumerDescription();
            if (consumer.consumerStatus() == ConsumerStatus.ACTIVE) {
                break;
            }
            Thread.sleep(50);
        }
        Check.equal(ConsumerStatus.ACTIVE, consumer.consumerStatus(), "DescribeStreamConsumer ConsumerStatus");
        Check.equal(registered.consumerCreationTimestamp(), consumer.consumerCreationTimestamp(),
            "DescribeStreamConsumer ConsumerCreationTimestamp");
        String consumerArn = consumer.consumerARN();

        for (StartingPosition from : List.of(
            StartingPosition.builder().type(ShardIteratorType.TRIM_HORIZON).build(),
            StartingPosition.builder().type(ShardIteratorType.AT_TIMESTAMP).timestamp(Instant.now().minusSeconds(3600)).build())) {
            CompletableFuture<SubscribeToShardEvent> first = new CompletableFuture<>();
            List<Throwable> errors = new CopyOnWriteArrayList<>();
            SubscribeToShardResponseHandler handler = SubscribeToShardResponseHandler.builder()
                .onError(errors::add)
                .subscriber(SubscribeToShardResponseHandler.Visitor.builder()
                    .onSubscribeToShardEvent(event -> {
                        if (!event.records().isEmpty()) {
                            first.complete(event);
                        }
                    })
                    .build())
                .build();
            CompletableFuture<Void> call = kinesis.subscribeToShard(b -> b.consumerARN(consumerArn)
                .shardId(put.shardId()).startingPosition(from), handler);
            SubscribeToShardEvent event;
            try {
                event = first.get(20, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new Check.Mismatch("SubscribeToShard " + from.typeAsString() + ": no event with records in 20 s"
                    + (call.isDone() ? ", the call ended: " + call.handle((v, t) -> String.valueOf(t)).join() : "")
                    + ", errors: " + errors);
            } finally {
                call.cancel(true);
            }
            String what = "SubscribeToShard " + from.typeAsString();
            Check.equal(1, event.records().size(), what + " records");
            Check.equal(put.sequenceNumber(), event.records().get(0).sequenceNumber(), what + " SequenceNumber");
            Check.bytes(data, event.records().get(0).data().asByteArray(), what + " Data");
            Check.recent(event.records().get(0).approximateArrivalTimestamp(), what + " ApproximateArrivalTimestamp");
            Check.that(event.continuationSequenceNumber() != null, what + " ContinuationSequenceNumber");
            Check.equal(0L, event.millisBehindLatest(), what + " MillisBehindLatest");
        }
    }
}
