package org.cttriage.core.node;

import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.cttriage.core.dicom.net.ReceivedInstance;

/** Files handed to {@link InstanceIngest} as the listener hands them over, for the node's unit and route tests. */
public final class Received {
    private Received() {
    }

    /** A copy of {@code file} as a {@code .part} in {@code dir/incoming} (the ingest moves or deletes it). */
    public static ReceivedInstance of(Path dir, Path file) throws Exception {
        Path part = Files.createDirectories(dir.resolve("incoming")).resolve(UUID.randomUUID() + ".part");
        Files.copy(file, part);
        AttributeList list = new AttributeList();
        list.read(file.toString());
        return new ReceivedInstance(part, list.get(TagFromName.SOPClassUID).getSingleStringValueOrEmptyString(),
                list.get(TagFromName.SOPInstanceUID).getSingleStringValueOrEmptyString(),
                list.get(TagFromName.TransferSyntaxUID).getSingleStringValueOrEmptyString(), "STORESCU", null,
                Files.size(part));
    }
}
