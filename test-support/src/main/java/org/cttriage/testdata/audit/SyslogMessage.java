package org.cttriage.testdata.audit;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One RFC 5424 SYSLOG-MSG as a syslog server received it, parsed strictly: {@code <PRI>1 TIMESTAMP
 * HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [SP MSG]}. {@link #parse} refuses what RFC 5424
 * section 6 does not allow (a field too long or not printable US-ASCII, a timestamp that is not RFC
 * 3339 with at most six fraction digits).
 *
 * @param facility PRI's facility (PRI / 8)
 * @param severity PRI's severity (PRI % 8)
 * @param timestamp the TIMESTAMP field as written
 * @param hostname HOSTNAME
 * @param appName APP-NAME
 * @param procId PROCID
 * @param msgId MSGID
 * @param structuredData STRUCTURED-DATA as written ({@code -} when none)
 * @param utf8Bom whether MSG began with the UTF-8 byte order mark (RFC 5424 6.4: MSG-UTF8)
 * @param msg MSG without its BOM
 */
public record SyslogMessage(int facility, int severity, String timestamp, String hostname, String appName,
        String procId, String msgId, String structuredData, boolean utf8Bom, byte[] msg) {
    private static final Pattern TIMESTAMP = Pattern.compile(
            "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,6})?(Z|[+-]\\d{2}:\\d{2})");
    private static final Pattern HEADER = Pattern.compile(
            "<(\\d{1,3})>1 (\\S+) (\\S{1,255}) (\\S{1,48}) (\\S{1,128}) (\\S{1,32}) (-|\\[.*?\\])");
    private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

    /** Parses one SYSLOG-MSG; throws {@link IllegalArgumentException} saying what RFC 5424 forbids in it. */
    public static SyslogMessage parse(byte[] frame) {
        int headerEnd = headerEnd(frame);
        String header = new String(frame, 0, headerEnd, StandardCharsets.US_ASCII);
        for (char c : header.toCharArray()) {
            if (c != ' ' && (c < 33 || c > 126)) {
                throw new IllegalArgumentException("header holds a character that is not PRINTUSASCII: " + (int) c);
            }
        }
        Matcher m = HEADER.matcher(header);
        if (!m.matches()) {
            throw new IllegalArgumentException("not an RFC 5424 header: " + header);
        }
        int pri = Integer.parseInt(m.group(1));
        if (pri > 191) {
            throw new IllegalArgumentException("PRI above 191: " + pri);
        }
        if (!m.group(2).equals("-") && !TIMESTAMP.matcher(m.group(2)).matches()) {
            throw new IllegalArgumentException("TIMESTAMP is not RFC 3339 as RFC 5424 restricts it: " + m.group(2));
        }
        byte[] rest = Arrays.copyOfRange(frame, Math.min(frame.length, headerEnd + 1), frame.length);
        if (headerEnd < frame.length && frame[headerEnd] != ' ') {
            throw new IllegalArgumentException("MSG not separated from the header by one space");
        }
        boolean bom = rest.length >= 3 && rest[0] == BOM[0] && rest[1] == BOM[1] && rest[2] == BOM[2];
        byte[] msg = bom ? Arrays.copyOfRange(rest, 3, rest.length) : rest;
        return new SyslogMessage(pri / 8, pri % 8, m.group(2), m.group(3), m.group(4), m.group(5), m.group(6),
                m.group(7), bom, msg);
    }

    /** Where the header (through STRUCTURED-DATA "-") ends: the seventh space, or the frame's end. */
    private static int headerEnd(byte[] frame) {
        int spaces = 0;
        for (int i = 0; i < frame.length; i++) {
            if (frame[i] == ' ' && ++spaces == 7) {
                return i;
            }
        }
        return frame.length;
    }

    /** MSG as UTF-8 text. */
    public String text() {
        return new String(msg, StandardCharsets.UTF_8);
    }
}
