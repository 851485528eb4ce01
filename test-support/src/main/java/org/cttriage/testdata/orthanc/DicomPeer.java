package org.cttriage.testdata.orthanc;

import java.util.regex.Pattern;

/**
 * A DICOM application entity listening on 127.0.0.1 (the node under test, or dcmtk's storescp).
 *
 * @param aet  its AE title, 1..16 characters of the default character repertoire, no backslash
 * @param port its TCP port, 1..65535
 */
public record DicomPeer(String aet, int port) {
    private static final Pattern AE_TITLE = Pattern.compile("[\\x20-\\x5b\\x5d-\\x7e]{1,16}");

    public DicomPeer {
        checkAeTitle("aet", aet);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be in 1..65535, was " + port);
        }
    }

    static void checkAeTitle(String name, String value) {
        if (value == null || !AE_TITLE.matcher(value).matches() || value.isBlank()) {
            throw new IllegalArgumentException(name + " must be an AE title of 1 to 16 printable ASCII characters"
                    + " without backslash, was " + (value == null ? "null" : "\"" + value + "\""));
        }
    }
}
