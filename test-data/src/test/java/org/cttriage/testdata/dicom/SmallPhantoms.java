package org.cttriage.testdata.dicom;

import java.util.Set;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.Phantom;
import org.cttriage.testdata.phantom.PhantomFinding;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomSpec;

/** Small phantoms so that writer tests stay fast. */
final class SmallPhantoms {
    private SmallPhantoms() {
    }

    static Phantom of(long seed, ContrastPhase phase, Set<PhantomFinding> findings) {
        return new PhantomGenerator().generate(new PhantomSpec(seed, 64, 64, 12, 400.0 / 64, 10, 10, phase, findings, false));
    }

    static Phantom of(long seed) {
        return of(seed, ContrastPhase.NONE, Set.of());
    }
}
