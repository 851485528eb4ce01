package org.cttriage.core.node;

/** What the node does when a SOP Instance UID it already holds arrives again. */
public enum DuplicatePolicy {
    /**
     * Identical bytes: answer Success and change nothing (no second SR). Different bytes: keep
     * the newer file and mark the series changed, so it is triaged again (default).
     */
    IGNORE_IDENTICAL_KEEP_NEWER,
    /** Always answer Success and keep the first copy. */
    KEEP_FIRST
}
