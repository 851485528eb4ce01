package org.cttriage.testdata.phantom;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

import static org.cttriage.testdata.phantom.Rng.uni;

/**
 * Turns a spec into a renderable plan: builds the anatomy, decides which findings to insert,
 * places each one (inside the covered slab and field of view where possible) and records truth.
 * Each finding draws from its own stream, so adding one finding does not move the others' sizes.
 */
final class FindingPlanner {

    /** Everything the renderer needs; immutable once returned. */
    static final class Plan {
        Anatomy anatomy;
        List<Element> elements;
        List<FindingTruth> truth;
        double x0Lps, y0Lps, x0Model, y0Model, zTop, maskPad, noiseSigma;
    }

    private final PhantomSpec spec;
    private final Anatomy a;
    private final Plan plan = new Plan();
    private final List<Element> els;
    private final List<FindingTruth> truth = new ArrayList<>();
    private final Canvas probe;
    private final double covLo, covHi, zBot, zTop;
    private final double fovX0, fovX1, fovY0, fovY1;
    private final double k;

    private FindingPlanner(PhantomSpec spec, Anatomy a, Anatomy.Mods mods) {
        this.spec = spec;
        this.a = a;
        this.k = a.k;
        int nx = spec.columns(), ny = spec.rows();
        double ps = spec.pixelSpacingMm(), ss = spec.sliceSpacingMm(), t = spec.sliceThicknessMm();
        plan.anatomy = a;
        plan.x0Lps = -(nx - 1) / 2.0 * ps;
        plan.y0Lps = -(ny - 1) / 2.0 * ps;
        plan.x0Model = plan.x0Lps - a.ox;
        plan.y0Model = plan.y0Lps - a.oy;
        plan.zTop = a.zScanCentre + (spec.slices() - 1) / 2.0 * ss;
        plan.maskPad = 0.5 * Math.sqrt(2 * ps * ps + ss * ss);
        // Thinner slabs collect fewer photons: noise grows roughly with 1/sqrt(thickness).
        plan.noiseSigma = a.noiseSigma * Math.max(0.6, Math.min(2.0, Math.sqrt(3.75 / Math.max(t, 0.25))));
        zTop = plan.zTop;
        zBot = zTop - (spec.slices() - 1) * ss;
        double half = 0.5 * Math.max(ss, t);
        covLo = zBot - half;
        covHi = zTop + half;
        fovX0 = plan.x0Model;
        fovX1 = plan.x0Model + (nx - 1) * ps;
        fovY0 = plan.y0Model;
        fovY1 = plan.y0Model + (ny - 1) * ps;
        a.build(mods);
        els = new ArrayList<>(a.elements);
        probe = new Canvas(1, 1, 0, 0, ps, plan.maskPad);
    }

    static Plan plan(PhantomSpec spec) {
        Anatomy a = new Anatomy(spec.seed(), spec.phase());
        EnumSet<PhantomFinding> wanted = EnumSet.noneOf(PhantomFinding.class);
        wanted.addAll(spec.findings());
        EnumSet<PhantomFinding> drawn = EnumSet.noneOf(PhantomFinding.class);
        if (spec.randomFindings()) {
            SplittableRandom sel = Rng.stream(spec.seed(), 6);
            for (PhantomFinding f : PhantomFinding.values()) {
                if (sel.nextDouble() < f.prevalence()) {
                    drawn.add(f);
                }
            }
        }
        EnumSet<PhantomFinding> all = EnumSet.copyOf(wanted);
        all.addAll(drawn);
        Anatomy.Mods mods = new Anatomy.Mods();
        Params p = new Params();
        decideGeometry(spec, a, all, mods, p);
        FindingPlanner fp = new FindingPlanner(spec, a, mods);
        EnumSet<PhantomFinding> insert = EnumSet.noneOf(PhantomFinding.class);
        for (PhantomFinding f : all) {
            if (fp.organCovered(f.organ(), -1)) {
                insert.add(f);
            } else if (wanted.contains(f)) {
                throw new IllegalArgumentException("finding " + f.id() + " needs organ " + f.organ()
                        + " which lies entirely outside the covered z-range [" + fmt(fp.covLo) + ", " + fmt(fp.covHi)
                        + "] mm; increase slices or slice spacing");
            }
        }
        fp.insertAll(insert, p, mods);
        fp.plan.elements = List.copyOf(fp.els);
        fp.plan.truth = List.copyOf(fp.truth);
        return fp.plan;
    }

    /** Parameters of geometry-changing findings, drawn before the anatomy is built. */
    private static final class Params {
        double liverLen, spleenLen, steatHu, aneuD, aneuLen;
        boolean mildEmph;
        int[] emphSides = new int[0];
    }

    private static SplittableRandom rng(PhantomSpec spec, PhantomFinding f) {
        return Rng.stream(spec.seed(), 100 + f.bit());
    }

    private static void decideGeometry(PhantomSpec spec, Anatomy a, Set<PhantomFinding> all, Anatomy.Mods m, Params p) {
        double k = a.k;
        if (all.contains(PhantomFinding.HEPATOMEGALY)) {
            SplittableRandom r = rng(spec, PhantomFinding.HEPATOMEGALY);
            p.liverLen = r.nextDouble() < 0.3 ? uni(r, 165, 172) : uni(r, 172, 220);
            m.liverLength = p.liverLen;
        }
        if (all.contains(PhantomFinding.SPLENOMEGALY)) {
            SplittableRandom r = rng(spec, PhantomFinding.SPLENOMEGALY);
            p.spleenLen = r.nextDouble() < 0.3 ? uni(r, 125, 131) : uni(r, 131, 180);
            m.spleenLength = p.spleenLen;
        }
        if (all.contains(PhantomFinding.HEPATIC_STEATOSIS)) {
            SplittableRandom r = rng(spec, PhantomFinding.HEPATIC_STEATOSIS);
            double sp = a.spleenHuNone;
            p.steatHu = r.nextDouble() < 0.35 ? uni(r, sp - 15, sp - 11) : uni(r, 0, sp - 15);
            m.steatosisHuNone = p.steatHu;
        }
        if (all.contains(PhantomFinding.EMPHYSEMA)) {
            SplittableRandom r = rng(spec, PhantomFinding.EMPHYSEMA);
            p.mildEmph = r.nextDouble() < 0.35;
            double u = r.nextDouble();
            p.emphSides = u < 0.6 ? new int[] {0, 1} : new int[] {u < 0.8 ? 0 : 1};
            for (int s : p.emphSides) {
                double sx = s == 0 ? -1 : 1;
                double zc = a.zCarina + uni(r, 0, 35) * k;
                double c = uni(r, 45, 75) * k;
                m.emphysemaRegions.add(new double[] {sx * 0.55 * a.cavA(zc), a.cavY(zc) - 0.05 * a.cavB(zc), zc,
                    0.5 * a.cavA(zc), 0.85 * a.cavB(zc), c});
            }
        }
        if (all.contains(PhantomFinding.AORTIC_ANEURYSM)) {
            SplittableRandom r = rng(spec, PhantomFinding.AORTIC_ANEURYSM);
            p.aneuD = r.nextDouble() < 0.3 ? uni(r, 30, 33) : uni(r, 33, 60);
            p.aneuLen = uni(r, 40, 100);
            double zc = uni(r, 0, 1);
            double ss = spec.sliceSpacingMm();
            double zTop = a.zScanCentre + (spec.slices() - 1) / 2.0 * ss, zBot = zTop - (spec.slices() - 1) * ss;
            double lo = Math.min(a.zKidUpR - a.lenKidR, a.zKidUpL - a.lenKidL) - 40 * k, hi = a.zKidUpL - 0.5 * a.lenKidL;
            double l2 = Math.max(lo, zBot), h2 = Math.min(hi, zTop);
            if (l2 > h2) {
                // Infrarenal segment not covered: use whatever abdominal (or failing that, any) aorta is.
                l2 = Math.max(-400 * k, zBot);
                h2 = Math.min(-35 * k, zTop);
                if (l2 > h2) {
                    l2 = Math.max(zBot, -400 * k);
                    h2 = Math.max(l2, Math.min(zTop, a.zCarina - 40 * k));
                }
            }
            m.aneurysmZ = l2 + zc * (h2 - l2);
            m.aneurysmLen = p.aneuLen;
            m.aneurysmDiameter = p.aneuD;
        }
    }

    // ---------------------------------------------------------------- helpers

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private boolean organCovered(Organ o, int side) {
        double[] b = side < 0 ? a.organBox[o.label()] : Anatomy.box(a.kidney[side]);
        return b[5] >= covLo && b[4] <= covHi;
    }

    private int probeLabel(double x, double y, double z) {
        probe.x0 = x;
        probe.y0 = y;
        PhantomGenerator.render(els, probe, z);
        return probe.lab[0];
    }

    private double[] lps(double x, double y, double z) {
        return new double[] {x + a.ox, y + a.oy, z};
    }

    /**
     * A point inside the organ (as rendered so far), within the covered slab and the field of view
     * when possible, whose neighbours at the margin are also inside.
     */
    private double[] place(Organ organ, double[] box, double margin, SplittableRandom r) {
        double zLo = Math.max(box[4], zBot), zHi = Math.min(box[5], zTop);
        if (zLo > zHi) {
            double zz = Math.max(zBot, Math.min(zTop, 0.5 * (box[4] + box[5])));
            zLo = zz;
            zHi = zz;
        }
        double[][] ranges = {
            {Math.max(box[0], fovX0), Math.min(box[1], fovX1), Math.max(box[2], fovY0), Math.min(box[3], fovY1)},
            {box[0], box[1], box[2], box[3]}};
        double[] margins = {margin, margin * 0.5, Math.min(margin, plan.maskPad), 0};
        for (double[] rg : ranges) {
            if (rg[0] > rg[1] || rg[2] > rg[3]) {
                continue;
            }
            for (double mg : margins) {
                for (int t = 0; t < 600; t++) {
                    double x = uni(r, rg[0], rg[1]), y = uni(r, rg[2], rg[3]), z = uni(r, zLo, zHi);
                    if (probeLabel(x, y, z) != organ.label()) {
                        continue;
                    }
                    if (mg > 0 && !(probeLabel(x + mg, y, z) == organ.label() && probeLabel(x - mg, y, z) == organ.label()
                            && probeLabel(x, y + mg, z) == organ.label() && probeLabel(x, y - mg, z) == organ.label()
                            && probeLabel(x, y, z + mg) == organ.label() && probeLabel(x, y, z - mg) == organ.label())) {
                        continue;
                    }
                    return new double[] {x, y, z};
                }
            }
        }
        return null;
    }

    private double[] placeOrFail(PhantomFinding f, Organ organ, double[] box, double margin, SplittableRandom r) {
        double[] p = place(organ, box, margin, r);
        if (p == null) {
            throw new IllegalArgumentException("cannot place finding " + f.id() + ": organ " + organ
                    + " has no voxels in the covered z-range [" + fmt(covLo) + ", " + fmt(covHi) + "] mm");
        }
        return p;
    }

    private double[] sideBox(double[] box, int s) {
        double[] b = box.clone();
        if (s == 0) {
            b[1] = Math.min(b[1], 0);
        } else {
            b[0] = Math.max(b[0], 0);
        }
        return b;
    }

    private String lobe(double x, double y, double z) {
        boolean right = x < 0;
        double hz = a.hilum(right ? 0 : 1)[2];
        if (z > hz + 20 * k) {
            return right ? "right upper lobe" : "left upper lobe";
        }
        if (z < hz - 20 * k || y > a.cavY(z)) {
            return right ? "right lower lobe" : "left lower lobe";
        }
        return right ? "right middle lobe" : "lingula";
    }

    private static String side(int s) {
        return s == 0 ? "right" : "left";
    }

    private int kidneySide(PhantomFinding f, SplittableRandom r) {
        int s = r.nextBoolean() ? 0 : 1;
        if (!organCovered(Organ.KIDNEY, s)) {
            s = 1 - s;
        }
        if (!organCovered(Organ.KIDNEY, s)) {
            throw new IllegalArgumentException("finding " + f.id() + " needs organ KIDNEY which lies outside the covered z-range");
        }
        return s;
    }

    private void add(PhantomFinding f, String side, double[] cModel, double size, double hu, String desc) {
        truth.add(new FindingTruth(f, f.organ(), side, lps(cModel[0], cModel[1], cModel[2]),
                Math.round(size * 10) / 10.0, Math.round(hu * 10) / 10.0, desc));
    }

    private Ellipsoid lesion(double[] c, double r, double hu, PhantomFinding f, Organ... allow) {
        Ink ink = Ink.of(hu).allow(allow).label(f.organ()).bit(f);
        return Ellipsoid.sphere(c[0], c[1], c[2], r, ink).soft(spec.pixelSpacingMm() + plan.maskPad);
    }

    // ---------------------------------------------------------------- insertion

    private void insertAll(Set<PhantomFinding> fs, Params p, Anatomy.Mods m) {
        if (fs.contains(PhantomFinding.PLEURAL_EFFUSION)) {
            effusion();
        }
        if (fs.contains(PhantomFinding.EMPHYSEMA)) {
            emphysema(p, m);
        }
        if (fs.contains(PhantomFinding.CONSOLIDATION)) {
            consolidation();
        }
        if (fs.contains(PhantomFinding.PULMONARY_NODULE)) {
            nodule();
        }
        if (fs.contains(PhantomFinding.LIVER_CYST)) {
            liverCyst();
        }
        if (fs.contains(PhantomFinding.LIVER_MASS)) {
            liverMass();
        }
        if (fs.contains(PhantomFinding.CHOLELITHIASIS)) {
            gallstones();
        }
        if (fs.contains(PhantomFinding.HYDRONEPHROSIS)) {
            hydronephrosis();
        }
        if (fs.contains(PhantomFinding.RENAL_CYST)) {
            renalCyst();
        }
        if (fs.contains(PhantomFinding.NEPHROLITHIASIS)) {
            kidneyStones();
        }
        if (fs.contains(PhantomFinding.PANCREATIC_MASS)) {
            pancreaticMass();
        }
        if (fs.contains(PhantomFinding.AORTIC_CALCIFICATION)) {
            calcification();
        }
        if (fs.contains(PhantomFinding.AORTIC_ANEURYSM)) {
            double[] c = a.aortaAt(m.aneurysmZ);
            double rr = m.aneurysmDiameter / 2 + 6;
            els.add(new LabelBit(Organ.AORTA, PhantomFinding.AORTIC_ANEURYSM, m.aneurysmZ - m.aneurysmLen / 2,
                    m.aneurysmZ + m.aneurysmLen / 2, new double[] {c[0], c[1], m.aneurysmZ, rr, rr, m.aneurysmLen / 2}));
            String where = m.aneurysmZ < a.zKidUpL - 0.5 * a.lenKidL ? "infrarenal abdominal" : (m.aneurysmZ < 0 ? "abdominal" : "descending thoracic");
            add(PhantomFinding.AORTIC_ANEURYSM, "", c, m.aneurysmDiameter, a.bloodHu,
                    String.format(Locale.ROOT, "fusiform %s aortic aneurysm, %.0f mm diameter over %.1f cm", where,
                            m.aneurysmDiameter, m.aneurysmLen / 10));
        }
        if (fs.contains(PhantomFinding.HEPATIC_STEATOSIS)) {
            els.add(new LabelBit(Organ.LIVER, PhantomFinding.HEPATIC_STEATOSIS, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, null));
            double hu = a.liverRight.ink.hu;
            add(PhantomFinding.HEPATIC_STEATOSIS, "", centre(a.liverRight), a.liverLen, hu,
                    String.format(Locale.ROOT, "hepatic steatosis, liver %.0f HU vs spleen %.0f HU unenhanced%s", p.steatHu,
                            a.spleenHuNone, p.steatHu > a.spleenHuNone - 15 ? " (borderline)" : ""));
        }
        if (fs.contains(PhantomFinding.HEPATOMEGALY)) {
            els.add(new LabelBit(Organ.LIVER, PhantomFinding.HEPATOMEGALY, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, null));
            add(PhantomFinding.HEPATOMEGALY, "", centre(a.liverRight), a.liverLen, a.liverRight.ink.hu,
                    String.format(Locale.ROOT, "hepatomegaly, craniocaudal liver length %.1f cm%s", a.liverLen / 10,
                            a.liverLen < 172 ? " (borderline)" : ""));
        }
        if (fs.contains(PhantomFinding.SPLENOMEGALY)) {
            els.add(new LabelBit(Organ.SPLEEN, PhantomFinding.SPLENOMEGALY, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, null));
            add(PhantomFinding.SPLENOMEGALY, "left", centre(a.spleen), a.spleenLen, a.spleenHu,
                    String.format(Locale.ROOT, "splenomegaly, spleen length %.1f cm%s", a.spleenLen / 10,
                            a.spleenLen < 131 ? " (borderline)" : ""));
        }
    }

    private static double[] centre(Ellipsoid e) {
        return new double[] {e.cx, e.cy, e.cz};
    }

    private void effusion() {
        SplittableRandom r = rng(spec, PhantomFinding.PLEURAL_EFFUSION);
        double u = r.nextDouble();
        int[] sides = u < 0.45 ? new int[] {0, 1} : new int[] {u < 0.75 ? 0 : 1};
        double hu = uni(r, 0, 20);
        for (int s : sides) {
            double t = 5 + 55 * Math.pow(r.nextDouble(), 1.3);
            double h = uni(r, 40, 120) * k;
            double base = a.lungLow[s];
            // Full thickness up to just below the dome top, where most of the lung base is; thinning above.
            double full = a.domeZ[s] - uni(r, 0, 10) * k;
            if (full + h * 0.6 < covLo) {
                h = (covLo - full) / 0.6 + 10;
            }
            Effusion e = new Effusion(s, t, h, base, full, hu);
            els.add(e);
            double zc = Math.min(covHi, Math.max(covLo, full));
            double[] c = {(s == 0 ? -1 : 1) * 0.6 * a.cavA(zc), a.cavPost(zc) - t / 2, zc};
            String grade = t < 15 ? "small" : (t < 35 ? "moderate" : "large");
            add(PhantomFinding.PLEURAL_EFFUSION, side(s), c, t, hu,
                    String.format(Locale.ROOT, "%s %s pleural effusion, %.0f mm thick", grade, side(s), t));
        }
    }

    private void emphysema(Params p, Anatomy.Mods m) {
        // A stream distinct from decideGeometry's, which already consumed rng(spec, EMPHYSEMA).
        SplittableRandom r = Rng.stream(spec.seed(), 200 + PhantomFinding.EMPHYSEMA.bit());
        for (int i = 0; i < p.emphSides.length; i++) {
            int s = p.emphSides[i];
            double[] reg = m.emphysemaRegions.get(i);
            int n = p.mildEmph ? 60 + r.nextInt(60) : 200 + r.nextInt(200);
            double sum = 0;
            for (int j = 0; j < n; j++) {
                double hu = p.mildEmph ? uni(r, -955, -930) : uni(r, -1000, -955);
                sum += hu;
                double rad = uni(r, 3, p.mildEmph ? 7 : 11) * k;
                for (int t = 0; t < 30; t++) {
                    double ux = uni(r, -1, 1), uy = uni(r, -1, 1), uz = uni(r, -1, 1);
                    if (ux * ux + uy * uy + uz * uz > 1) {
                        continue;
                    }
                    double x = reg[0] + ux * reg[3], y = reg[1] + uy * reg[4], z = reg[2] + uz * reg[5];
                    if (!a.inLung(s, x, y, z)) {
                        continue;
                    }
                    els.add(new Ellipsoid(x, y, z, rad, rad * uni(r, 0.7, 1.3), rad * uni(r, 0.7, 1.3), uni(r, 0, 3), 0, 0,
                            Ink.of(hu).allow(Organ.LUNG).maxHu(-500)));
                    break;
                }
            }
            els.add(new LabelBit(Organ.LUNG, PhantomFinding.EMPHYSEMA, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, reg));
            add(PhantomFinding.EMPHYSEMA, side(s), new double[] {reg[0], reg[1], reg[2]}, 2 * reg[5], sum / n,
                    String.format(Locale.ROOT, "%s centrilobular emphysema, %s upper lobe predominant",
                            p.mildEmph ? "mild" : "moderate-severe", side(s)));
        }
    }

    private void consolidation() {
        PhantomFinding f = PhantomFinding.CONSOLIDATION;
        SplittableRandom r = rng(spec, f);
        int s = r.nextBoolean() ? 0 : 1;
        double[] box = sideBox(a.organBox[Organ.LUNG.label()], s);
        double hz = a.hilum(s)[2];
        boolean lower = r.nextDouble() < 0.6;
        double[] b2 = box.clone();
        if (lower) {
            b2[5] = Math.min(b2[5], hz);
        } else {
            b2[4] = Math.max(b2[4], hz);
        }
        if (b2[5] < covLo || b2[4] > covHi) {
            b2 = box;
        }
        double sa = uni(r, 20, 50) * k, sb = uni(r, 18, 45) * k, sc = uni(r, 20, 50) * k;
        double[] c = place(Organ.LUNG, b2, Math.min(12, 0.4 * Math.min(sa, sb)), r);
        if (c == null) {
            c = placeOrFail(f, Organ.LUNG, a.organBox[Organ.LUNG.label()], 0, r);
        }
        double hu = uni(r, 20, 60) + (spec.phase() == ContrastPhase.NONE ? 0 : uni(r, 10, 25));
        Ellipsoid e = new Ellipsoid(c[0], c[1], c[2], sa, sb, sc, uni(r, 0, 3), uni(r, -0.4, 0.4), uni(r, -0.4, 0.4),
                Ink.of(hu).allow(Organ.LUNG).bit(f)).lobulated(0.15, r);
        els.add(e);
        boolean bronchograms = r.nextDouble() < 0.6;
        if (bronchograms) {
            Tube t = new Tube(Ink.of(-900).allow(Organ.LUNG).requireBit(f));
            int n = 1 + r.nextInt(3);
            for (int i = 0; i < n; i++) {
                double[] d = {r.nextGaussian(), r.nextGaussian(), r.nextGaussian()};
                double len = 0.8 * Math.min(sa, Math.min(sb, sc)) / Math.sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
                double rr = uni(r, 1.2, 2.4);
                t.segment(c[0] - d[0] * len, c[1] - d[1] * len, c[2] - d[2] * len, rr, c[0] + d[0] * len, c[1] + d[1] * len,
                        c[2] + d[2] * len, rr * 0.7);
            }
            els.add(t);
        }
        double size = 2 * Math.cbrt(sa * sb * sc);
        add(f, c[0] < 0 ? "right" : "left", c, size, hu, String.format(Locale.ROOT, "%.0f mm consolidation, %s%s", size,
                lobe(c[0], c[1], c[2]), bronchograms ? ", with air bronchograms" : ""));
    }

    private void nodule() {
        PhantomFinding f = PhantomFinding.PULMONARY_NODULE;
        SplittableRandom r = rng(spec, f);
        double d = 3 + 17 * Math.pow(r.nextDouble(), 1.7);
        double u = r.nextDouble();
        String kind;
        double hu;
        if (d < 12 && u < 0.35) {
            kind = "ground-glass";
            hu = uni(r, -600, -300);
        } else if (u > 0.88) {
            kind = "faint ground-glass";
            hu = uni(r, -680, -600);
        } else {
            kind = "solid";
            hu = uni(r, -50, 60);
        }
        double rad = d / 2;
        double[] c = placeOrFail(f, Organ.LUNG, a.organBox[Organ.LUNG.label()], rad + 3, r);
        Ellipsoid e = lesion(c, rad, hu, f, Organ.LUNG);
        e.ink.raiseOnly();
        if (d > 8) {
            e.lobulated(0.12, r);
        }
        els.add(e);
        add(f, c[0] < 0 ? "right" : "left", c, d, hu, String.format(Locale.ROOT, "%.1f mm %s nodule, %s", d, kind, lobe(c[0], c[1], c[2])));
    }

    private String liverSegment(double[] c) {
        String lobe = c[0] > -0.05 * a.cavA(c[2]) ? "left lobe" : "right lobe";
        return lobe + (c[2] > -0.35 * a.liverLen ? ", superior" : ", inferior");
    }

    private void liverCyst() {
        PhantomFinding f = PhantomFinding.LIVER_CYST;
        SplittableRandom r = rng(spec, f);
        double d = 5 + 45 * Math.pow(r.nextDouble(), 1.8);
        double hu = uni(r, 0, 15);
        double[] c = placeOrFail(f, Organ.LIVER, a.organBox[Organ.LIVER.label()], d / 2 + 2, r);
        els.add(lesion(c, d / 2, hu, f, Organ.LIVER));
        add(f, "", c, d, hu, String.format(Locale.ROOT, "%.0f mm simple liver cyst, %s", d, liverSegment(c)));
    }

    private void liverMass() {
        PhantomFinding f = PhantomFinding.LIVER_MASS;
        SplittableRandom r = rng(spec, f);
        double d = uni(r, 10, 60);
        boolean hypo = r.nextDouble() < 0.7;
        double delta = uni(r, 15, 40) * (hypo ? -1 : 1);
        double hu = a.liverRight.ink.hu + delta;
        double[] c = placeOrFail(f, Organ.LIVER, a.organBox[Organ.LIVER.label()], d / 2 * 0.8, r);
        Ellipsoid e = lesion(c, d / 2, hu, f, Organ.LIVER).lobulated(0.14, r);
        els.add(e);
        add(f, "", c, d, hu, String.format(Locale.ROOT, "%.0f mm %s liver mass (%+.0f HU vs liver), %s", d,
                hypo ? "hypoattenuating" : "hyperattenuating", delta, liverSegment(c)));
    }

    private void gallstones() {
        PhantomFinding f = PhantomFinding.CHOLELITHIASIS;
        SplittableRandom r = rng(spec, f);
        int n = 1 + (int) (5 * Math.pow(r.nextDouble(), 1.5));
        n = Math.min(5, n);
        double gr = Math.min(a.gallbladder.a, a.gallbladder.b);
        double dMax = Math.max(3.2, Math.min(15, 1.4 * gr));
        double[] box = Anatomy.box(a.gallbladder);
        for (int i = 0; i < n; i++) {
            double d = uni(r, 3, dMax);
            boolean faint = r.nextDouble() < 0.25;
            double hu = faint ? uni(r, 100, 160) : uni(r, 160, 800);
            double[] c = placeOrFail(f, Organ.GALLBLADDER, box, d / 2, r);
            els.add(lesion(c, d / 2, hu, f, Organ.GALLBLADDER));
            add(f, "", c, d, hu, String.format(Locale.ROOT, "%.1f mm %sgallstone", d, faint ? "faint " : "calcified "));
        }
    }

    private void hydronephrosis() {
        PhantomFinding f = PhantomFinding.HYDRONEPHROSIS;
        SplittableRandom r = rng(spec, f);
        int s = kidneySide(f, r);
        int grade = r.nextInt(3);
        double pr = (grade == 0 ? uni(r, 7, 10) : (grade == 1 ? uni(r, 10, 16) : uni(r, 16, 25))) * k;
        double cr = (grade == 0 ? uni(r, 3.5, 5) : (grade == 1 ? uni(r, 5, 8) : uni(r, 8, 11))) * k;
        double hu = uni(r, 0, 15);
        Ink ink = Ink.of(hu).allow(Organ.KIDNEY, Organ.BACKGROUND).cavity().label(Organ.KIDNEY).bit(f);
        double[] pv = a.pelvis[s];
        Tube t = new Tube(ink);
        for (double[] cal : a.calyces[s]) {
            t.segment(pv[0], pv[1], pv[2], cr * 0.6, cal[0], cal[1], cal[2], cr * 0.5);
        }
        els.add(t);
        els.add(Ellipsoid.sphere(pv[0], pv[1], pv[2], pr, ink));
        for (double[] cal : a.calyces[s]) {
            els.add(Ellipsoid.sphere(cal[0], cal[1], cal[2], cr, ink));
        }
        String g = grade == 0 ? "mild" : (grade == 1 ? "moderate" : "severe");
        add(f, side(s), pv, 2 * pr, hu, String.format(Locale.ROOT, "%s %s hydronephrosis, renal pelvis %.0f mm", g, side(s), 2 * pr));
    }

    private void renalCyst() {
        PhantomFinding f = PhantomFinding.RENAL_CYST;
        SplittableRandom r = rng(spec, f);
        int s = kidneySide(f, r);
        double d = 5 + 35 * Math.pow(r.nextDouble(), 1.6);
        double hu = uni(r, 0, 20);
        boolean exo = r.nextDouble() < 0.4;
        double[] box = Anatomy.box(a.kidney[s]);
        double[] c = null;
        if (exo) {
            for (int t = 0; t < 400 && c == null; t++) {
                double[] p = place(Organ.KIDNEY, box, 0, r);
                if (p == null) {
                    break;
                }
                double q = a.kidney[s].q(p[0], p[1], p[2]);
                if (q > 0.7) {
                    c = p;
                }
            }
        }
        if (c == null) {
            exo = false;
            c = placeOrFail(f, Organ.KIDNEY, box, d / 2 * 0.8, r);
        }
        Ellipsoid e = lesion(c, d / 2, hu, f, Organ.KIDNEY, Organ.BACKGROUND);
        e.ink.cavity();
        els.add(e);
        add(f, side(s), c, d, hu, String.format(Locale.ROOT, "%.0f mm %s%s renal cyst", d, exo ? "exophytic " : "", side(s)));
    }

    private void kidneyStones() {
        PhantomFinding f = PhantomFinding.NEPHROLITHIASIS;
        SplittableRandom r = rng(spec, f);
        int s = kidneySide(f, r);
        double u = r.nextDouble();
        int n = u < 0.7 ? 1 : (u < 0.9 ? 2 : 3);
        String[] where = {"upper pole calyx", "interpolar calyx", "lower pole calyx", "renal pelvis"};
        for (int i = 0; i < n; i++) {
            double d = 2 + 8 * Math.pow(r.nextDouble(), 1.5);
            double hu = uni(r, 300, 1200);
            int loc = r.nextInt(4);
            double[] base = loc == 3 ? a.pelvis[s] : a.calyces[s][loc];
            double[] c = {base[0] + uni(r, -1.5, 1.5), base[1] + uni(r, -1.5, 1.5), base[2] + uni(r, -1.5, 1.5)};
            if (c[2] < zBot || c[2] > zTop || probeLabel(c[0], c[1], c[2]) != Organ.KIDNEY.label()) {
                double[] p = place(Organ.KIDNEY, Anatomy.box(a.kidney[s]), d / 2, r);
                if (p != null) {
                    c = p;
                }
            }
            els.add(lesion(c, d / 2, hu, f, Organ.KIDNEY, Organ.BACKGROUND));
            add(f, side(s), c, d, hu, String.format(Locale.ROOT, "%.1f mm %s renal stone, %s", d, side(s), where[loc]));
        }
    }

    private void pancreaticMass() {
        PhantomFinding f = PhantomFinding.PANCREATIC_MASS;
        SplittableRandom r = rng(spec, f);
        double u = r.nextDouble();
        int node = u < 0.6 ? 1 : (u < 0.85 ? 3 : 4);
        String part = node == 1 ? "head" : (node == 3 ? "body" : "tail");
        double d = uni(r, 10, 40);
        double hu = a.pancreasHu - uni(r, 10, 30);
        double[] n = a.pancreasNodes[node];
        double reach = n[3] + 12 * k;
        double[] near = {n[0] - reach, n[0] + reach, n[1] - reach, n[1] + reach, n[2] - reach, n[2] + reach};
        // Sample the rendered gland: veins and neighbours may cover the analytic node centre.
        double[] c = place(Organ.PANCREAS, near, Math.min(4, n[3] * 0.4), r);
        if (c == null) {
            c = placeOrFail(f, Organ.PANCREAS, a.organBox[Organ.PANCREAS.label()], 0, r);
            part = c[0] < -15 * k ? "head" : (c[0] < 0.3 * a.cavA(c[2]) ? "body" : "tail");
        }
        Ellipsoid e = lesion(c, d / 2, hu, f, Organ.PANCREAS, Organ.BACKGROUND).lobulated(0.12, r);
        e.ink.cavity();
        els.add(e);
        add(f, "", c, d, hu, String.format(Locale.ROOT, "%.0f mm hypoattenuating mass, pancreatic %s (%.0f HU below parenchyma)",
                d, part, a.pancreasHu - hu));
    }

    private void calcification() {
        PhantomFinding f = PhantomFinding.AORTIC_CALCIFICATION;
        SplittableRandom r = rng(spec, f);
        int n = 3 + (int) (40 * Math.pow(r.nextDouble(), 2));
        double[][] nodes = a.aortaNodes;
        double top = nodes[4][2], bottom = -400 * k;
        double lo = Math.max(bottom, zBot), hi = Math.min(top, zTop);
        if (lo > hi) {
            lo = hi = Math.max(bottom, Math.min(top, zTop));
        }
        double sx = 0, sy = 0, sz = 0, shu = 0, big = 0;
        for (int i = 0; i < n; i++) {
            // Plaques favour the abdominal aorta when it is covered.
            double abdHi = Math.min(hi, -35 * k);
            double z = r.nextDouble() < 0.7 && abdHi >= lo ? uni(r, lo, abdHi) : uni(r, lo, hi);
            double[] c = a.aortaAt(z);
            double th = Math.PI / 2 + uni(r, -2.2, 2.2); // mostly posterior and lateral walls
            double rr = c[3] - 0.6;
            double px = c[0] + rr * Math.cos(th), py = c[1] + rr * Math.sin(th);
            double s1 = uni(r, 1.0, 2.8), s2 = uni(r, 1.0, 2.2), s3 = uni(r, 1.5, 6);
            double hu = uni(r, 300, 1000);
            Ellipsoid e = new Ellipsoid(px, py, z, s1, s2, s3, th, 0, 0, Ink.of(hu).allow(Organ.AORTA, Organ.BACKGROUND).label(Organ.AORTA).bit(f));
            e.soft(spec.pixelSpacingMm() + plan.maskPad);
            els.add(e);
            sx += px;
            sy += py;
            sz += z;
            shu += hu;
            big = Math.max(big, 2 * Math.max(s1, Math.max(s2, s3)));
        }
        String extent = n <= 6 ? "few" : (n <= 20 ? "moderate" : "extensive");
        add(f, "", new double[] {sx / n, sy / n, sz / n}, big, shu / n,
                String.format(Locale.ROOT, "%s aortic wall calcification, %d plaques", extent, n));
    }

    /** Dependent pleural fluid: a crescent along the posterior chest wall thinning upwards. */
    private final class Effusion extends Element {
        private final int s;
        private final double t, h, base, full;
        private final float hu;
        private final short bit = (short) (1 << PhantomFinding.PLEURAL_EFFUSION.bit());

        Effusion(int s, double t, double h, double base, double full, double hu) {
            this.s = s;
            this.t = t;
            this.h = h;
            this.base = base;
            this.full = full;
            this.hu = (float) hu;
            zMin = base - 5;
            zMax = full + h;
        }

        @Override
        void paint(Canvas c, double z) {
            double f = 1 - Math.max(0, z - full) / h;
            if (f <= 0) {
                return;
            }
            double th = t * Math.pow(Math.min(1, f), 0.7);
            double ca = a.cavA(z), cy = a.cavY(z), cb = a.cavB(z), w = a.postBlend(z);
            boolean right = s == 0;
            int i0 = c.ix0(right ? -ca : 0), i1 = c.ix1(right ? 0 : ca);
            int j0 = c.iy0(a.cavAnt(z)), j1 = c.iy1(a.cavPost(z));
            int lung = Organ.LUNG.label();
            for (int i = i0; i <= i1; i++) {
                double u = (c.x0 + i * c.ps) / ca;
                double u2 = Math.min(1, u * u);
                double v = Rng.lerp(Math.sqrt(1 - u2), Math.sqrt(Math.sqrt(1 - u2 * u2)), w);
                double yLim = cy + v * cb - th;
                for (int j = j0; j <= j1; j++) {
                    int idx = j * c.nx + i;
                    if (c.lab[idx] != lung || c.y0 + j * c.ps < yLim) {
                        continue;
                    }
                    c.hu[idx] = hu;
                    c.lab[idx] = 0;
                    c.mask[idx] |= bit;
                }
            }
        }
    }
}
