package org.cttriage.plugin.cli;

import java.nio.file.Path;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.inference.EngineOptions;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.inference.ModelPackage;
import picocli.CommandLine.Option;

/** Model package and inference device options shared by the commands that run the model. */
final class ModelOptions {
    @Option(names = "--model", defaultValue = "${sys:ct-triage.home:-.}/models/ctglip-ref", paramLabel = "DIR",
            description = "Model package folder (default: ${DEFAULT-VALUE}).")
    Path model;

    @Option(names = "--device", defaultValue = "AUTO",
            description = "Inference device: AUTO (CUDA if this build has it, else CPU), CPU, or CUDA (fails if unavailable) (default: ${DEFAULT-VALUE}).")
    EngineOptions.Device device;

    @Option(names = "--intra-op-threads", defaultValue = "0",
            description = "ONNX Runtime intra-op threads, 0 = ONNX Runtime's default (default: ${DEFAULT-VALUE}).")
    int intraOpThreads;

    EngineOptions engineOptions() {
        return EngineOptions.defaults().withDevice(device).withIntraOpThreads(intraOpThreads);
    }

    InferenceEngine open() throws TriageException {
        return new InferenceEngine(ModelPackage.load(model), engineOptions());
    }
}
