package org.cttriage.core.node;

import java.util.Locale;

/** What a node does (docs/architecture.md, "Scaling out"). */
public enum NodeRole {
    /** Everything, alone: the single node, the default. */
    ALL,
    /** The DICOM listener and the HTTP API: receives, persists before acknowledging. */
    RECEIVER,
    /** Triage and deliveries, from the broker's triage queue. */
    WORKER;

    /** The role named {@code all}, {@code receiver} or {@code worker}. */
    public static NodeRole of(String name) {
        return valueOf(name.trim().toUpperCase(Locale.ROOT));
    }

    /** Whether it runs the DICOM listener. */
    public boolean receives() {
        return this != WORKER;
    }

    /** Whether it triages and delivers (and so needs the model). */
    public boolean triages() {
        return this != RECEIVER;
    }
}
