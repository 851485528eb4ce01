package org.cttriage.testdata.phantom;

/**
 * Which of the 7 segmented organs a voxel belongs to. Label values are stable because they are
 * stored in training arrays; never renumber them.
 */
public enum Organ {
    BACKGROUND(0), LUNG(1), LIVER(2), GALLBLADDER(3), KIDNEY(4), PANCREAS(5), SPLEEN(6), AORTA(7);

    private final int label;

    Organ(int label) {
        this.label = label;
    }

    /** The value written into {@link Phantom#organLabels()} for this organ. */
    public int label() {
        return label;
    }
}
