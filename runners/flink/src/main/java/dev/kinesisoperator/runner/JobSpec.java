package dev.kinesisoperator.runner;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The job description the emulator writes for one application run (README.md, "Job file").
 * Parsed by hand from a JSON tree so that a wrong field is named in the error.
 */
final class JobSpec {
    /** The application's name; the Flink job is named after it. */
    final String applicationName;
    /** The SQL statements in order, already split (from "statements" or "sql"); empty for a JAR. */
    final List<SqlScript.Statement> statements;
    /** The application's JAR, whose main class builds the job; null for SQL. */
    final Path jar;
    /** Where the JAR came from (e.g. s3://bucket/key), for messages; the path when not given. */
    final String jarSource;
    /**
     * The application's property groups (AWS's EnvironmentProperties) by group ID, in order:
     * what KinesisAnalyticsRuntime.getApplicationProperties() returns to a JAR's code.
     */
    final Map<String, Map<String, String>> applicationProperties;
    /** The emulator's endpoint every Kinesis table is pointed at, e.g. http://127.0.0.1:4566. */
    final String endpoint;
    /** The region given to Kinesis tables that name none (and to all when overrideRegion). */
    final String region;
    /** Whether the job's region replaces the one a table names. */
    final boolean overrideRegion;
    final String accessKeyId;
    final String secretAccessKey;
    /** Accept any TLS certificate of an https endpoint (an emulator's self-signed one). */
    final boolean trustAllCertificates;
    /** The sink's flush timeout unless a table sets 'sink.flush-buffer.timeout' itself. */
    final long sinkFlushMillis;
    /** Whether the AWS SDKs speak CBOR (their default) rather than JSON to the endpoint. */
    final boolean cbor;
    final int parallelism;
    final boolean checkpointingEnabled;
    final long checkpointIntervalMillis;
    final long checkpointMinPauseMillis;
    /** Where checkpoints are kept (retained on cancel); in memory when null. */
    final String checkpointDirectory;
    /** Whether stop takes a savepoint (AWS's SnapshotsEnabled). */
    final boolean snapshotsEnabled;
    /** Where the savepoint taken on stop is written. */
    final String savepointDirectory;
    /** The savepoint (or retained checkpoint) to start from; none when null. */
    final String restoreFrom;
    /** Start even when the savepoint holds state no operator claims (AWS's AllowNonRestoredState). */
    final boolean allowNonRestoredState;
    /** Restarts of a failing job before the run is FAILED. */
    final int restartAttempts;
    final long restartDelayMillis;
    /** How long stop-with-savepoint may take before the job is cancelled instead. */
    final long stopTimeoutMillis;
    /** The status file, rewritten atomically on every change. */
    final Path statusFile;
    /** Stop (without savepoint) when the process that started the runner exits. */
    final boolean exitWithParent;
    /** Extra Flink configuration, applied last. */
    final Map<String, String> flinkConfiguration;

    private JobSpec(JsonNode root) {
        Fields f = new Fields(root, "");
        this.statusFile = Path.of(f.requiredText("statusFile"));
        this.applicationName = f.requiredText("applicationName");
        List<SqlScript.Statement> parsed = new ArrayList<>();
        JsonNode list = root.get("statements");
        String sql = f.optionalText("sql", null);
        String jarPath = f.optionalText("jar", null);
        if (jarPath != null) {
            if (sql != null || (list != null && !list.isNull())) {
                throw new IllegalArgumentException(
                        "give 'jar' or the SQL ('sql', 'statements'), not both");
            }
        } else if (list != null && !list.isNull()) {
            if (!list.isArray()) {
                throw new IllegalArgumentException("'statements' must be an array of strings");
            }
            int i = 0;
            for (JsonNode s : list) {
                i++;
                if (!s.isTextual()) {
                    throw new IllegalArgumentException("'statements[" + i + "]' must be a string");
                }
                parsed.addAll(SqlScript.split(s.asText()));
            }
            if (sql != null) {
                throw new IllegalArgumentException("give 'statements' or 'sql', not both");
            }
        } else if (sql != null) {
            parsed.addAll(SqlScript.split(sql));
        } else {
            throw new IllegalArgumentException("one of 'statements', 'sql' or 'jar' is required");
        }
        this.statements = Collections.unmodifiableList(parsed);
        this.jar = jarPath == null ? null : Path.of(jarPath);
        this.jarSource = f.optionalText("jarSource", jarPath);
        this.applicationProperties = propertyGroups(root.get("applicationProperties"));
        this.endpoint = f.requiredText("endpoint");
        this.region = f.requiredText("region");
        this.overrideRegion = f.optionalBoolean("overrideRegion", false);
        this.accessKeyId = f.requiredText("accessKeyId");
        this.secretAccessKey = f.requiredText("secretAccessKey");
        this.trustAllCertificates = f.optionalBoolean("trustAllCertificates", false);
        this.sinkFlushMillis = f.optionalLong("sinkFlushMillis", 200);
        this.cbor = f.optionalBoolean("cbor", true);
        this.parallelism = (int) f.optionalLong("parallelism", 1);
        if (parallelism < 1) {
            throw new IllegalArgumentException("'parallelism' must be at least 1");
        }

        Fields cp = f.object("checkpointing");
        this.checkpointingEnabled = cp.optionalBoolean("enabled", false);
        this.checkpointIntervalMillis = cp.optionalLong("intervalMillis", 60_000);
        this.checkpointMinPauseMillis = cp.optionalLong("minPauseBetweenCheckpointsMillis", 5_000);
        this.checkpointDirectory = cp.optionalText("directory", null);

        Fields snap = f.object("snapshots");
        this.snapshotsEnabled = snap.optionalBoolean("enabled", false);
        this.savepointDirectory = snap.optionalText("directory", null);
        this.restoreFrom = snap.optionalText("restoreFrom", null);
        this.allowNonRestoredState = snap.optionalBoolean("allowNonRestoredState", false);
        if (snapshotsEnabled && savepointDirectory == null) {
            throw new IllegalArgumentException(
                    "'snapshots.directory' is required when 'snapshots.enabled' is true");
        }

        Fields restart = f.object("restart");
        this.restartAttempts = (int) restart.optionalLong("attempts", 2);
        this.restartDelayMillis = restart.optionalLong("delayMillis", 1_000);
        this.stopTimeoutMillis = f.optionalLong("stopTimeoutMillis", 60_000);
        this.exitWithParent = f.optionalBoolean("exitWithParent", true);

        Map<String, String> extra = new LinkedHashMap<>();
        JsonNode conf = root.get("flinkConfiguration");
        if (conf != null && !conf.isNull()) {
            if (!conf.isObject()) {
                throw new IllegalArgumentException("'flinkConfiguration' must be an object");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = conf.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isValueNode()) {
                    throw new IllegalArgumentException(
                            "'flinkConfiguration." + e.getKey() + "' must be a string or number");
                }
                extra.put(e.getKey(), e.getValue().asText());
            }
        }
        this.flinkConfiguration = Collections.unmodifiableMap(extra);
    }

    /** "applicationProperties": [{"PropertyGroupId": ..., "PropertyMap": {...}}] (AWS's shape). */
    private static Map<String, Map<String, String>> propertyGroups(JsonNode groups) {
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        if (groups == null || groups.isNull()) {
            return Collections.unmodifiableMap(out);
        }
        if (!groups.isArray()) {
            throw new IllegalArgumentException(
                    "'applicationProperties' must be an array of property groups");
        }
        int i = 0;
        for (JsonNode g : groups) {
            i++;
            JsonNode id = g.get("PropertyGroupId");
            JsonNode map = g.get("PropertyMap");
            if (id == null || !id.isTextual() || (map != null && !map.isObject())) {
                throw new IllegalArgumentException(
                        "'applicationProperties[" + i + "]' must be {\"PropertyGroupId\": string,"
                                + " \"PropertyMap\": {string: string}}");
            }
            Map<String, String> props = new LinkedHashMap<>();
            if (map != null) {
                for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    props.put(e.getKey(), e.getValue().asText());
                }
            }
            out.put(id.asText(), Collections.unmodifiableMap(props));
        }
        return Collections.unmodifiableMap(out);
    }

    static JobSpec read(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(Files.readAllBytes(file));
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("the job file must hold a JSON object");
        }
        return new JobSpec(root);
    }

    /**
     * The status file named by a job file that is otherwise unusable, so that its error can
     * still be reported there.
     */
    static Path statusFileOf(Path file) {
        try {
            JsonNode root = new ObjectMapper().readTree(Files.readAllBytes(file));
            JsonNode status = root == null ? null : root.get("statusFile");
            return status != null && status.isTextual() ? Path.of(status.asText()) : null;
        } catch (Exception e) {
            return null;
        }
    }

    /** Typed access to one JSON object's fields, with errors that name the field. */
    private static final class Fields {
        private final JsonNode node;
        private final String prefix;

        Fields(JsonNode node, String prefix) {
            this.node = node;
            this.prefix = prefix;
        }

        private JsonNode get(String name) {
            JsonNode v = node == null ? null : node.get(name);
            return v == null || v.isNull() ? null : v;
        }

        Fields object(String name) {
            JsonNode v = get(name);
            if (v != null && !v.isObject()) {
                throw new IllegalArgumentException("'" + prefix + name + "' must be an object");
            }
            return new Fields(v, prefix + name + ".");
        }

        String requiredText(String name) {
            String v = optionalText(name, null);
            if (v == null || v.isEmpty()) {
                throw new IllegalArgumentException("'" + prefix + name + "' is required");
            }
            return v;
        }

        String optionalText(String name, String otherwise) {
            JsonNode v = get(name);
            if (v == null) {
                return otherwise;
            }
            if (!v.isTextual()) {
                throw new IllegalArgumentException("'" + prefix + name + "' must be a string");
            }
            return v.asText();
        }

        boolean optionalBoolean(String name, boolean otherwise) {
            JsonNode v = get(name);
            if (v == null) {
                return otherwise;
            }
            if (!v.isBoolean()) {
                throw new IllegalArgumentException("'" + prefix + name + "' must be true or false");
            }
            return v.asBoolean();
        }

        long optionalLong(String name, long otherwise) {
            JsonNode v = get(name);
            if (v == null) {
                return otherwise;
            }
            if (!v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() < 0) {
                throw new IllegalArgumentException(
                        "'" + prefix + name + "' must be a non-negative integer");
            }
            return v.asLong();
        }
    }
}
