package org.cttriage.core.domain;

/**
 * Which model produced a result.
 *
 * @param name           model name
 * @param version        model version
 * @param packageSha256  SHA-256 of the package's manifest.json, which lists the SHA-256 of every file
 */
public record ModelIdentity(String name, String version, String packageSha256) {
}
