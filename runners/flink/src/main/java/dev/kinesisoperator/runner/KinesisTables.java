package dev.kinesisoperator.runner;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Points a {@code 'connector'='kinesis'} table at the emulator: the options the user wrote for
 * AWS stay, except those that say where and as whom to connect. Applied to the table as Flink
 * parsed it (CREATE TABLE, CREATE TABLE ... LIKE, CREATE TABLE AS), before it reaches the
 * catalog, so the SQL runs as written.
 *
 * <p>Both of the connector's table factories ('kinesis' source and sink) leave the other's
 * option prefixes unvalidated ("scan." and "sink." both pass either factory), so a table gets
 * the sink's options whether it is read or written.
 */
final class KinesisTables {
    static final String CONNECTOR = "connector";
    static final String IDENTIFIER = "kinesis";

    private KinesisTables() {}

    static boolean isKinesis(Map<String, String> options) {
        String connector = options.get(CONNECTOR);
        return connector != null && connector.trim().equalsIgnoreCase(IDENTIFIER);
    }

    /** The table's options pointed at the emulator (a new map; the argument is unchanged). */
    static Map<String, String> pointAtEmulator(Map<String, String> options, JobSpec spec) {
        Map<String, String> o = new LinkedHashMap<>(options);
        // Where to connect: the emulator, whatever endpoint the table names.
        o.put("aws.endpoint", spec.endpoint);
        // The connector's older ways of naming an endpoint would compete with it.
        o.remove("sink.producer.kinesis-endpoint");
        o.remove("sink.producer.kinesis-port");
        o.remove("sink.producer.verify-certificate");
        // The region names where the stream lives (as on AWS); the job's when the table names
        // none.
        if (spec.overrideRegion || !o.containsKey("aws.region")) {
            o.put("aws.region", spec.region);
        }
        // As whom: the application's credentials, whatever provider the table names (a role
        // to assume, a profile, the web identity of a pod: none exist against the emulator).
        o.keySet().removeIf(k -> k.startsWith("aws.credentials."));
        o.put("aws.credentials.provider", "BASIC");
        o.put("aws.credentials.basic.accesskeyid", spec.accessKeyId);
        o.put("aws.credentials.basic.secretkey", spec.secretAccessKey);
        if (spec.trustAllCertificates) {
            o.put("aws.trust.all.certificates", "true");
        }
        // The sink's HTTP/2 default fails over cleartext HTTP ("First received frame was not
        // SETTINGS"): HTTP/1.1, whatever the table says.
        o.put("sink.http-client.protocol.version", "HTTP1_1");
        o.remove("aws.http.protocol.version");
        // The sink's default flush timeout (5 s) delays every quiet stream's output; the
        // table's own setting wins.
        if (!o.containsKey("sink.flush-buffer.timeout")
                && !o.containsKey("sink.producer.record-max-buffered-time")) {
            o.put("sink.flush-buffer.timeout", Long.toString(spec.sinkFlushMillis));
        }
        return o;
    }
}
