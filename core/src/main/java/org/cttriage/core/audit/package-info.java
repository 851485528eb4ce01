/**
 * The node's audit trail: DICOM audit messages (PS3.15 A.5, the XML that IHE ATNA also uses) for
 * what the node does with patient data and for security events, written to a syslog collector
 * (RFC 5424 over TLS, TCP or UDP: PS3.15 A.6 and A.7) and/or a local file.
 *
 * <ul>
 * <li>{@link org.cttriage.core.audit.AuditMessage} is the message model and
 * {@link org.cttriage.core.audit.AuditXml} its one XML writer; {@link org.cttriage.core.audit.AuditEvents}
 * builds each message the node sends, field by field as the standard's tables in A.5.3 ask, with the
 * codes of {@link org.cttriage.core.audit.AuditCodes}.
 * <li>{@link org.cttriage.core.audit.AuditTrail} takes messages without ever blocking its caller;
 * a writer thread makes each durable in the {@link org.cttriage.core.audit.AuditSpool} (and appends
 * it to the local file), and a sender thread delivers the spool to the collector oldest first,
 * resending after an outage ({@link org.cttriage.core.audit.SyslogSender}).
 * <li>{@link org.cttriage.core.audit.AssociationAuditor} turns the DICOM listener's association
 * events into audit messages.
 * </ul>
 *
 * <p>Audit messages carry patient data by design (who sent which patient's study); nothing here
 * writes a message, or any part of one, to the operational log.
 */
package org.cttriage.core.audit;
