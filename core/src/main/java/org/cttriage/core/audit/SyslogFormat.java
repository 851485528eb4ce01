package org.cttriage.core.audit;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Objects;
import org.cttriage.core.audit.AuditMessage.Outcome;

/**
 * The RFC 5424 SYSLOG-MSG that carries one audit message, as PS3.15 A.6/A.7 ask:
 * {@code <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - BOM XML}.
 * <ul>
 * <li>PRI: facility 10 (security/authorization), severity 5 (notice) for a successful event and 4
 * (warning) for any other outcome, so most messages carry {@code <85>};
 * <li>TIMESTAMP: when the message was made, UTC, microseconds at most (RFC 5424 6.2.3);
 * <li>MSGID: {@code DICOM+RFC3881}, the value PS3.15 A.6 names for these messages;
 * <li>no STRUCTURED-DATA ({@code -}); MSG is the UTF-8 XML behind a byte order mark, as RFC 5424 6.4
 * requires of a UTF-8 MSG.
 * </ul>
 * {@link #octetCounted} frames one for a stream (RFC 6587 3.4.1 over TCP, RFC 5425 4.3 over TLS):
 * {@code MSG-LEN SP SYSLOG-MSG}.
 */
public final class SyslogFormat {
    /** PS3.15 A.6 / A.7: facility 10, security/authorization messages. */
    public static final int FACILITY = 10;
    /** Severity 5, notice ("normal but significant"). */
    public static final int SEVERITY_NOTICE = 5;
    /** Severity 4, warning. */
    public static final int SEVERITY_WARNING = 4;
    /** The MSGID PS3.15 A.6/A.7 name for DICOM audit messages. */
    public static final String MSG_ID = "DICOM+RFC3881";
    /** Our APP-NAME. */
    public static final String APP_NAME = "ct-triage";
    private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
            .withZone(ZoneOffset.UTC);

    private final String hostName;
    private final String procId;

    /**
     * @param hostName HOSTNAME (printable US-ASCII, at most 255; anything else is replaced)
     * @param processId PROCID
     */
    public SyslogFormat(String hostName, long processId) {
        this.hostName = field(Objects.requireNonNull(hostName, "hostName"), 255);
        this.procId = Long.toString(processId);
    }

    /** The SYSLOG-MSG for {@code xml}, made at {@code time}, for an event with {@code outcome}. */
    public byte[] message(byte[] xml, Instant time, Outcome outcome) {
        int severity = outcome == Outcome.SUCCESS ? SEVERITY_NOTICE : SEVERITY_WARNING;
        String header = "<" + (FACILITY * 8 + severity) + ">1 " + TIMESTAMP.format(time) + " " + hostName + " "
                + APP_NAME + " " + procId + " " + MSG_ID + " - ";
        ByteArrayOutputStream out = new ByteArrayOutputStream(header.length() + BOM.length + xml.length);
        out.writeBytes(header.getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(BOM);
        out.writeBytes(xml);
        return out.toByteArray();
    }

    /** RFC 6587 octet counting: the message's length in octets, a space, the message. */
    public static byte[] octetCounted(byte[] message) {
        byte[] prefix = (message.length + " ").getBytes(StandardCharsets.US_ASCII);
        byte[] frame = new byte[prefix.length + message.length];
        System.arraycopy(prefix, 0, frame, 0, prefix.length);
        System.arraycopy(message, 0, frame, prefix.length, message.length);
        return frame;
    }

    /** A header field: PRINTUSASCII only (RFC 5424 6), at most {@code max} characters, "-" when empty. */
    static String field(String value, int max) {
        StringBuilder b = new StringBuilder();
        for (char c : value.toCharArray()) {
            if (b.length() == max) {
                break;
            }
            b.append(c >= 33 && c <= 126 ? c : '_');
        }
        return b.length() == 0 ? "-" : b.toString();
    }
}
