package org.cttriage.plugin.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The training arrays are read by numpy exactly as documented, and numpy agrees with the
 * DICOM files that pydicom reads: one source of anatomy truth for DICOM and training.
 */
@RequiresTools("/usr/bin/python3")
class NpyInteropTest {
    @TempDir
    Path dir;

    @Test
    void numpyReadsArraysThatMatchTheDicomSeries() throws Exception {
        assertThat(CommandLineTest.run("generate", "--out", dir.toString(), "--seed", "12", "--matrix", "64",
                "--slices", "20", "--slice-spacing", "8", "--findings", "renal_cyst").exitCode()).isZero();
        // Also write the image array of the same phantom via the training path.
        assertThat(CommandLineTest.run("generate", "--out", dir.resolve("arrays").toString(), "--training-arrays",
                "--seed", "12", "--matrix", "64", "--slices", "20", "--slice-spacing", "8", "--findings", "renal_cyst")
                .exitCode()).isZero();
        String script = String.join("\n",
                "import json, os, sys, numpy as np, pydicom",
                "d = sys.argv[1]",
                "labels = np.load(os.path.join(d, 'labels.npy'))",
                "findings = np.load(os.path.join(d, 'findings.npy'))",
                "image = np.load(os.path.join(d, 'arrays', 'case-00000', 'image.npy'))",
                "assert labels.dtype == np.uint8 and labels.shape == (20, 64, 64), labels.shape",
                "assert findings.dtype == np.uint16 and image.dtype == np.int16 and image.shape == (20, 64, 64)",
                "truth = json.load(open(os.path.join(d, 'truth.json')))",
                "bit = [f['bit'] for f in truth['findings'] if f['id'] == 'renal_cyst'][0]",
                "assert ((findings >> bit) & 1).sum() > 0",
                "assert (labels == truth['organLabels']['kidney']).sum() > 0",
                "files = sorted(os.listdir(os.path.join(d, 'dicom')))",
                "ds = [pydicom.dcmread(os.path.join(d, 'dicom', f)) for f in files]",
                "ds.sort(key=lambda x: -float(x.ImagePositionPatient[2]))",
                "hu = np.stack([x.pixel_array.astype(np.int32) * int(x.RescaleSlope) + int(x.RescaleIntercept) for x in ds])",
                "assert (hu == image).all(), np.abs(hu - image).max()",
                "print('ok')");
        ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(120), "/usr/bin/python3", "-c", script,
                dir.toString());
        assertThat(r.output()).as(r.output()).contains("ok");
        assertThat(r.exitCode()).isZero();
    }
}
