package dev.kinesisoperator.runner;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ArrayNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ObjectNode;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * The run's state as the emulator reads it: a JSON file rewritten whole on every change
 * (written beside itself, then renamed over the old one, so a reader never sees half a file).
 * README.md, "Status file", lists the fields.
 */
final class Status {
    private static final Logger LOG = LoggerFactory.getLogger(Status.class);
    /** The longest message kept; Flink's can run to pages (a plan, a stack of causes). */
    static final int MAX_MESSAGE = 4_000;

    /** The run's state: the emulator maps it onto AWS's application statuses. */
    enum State {
        /** The JVM is up; statements are being run, the job not yet submitted. */
        STARTING,
        /** The job is submitted; jobStatus says how far Flink got. */
        RUNNING,
        /** Stop was asked for: savepoint (when snapshots are on) and cancel under way. */
        STOPPING,
        /** Stopped on request; "savepoint" names the savepoint when one was taken. */
        STOPPED,
        /** The job ended by itself (its sources are bounded). */
        FINISHED,
        /** A statement or the job failed; "message" holds Flink's error. */
        FAILED
    }

    private static volatile Status current;

    private final Path file;
    private final ObjectMapper json = new ObjectMapper();
    private final String applicationName;
    private State state = State.STARTING;
    private String jobStatus;
    private String jobId;
    private String message;
    private String exception;
    private Integer failedStatement;
    private Integer failedStatementLine;
    private String savepoint;
    private String restoredFrom;
    private String snapshotId;
    private String snapshotPath;
    private String snapshotMessage;
    /** Shards being read, by "stream/shardId", with the time their reader started. */
    private final Map<String, String[]> shards = new TreeMap<>();
    private long sequence;

    Status(Path file, String applicationName) {
        this.file = file;
        this.applicationName = applicationName;
        current = this;
    }

    /** The status of this JVM's run, for the metric reporter; null before it exists. */
    static Status current() {
        return current;
    }

    synchronized State state() {
        return state;
    }

    synchronized void starting(String restoredFrom) {
        this.restoredFrom = restoredFrom;
        write();
    }

    synchronized void submitted(String jobId, String jobStatus) {
        this.jobId = jobId;
        this.jobStatus = jobStatus;
        if (state == State.STARTING) {
            state = State.RUNNING;
        }
        write();
    }

    synchronized void jobStatus(String jobStatus) {
        if (!jobStatus.equals(this.jobStatus)) {
            this.jobStatus = jobStatus;
            write();
        }
    }

    synchronized void stopping() {
        if (state == State.STARTING || state == State.RUNNING) {
            state = State.STOPPING;
            write();
        }
    }

    synchronized void stopped(String savepoint, String message, String jobStatus) {
        state = State.STOPPED;
        if (jobStatus != null) {
            this.jobStatus = jobStatus;
        }
        this.savepoint = savepoint;
        this.message = clip(message);
        shards.clear();
        write();
    }

    /** The answer to a savepoint request: its path, or why it failed. */
    synchronized void snapshot(String id, String path, String message) {
        this.snapshotId = id;
        this.snapshotPath = path;
        this.snapshotMessage = clip(message);
        write();
    }

    synchronized void finished(String jobStatus) {
        state = State.FINISHED;
        this.jobStatus = jobStatus;
        shards.clear();
        write();
    }

    synchronized void failed(Failure failure, Integer statement, Integer line, String jobStatus) {
        state = State.FAILED;
        this.message = clip(failure.message);
        this.exception = failure.exceptionClass;
        this.failedStatement = statement;
        this.failedStatementLine = line;
        if (jobStatus != null) {
            this.jobStatus = jobStatus;
        }
        shards.clear();
        write();
    }

    /** A Kinesis source began reading a shard (its starting position is fixed). */
    synchronized void shardReading(String stream, String shardId, String subtask) {
        String key = stream + "/" + shardId;
        if (!shards.containsKey(key) && (state == State.RUNNING || state == State.STARTING)) {
            shards.put(key, new String[] {stream, shardId, subtask, Instant.now().toString()});
            write();
        }
    }

    /** A shard's reader went away (the job restarts, stops or the shard was closed). */
    synchronized void shardStopped(String stream, String shardId) {
        if (shards.remove(stream + "/" + shardId) != null) {
            write();
        }
    }

    private static String clip(String s) {
        if (s == null || s.length() <= MAX_MESSAGE) {
            return s;
        }
        return s.substring(0, MAX_MESSAGE - 1) + "…";
    }

    private void write() {
        sequence++;
        ObjectNode root = json.createObjectNode();
        root.put("applicationName", applicationName);
        root.put("state", state.name());
        root.put("sequence", sequence);
        root.put("pid", ProcessHandle.current().pid());
        root.put("updatedAt", Instant.now().toString());
        if (jobId != null) {
            root.put("jobId", jobId);
        }
        if (jobStatus != null) {
            root.put("jobStatus", jobStatus);
        }
        if (message != null) {
            root.put("message", message);
        }
        if (exception != null) {
            root.put("exception", exception);
        }
        if (failedStatement != null) {
            root.put("failedStatement", failedStatement);
            root.put("failedStatementLine", failedStatementLine);
        }
        if (savepoint != null) {
            root.put("savepoint", savepoint);
        }
        if (restoredFrom != null) {
            root.put("restoredFrom", restoredFrom);
        }
        if (snapshotId != null) {
            ObjectNode snapshot = root.putObject("snapshot");
            snapshot.put("id", snapshotId);
            if (snapshotPath != null) {
                snapshot.put("savepoint", snapshotPath);
            }
            if (snapshotMessage != null) {
                snapshot.put("message", snapshotMessage);
            }
        }
        ArrayNode readers = root.putArray("shards");
        for (String[] s : shards.values()) {
            ObjectNode o = readers.addObject();
            o.put("stream", s[0]);
            o.put("shardId", s[1]);
            o.put("subtask", s[2]);
            o.put("since", s[3]);
        }
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (dir != null) {
                Files.createDirectories(dir);
            }
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.write(tmp, json.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
            try {
                Files.move(
                        tmp,
                        file,
                        StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            LOG.error("cannot write the status file {}: {}", file, e.toString());
        }
        LOG.info("status: {}", root);
    }

    /** Writes FAILED to a status file when the job file could not be used at all. */
    static void failEarly(Path file, String applicationName, String message) {
        new Status(file, applicationName == null ? "" : applicationName)
                .failed(new Failure(message, IllegalArgumentException.class.getName()), null, null, null);
    }
}
