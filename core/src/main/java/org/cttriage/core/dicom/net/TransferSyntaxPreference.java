package org.cttriage.core.dicom.net;

import com.pixelmed.dicom.SOPClass;
import com.pixelmed.dicom.TransferSyntax;
import com.pixelmed.network.PresentationContext;
import com.pixelmed.network.PresentationContextSelectionPolicy;
import java.util.LinkedList;
import java.util.List;

/**
 * Presentation context negotiation: Verification and every storage SOP class are accepted
 * (non-CT instances are then accepted and ignored or refused per configuration, so a PACS
 * exporting a whole study does not fail on them); of the transfer syntaxes offered, the first
 * in our preference order is chosen. PixelMed's stock policies prefer compressed syntaxes.
 */
final class TransferSyntaxPreference implements PresentationContextSelectionPolicy {
    /** PS3.8 Table 9-18 result/reason values. */
    private static final byte ACCEPTANCE = 0;
    private static final byte ABSTRACT_SYNTAX_NOT_SUPPORTED = 3;
    private static final byte TRANSFER_SYNTAXES_NOT_SUPPORTED = 4;

    private final List<String> preference;

    TransferSyntaxPreference(List<String> preference) {
        this.preference = List.copyOf(preference);
    }

    @Override
    @SuppressWarnings({"rawtypes", "unchecked"})
    public LinkedList applyPresentationContextSelectionPolicy(LinkedList presentationContexts, int associationNumber) {
        for (Object o : presentationContexts) {
            PresentationContext pc = (PresentationContext) o;
            String abstractSyntax = pc.getAbstractSyntaxUID();
            List<String> offered = List.copyOf((List<String>) pc.getTransferSyntaxUIDs());
            pc.newTransferSyntaxUIDs();
            if (!SOPClass.Verification.equals(abstractSyntax) && !SOPClass.isStorage(abstractSyntax)) {
                pc.setResultReason(ABSTRACT_SYNTAX_NOT_SUPPORTED);
                continue;
            }
            String chosen = preference.stream().filter(offered::contains).findFirst().orElse(null);
            if (chosen == null && SOPClass.Verification.equals(abstractSyntax)
                    && offered.contains(TransferSyntax.ImplicitVRLittleEndian)) {
                // Every SCP must support the default transfer syntax for C-ECHO (PS3.5 10.1).
                chosen = TransferSyntax.ImplicitVRLittleEndian;
            }
            if (chosen == null) {
                pc.setResultReason(TRANSFER_SYNTAXES_NOT_SUPPORTED);
            } else {
                pc.addTransferSyntaxUID(chosen);
                pc.setResultReason(ACCEPTANCE);
            }
        }
        return presentationContexts;
    }

    @Override
    @SuppressWarnings("rawtypes")
    public LinkedList applyPresentationContextSelectionPolicy(LinkedList presentationContexts, int associationNumber,
            int debugLevel) {
        return applyPresentationContextSelectionPolicy(presentationContexts, associationNumber);
    }
}
