package org.cttriage.testdata.phantom;

/** Timing of the simulated contrast bolus; decides the attenuation of blood and enhancing organs. */
public enum ContrastPhase {
    /** Unenhanced scan. */
    NONE,
    /** Late arterial phase (~35 s): dense aorta, corticomedullary kidneys, heterogeneous spleen. */
    ARTERIAL,
    /** Portal venous phase (~70 s): enhanced liver, homogeneous spleen, nephrographic kidneys. */
    PORTAL_VENOUS
}
