package org.cttriage.testdata.junit;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Implements {@link RequiresTools}: skip locally, fail in CI, when a peer is missing. */
public final class ExternalToolExtension implements ExecutionCondition, BeforeAllCallback {

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        List<String> missing = missing(context);
        if (missing.isEmpty() || isCi()) {
            return ConditionEvaluationResult.enabled("peers present (or CI, where absence fails)");
        }
        return ConditionEvaluationResult.disabled("missing peer(s) " + missing + "; run bin/setup to install them");
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        List<String> missing = missing(context);
        if (!missing.isEmpty()) {
            throw new AssertionError("CI=true and required peer(s) " + missing
                    + " are missing: bin/setup must install them");
        }
    }

    private static boolean isCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    private static List<String> missing(ExtensionContext context) {
        List<String> out = new ArrayList<>();
        RequiresTools tools = findAnnotation(context.getRequiredTestClass());
        if (tools == null) {
            return out;
        }
        for (String tool : tools.value()) {
            if (find(tool) == null) {
                out.add(tool);
            }
        }
        return out;
    }

    private static RequiresTools findAnnotation(Class<?> c) {
        for (Class<?> k = c; k != null; k = k.getEnclosingClass()) {
            RequiresTools t = k.getAnnotation(RequiresTools.class);
            if (t != null) {
                return t;
            }
        }
        return null;
    }

    /**
     * The executable's path, or null when it is not installed. The sbin folders are searched after
     * PATH: Debian installs daemons such as Orthanc there, and a normal user's PATH often lacks them.
     */
    public static Path find(String tool) {
        if (tool.contains("/")) {
            Path p = Path.of(tool);
            return Files.exists(p) ? p : null;
        }
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin")
                + File.pathSeparator + "/usr/local/sbin:/usr/sbin:/sbin";
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }
}
