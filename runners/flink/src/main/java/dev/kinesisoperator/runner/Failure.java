package dev.kinesisoperator.runner;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Flink's own error, as the status file reports it. */
final class Failure {
    /** The message the user sees. */
    final String message;
    /** The class of the exception the message came from. */
    final String exceptionClass;

    /** The table API's wrapper of anything that fails as a job is submitted. */
    private static final String GENERIC = "Failed to execute sql";

    Failure(String message, String exceptionClass) {
        this.message = message;
        this.exceptionClass = exceptionClass;
    }

    /**
     * A statement that Flink refused (parse, validation, planning: a Kinesis sink fed an
     * updating result is refused here). Flink's outermost message is the one that says what is
     * wrong in the user's terms ("SQL validation failed. From line 3, column 6 ...: Object
     * 'x' not found"); its causes repeat it in Calcite's.
     */
    static Failure ofStatement(Throwable t) {
        Throwable top = unwrap(t);
        if (GENERIC.equals(top.getMessage()) && top.getCause() != null) {
            // The job was refused at submission (a savepoint that does not fit the job, say):
            // what went wrong is at the root.
            return ofJob(top.getCause());
        }
        for (Throwable c : chain(top)) {
            String m = c.getMessage();
            if (m != null && !m.isBlank()) {
                return new Failure(m.strip(), c.getClass().getName());
            }
        }
        return new Failure(top.toString(), top.getClass().getName());
    }

    /**
     * A job that failed while running: Flink wraps the cause in "Job execution failed." and
     * "Recovery is suppressed by ...", so the root cause says what happened ("Stream X not
     * found", a deserialization error); its class name leads, as some carry no message.
     */
    static Failure ofJob(Throwable t) {
        List<Throwable> chain = chain(unwrap(t));
        Throwable root = chain.get(chain.size() - 1);
        String rootMessage = root.getMessage();
        String message =
                root.getClass().getSimpleName()
                        + (rootMessage == null || rootMessage.isBlank()
                                ? ""
                                : ": " + rootMessage.strip());
        return new Failure(message, root.getClass().getName());
    }

    /** Whether `t` failed the job's submission (past the planner). */
    static boolean isSubmission(Throwable t) {
        return GENERIC.equals(unwrap(t).getMessage());
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof ExecutionException || t instanceof CompletionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static List<Throwable> chain(Throwable t) {
        List<Throwable> out = new ArrayList<>();
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        while (t != null && seen.add(t)) {
            out.add(t);
            t = t.getCause();
        }
        return out;
    }
}
