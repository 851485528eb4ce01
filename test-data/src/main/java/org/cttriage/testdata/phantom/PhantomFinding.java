package org.cttriage.testdata.phantom;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The 16 findings the phantom can insert. {@link #bit()} is the bit index in
 * {@link Phantom#findingMask()}; {@link #id()} is the stable snake_case identifier used in files and
 * on the command line. Prevalences are rough screening-population rates used when a spec asks for
 * random findings.
 */
public enum PhantomFinding {
    PULMONARY_NODULE("pulmonary_nodule", Organ.LUNG, 0.25),
    EMPHYSEMA("emphysema", Organ.LUNG, 0.15),
    PLEURAL_EFFUSION("pleural_effusion", Organ.LUNG, 0.12),
    CONSOLIDATION("consolidation", Organ.LUNG, 0.10),
    LIVER_CYST("liver_cyst", Organ.LIVER, 0.15),
    HEPATIC_STEATOSIS("hepatic_steatosis", Organ.LIVER, 0.20),
    LIVER_MASS("liver_mass", Organ.LIVER, 0.08),
    HEPATOMEGALY("hepatomegaly", Organ.LIVER, 0.10),
    CHOLELITHIASIS("cholelithiasis", Organ.GALLBLADDER, 0.12),
    RENAL_CYST("renal_cyst", Organ.KIDNEY, 0.20),
    NEPHROLITHIASIS("nephrolithiasis", Organ.KIDNEY, 0.10),
    HYDRONEPHROSIS("hydronephrosis", Organ.KIDNEY, 0.06),
    PANCREATIC_MASS("pancreatic_mass", Organ.PANCREAS, 0.05),
    SPLENOMEGALY("splenomegaly", Organ.SPLEEN, 0.08),
    AORTIC_CALCIFICATION("aortic_calcification", Organ.AORTA, 0.25),
    AORTIC_ANEURYSM("aortic_aneurysm", Organ.AORTA, 0.06);

    private final String id;
    private final Organ organ;
    private final double prevalence;

    PhantomFinding(String id, Organ organ, double prevalence) {
        this.id = id;
        this.organ = organ;
        this.prevalence = prevalence;
    }

    /** Stable snake_case identifier. */
    public String id() {
        return id;
    }

    /** The organ the finding belongs to. */
    public Organ organ() {
        return organ;
    }

    /** Probability of drawing this finding when {@link PhantomSpec#randomFindings()} is set. */
    public double prevalence() {
        return prevalence;
    }

    /** Bit index (0..15) in the finding mask; equal to the declaration order, which is therefore frozen. */
    public int bit() {
        return ordinal();
    }

    /**
     * Looks a finding up by its {@link #id()}.
     *
     * @throws IllegalArgumentException if the id is unknown; the message lists the valid ids
     */
    public static PhantomFinding fromId(String id) {
        for (PhantomFinding f : values()) {
            if (f.id.equals(id)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown finding id '" + id + "'; valid ids: "
                + Arrays.stream(values()).map(PhantomFinding::id).collect(Collectors.joining(", ")));
    }
}
