package org.cttriage.plugin.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.cttriage.core.inference.OrganCropSpec;
import org.cttriage.core.inference.OrganCrops;
import org.cttriage.core.inference.OrganSegmentation;
import org.cttriage.core.volume.Volume;
import org.cttriage.core.volume.VolumeGeometry;
import org.cttriage.testdata.arrays.NpyWriter;
import org.cttriage.testdata.phantom.PhantomScene;

/**
 * {@code evaluate --crop-dump}: the organ crops of a crop spec as serving makes them, in the files of
 * {@code generate --training-crops}, so that the experiments (experiments/second_look.py, dot_filter.py) run on what
 * the engine sees. Per organ (each side of a paired one) with a box in the served segmentation, on the grid that
 * box gives ({@link OrganCrops#grid}, as the engine's crop stage):
 * {@code NAME.hu.npy} (int16, the footprint-mean HU of the served DICOM volume), {@code NAME.organ.npy} (uint8, the
 * fraction of the crop voxel in the served coarse segmentation's organ × 255), and, for comparison, the training
 * path on the same grid: {@code NAME.render-hu.npy} and {@code NAME.render-organ.npy} (the phantom's region rendered
 * under the grid and its true organ fraction, {@link TrainingCrops#make}). One truth.json per case
 * ({@link TrainingCrops#truthOf} with a "crops" list).
 */
final class ServedCrops {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final OrganCropSpec spec;
    private final OrganCrops crops;
    private final TrainingCrops training;

    ServedCrops(OrganCropSpec spec) {
        this.spec = spec;
        this.crops = new OrganCrops(spec);
        this.training = new TrainingCrops(spec, false);
    }

    /** Writes the case's crops to {@code folder}; returns how many. */
    int write(PhantomScene scene, Volume volume, OrganSegmentation segmentation, Path folder) throws IOException {
        Files.createDirectories(folder);
        VolumeGeometry coarse = segmentation.geometry();
        ObjectNode truth = TrainingCrops.truthOf(scene);
        truth.put("kind", "served organ crops");
        ArrayNode list = truth.putArray("crops");
        int stream = 1;
        for (OrganCropSpec.OrganGrid organ : spec.organs()) {
            for (OrganSegmentation.SideBox sb : segmentation.cropBoxes(organ.label(), organ.bySide())) {
                String side = sb.sideName();
                OrganSegmentation.Box box = sb.box();
                OrganCrops.CropGrid grid = crops.grid(organ, box.minLps(), box.maxLps());
                String name = TrainingCrops.cropName(organ, side);
                int[] n = organ.gridSize();
                NpyWriter.writeInt16(folder.resolve(name + ".hu.npy"), TrainingCrops.int16(crops.meanHu(volume, grid)),
                        n[2], n[1], n[0]);
                NpyWriter.writeUint8(folder.resolve(name + ".organ.npy"), TrainingCrops.fraction255(
                        crops.labelFraction(segmentation.labels(), coarse, grid, organ.label())), n[2], n[1], n[0]);
                TrainingCrops.Made rendered = training.make(scene, grid, stream++);
                NpyWriter.writeInt16(folder.resolve(name + ".render-hu.npy"), TrainingCrops.int16(rendered.hu()),
                        n[2], n[1], n[0]);
                NpyWriter.writeUint8(folder.resolve(name + ".render-organ.npy"),
                        TrainingCrops.fraction255(rendered.organ()), n[2], n[1], n[0]);
                ObjectNode c = list.addObject();
                c.put("name", name).put("organ", organ.name()).put("label", organ.label()).put("side", side);
                TrainingCrops.putArray(c, "gridSize", n);
                TrainingCrops.putArray(c, "spacingMm", organ.spacingMm());
                TrainingCrops.putArray(c, "originLps", grid.originLps());
                TrainingCrops.putArray(c, "boxMinLps", box.minLps());
                TrainingCrops.putArray(c, "boxMaxLps", box.maxLps());
                c.put("coversBox", grid.coversBox());
            }
        }
        JSON.writeValue(folder.resolve("truth.json").toFile(), truth);
        return list.size();
    }
}
