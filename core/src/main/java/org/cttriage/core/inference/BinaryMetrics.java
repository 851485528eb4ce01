package org.cttriage.core.inference;

/**
 * Detection metrics for one finding over a set of cases: ROC AUC (Mann–Whitney, ties count
 * one half), and sensitivity, specificity and F1 at a threshold.
 *
 * @param positives    cases with the finding
 * @param negatives    cases without it
 * @param auc          area under the ROC curve (NaN when either class is empty)
 * @param sensitivity  TP / (TP + FN) at the threshold (NaN without positives)
 * @param specificity  TN / (TN + FP) at the threshold (NaN without negatives)
 * @param f1           2TP / (2TP + FP + FN) (NaN when undefined)
 */
public record BinaryMetrics(int positives, int negatives, double auc, double sensitivity, double specificity, double f1) {

    /** Computes the metrics of {@code scores} against {@code truth} at {@code threshold}. */
    public static BinaryMetrics of(double[] scores, boolean[] truth, double threshold) {
        int pos = 0;
        int neg = 0;
        int tp = 0;
        int fp = 0;
        for (int i = 0; i < scores.length; i++) {
            boolean called = scores[i] >= threshold;
            if (truth[i]) {
                pos++;
                tp += called ? 1 : 0;
            } else {
                neg++;
                fp += called ? 1 : 0;
            }
        }
        int fn = pos - tp;
        int tn = neg - fp;
        double wins = 0;
        for (int i = 0; i < scores.length; i++) {
            if (!truth[i]) {
                continue;
            }
            for (int j = 0; j < scores.length; j++) {
                if (!truth[j]) {
                    wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                }
            }
        }
        double auc = pos == 0 || neg == 0 ? Double.NaN : wins / ((double) pos * neg);
        double f1 = 2 * tp + fp + fn == 0 ? Double.NaN : 2.0 * tp / (2 * tp + fp + fn);
        return new BinaryMetrics(pos, neg, auc, pos == 0 ? Double.NaN : (double) tp / pos,
                neg == 0 ? Double.NaN : (double) tn / neg, f1);
    }

    /**
     * A 95 % interval of the AUC of {@code scores} against {@code truth}: the AUC ± 1.96 standard errors of DeLong et
     * al. (1988; the variance of the Mann–Whitney statistic from its per-case components), clipped to [0, 1].
     * {NaN, NaN} with fewer than two positives or two negatives. With ten positives it spans about 0.3: what a
     * rare finding's AUC among random cases can say.
     */
    public static double[] aucInterval95(double[] scores, boolean[] truth) {
        int m = 0;
        int n = 0;
        for (boolean t : truth) {
            m += t ? 1 : 0;
            n += t ? 0 : 1;
        }
        if (m < 2 || n < 2) {
            return new double[] {Double.NaN, Double.NaN};
        }
        double[] v10 = new double[m]; // per positive: the fraction of negatives it outranks
        double[] v01 = new double[n]; // per negative: the fraction of positives that outrank it
        int i = 0;
        for (int a = 0; a < scores.length; a++) {
            if (!truth[a]) {
                continue;
            }
            int j = 0;
            for (int b = 0; b < scores.length; b++) {
                if (truth[b]) {
                    continue;
                }
                double psi = scores[a] > scores[b] ? 1 : scores[a] == scores[b] ? 0.5 : 0;
                v10[i] += psi / n;
                v01[j] += psi / m;
                j++;
            }
            i++;
        }
        double auc = java.util.Arrays.stream(v10).average().orElseThrow();
        double s10 = java.util.Arrays.stream(v10).map(v -> (v - auc) * (v - auc)).sum() / (m - 1);
        double s01 = java.util.Arrays.stream(v01).map(v -> (v - auc) * (v - auc)).sum() / (n - 1);
        double half = 1.96 * Math.sqrt(s10 / m + s01 / n);
        return new double[] {Math.max(0, auc - half), Math.min(1, auc + half)};
    }

    /** Dice overlap of label {@code label} between two label grids (NaN when absent from both). */
    public static double dice(byte[] a, byte[] b, int label) {
        long inter = 0;
        long sa = 0;
        long sb = 0;
        for (int i = 0; i < a.length; i++) {
            boolean x = a[i] == label;
            boolean y = b[i] == label;
            sa += x ? 1 : 0;
            sb += y ? 1 : 0;
            inter += x && y ? 1 : 0;
        }
        return sa + sb == 0 ? Double.NaN : 2.0 * inter / (sa + sb);
    }
}
