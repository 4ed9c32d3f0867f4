package dev.kinesisoperator.runner;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.api.internal.TableEnvironmentInternal;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.CatalogTable;
import org.apache.flink.table.catalog.ObjectIdentifier;
import org.apache.flink.table.operations.BeginStatementSetOperation;
import org.apache.flink.table.operations.CreateTableASOperation;
import org.apache.flink.table.operations.EndStatementSetOperation;
import org.apache.flink.table.operations.ModifyOperation;
import org.apache.flink.table.operations.Operation;
import org.apache.flink.table.operations.QueryOperation;
import org.apache.flink.table.operations.ReplaceTableAsOperation;
import org.apache.flink.table.operations.StatementSetOperation;
import org.apache.flink.table.operations.command.ResetOperation;
import org.apache.flink.table.operations.command.SetOperation;
import org.apache.flink.table.operations.ddl.AlterTableChangeOperation;
import org.apache.flink.table.operations.ddl.AlterTableOptionsOperation;
import org.apache.flink.table.operations.ddl.CreateTableOperation;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import sun.misc.Signal;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/** One application run: the statements, the job, and its stop. */
final class Runner {
    private static final Logger LOG = LoggerFactory.getLogger(Runner.class);

    /** Why the run was asked to stop. */
    enum StopReason {
        /** SIGTERM or SIGINT: stop as asked (with a savepoint when snapshots are on). */
        SIGNAL,
        /** The process that started the runner exited: no one reads the status any more. */
        PARENT_EXITED
    }

    private final JobSpec spec;
    private final Status status;
    private final Object stopLock = new Object();
    private StopReason stopRequest;

    /** Flink's working files (the RPC system's jar, blobs, spill files), deleted at exit. */
    private final Path workDir;

    Runner(JobSpec spec, Path workDir) {
        this.spec = spec;
        this.workDir = workDir;
        this.status = new Status(spec.statusFile, spec.applicationName);
    }

    int run() {
        if (!spec.cbor) {
            // Both SDKs read these when their first client is built: JSON instead of CBOR.
            System.setProperty("aws.cborEnabled", "false");
            System.setProperty(
                    "org.apache.flink.kinesis.shaded.com.amazonaws.sdk.disableCbor", "true");
        }
        status.starting(spec.restoreFrom);
        installSignalHandlers();
        if (spec.exitWithParent) {
            watchParent();
        }

        Configuration conf = configuration();
        return spec.jar != null ? runJar(conf) : runSql(conf);
    }

    /** A SQL application: its statements, one job of all its INSERTs. */
    private int runSql(Configuration conf) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        StreamTableEnvironment tableEnv =
                StreamTableEnvironment.create(
                        env,
                        EnvironmentSettings.newInstance()
                                .inStreamingMode()
                                .withConfiguration(conf)
                                .build());
        TableEnvironmentInternal tables = (TableEnvironmentInternal) tableEnv;

        // Every INSERT goes into one statement set: one job per application, as on AWS.
        List<ModifyOperation> inserts = new ArrayList<>();
        List<Integer> insertStatements = new ArrayList<>();
        int index = 0;
        for (SqlScript.Statement statement : spec.statements) {
            index++;
            if (stopRequested() != null) {
                status.stopped(null, "stopped before the job was submitted", null);
                return Main.EXIT_OK;
            }
            try {
                int before = inserts.size();
                runStatement(tables, statement.text, inserts);
                for (int k = before; k < inserts.size(); k++) {
                    insertStatements.add(index);
                }
            } catch (Throwable t) {
                LOG.warn("statement {} (line {}) failed", index, statement.line, t);
                status.failed(Failure.ofStatement(t), index, statement.line, null);
                return Main.EXIT_FAILED;
            }
        }
        if (inserts.isEmpty()) {
            status.failed(
                    new Failure(
                            "The SQL has no INSERT INTO statement: nothing writes to a sink, so"
                                    + " there is no job to run.",
                            IllegalArgumentException.class.getName()),
                    null,
                    null,
                    null);
            return Main.EXIT_FAILED;
        }
        if (stopRequested() != null) {
            status.stopped(null, "stopped before the job was submitted", null);
            return Main.EXIT_OK;
        }

        JobClient client;
        try {
            TableResult result = tables.executeInternal(inserts);
            client =
                    result.getJobClient()
                            .orElseThrow(() -> new IllegalStateException("no job was submitted"));
        } catch (Throwable t) {
            // The planner refuses here what only the whole job shows: an updating result into
            // an append-only sink. Name the INSERT it came from.
            LOG.warn("the job could not be submitted", t);
            // A statement is to blame when the planner refused the job; not when the cluster
            // did (a savepoint that does not fit, say).
            int culprit =
                    Failure.isSubmission(t) ? 0 : culprit(tables, inserts, insertStatements);
            SqlScript.Statement statement =
                    culprit > 0 ? spec.statements.get(culprit - 1) : null;
            status.failed(
                    Failure.ofStatement(t),
                    culprit > 0 ? culprit : null,
                    statement != null ? statement.line : null,
                    null);
            return Main.EXIT_FAILED;
        }
        return submitted(client);
    }

    /** The job is submitted: the runner follows it until it ends or is told to stop. */
    private int submitted(JobClient client) {
        status.submitted(client.getJobID().toString(), JobStatus.CREATED.name());
        LOG.info("job {} submitted for {}", client.getJobID(), spec.applicationName);
        return supervise(client);
    }

    /**
     * A JAR application (JarProgram): its entry class's main builds the job, which the
     * JarEnvironment submits to this runner's MiniCluster with the run's configuration and its
     * Kinesis connectors pointed at the emulator; from there it is followed and stopped as a
     * SQL application's job is.
     */
    private int runJar(Configuration conf) {
        JarProgram program;
        Configuration jobConf;
        ClassLoader loader;
        Method main;
        try {
            program = JarProgram.open(spec, workDir);
            jobConf = program.configure(conf);
            loader = program.classLoader(jobConf);
            main = program.main(loader);
        } catch (Throwable t) {
            LOG.warn("the application's JAR {} cannot be run", spec.jarSource, t);
            String m = t.getMessage() == null ? t.toString() : t.getMessage();
            status.failed(new Failure(m, t.getClass().getName()), null, null, null);
            return Main.EXIT_FAILED;
        }
        List<JobClient> jobs = new CopyOnWriteArrayList<>();
        CompletableFuture<JobClient> firstJob = new CompletableFuture<>();
        JarEnvironment.install(
                jobConf,
                loader,
                new JarEnvironment.Submissions() {
                    @Override
                    public void before(StreamGraph graph) {
                        if (!jobs.isEmpty()) {
                            throw new IllegalStateException(
                                    "The application's main class "
                                            + program.entryClass
                                            + " submits a second job; an application runs one"
                                            + " job (call execute() once).");
                        }
                        int n = KinesisClients.point(graph, spec);
                        LOG.info(
                                "{} Kinesis source(s) and sink(s) pointed at {}",
                                n,
                                spec.endpoint);
                    }

                    @Override
                    public void submitted(JobClient client) {
                        jobs.add(client);
                        firstJob.complete(client);
                    }
                });
        // The main class runs in a thread of its own: code that blocks after submitting (a
        // Table API TableResult.await(), a loop) must not keep the runner from following,
        // snapshotting and stopping the job.
        CompletableFuture<Void> mainDone = new CompletableFuture<>();
        Thread application =
                new Thread(
                        () -> {
                            try {
                                LOG.info(
                                        "running {}.main of {}",
                                        program.entryClass,
                                        spec.jarSource);
                                main.invoke(null, (Object) new String[0]);
                                mainDone.complete(null);
                            } catch (Throwable t) {
                                mainDone.completeExceptionally(
                                        t instanceof InvocationTargetException
                                                        && t.getCause() != null
                                                ? t.getCause()
                                                : t);
                            } finally {
                                JarEnvironment.uninstall();
                            }
                        },
                        "application-main");
        application.setContextClassLoader(loader);
        application.setDaemon(true);
        application.start();
        while (!mainDone.isDone() && !firstJob.isDone()) {
            if (awaitStop(200) != null) {
                status.stopped(null, "stopped before the job was submitted", null);
                return Main.EXIT_OK;
            }
        }
        if (mainDone.isCompletedExceptionally()) {
            Throwable cause;
            try {
                mainDone.join();
                throw new IllegalStateException("unreachable");
            } catch (CompletionException e) {
                cause = e.getCause() != null ? e.getCause() : e;
            }
            LOG.warn("the main class {} failed", program.entryClass, cause);
            for (JobClient c : jobs) {
                cancel(c);
            }
            Failure f = Failure.ofJob(cause);
            status.failed(
                    new Failure(
                            "The application's main class "
                                    + program.entryClass
                                    + " failed: "
                                    + f.message,
                            f.exceptionClass),
                    null,
                    null,
                    jobs.isEmpty() ? null : JobStatus.CANCELED.name());
            return Main.EXIT_FAILED;
        }
        if (!firstJob.isDone()) {
            status.failed(
                    new Failure(
                            "The application's main class "
                                    + program.entryClass
                                    + " returned without running a job: it must build its"
                                    + " pipeline on"
                                    + " StreamExecutionEnvironment.getExecutionEnvironment() and"
                                    + " call execute().",
                            IllegalArgumentException.class.getName()),
                    null,
                    null,
                    null);
            return Main.EXIT_FAILED;
        }
        // Should the main class fail after this, the job runs on (its error is logged).
        mainDone.whenComplete(
                (ok, e) -> {
                    if (e != null) {
                        LOG.warn(
                                "the main class {} failed after it submitted the job, which"
                                        + " runs on",
                                program.entryClass,
                                e);
                    }
                });
        return submitted(firstJob.join());
    }

    /** Parses one statement with Flink's parser and runs it (INSERTs are collected). */
    private void runStatement(
            TableEnvironmentInternal tables, String sql, List<ModifyOperation> inserts) {
        List<Operation> operations = tables.getParser().parse(sql);
        for (Operation op : operations) {
            if (op instanceof CreateTableOperation) {
                tables.executeInternal(pointed((CreateTableOperation) op));
            } else if (op instanceof CreateTableASOperation) {
                // CREATE TABLE ... AS SELECT: the table first (pointed at the emulator), then
                // its INSERT joins the job.
                CreateTableASOperation ctas = (CreateTableASOperation) op;
                tables.executeInternal(pointed(ctas.getCreateTableOperation()));
                inserts.add(ctas.toSinkModifyOperation(tables.getCatalogManager()));
            } else if (op instanceof ReplaceTableAsOperation) {
                // [CREATE OR] REPLACE TABLE ... AS SELECT: the table (re)created pointed at the
                // emulator, then its INSERT joins the job.
                ReplaceTableAsOperation rtas = (ReplaceTableAsOperation) op;
                CreateTableOperation create = rtas.getCreateTableOperation();
                ObjectIdentifier id = create.getTableIdentifier();
                boolean exists = tables.getCatalogManager().getTable(id).isPresent();
                if (!exists && !rtas.isCreateOrReplace()) {
                    throw new ValidationException(
                            String.format(
                                    "The table %s to be replaced doesn't exist. You can try to use"
                                            + " CREATE TABLE AS statement or CREATE OR REPLACE"
                                            + " TABLE AS statement.",
                                    id.asSummaryString()));
                }
                if (exists) {
                    tables.getCatalogManager().dropTable(id, false);
                }
                tables.executeInternal(pointed(create));
                inserts.add(rtas.toSinkModifyOperation(tables.getCatalogManager()));
            } else if (op instanceof AlterTableChangeOperation) {
                // ALTER TABLE ... SET / RESET: a Kinesis table stays pointed at the emulator.
                AlterTableChangeOperation alter = (AlterTableChangeOperation) op;
                CatalogTable next = alter.getNewTable();
                if (KinesisTables.isKinesis(next.getOptions())) {
                    next = PointedTable.of(next, spec);
                }
                tables.executeInternal(
                        new AlterTableChangeOperation(
                                alter.getTableIdentifier(),
                                alter.getTableChanges(),
                                next,
                                alter.ignoreIfTableNotExists()));
            } else if (op instanceof AlterTableOptionsOperation) {
                AlterTableOptionsOperation alter = (AlterTableOptionsOperation) op;
                CatalogTable next = alter.getCatalogTable();
                if (KinesisTables.isKinesis(next.getOptions())) {
                    next = PointedTable.of(next, spec);
                }
                tables.executeInternal(
                        new AlterTableOptionsOperation(
                                alter.getTableIdentifier(), next, alter.ignoreIfTableNotExists()));
            } else if (op instanceof ModifyOperation) {
                inserts.add((ModifyOperation) op);
            } else if (op instanceof StatementSetOperation) {
                inserts.addAll(((StatementSetOperation) op).getOperations());
            } else if (op instanceof BeginStatementSetOperation
                    || op instanceof EndStatementSetOperation) {
                // Every INSERT is in one statement set already.
            } else if (op instanceof SetOperation) {
                SetOperation set = (SetOperation) op;
                if (set.getKey().isPresent()) {
                    tables.getConfig().set(set.getKey().get(), set.getValue().orElse(""));
                }
            } else if (op instanceof ResetOperation) {
                // Nothing to reset to but the job file's configuration.
            } else if (op instanceof QueryOperation) {
                throw new IllegalArgumentException(
                        "A SELECT whose result goes nowhere: an application writes its results"
                                + " with INSERT INTO a sink table.");
            } else {
                tables.executeInternal(op);
            }
        }
    }

    /** The CREATE TABLE, its Kinesis options pointed at the emulator. */
    private CreateTableOperation pointed(CreateTableOperation op) {
        CatalogTable table = op.getCatalogTable();
        if (!KinesisTables.isKinesis(table.getOptions())) {
            return op;
        }
        LOG.info("table {} reads/writes Kinesis at {}", op.getTableIdentifier(), spec.endpoint);
        return new CreateTableOperation(
                op.getTableIdentifier(),
                PointedTable.of(table, spec),
                op.isIgnoreIfExists(),
                op.isTemporary());
    }

    /**
     * The statement (1-based) whose INSERT the planner refuses, found by planning each alone;
     * 0 when none alone fails.
     */
    private static int culprit(
            TableEnvironmentInternal tables,
            List<ModifyOperation> inserts,
            List<Integer> statements) {
        if (inserts.size() == 1) {
            return statements.get(0);
        }
        for (int i = 0; i < inserts.size(); i++) {
            try {
                tables.explainInternal(List.<Operation>of(inserts.get(i)));
            } catch (Throwable t) {
                return statements.get(i);
            }
        }
        return 0;
    }

    /** Follows the job until it ends or the runner is told to stop. */
    private int supervise(JobClient client) {
        CompletableFuture<?> result = client.getJobExecutionResult();
        while (!result.isDone()) {
            StopReason reason = awaitStop(500);
            if (reason != null) {
                return stop(client, reason);
            }
            snapshotIfRequested(client);
            try {
                JobStatus js = client.getJobStatus().get(10, TimeUnit.SECONDS);
                status.jobStatus(js.name());
            } catch (Exception e) {
                // The cluster shuts down as the job ends: the result says how.
                LOG.debug("job status unavailable: {}", e.toString());
            }
        }
        try {
            result.get();
            status.finished(JobStatus.FINISHED.name());
            return Main.EXIT_OK;
        } catch (Exception e) {
            LOG.warn("job {} failed", client.getJobID(), e);
            status.failed(Failure.ofJob(e), null, null, JobStatus.FAILED.name());
            return Main.EXIT_FAILED;
        }
    }

    /**
     * Takes a savepoint of the running job when the emulator asks for one (CreateApplicationSnapshot):
     * it writes {@code snapshot.request} next to the status file, holding the request's ID;
     * the answer is the status file's {@code snapshot} ({@code id}, and {@code savepoint} or
     * {@code message}). The request file is removed once read.
     */
    private void snapshotIfRequested(JobClient client) {
        Path request = spec.statusFile.toAbsolutePath().resolveSibling("snapshot.request");
        if (!Files.exists(request)) {
            return;
        }
        String id;
        try {
            id = Files.readString(request).trim();
            Files.deleteIfExists(request);
        } catch (Exception e) {
            LOG.warn("reading the snapshot request {}: {}", request, e.toString());
            return;
        }
        if (!spec.snapshotsEnabled) {
            status.snapshot(id, null, "Snapshots are not enabled for this application.");
            return;
        }
        String target = Path.of(spec.savepointDirectory).toAbsolutePath().toUri().toString();
        LOG.info("snapshot {}: a savepoint of job {} into {}", id, client.getJobID(), target);
        try {
            String savepoint =
                    client.triggerSavepoint(target, SavepointFormatType.CANONICAL)
                            .get(spec.stopTimeoutMillis, TimeUnit.MILLISECONDS);
            status.snapshot(id, savepoint, null);
        } catch (Exception e) {
            String why =
                    e instanceof TimeoutException
                            ? "the savepoint took longer than " + spec.stopTimeoutMillis + " ms"
                            : Failure.ofJob(e).message;
            LOG.warn("snapshot {} failed: {}", id, why);
            status.snapshot(id, null, why);
        }
    }

    /** Stops the job: with a savepoint when snapshots are on and someone is listening. */
    private int stop(JobClient client, StopReason reason) {
        status.stopping();
        if (reason == StopReason.SIGNAL && spec.snapshotsEnabled) {
            String target = Path.of(spec.savepointDirectory).toAbsolutePath().toUri().toString();
            LOG.info("stopping job {} with a savepoint into {}", client.getJobID(), target);
            try {
                String savepoint =
                        client.stopWithSavepoint(false, target, SavepointFormatType.CANONICAL)
                                .get(spec.stopTimeoutMillis, TimeUnit.MILLISECONDS);
                status.stopped(savepoint, null, finalJobStatus(client));
                return Main.EXIT_OK;
            } catch (Exception e) {
                String why =
                        e instanceof TimeoutException
                                ? "the savepoint took longer than " + spec.stopTimeoutMillis + " ms"
                                : Failure.ofJob(e).message;
                LOG.warn("stop with savepoint failed, cancelling: {}", why);
                cancel(client);
                status.stopped(
                        null, "Stopped without a savepoint: " + why, finalJobStatus(client));
                return Main.EXIT_FAILED;
            }
        }
        cancel(client);
        status.stopped(
                null,
                reason == StopReason.PARENT_EXITED
                        ? "Stopped: the process that started the runner exited."
                        : null,
                finalJobStatus(client));
        return Main.EXIT_OK;
    }

    /** The job's status once it ended (FINISHED after a stop with savepoint, CANCELED). */
    private static String finalJobStatus(JobClient client) {
        try {
            client.getJobExecutionResult().get(30, TimeUnit.SECONDS);
            return JobStatus.FINISHED.name();
        } catch (Exception e) {
            return JobStatus.CANCELED.name();
        }
    }

    private void cancel(JobClient client) {
        try {
            client.cancel().get(Math.min(spec.stopTimeoutMillis, 30_000), TimeUnit.MILLISECONDS);
            client.getJobExecutionResult().handle((r, e) -> null).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("cancel of job {}: {}", client.getJobID(), e.toString());
        }
    }

    /** The Flink configuration of the run (README.md, "Flink configuration"). */
    Configuration configuration() {
        Map<String, String> c = new HashMap<>();
        c.put("pipeline.name", spec.applicationName);
        c.put("io.tmp.dirs", workDir.toString());
        c.put("web.tmpdir", workDir.toString());
        c.put("web.upload.dir", workDir.toString());
        c.put("parallelism.default", Integer.toString(spec.parallelism));
        // The MiniCluster's REST endpoint (no web UI in the jar) on loopback, a free port.
        c.put("rest.bind-address", "127.0.0.1");
        c.put("rest.address", "127.0.0.1");
        c.put("rest.bind-port", "0");
        // Memory: the MiniCluster's network buffers default to 64 MiB of direct memory; a
        // SQL job at parallelism 1-4 needs a few MiB.
        c.put("taskmanager.memory.network.min", "16m");
        c.put("taskmanager.memory.network.max", "16m");
        // The shard readers into the status file.
        c.put("metrics.reporter.shards.factory.class", ShardReporter.Factory.class.getName());
        // A failing job is retried a few times, then the run is FAILED with its error.
        if (spec.restartAttempts > 0) {
            c.put("restart-strategy.type", "fixed-delay");
            c.put("restart-strategy.fixed-delay.attempts", Integer.toString(spec.restartAttempts));
            c.put("restart-strategy.fixed-delay.delay", spec.restartDelayMillis + " ms");
        } else {
            c.put("restart-strategy.type", "none");
        }
        if (spec.checkpointingEnabled) {
            c.put("execution.checkpointing.interval", spec.checkpointIntervalMillis + " ms");
            c.put(
                    "execution.checkpointing.min-pause",
                    spec.checkpointMinPauseMillis + " ms");
            if (spec.checkpointDirectory != null) {
                c.put("state.checkpoints.dir", uri(spec.checkpointDirectory));
                c.put(
                        "execution.checkpointing.externalized-checkpoint-retention",
                        "RETAIN_ON_CANCELLATION");
                c.put("state.checkpoints.num-retained", "1");
            }
        }
        if (spec.savepointDirectory != null) {
            c.put("state.savepoints.dir", uri(spec.savepointDirectory));
        }
        if (spec.restoreFrom != null) {
            c.put("execution.savepoint.path", uri(spec.restoreFrom));
            c.put(
                    "execution.savepoint.ignore-unclaimed-state",
                    Boolean.toString(spec.allowNonRestoredState));
        }
        c.putAll(spec.flinkConfiguration);
        return Configuration.fromMap(c);
    }

    /** A path as the URI Flink expects; a URI (Flink writes savepoints as file:/...) as is. */
    static String uri(String path) {
        return URI_SCHEME.matcher(path).lookingAt()
                ? path
                : Path.of(path).toAbsolutePath().toUri().toString();
    }

    private static final Pattern URI_SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]+:");

    private void installSignalHandlers() {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), s -> requestStop(StopReason.SIGNAL, name));
            } catch (IllegalArgumentException e) {
                LOG.warn("cannot handle SIG{}: {}", name, e.getMessage());
            }
        }
    }

    /** Stops the run when the process that started it exits (it is re-parented then). */
    private void watchParent() {
        Optional<Long> parent = ProcessHandle.current().parent().map(ProcessHandle::pid);
        if (parent.isEmpty() || parent.get() == 1) {
            return;
        }
        long ppid = parent.get();
        Thread t =
                new Thread(
                        () -> {
                            while (true) {
                                try {
                                    Thread.sleep(1000);
                                } catch (InterruptedException e) {
                                    return;
                                }
                                Optional<ProcessHandle> p = ProcessHandle.current().parent();
                                if (p.isEmpty() || p.get().pid() != ppid || !p.get().isAlive()) {
                                    LOG.warn("the parent process {} exited: stopping", ppid);
                                    requestStop(StopReason.PARENT_EXITED, null);
                                    return;
                                }
                            }
                        },
                        "runner-parent-watch");
        t.setDaemon(true);
        t.start();
    }

    private void requestStop(StopReason reason, String signal) {
        synchronized (stopLock) {
            if (stopRequest == null) {
                stopRequest = reason;
                LOG.info("stop requested: {}", reason);
                // Should the stop hang (a savepoint that never completes), do not outlive it.
                long grace = spec.stopTimeoutMillis + 45_000;
                Thread watchdog =
                        new Thread(
                                () -> {
                                    try {
                                        Thread.sleep(grace);
                                    } catch (InterruptedException e) {
                                        return;
                                    }
                                    LOG.error("stop took over {} ms: halting", grace);
                                    Runtime.getRuntime().halt(Main.EXIT_FAILED);
                                },
                                "runner-stop-watchdog");
                watchdog.setDaemon(true);
                watchdog.start();
            } else if ("INT".equals(signal)) {
                // Ctrl-C twice: the user at the terminal means it. (A repeated SIGTERM is
                // ignored: the savepoint under way must not be cut short.)
                LOG.warn("second SIGINT: halting");
                Runtime.getRuntime().halt(Main.EXIT_FAILED);
            }
            stopLock.notifyAll();
        }
    }

    private StopReason stopRequested() {
        synchronized (stopLock) {
            return stopRequest;
        }
    }

    private StopReason awaitStop(long millis) {
        synchronized (stopLock) {
            if (stopRequest == null) {
                try {
                    stopLock.wait(millis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return stopRequest;
        }
    }
}
