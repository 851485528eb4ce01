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
