package org.cttriage.core.dicom.net;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A peer DICOM application entity.
 *
 * @param aeTitle its AE title
 * @param host host name or address
 * @param port TCP port
 */
public record RemoteAe(String aeTitle, String host, int port) {
    private static final Pattern FORM = Pattern.compile("([^@\\\\]{1,16})@([^:]+):(\\d{1,5})");

    public RemoteAe {
        if (aeTitle == null || aeTitle.isBlank() || aeTitle.length() > 16) {
            throw new IllegalArgumentException("AE title must be 1-16 characters: " + aeTitle);
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be 1-65535: " + port);
        }
    }

    /** Parses {@code AET@host:port}. */
    public static RemoteAe parse(String text) {
        Matcher m = FORM.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("expected AET@host:port, was " + text);
        }
        return new RemoteAe(m.group(1), m.group(2), Integer.parseInt(m.group(3)));
    }

    @Override
    public String toString() {
        return aeTitle + "@" + host + ":" + port;
    }
}
