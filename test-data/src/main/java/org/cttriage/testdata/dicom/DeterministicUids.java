package org.cttriage.testdata.dicom;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * UIDs derived from a seed and a purpose, so the same seed gives byte-identical files.
 * They are "2.25." UUID-derived UIDs (PS3.5 B.2): 128 bits of a SHA-256 over the inputs,
 * with the version/variant bits of a name-based UUID, written as one decimal number.
 */
public final class DeterministicUids {
    private DeterministicUids() {
    }

    /** The UID for {@code purpose} (e.g. "study", "series/3", "instance/3/17") under {@code seed}. */
    public static String uid(long seed, String purpose) {
        byte[] h;
        try {
            h = MessageDigest.getInstance("SHA-256")
                    .digest(("ct-triage phantom " + seed + " " + purpose).getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
        byte[] u = new byte[16];
        System.arraycopy(h, 0, u, 0, 16);
        u[6] = (byte) ((u[6] & 0x0f) | 0x50); // version 5 (name-based, SHA)
        u[8] = (byte) ((u[8] & 0x3f) | 0x80); // RFC 4122 variant
        return "2.25." + new BigInteger(1, u);
    }
}
