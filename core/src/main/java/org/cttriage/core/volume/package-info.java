/**
 * From the instances of a study to the series chosen for triage and its CT volume:
 * series selection with a stated reason for every decision, geometry checks, slice
 * ordering along the slice normal, and HU volume assembly.
 */
package org.cttriage.core.volume;
