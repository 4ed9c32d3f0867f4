package dev.kinesisoperator.runner;

import org.apache.flink.api.common.functions.Function;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.connector.kinesis.sink.KinesisStreamsSink;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.apache.flink.streaming.api.operators.StreamOperatorFactory;
import org.apache.flink.streaming.api.operators.UdfStreamOperatorFactory;
import org.apache.flink.streaming.connectors.kinesis.FlinkKinesisConsumer;
import org.apache.flink.streaming.connectors.kinesis.FlinkKinesisProducer;
import org.apache.flink.streaming.runtime.operators.sink.SinkWriterOperatorFactory;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;
import java.util.Locale;
import java.util.Properties;

/**
 * Points the Kinesis sources and sinks of a JAR application's job at the emulator, as
 * {@link KinesisTables} does for SQL tables: the job as the user's code built it (its
 * Properties name a region, no endpoint, whatever credentials provider) is amended in its
 * StreamGraph, before the graph becomes a job, so the code runs unedited.
 *
 * <p>Handled (flink-connector-kinesis 4.3.0-1.19): {@link FlinkKinesisConsumer} (and its
 * subclasses, the DynamoDB Streams consumer among them) and {@link KinesisStreamsSink}. Their
 * classes match Flink's parent-first pattern {@code org.apache.flink.}, so the connector a user
 * JAR bundles resolves to the runner's own, and these are the classes the job holds.
 * {@link FlinkKinesisProducer} (the Kinesis Producer Library, a native binary that cannot be
 * pointed at an endpoint over plain HTTP) and any other operator whose class names Kinesis are
 * left as written, with a warning in the runner log naming them.
 */
final class KinesisClients {
    private static final Logger LOG = LoggerFactory.getLogger(KinesisClients.class);

    private KinesisClients() {}

    /** Points every Kinesis source and sink of `graph` at the emulator; returns how many. */
    static int point(StreamGraph graph, JobSpec spec) {
        int pointed = 0;
        for (StreamNode node : graph.getStreamNodes()) {
            Object connector = connectorOf(node.getOperatorFactory());
            if (connector == null) {
                continue;
            }
            if (connector instanceof FlinkKinesisConsumer) {
                pointAtEmulator(
                        properties(connector, FlinkKinesisConsumer.class, "configProps"),
                        spec,
                        false);
                LOG.info(
                        "source '{}' (FlinkKinesisConsumer) reads Kinesis at {}",
                        node.getOperatorName(),
                        spec.endpoint);
                pointed++;
            } else if (connector instanceof KinesisStreamsSink) {
                pointAtEmulator(
                        properties(connector, KinesisStreamsSink.class, "kinesisClientProperties"),
                        spec,
                        true);
                LOG.info(
                        "sink '{}' (KinesisStreamsSink) writes Kinesis at {}",
                        node.getOperatorName(),
                        spec.endpoint);
                pointed++;
            } else if (connector instanceof FlinkKinesisProducer) {
                LOG.warn(
                        "operator '{}' writes with FlinkKinesisProducer (the Kinesis Producer"
                                + " Library), which the runner cannot point at the emulator: it is left as"
                                + " written and will call AWS. Use KinesisStreamsSink instead.",
                        node.getOperatorName());
            } else if (looksLikeKinesis(connector.getClass())) {
                LOG.warn(
                        "operator '{}' uses {}, which the runner does not know how to point at the"
                                + " emulator: it is left as written. FlinkKinesisConsumer and"
                                + " KinesisStreamsSink are pointed.",
                        node.getOperatorName(),
                        connector.getClass().getName());
            }
        }
        return pointed;
    }

    /**
     * Whether `c` (or a superclass) looks like a Kinesis connector: a Flink connector class
     * whose package names Kinesis, or a class whose own name does (a user's KinesisSink).
     */
    static boolean looksLikeKinesis(Class<?> c) {
        for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
            String name = k.getName().toLowerCase(Locale.ROOT);
            String simple = k.getSimpleName().toLowerCase(Locale.ROOT);
            if ((name.startsWith("org.apache.flink.") && name.contains("kinesis"))
                    || simple.contains("kinesis")) {
                return true;
            }
        }
        return false;
    }

    /** The user's source function or sink behind an operator; null for anything else. */
    private static Object connectorOf(StreamOperatorFactory<?> factory) {
        if (factory instanceof UdfStreamOperatorFactory) {
            Function f = ((UdfStreamOperatorFactory<?>) factory).getUserFunction();
            return f;
        }
        if (factory instanceof SinkWriterOperatorFactory) {
            Sink<?> sink = ((SinkWriterOperatorFactory<?, ?>) factory).getSink();
            return sink;
        }
        return null;
    }

    /** The connector's client Properties (a private field: the connectors have no getter). */
    private static Properties properties(Object connector, Class<?> declaring, String field) {
        try {
            Field f = declaring.getDeclaredField(field);
            f.setAccessible(true);
            return (Properties) f.get(connector);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException(
                    "cannot point " + declaring.getSimpleName() + " at the emulator: its field '"
                            + field + "' is not there (" + e + "); the runner supports"
                            + " flink-connector-kinesis 4.3.0-1.19",
                    e);
        }
    }

    /**
     * Amends a connector's client properties in place (AWSConfigConstants' keys): the
     * emulator's endpoint, the job's region when none is named (or overrideRegion), the job's
     * credentials (BASIC) whatever provider was named, and HTTP/1.1 for sinks.
     */
    static void pointAtEmulator(Properties p, JobSpec spec, boolean sink) {
        p.setProperty("aws.endpoint", spec.endpoint);
        if (spec.overrideRegion || !p.containsKey("aws.region")) {
            p.setProperty("aws.region", spec.region);
        }
        p.stringPropertyNames().stream()
                .filter(k -> k.startsWith("aws.credentials.provider"))
                .forEach(p::remove);
        p.setProperty("aws.credentials.provider", "BASIC");
        p.setProperty("aws.credentials.provider.basic.accesskeyid", spec.accessKeyId);
        p.setProperty("aws.credentials.provider.basic.secretkey", spec.secretAccessKey);
        if (spec.trustAllCertificates) {
            p.setProperty("aws.trust.all.certificates", "true");
        }
        if (sink) {
            // The SDK v2 client's HTTP/2 default fails over cleartext HTTP.
            p.setProperty("aws.http.protocol.version", "HTTP1_1");
        }
    }
}
