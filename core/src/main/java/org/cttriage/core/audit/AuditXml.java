package org.cttriage.core.audit;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Optional;
import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;
import org.cttriage.core.audit.AuditMessage.ActiveParticipant;
import org.cttriage.core.audit.AuditMessage.DicomDescription;
import org.cttriage.core.audit.AuditMessage.Event;
import org.cttriage.core.audit.AuditMessage.ParticipantObject;

/**
 * Writes an {@link AuditMessage} as the XML of PS3.15 A.5.1.1: UTF-8, an XML declaration, no
 * namespace, no line breaks (one message is one line of the audit file), elements in the order the
 * schema's groups require. Text that XML 1.0 cannot carry (control characters) is replaced by
 * spaces; everything else is escaped by the StAX writer.
 */
public final class AuditXml {
    private static final XMLOutputFactory FACTORY = XMLOutputFactory.newFactory();

    private AuditXml() {
    }

    /** The message's XML, UTF-8. */
    public static byte[] write(AuditMessage message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(2048);
        try {
            XMLStreamWriter w = FACTORY.createXMLStreamWriter(out, "UTF-8");
            w.writeStartDocument("UTF-8", "1.0");
            w.writeStartElement("AuditMessage");
            event(w, message.event());
            for (ActiveParticipant p : message.participants()) {
                participant(w, p);
            }
            w.writeStartElement("AuditSourceIdentification");
            optionalAttribute(w, "AuditEnterpriseSiteID", message.source().enterpriseSiteId());
            attribute(w, "AuditSourceID", message.source().sourceId());
            for (String code : message.source().typeCodes()) {
                w.writeEmptyElement("AuditSourceTypeCode");
                attribute(w, "csd-code", code);
            }
            w.writeEndElement();
            for (ParticipantObject o : message.objects()) {
                object(w, o);
            }
            w.writeEndElement();
            w.writeEndDocument();
            w.close();
        } catch (XMLStreamException e) {
            throw new IllegalStateException("writing an audit message failed: " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    /** As {@link #write}, as a string. */
    public static String toString(AuditMessage message) {
        return new String(write(message), StandardCharsets.UTF_8);
    }

    private static void event(XMLStreamWriter w, Event e) throws XMLStreamException {
        w.writeStartElement("EventIdentification");
        attribute(w, "EventActionCode", e.action().code());
        attribute(w, "EventDateTime", DateTimeFormatter.ISO_INSTANT.format(e.dateTime()));
        attribute(w, "EventOutcomeIndicator", e.outcome().code());
        coded(w, "EventID", e.id());
        for (CodedValue type : e.types()) {
            coded(w, "EventTypeCode", type);
        }
        if (e.outcomeDescription().isPresent()) {
            w.writeStartElement("EventOutcomeDescription");
            w.writeCharacters(clean(e.outcomeDescription().get()));
            w.writeEndElement();
        }
        w.writeEndElement();
    }

    private static void participant(XMLStreamWriter w, ActiveParticipant p) throws XMLStreamException {
        boolean empty = p.roles().isEmpty() && p.mediaType().isEmpty();
        if (empty) {
            w.writeEmptyElement("ActiveParticipant");
        } else {
            w.writeStartElement("ActiveParticipant");
        }
        attribute(w, "UserID", p.userId());
        optionalAttribute(w, "AlternativeUserID", p.alternativeUserId());
        optionalAttribute(w, "UserName", p.userName());
        attribute(w, "UserIsRequestor", Boolean.toString(p.requestor()));
        if (p.accessPoint().isPresent()) {
            attribute(w, "NetworkAccessPointID", p.accessPoint().get().id());
            attribute(w, "NetworkAccessPointTypeCode", p.accessPoint().get().type().code());
        }
        if (empty) {
            return;
        }
        for (CodedValue role : p.roles()) {
            coded(w, "RoleIDCode", role);
        }
        if (p.mediaType().isPresent()) {
            w.writeStartElement("MediaIdentifier");
            coded(w, "MediaType", p.mediaType().get());
            w.writeEndElement();
        }
        w.writeEndElement();
    }

    private static void object(XMLStreamWriter w, ParticipantObject o) throws XMLStreamException {
        w.writeStartElement("ParticipantObjectIdentification");
        attribute(w, "ParticipantObjectID", o.id());
        attribute(w, "ParticipantObjectTypeCode", o.type().code());
        attribute(w, "ParticipantObjectTypeCodeRole", o.role().code());
        if (o.lifeCycle().isPresent()) {
            attribute(w, "ParticipantObjectDataLifeCycle", o.lifeCycle().get().code());
        }
        coded(w, "ParticipantObjectIDTypeCode", o.idType());
        w.writeStartElement("ParticipantObjectName");
        w.writeCharacters(clean(o.name()));
        w.writeEndElement();
        for (AuditMessage.Detail d : o.details()) {
            w.writeEmptyElement("ParticipantObjectDetail");
            attribute(w, "type", d.type());
            w.writeAttribute("value", Base64.getEncoder().encodeToString(d.value().getBytes(StandardCharsets.UTF_8)));
        }
        if (o.description().isPresent()) {
            description(w, o.description().get());
        }
        w.writeEndElement();
    }

    private static void description(XMLStreamWriter w, DicomDescription d) throws XMLStreamException {
        w.writeStartElement("ParticipantObjectDescription");
        for (String accession : d.accessionNumbers()) {
            w.writeEmptyElement("Accession");
            attribute(w, "Number", accession);
        }
        for (AuditMessage.SopClass c : d.sopClasses()) {
            w.writeEmptyElement("SOPClass");
            attribute(w, "UID", c.uid());
            attribute(w, "NumberOfInstances", Integer.toString(c.instances()));
        }
        if (d.encrypted().isPresent()) {
            w.writeStartElement("Encrypted");
            w.writeCharacters(Boolean.toString(d.encrypted().get()));
            w.writeEndElement();
        }
        w.writeEndElement();
    }

    private static void coded(XMLStreamWriter w, String element, CodedValue value) throws XMLStreamException {
        w.writeEmptyElement(element);
        attribute(w, "csd-code", value.code());
        attribute(w, "codeSystemName", value.scheme());
        attribute(w, "originalText", value.meaning());
    }

    private static void attribute(XMLStreamWriter w, String name, String value) throws XMLStreamException {
        w.writeAttribute(name, clean(value));
    }

    private static void optionalAttribute(XMLStreamWriter w, String name, Optional<String> value)
            throws XMLStreamException {
        if (value.isPresent()) {
            attribute(w, name, value.get());
        }
    }

    /**
     * Text XML 1.0 can carry on one line: control characters become spaces, and what XML forbids
     * outright (an unpaired surrogate, U+FFFE, U+FFFF) becomes U+FFFD.
     */
    static String clean(String text) {
        boolean plain = true;
        for (int i = 0; i < text.length() && plain; i++) {
            char c = text.charAt(i);
            plain = !Character.isISOControl(c) && !Character.isSurrogate(c) && c < '\uFFFE';
        }
        if (plain) {
            return text;
        }
        StringBuilder b = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> {
            if (Character.isISOControl(cp)) {
                b.append(' ');
            } else if ((cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE) || cp == 0xFFFE
                    || cp == 0xFFFF) {
                b.append('\uFFFD');
            } else {
                b.appendCodePoint(cp);
            }
        });
        return b.toString();
    }
}
