package org.cttriage.plugin.cli;

import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import picocli.CommandLine.Option;

/** Series-selection and assembly options shared by the commands that build volumes. */
final class PolicyOptions {
    @Option(names = "--min-slices", description = "Fewest slices a series may have (default: 20).")
    Integer minSlices;

    @Option(names = "--duplicate-positions", description = "Several slices at one position: SPLIT into phases or REJECT (default: SPLIT).")
    SelectionPolicy.DuplicatePositionPolicy duplicatePositions;

    @Option(names = "--gantry-tilt", description = "Tilted stacks: ACCEPT_SHEARED (keep the true geometry) or REJECT (default: ACCEPT_SHEARED).")
    AssemblyPolicy.GantryTiltPolicy gantryTilt;

    @Option(names = "--max-missing-slices", description = "Missing slices one gap may have and still be interpolated (default: 2).")
    Integer maxMissingSlices;

    SelectionPolicy selection() {
        SelectionPolicy p = SelectionPolicy.defaults();
        if (minSlices != null) {
            p = p.withMinimumSlices(minSlices);
        }
        if (duplicatePositions != null) {
            p = p.withDuplicatePositions(duplicatePositions);
        }
        return p;
    }

    AssemblyPolicy assembly() {
        AssemblyPolicy p = AssemblyPolicy.defaults();
        if (gantryTilt != null) {
            p = p.withGantryTilt(gantryTilt);
        }
        if (maxMissingSlices != null) {
            p = p.withMaxMissingSlicesPerGap(maxMissingSlices);
        }
        return p;
    }
}
