package org.cttriage.plugin.cli;

import picocli.CommandLine.IVersionProvider;

/** Version from the jar manifest (set by Maven), or "development" when run from classes. */
final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = CtTriageCommand.class.getPackage().getImplementationVersion();
        return new String[] {"ct-triage " + (v == null ? "development" : v)};
    }
}
