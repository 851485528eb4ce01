package org.cttriage.core.dicom.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The one decider of association acceptance: each rule and its A-ASSOCIATE-RJ values. */
class AssociationPolicyTest {
    private static final ListenerOptions OPTIONS = ListenerOptions.defaults("CTTRIAGE", InetAddress.getLoopbackAddress(),
            0, Path.of("incoming")).withAllowedCallingAeTitles(Set.of("PACS")).withMaxAssociations(2)
            .withMinFreeDiskBytes(1000);

    private static AssociationRequest request(String called, String calling) {
        return new AssociationRequest(called, calling, InetAddress.getLoopbackAddress(), 1, new byte[0]);
    }

    @Test
    void acceptsAnAllowedCallerWithinLimitsAndDisk() {
        assertThat(new AssociationPolicy(OPTIONS, f -> 5000).decide(request("CTTRIAGE", "PACS"), 1))
                .isInstanceOf(AssociationDecision.Accept.class);
    }

    @Test
    void rejectsEachViolationWithTheStandardsValues() {
        AssociationPolicy policy = new AssociationPolicy(OPTIONS, f -> 5000);
        assertThat(policy.decide(request("OTHER", "PACS"), 0)).isEqualTo(AssociationDecision.Reject.calledAe("OTHER"));
        AssociationDecision.Reject calling = (AssociationDecision.Reject) policy.decide(request("CTTRIAGE", "MODALITY"), 0);
        assertThat(calling.result()).isEqualTo(AssociationDecision.Result.PERMANENT);
        assertThat(calling.source()).isEqualTo(AssociationDecision.Source.SERVICE_USER);
        assertThat(calling.reason()).isEqualTo(AssociationDecision.Reject.CALLING_AE_NOT_RECOGNIZED);
        AssociationDecision.Reject limit = (AssociationDecision.Reject) policy.decide(request("CTTRIAGE", "PACS"), 2);
        assertThat(limit.result()).isEqualTo(AssociationDecision.Result.TRANSIENT);
        assertThat(limit.reason()).isEqualTo(AssociationDecision.Reject.LOCAL_LIMIT_EXCEEDED);
        assertThat(limit.why()).contains("maximum 2");
    }

    @Test
    void refusesBelowTheDiskWatermarkBeforeAnythingIsReceived() {
        AssociationDecision.Reject full = (AssociationDecision.Reject) new AssociationPolicy(OPTIONS, f -> 999)
                .decide(request("CTTRIAGE", "PACS"), 0);
        assertThat(full.result()).isEqualTo(AssociationDecision.Result.TRANSIENT);
        assertThat(full.why()).contains("below the watermark");
        AssociationDecision.Reject unknown = (AssociationDecision.Reject) new AssociationPolicy(OPTIONS, f -> {
            throw new IOException("no such file store");
        }).decide(request("CTTRIAGE", "PACS"), 0);
        assertThat(unknown.reason()).isEqualTo(AssociationDecision.Reject.TEMPORARY_CONGESTION);
    }

    @Test
    void rejectPduIsWellFormed() {
        byte[] pdu = AssociationRequest.rejectPdu(AssociationDecision.Reject.callingAe("X"));
        // PS3.8 9.3.4: type 03H, reserved, length 4, reserved, result, source, reason.
        assertThat(pdu).containsExactly(3, 0, 0, 0, 0, 4, 0, 1, 1, 3);
    }
}
