package org.cttriage.core.node;

/** What the node does with instances that are not CT images (SR, secondary capture, other modalities). */
public enum NonCtPolicy {
    /** Answer Success and discard: a PACS exporting a whole study must not fail on them (default). */
    IGNORE,
    /** Answer Refused: SOP class not supported (0122H). */
    REJECT
}
