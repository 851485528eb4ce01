package org.cttriage.core.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import org.junit.jupiter.api.Test;

class BinaryMetricsTest {
    @Test
    void perfectSeparationAndChance() {
        BinaryMetrics m = BinaryMetrics.of(new double[] {0.9, 0.8, 0.2, 0.1}, new boolean[] {true, true, false, false}, 0.5);
        assertThat(m.auc()).isEqualTo(1.0);
        assertThat(m.sensitivity()).isEqualTo(1.0);
        assertThat(m.specificity()).isEqualTo(1.0);
        assertThat(m.f1()).isEqualTo(1.0);
        BinaryMetrics ties = BinaryMetrics.of(new double[] {0.5, 0.5, 0.5, 0.5}, new boolean[] {true, false, true, false}, 0.6);
        assertThat(ties.auc()).isEqualTo(0.5);
        assertThat(ties.sensitivity()).isZero();
        assertThat(ties.specificity()).isEqualTo(1.0);
    }

    @Test
    void aucMatchesHandComputedMannWhitney() {
        // positives 0.8, 0.4; negatives 0.6, 0.2, 0.4 → wins 0.8>all (3), 0.4>0.2 (1) + tie with 0.4 (0.5) → 4.5/6
        BinaryMetrics m = BinaryMetrics.of(new double[] {0.8, 0.4, 0.6, 0.2, 0.4},
                new boolean[] {true, true, false, false, false}, 0.5);
        assertThat(m.auc()).isCloseTo(0.75, offset(1e-12));
        assertThat(m.positives()).isEqualTo(2);
        assertThat(m.negatives()).isEqualTo(3);
        assertThat(m.f1()).isCloseTo(2.0 / (2 + 1 + 1), offset(1e-12));
    }

    @Test
    void theAucIntervalIsDeLongs() {
        // positives 0.8, 0.4, 0.9; negatives 0.6, 0.2, 0.4, 0.1: AUC 10.5 / 12 = 0.875; DeLong's components
        // (per positive 0.75, 0.625, 1; per negative 2/3, 1, 5/6, 1) give a variance of 0.022135 (numpy, by hand)
        double[] scores = {0.8, 0.4, 0.6, 0.2, 0.4, 0.9, 0.1};
        boolean[] truth = {true, true, false, false, false, true, false};
        assertThat(BinaryMetrics.of(scores, truth, 0.5).auc()).isCloseTo(0.875, offset(1e-12));
        double[] ci = BinaryMetrics.aucInterval95(scores, truth);
        assertThat(ci[0]).isCloseTo(0.5843462031391476, offset(1e-9));
        assertThat(ci[1]).as("clipped to 1").isEqualTo(1.0);
        assertThat(BinaryMetrics.aucInterval95(new double[] {0.9, 0.1, 0.2}, new boolean[] {true, false, false}))
                .as("one positive: no interval").containsOnly(Double.NaN);
        assertThat(BinaryMetrics.aucInterval95(new double[] {0.9, 0.8, 0.1, 0.2}, new boolean[] {true, true, false, false}))
                .as("perfectly separated: no spread").containsExactly(1.0, 1.0);
    }

    @Test
    void emptyClassGivesNaN() {
        assertThat(BinaryMetrics.of(new double[] {0.1}, new boolean[] {false}, 0.5).auc()).isNaN();
    }

    @Test
    void dice() {
        byte[] a = {1, 1, 0, 2};
        byte[] b = {1, 0, 0, 2};
        assertThat(BinaryMetrics.dice(a, b, 1)).isCloseTo(2.0 / 3, offset(1e-12));
        assertThat(BinaryMetrics.dice(a, b, 2)).isEqualTo(1.0);
        assertThat(BinaryMetrics.dice(a, b, 3)).isNaN();
    }
}
