package org.cttriage.core.pipeline;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.cttriage.core.domain.FindingLocation;
import org.cttriage.core.domain.FindingResult;
import org.cttriage.core.domain.TriageResult;
import org.cttriage.core.inference.AbnormalityDictionary;
import org.cttriage.core.inference.OrganSegmentation;
import org.cttriage.core.volume.SliceSource;
import org.cttriage.core.volume.Volume;

/**
 * Key images: for each finding called present, the volume's slice through its location, in the
 * organ's window (lung for the lungs, soft tissue otherwise), with the outline of the finding's
 * organ from the model's segmentation drawn over it and, when the model located the finding
 * itself, a ring around the point. No text is burned in (no patient data in the pixels).
 * Key image {@code n} (1-based) belongs to the n-th present finding in the result's order.
 */
public final class KeyImages {
    /** Window centre and width, HU. */
    public record Window(double centre, double width) {
        public static final Window LUNG = new Window(-600, 1500);
        public static final Window SOFT_TISSUE = new Window(40, 400);
    }

    private static final int OUTLINE = 0xFFD400;
    private static final int MARKER = 0xFF3B30;

    private final AbnormalityDictionary dictionary;

    public KeyImages(AbnormalityDictionary dictionary) {
        this.dictionary = dictionary;
    }

    /** The file of key image {@code n} of the result whose SR is {@code srFile}: beside it, named after it. */
    public static Path file(Path srFile, int n) {
        String name = srFile.getFileName().toString();
        String stem = name.endsWith(".dcm") ? name.substring(0, name.length() - 4) : name;
        return srFile.resolveSibling(stem + ".key-" + n + ".png");
    }

    /**
     * Writes the key images of {@code result} beside {@code srFile} (each written whole, then
     * renamed into place) and returns their files, one per present finding that has a location.
     */
    public List<Path> write(Volume volume, OrganSegmentation segmentation, TriageResult result, Path srFile)
            throws IOException {
        List<Path> written = new ArrayList<>();
        int n = 0;
        for (FindingResult f : result.presentFindings()) {
            n++;
            if (f.location() == null) {
                continue;
            }
            Path target = file(srFile, n);
            Path part = target.resolveSibling(target.getFileName() + ".part");
            try (OutputStream out = Files.newOutputStream(part)) {
                ImageIO.write(render(volume, segmentation, f), "png", out);
            }
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            written.add(target);
        }
        return written;
    }

    /** The key image of one located finding. */
    public BufferedImage render(Volume volume, OrganSegmentation segmentation, FindingResult finding) {
        FindingLocation location = finding.location();
        int k = sliceOf(volume, location);
        int[] s = volume.geometry().size();
        int columns = s[0];
        int rows = s[1];
        Window w = "lung".equals(finding.organ()) ? Window.LUNG : Window.SOFT_TISSUE;
        double lo = w.centre() - w.width() / 2;
        int organ = dictionary.organs().get(finding.organ()).label();
        boolean[] mask = new boolean[columns * rows];
        for (int j = 0; j < rows; j++) {
            for (int i = 0; i < columns; i++) {
                mask[j * columns + i] = segmentation.labelAt(volume.geometry().positionOf(i, j, k)) == organ;
            }
        }
        BufferedImage image = new BufferedImage(columns, rows, BufferedImage.TYPE_INT_RGB);
        for (int j = 0; j < rows; j++) {
            for (int i = 0; i < columns; i++) {
                double v = (volume.at(i, j, k) - lo) / w.width();
                int g = (int) Math.round(255 * Math.max(0, Math.min(1, v)));
                image.setRGB(i, j, g << 16 | g << 8 | g);
            }
        }
        // The outline: organ pixels with a 4-neighbour outside, drawn two pixels wide.
        for (int j = 0; j < rows; j++) {
            for (int i = 0; i < columns; i++) {
                if (mask[j * columns + i] && (i == 0 || j == 0 || i == columns - 1 || j == rows - 1
                        || !mask[j * columns + i - 1] || !mask[j * columns + i + 1] || !mask[(j - 1) * columns + i]
                        || !mask[(j + 1) * columns + i])) {
                    image.setRGB(i, j, OUTLINE);
                    if (i + 1 < columns) {
                        image.setRGB(i + 1, j, OUTLINE);
                    }
                }
            }
        }
        if (FindingLocation.MODEL.equals(location.method())) {
            double[] p = volume.geometry().indexOf(location.pointLps().stream().mapToDouble(Double::doubleValue).toArray());
            ring(image, p[0], p[1], Math.max(6, 12 / volume.geometry().spacing()[0]));
        }
        return image;
    }

    /** The slice of the location's image; the slice nearest its point when that image is not one of the volume's. */
    static int sliceOf(Volume volume, FindingLocation location) {
        List<SliceSource> slices = volume.slices();
        for (int k = 0; k < slices.size(); k++) {
            SliceSource s = slices.get(k);
            if (s != null && s.sopInstanceUid().equals(location.sopInstanceUid())
                    && s.frameNumber() == location.frameNumber()) {
                return k;
            }
        }
        double[] p = location.pointLps().stream().mapToDouble(Double::doubleValue).toArray();
        int k = (int) Math.round(volume.geometry().indexOf(p)[2]);
        return Math.max(0, Math.min(volume.geometry().size()[2] - 1, k));
    }

    private static void ring(BufferedImage image, double ci, double cj, double radius) {
        for (int a = 0; a < 360; a++) {
            double t = Math.toRadians(a);
            for (double r = radius; r < radius + 2; r += 0.5) {
                int x = (int) Math.round(ci + r * Math.cos(t));
                int y = (int) Math.round(cj + r * Math.sin(t));
                if (x >= 0 && y >= 0 && x < image.getWidth() && y < image.getHeight()) {
                    image.setRGB(x, y, MARKER);
                }
            }
        }
    }
}
