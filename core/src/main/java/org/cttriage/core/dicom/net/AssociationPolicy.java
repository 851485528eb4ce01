package org.cttriage.core.dicom.net;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one place that decides whether an association is accepted (STYLE.md: deciders are
 * single). Every reject path returns at once with the A-ASSOCIATE-RJ values and a reason to log.
 */
public final class AssociationPolicy {
    /** Free space of the file store that receives instances; injectable for tests. */
    @FunctionalInterface
    public interface FreeSpace {
        long usableBytes(Path folder) throws IOException;
    }

    private final ListenerOptions options;
    private final FreeSpace freeSpace;

    public AssociationPolicy(ListenerOptions options) {
        this(options, folder -> Files.getFileStore(folder).getUsableSpace());
    }

    public AssociationPolicy(ListenerOptions options, FreeSpace freeSpace) {
        this.options = options;
        this.freeSpace = freeSpace;
    }

    /**
     * Decides on {@code request} given the number of associations already being served.
     */
    public AssociationDecision decide(AssociationRequest request, int activeAssociations) {
        if (!request.protocolVersionSupported()) {
            return AssociationDecision.Reject.protocolVersion(request.protocolVersion());
        }
        if (!AssociationRequest.validAeTitle(request.callingAeTitle())) {
            return AssociationDecision.Reject.callingAe(request.callingAeTitle(), "is not a valid AE title");
        }
        if (!options.aeTitle().equals(request.calledAeTitle())) {
            return AssociationDecision.Reject.calledAe(request.calledAeTitle());
        }
        if (!options.allowedCallingAeTitles().isEmpty()
                && !options.allowedCallingAeTitles().contains(request.callingAeTitle())) {
            return AssociationDecision.Reject.callingAe(request.callingAeTitle());
        }
        if (activeAssociations >= options.maxAssociations()) {
            return AssociationDecision.Reject.limit(
                    "already serving " + activeAssociations + " associations (maximum " + options.maxAssociations() + ")");
        }
        long free;
        try {
            free = freeSpace.usableBytes(options.incomingFolder());
        } catch (IOException e) {
            return AssociationDecision.Reject.congestion("cannot read free disk space: " + e.getMessage());
        }
        if (free < options.minFreeDiskBytes()) {
            return AssociationDecision.Reject.limit("free disk " + free + " bytes below the watermark of "
                    + options.minFreeDiskBytes() + " bytes");
        }
        return new AssociationDecision.Accept();
    }
}
