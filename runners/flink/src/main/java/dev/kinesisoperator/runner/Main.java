package dev.kinesisoperator.runner;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * {@code java -jar flink-runner.jar JOB.json}: runs one application's Flink SQL (or its JAR's
 * main class) on a Flink MiniCluster in this JVM until the job ends or the runner is told to
 * stop (SIGTERM, SIGINT; or the process that started it exits). README.md describes the job file, the status file
 * and the exit codes.
 */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    /** The job ran and stopped on request, or finished. */
    static final int EXIT_OK = 0;
    /** A statement or the job failed (the status file says why). */
    static final int EXIT_FAILED = 1;
    /** The job file is missing or wrong (the status file says why when it could be named). */
    static final int EXIT_USAGE = 2;

    private Main() {}

    public static void main(String[] args) {
        if (args.length != 1 || args[0].startsWith("-")) {
            System.err.println("usage: java -jar flink-runner.jar JOB.json (see README.md)");
            System.exit(EXIT_USAGE);
        }
        Path jobFile = Path.of(args[0]);
        JobSpec spec;
        try {
            spec = JobSpec.read(jobFile);
        } catch (Exception e) {
            String message = "invalid job file " + jobFile + ": " + e.getMessage();
            LOG.error(message);
            Path status = JobSpec.statusFileOf(jobFile);
            if (status != null) {
                Status.failEarly(status, null, message);
            }
            System.exit(EXIT_USAGE);
            return;
        }
        int code;
        Path workDir = null;
        try {
            workDir = Files.createTempDirectory("flink-runner-");
            code = new Runner(spec, workDir).run();
        } catch (Throwable t) {
            LOG.error("the runner failed", t);
            Status.failEarly(spec.statusFile, spec.applicationName, "the runner failed: " + t);
            code = EXIT_FAILED;
        }
        deleteQuietly(workDir);
        // Flink's threads (the MiniCluster's, the SDKs') are not all daemons.
        System.exit(code);
    }

    /** Deletes a directory tree, best effort (Flink may still be closing files in it). */
    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot delete {}: {}", dir, e.toString());
        }
    }
}
