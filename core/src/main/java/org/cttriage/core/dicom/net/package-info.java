/**
 * DICOM networking over PixelMed: the listener (C-ECHO and C-STORE SCP under our own accept
 * loop, association policy, persist-before-acknowledge hand-off) and the sender (C-STORE and
 * C-ECHO SCU). The rest of the code speaks the types of this package, never PixelMed's.
 */
package org.cttriage.core.dicom.net;
