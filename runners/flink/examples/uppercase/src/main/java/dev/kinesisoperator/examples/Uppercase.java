package dev.kinesisoperator.examples;

import com.amazonaws.services.kinesisanalytics.runtime.KinesisAnalyticsRuntime;

import org.apache.flink.api.common.serialization.SimpleStringSchema;
import org.apache.flink.connector.kinesis.sink.KinesisStreamsSink;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.connectors.kinesis.FlinkKinesisConsumer;
import org.apache.flink.streaming.connectors.kinesis.config.ConsumerConfigConstants;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;

import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Reads the records of one Kinesis stream, upper-cases each, puts the application property
 * {@code prefix} in front and writes them to another stream. Everything comes from the
 * application's property group {@code UppercaseApplication} ({@code input.stream}, {@code
 * output.stream}, {@code prefix}, {@code aws.region}; {@code api} = {@code table}: the same
 * with the Table API); the connectors are given a region and nothing else, as an application
 * written for AWS is.
 */
public final class Uppercase {
    private Uppercase() {}

    public static void main(String[] args) throws Exception {
        Map<String, Properties> groups = KinesisAnalyticsRuntime.getApplicationProperties();
        Properties app = groups.get("UppercaseApplication");
        if (app == null) {
            throw new IllegalArgumentException(
                    "the application has no property group UppercaseApplication; it has "
                            + groups.keySet());
        }
        String input = required(app, "input.stream");
        String output = required(app, "output.stream");
        String prefix = app.getProperty("prefix", "");
        String region = app.getProperty("aws.region", "us-west-2");

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        if ("table".equals(app.getProperty("api"))) {
            table(env, input, output, prefix, region);
            return;
        }

        Properties source = new Properties();
        source.setProperty(ConsumerConfigConstants.AWS_REGION, region);
        source.setProperty(ConsumerConfigConstants.STREAM_INITIAL_POSITION, "TRIM_HORIZON");

        Properties sink = new Properties();
        sink.setProperty(ConsumerConfigConstants.AWS_REGION, region);

        env.addSource(new FlinkKinesisConsumer<>(input, new SimpleStringSchema(), source))
                .uid("kinesis-source")
                .name("kinesis-source")
                .map(s -> prefix + s.toUpperCase(Locale.ROOT))
                .uid("uppercase")
                .name("uppercase")
                .sinkTo(
                        KinesisStreamsSink.<String>builder()
                                .setKinesisClientProperties(sink)
                                .setSerializationSchema(new SimpleStringSchema())
                                .setStreamName(output)
                                .setPartitionKeyGenerator(s -> Integer.toString(s.hashCode()))
                                .setMaxTimeInBufferMS(200)
                                .build())
                .uid("kinesis-sink")
                .name("kinesis-sink");

        env.execute("uppercase");
    }

    /**
     * The same with the Table API (property {@code api} = {@code table}): two Kinesis tables
     * naming only a region, one INSERT, and the wait on its result that such code often ends
     * with.
     */
    private static void table(
            StreamExecutionEnvironment env,
            String input,
            String output,
            String prefix,
            String region)
            throws Exception {
        StreamTableEnvironment tables = StreamTableEnvironment.create(env);
        String with =
                "'connector' = 'kinesis', 'aws.region' = '%s', 'format' = 'raw', 'stream' = '%s'";
        tables.executeSql(
                "CREATE TABLE words (line STRING) WITH ("
                        + String.format(with, region, input)
                        + ", 'scan.stream.initpos' = 'TRIM_HORIZON')");
        tables.executeSql(
                "CREATE TABLE shouts (line STRING) WITH ("
                        + String.format(with, region, output)
                        + ", 'sink.flush-buffer.timeout' = '200')");
        tables.executeSql(
                        "INSERT INTO shouts SELECT CONCAT('"
                                + prefix.replace("'", "''")
                                + "', UPPER(line)) FROM words")
                .await();
    }

    private static String required(Properties p, String key) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(
                    "property " + key + " of UppercaseApplication is required");
        }
        return v;
    }
}
