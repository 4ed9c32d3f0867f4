package dev.kinesisoperator.runner;

import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

import java.util.Map;
import java.util.Properties;

/**
 * Tells the status file which shards the Kinesis sources read. The connector registers a
 * shard's gauges once the shard's reader exists, and it fixes the reader's starting position
 * (for 'LATEST': the current time, as AT_TIMESTAMP) just before: from then on every record put
 * to the shard is read. A client that waits for its shards in the status file before putting
 * records loses none, even from 'LATEST'.
 */
public final class ShardReporter implements MetricReporter {
    /** A gauge the connector registers per shard (ShardConsumerMetricsReporter). */
    static final String SHARD_GAUGE = "millisBehindLatest";

    @Override
    public void open(MetricConfig config) {}

    @Override
    public void close() {}

    @Override
    public void notifyOfAddedMetric(Metric metric, String metricName, MetricGroup group) {
        if (!SHARD_GAUGE.equals(metricName)) {
            return;
        }
        Map<String, String> vars = group.getAllVariables();
        String stream = vars.get("<stream>");
        String shard = vars.get("<shardId>");
        Status status = Status.current();
        if (stream != null && shard != null && status != null) {
            status.shardReading(stream, shard, vars.getOrDefault("<subtask_index>", "0"));
        }
    }

    @Override
    public void notifyOfRemovedMetric(Metric metric, String metricName, MetricGroup group) {
        if (!SHARD_GAUGE.equals(metricName)) {
            return;
        }
        Map<String, String> vars = group.getAllVariables();
        String stream = vars.get("<stream>");
        String shard = vars.get("<shardId>");
        Status status = Status.current();
        if (stream != null && shard != null && status != null) {
            status.shardStopped(stream, shard);
        }
    }

    /** Found by Flink through META-INF/services; named in the runner's configuration. */
    public static final class Factory implements MetricReporterFactory {
        @Override
        public MetricReporter createMetricReporter(Properties properties) {
            return new ShardReporter();
        }
    }
}
