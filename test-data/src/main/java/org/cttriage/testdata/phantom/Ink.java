package org.cttriage.testdata.phantom;

/**
 * How a shape paints: value, label, mask bit and the conditions a voxel must meet. Conditions on
 * the current label let later shapes clip themselves to earlier organs (a nodule only in lung).
 */
final class Ink {
    static final int ALL = 0xFF;

    float hu;
    boolean setHu = true;
    int label = -1;
    int bit = -1;
    int allow = ALL;
    boolean cavityOnly;
    boolean insideBody;
    float maxHu = Float.POSITIVE_INFINITY;
    int requireBit = -1;
    /** Only raise attenuation: a ground-glass nodule must not erase the vessel running through it. */
    boolean raiseOnly;

    static Ink of(double hu) {
        Ink i = new Ink();
        i.hu = (float) hu;
        return i;
    }

    static Ink bitOnly(int bit) {
        Ink i = new Ink();
        i.setHu = false;
        i.bit = bit;
        return i;
    }

    static int allowOf(Organ... organs) {
        int m = 0;
        for (Organ o : organs) {
            m |= 1 << o.label();
        }
        return m;
    }

    Ink label(Organ o) {
        label = o.label();
        return this;
    }

    Ink bit(PhantomFinding f) {
        bit = f.bit();
        return this;
    }

    Ink allow(Organ... organs) {
        allow = allowOf(organs);
        return this;
    }

    Ink cavity() {
        cavityOnly = true;
        return this;
    }

    Ink body() {
        insideBody = true;
        return this;
    }

    Ink maxHu(double v) {
        maxHu = (float) v;
        return this;
    }

    Ink raiseOnly() {
        raiseOnly = true;
        return this;
    }

    Ink requireBit(PhantomFinding f) {
        requireBit = f.bit();
        return this;
    }

    boolean accepts(Canvas c, int i) {
        if (cavityOnly && c.zone[i] != Canvas.ZONE_CAVITY) {
            return false;
        }
        if (insideBody && c.zone[i] == Canvas.ZONE_AIR) {
            return false;
        }
        if ((allow & (1 << c.lab[i])) == 0) {
            return false;
        }
        if (c.hu[i] >= maxHu) {
            return false;
        }
        return requireBit < 0 || (c.mask[i] & (1 << requireBit)) != 0;
    }

    /** Hard-edged write of value v. */
    void put(Canvas c, int i, float v) {
        if (setHu && !(raiseOnly && v < c.hu[i])) {
            c.hu[i] = v;
        }
        if (label >= 0) {
            c.lab[i] = (byte) label;
        }
        if (bit >= 0) {
            c.mask[i] |= (short) (1 << bit);
        }
    }
}
