package org.cttriage.core.inference;

/**
 * How the engine runs. {@link #defaults()} documents every default.
 *
 * @param device          AUTO (CUDA when available, else CPU with one log line), CPU, or CUDA
 *                        (fails at start-up when no CUDA device/provider is available) (default AUTO)
 * @param intraOpThreads  ONNX Runtime intra-op threads; 0 = ONNX Runtime's choice (default 0)
 * @param cudaDeviceId    CUDA device index (default 0)
 * @param severities      the site's severity per finding id, over the dictionary's (default none): what a
 *                        finding called present makes the study's priority
 */
public record EngineOptions(Device device, int intraOpThreads, int cudaDeviceId,
        java.util.Map<String, org.cttriage.core.domain.Priority> severities) {

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
        severities = java.util.Map.copyOf(severities);
    }

    public EngineOptions(Device device, int intraOpThreads, int cudaDeviceId) {
        this(device, intraOpThreads, cudaDeviceId, java.util.Map.of());
    }

    /** The site's severities over the dictionary's (finding id → priority). */
    public EngineOptions withSeverities(java.util.Map<String, org.cttriage.core.domain.Priority> overrides) {
        return new EngineOptions(device, intraOpThreads, cudaDeviceId, overrides);
    }

    /** The severity of finding {@code id}: the site's when configured, else the dictionary's {@code dictionary}. */
    public org.cttriage.core.domain.Priority severity(String id, org.cttriage.core.domain.Priority dictionary) {
        return severities.getOrDefault(id, dictionary);
    }

    /** The defaults listed on the record. */
    public static EngineOptions defaults() {
        return new EngineOptions(Device.AUTO, 0, 0);
    }

    public EngineOptions withDevice(Device d) {
        return new EngineOptions(d, intraOpThreads, cudaDeviceId, severities);
    }

    public EngineOptions withIntraOpThreads(int n) {
        return new EngineOptions(device, n, cudaDeviceId, severities);
    }
}
