package org.cttriage.plugin.node;

import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.cttriage.core.inference.EngineOptions;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.inference.ModelPackage;

/**
 * The reference model on the CPU and a triage pool, opened once for the node tests of this test JVM: every node test
 * class needs them, none changes them, and loading the model per class cost time and six copies of the same set-up.
 * Released when the JVM exits (daemon threads; the engine's native sessions with the process).
 */
final class SharedEngine {
    static final Path PACKAGE = Path.of(System.getProperty("ctglip.package", "../models/ctglip-ref"));
    private static InferenceEngine engine;
    private static ExecutorService pool;

    private SharedEngine() {
    }

    static synchronized InferenceEngine cpu() throws Exception {
        if (engine == null) {
            engine = new InferenceEngine(ModelPackage.load(PACKAGE), EngineOptions.defaults()
                    .withDevice(EngineOptions.Device.CPU));
        }
        return engine;
    }

    static synchronized ExecutorService pool() {
        if (pool == null) {
            pool = Executors.newFixedThreadPool(2, r -> {
                Thread t = new Thread(r, "test-triage");
                t.setDaemon(true);
                return t;
            });
        }
        return pool;
    }
}
