package org.cttriage.core.inference;

/**
 * How the engine runs. {@link #defaults()} documents every default.
 *
 * @param device          AUTO (CUDA when available, else CPU with one log line), CPU, or CUDA
 *                        (fails at start-up when no CUDA device/provider is available) (default AUTO)
 * @param intraOpThreads  ONNX Runtime intra-op threads; 0 = ONNX Runtime's choice (default 0)
 * @param cudaDeviceId    CUDA device index (default 0)
 */
public record EngineOptions(Device device, int intraOpThreads, int cudaDeviceId) {

    /** Where inference runs. */
    public enum Device { AUTO, CPU, CUDA }

    public EngineOptions {
        if (device == null) {
            throw new IllegalArgumentException("device must be one of AUTO, CPU, CUDA");
        }
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException("intraOpThreads must be >= 0, was " + intraOpThreads);
        }
        if (cudaDeviceId < 0) {
            throw new IllegalArgumentException("cudaDeviceId must be >= 0, was " + cudaDeviceId);
        }
    }

    /** The defaults listed on the record. */
    public static EngineOptions defaults() {
        return new EngineOptions(Device.AUTO, 0, 0);
    }

    public EngineOptions withDevice(Device d) {
        return new EngineOptions(d, intraOpThreads, cudaDeviceId);
    }

    public EngineOptions withIntraOpThreads(int n) {
        return new EngineOptions(device, n, cudaDeviceId);
    }
}
