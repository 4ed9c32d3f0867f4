package dev.kinesisoperator.runner;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.DetachedJobExecutionResult;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;

/**
 * The environment a JAR application's main class gets from {@code
 * StreamExecutionEnvironment.getExecutionEnvironment()}, as {@code flink run} installs its
 * StreamContextEnvironment: the job runs on this runner's MiniCluster with the run's
 * configuration (checkpoints, savepoint to restore, restarts), its Kinesis sources and sinks
 * pointed at the emulator, and {@code execute()} returns once the job is submitted (as a
 * detached {@code flink run}), handing the job to the runner, which follows and stops it as it
 * does a SQL application's.
 */
final class JarEnvironment extends StreamExecutionEnvironment {
    /** What the user's main class submitted. */
    interface Submissions {
        /** The graph about to run; throws to refuse it. */
        void before(StreamGraph graph);

        /** The job was submitted. */
        void submitted(JobClient client);
    }

    private final Submissions submissions;

    private JarEnvironment(Configuration conf, ClassLoader userCode, Submissions submissions) {
        super(conf, userCode);
        this.submissions = submissions;
    }

    /** From now on getExecutionEnvironment() gives the user's code this environment. */
    static void install(Configuration base, ClassLoader userCode, Submissions submissions) {
        initializeContextEnvironment(
                userConf -> {
                    // The user's own settings (getExecutionEnvironment(conf)) over the run's.
                    Configuration merged = new Configuration(base);
                    merged.addAll(userConf);
                    return new JarEnvironment(merged, userCode, submissions);
                });
    }

    /** Undoes install(). */
    static void uninstall() {
        resetContextEnvironment();
    }

    @Override
    public JobClient executeAsync(StreamGraph graph) throws Exception {
        submissions.before(graph);
        JobClient client = super.executeAsync(graph);
        submissions.submitted(client);
        return client;
    }

    @Override
    public JobExecutionResult execute(StreamGraph graph) throws Exception {
        return new DetachedJobExecutionResult(executeAsync(graph).getJobID());
    }
}
