package org.cttriage.testdata.phantom;

import java.util.SplittableRandom;

/** Seed mixing and small sampling helpers shared by the model builders. */
final class Rng {
    private Rng() {
    }

    /** SplitMix64 finaliser: decorrelates streams derived from the same seed. */
    static long mix(long seed, long stream) {
        long z = seed + 0x9E3779B97F4A7C15L * (stream + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static SplittableRandom stream(long seed, long stream) {
        return new SplittableRandom(mix(seed, stream));
    }

    static double uni(SplittableRandom r, double lo, double hi) {
        return lo + (hi - lo) * r.nextDouble();
    }

    static double normal(SplittableRandom r, double mean, double sd, double lo, double hi) {
        double v = mean + sd * r.nextGaussian();
        return Math.max(lo, Math.min(hi, v));
    }

    static double smoothstep(double e0, double e1, double x) {
        double t = (x - e0) / (e1 - e0);
        t = t < 0 ? 0 : (t > 1 ? 1 : t);
        return t * t * (3 - 2 * t);
    }

    static double lerp(double a, double b, double t) {
        return a + (b - a) * t;
    }
}
