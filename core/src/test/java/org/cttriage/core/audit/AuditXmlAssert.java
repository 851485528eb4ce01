package org.cttriage.core.audit;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import org.cttriage.testdata.audit.AuditSchema;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;

/** An audit message parsed for assertions: validated against PS3.15 A.5.1 first, then read by XPath. */
final class AuditXmlAssert {
    private final Document doc;
    private final String text;

    private AuditXmlAssert(byte[] xml) throws Exception {
        AuditSchema.assertValid(xml);
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        this.doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(xml));
        this.text = new String(xml, StandardCharsets.UTF_8);
    }

    static AuditXmlAssert of(byte[] xml) throws Exception {
        return new AuditXmlAssert(xml);
    }

    static AuditXmlAssert of(AuditMessage message) throws Exception {
        return new AuditXmlAssert(AuditXml.write(message));
    }

    /** The string value of {@code xpath}. */
    String get(String xpath) throws Exception {
        return (String) XPathFactory.newInstance().newXPath().evaluate(xpath, doc, XPathConstants.STRING);
    }

    /** The string values of every node {@code xpath} selects. */
    List<String> all(String xpath) throws Exception {
        NodeList nodes = (NodeList) XPathFactory.newInstance().newXPath().evaluate(xpath, doc, XPathConstants.NODESET);
        List<String> values = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            values.add(nodes.item(i).getTextContent());
        }
        return values;
    }

    String text() {
        return text;
    }
}
