package org.cttriage.testdata.phantom;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.cttriage.testdata.phantom.Rng.lerp;
import static org.cttriage.testdata.phantom.Rng.smoothstep;
import static org.cttriage.testdata.phantom.Rng.uni;

/**
 * The randomised analytic patient. Model frame: millimetres, x to patient left, y posterior,
 * z superior, origin on the body axis at the top of the right diaphragm dome. Every draw comes
 * from streams derived from the seed alone, so the same seed gives the same anatomy whatever the
 * phase or findings (findings only alter what they must: liver size, spleen size, aorta calibre).
 */
final class Anatomy {

    /** Geometry-changing findings, decided before the anatomy is built. */
    static final class Mods {
        double liverLength = Double.NaN;
        double spleenLength = Double.NaN;
        double steatosisHuNone = Double.NaN;
        final List<double[]> emphysemaRegions = new ArrayList<>();
        double aneurysmZ = Double.NaN;
        double aneurysmLen;
        double aneurysmDiameter;
    }

    final ContrastPhase phase;
    final PatientHabitus habitus;
    final double k;
    final double noiseSigma;
    final double ox;
    final double oy;

    // Landmarks (model z).
    final double zApex, zDomeR = 0, zDomeL, zCarina, zArch;
    final double zKidUpR, zKidUpL, lenKidR, lenKidL;
    final double liverLen0, spleenLen0;
    final double zScanCentre;

    // Body profile: half-widths/depths of the musculoskeletal frame; fat lies outside.
    private final double aChest, aAbd, bPost0, bAntChest, bAntAbd, fatBase, muscleT;

    // Lungs.
    final double[] domeZ = new double[2], domeX = new double[2], domeY = new double[2], domeK = new double[2];
    final double[] apexZ = new double[2], apexX = new double[2], apexY = new double[2], apexK = new double[2];
    final double[] lungLow = new double[2];

    // Tissue attenuation for this patient and phase.
    final double fatHu, muscleHu, skinHu, cancellousHu, corticalHu, discHu, csfHu;
    final double lungHu, lungGrad;
    final double bloodHu, pulmBloodHu, svcHu, myocardHu, ivcHu, portalHu, hepVeinHu, smaHu;
    final double liverHuNone, liverHu, spleenHuNone, spleenHu, spleenMottle;
    final double kidneyCortexHu, kidneyMedullaHu, pancreasHu, bileHu, urineHu, bowelWallHu, thrombusHu;
    final double liverPhaseGain;

    private final SplittableRandom geo;
    private final long seed;

    // Built parts, exposed for the finding planner.
    final List<Element> elements = new ArrayList<>();
    final double[][] organBox = new double[8][];
    Ellipsoid liverRight, liverLeft, gallbladder, spleen;
    final Ellipsoid[] kidney = new Ellipsoid[2];
    final double[][] pelvis = new double[2][];
    final double[][][] calyces = new double[2][][];
    double[][] pancreasNodes;
    double[][] aortaNodes;
    double liverLen, spleenLen, heartX, heartY, heartZ;

    Anatomy(long seed, ContrastPhase phase) {
        this.seed = seed;
        this.phase = phase;
        SplittableRandom h = Rng.stream(seed, 1);
        boolean male = h.nextBoolean();
        int age = (int) Math.round(uni(h, 20, 90));
        double height = male ? Rng.normal(h, 176, 7, 158, 195) : Rng.normal(h, 163, 6.5, 148, 182);
        double bmi = Rng.normal(h, 26.5, 4.5, 17.5, 40);
        double weight = bmi * height * height / 10000.0;
        k = height / 175.0;
        double sexW = male ? 1.05 : 0.96;
        // Musculoskeletal frame scales with height and sex; fat is added outside it, visceral fat inside.
        aChest = 145 * k * sexW * uni(h, 0.95, 1.05);
        aAbd = aChest * uni(h, 0.88, 0.96) + 1.2 * Math.max(0, bmi - 25) * k;
        bPost0 = 86 * k * uni(h, 0.95, 1.05);
        bAntChest = 88 * k * sexW * uni(h, 0.95, 1.05);
        bAntAbd = bAntChest * uni(h, 0.88, 0.98) + 3.5 * Math.max(0, bmi - 25) * k;
        double fatWanted = clamp((4 + 2.1 * (bmi - 18)) * (male ? 1.0 : 1.25) * uni(h, 0.85, 1.15), 3, 48);
        // Keep the widest body inside a 400 mm field of view.
        fatBase = Math.max(3, Math.min(fatWanted, (194 - Math.max(aChest, aAbd)) / 1.35));
        muscleT = (male ? 13 : 10) * k * uni(h, 0.85, 1.15);
        ox = uni(h, -15, 15);
        oy = uni(h, -12, 12);

        SplittableRandom z = Rng.stream(seed, 2);
        zApex = uni(z, 168, 198) * k;
        zDomeL = -uni(z, 8, 24) * k;
        zCarina = zApex - uni(z, 62, 80) * k;
        zArch = zCarina + uni(z, 18, 30) * k;
        zKidUpL = -uni(z, 38, 52) * k;
        zKidUpR = zKidUpL - uni(z, 6, 18) * k;
        lenKidL = uni(z, 96, 122) * k;
        lenKidR = lenKidL * uni(z, 0.94, 1.04);
        // Normal organs stay below the size criteria (liver <= ~16 cm, spleen <= ~12 cm) even for tall patients.
        liverLen0 = Math.min(158, uni(z, 128, 158) * k);
        spleenLen0 = Math.min(118, uni(z, 85, 115) * k);
        double low = Math.min(zKidUpR - lenKidR, zKidUpL - lenKidL);
        zScanCentre = 0.5 * (zApex + 8 + low - 6);
        for (int s = 0; s < 2; s++) {
            double sx = s == 0 ? -1 : 1;
            domeZ[s] = s == 0 ? zDomeR : zDomeL;
            domeX[s] = sx * uni(z, 55, 80) * k;
            domeY[s] = uni(z, -15, 10) * k;
            domeK[s] = uni(z, 0.0055, 0.0085) / k;
            apexZ[s] = zApex - (s == 0 ? 0 : uni(z, 0, 8));
            apexX[s] = sx * uni(z, 45, 62) * k;
            apexY[s] = uni(z, 0, 20) * k;
            apexK[s] = uni(z, 0.009, 0.013) / k;
        }

        double bw = 0, bd = 0;
        for (double zz = low - 10; zz <= zApex; zz += 5) {
            bw = Math.max(bw, 2 * bodyA(zz));
            bd = Math.max(bd, bodyBAnt(zz) + bodyBPost(zz));
        }
        habitus = new PatientHabitus(male ? 'M' : 'F', age, Math.round(weight * 10) / 10.0,
                Math.round(height * 10) / 10.0, Math.round(bw * 10) / 10.0, Math.round(bd * 10) / 10.0);
        noiseSigma = 8 + 12 * clamp((bw + bd - 470) / (700 - 470), 0, 1);

        // Tissue table: every value is drawn whatever the phase, so the phase never shifts other draws.
        SplittableRandom t = Rng.stream(seed, 3);
        fatHu = Rng.normal(t, -100, 7, -118, -82);
        double muscleN = uni(t, 40, 60);
        skinHu = uni(t, 15, 35);
        double osteopenia = uni(t, 0, 30); // always drawn so later draws do not depend on age
        cancellousHu = uni(t, 250, 350) - (age > 65 ? osteopenia : 0);
        corticalHu = uni(t, 700, 1000);
        discHu = uni(t, 70, 95);
        csfHu = uni(t, 20, 30);
        lungHu = Rng.normal(t, -850, 15, -885, -815);
        lungGrad = uni(t, 10, 35);
        double bloodN = uni(t, 35, 50), bloodA = uni(t, 250, 350), bloodP = uni(t, 150, 180);
        double pulmA = bloodA * uni(t, 0.9, 1.1), pulmP = bloodP * uni(t, 0.95, 1.05);
        double svcA = uni(t, 280, 600);
        double ivcA = uni(t, 70, 110), ivcP = uni(t, 125, 150);
        double portalA = uni(t, 80, 120), portalP = uni(t, 160, 190);
        double hepVeinA = uni(t, 50, 70);
        double liverN = uni(t, 55, 65), liverA = liverN + uni(t, 8, 20), liverP = uni(t, 100, 120);
        double spleenN = uni(t, 45, 50), spleenA = uni(t, 105, 135), spleenP = uni(t, 110, 120);
        double kidN = uni(t, 30, 35), cortA = uni(t, 175, 220), medA = uni(t, 70, 100);
        double cortP = uni(t, 160, 180), medP = uni(t, 145, 168);
        double pancN = uni(t, 40, 45), pancA = uni(t, 105, 130), pancP = uni(t, 90, 110);
        bileHu = uni(t, 0, 20);
        urineHu = uni(t, 4, 15);
        double myoA = uni(t, 90, 120), myoP = uni(t, 90, 110);
        thrombusHu = uni(t, 38, 55);
        spleenMottle = uni(t, 25, 45);
        double wallA = uni(t, 60, 80), wallP = uni(t, 80, 100);
        switch (phase) {
            case ARTERIAL -> {
                muscleHu = muscleN + 5;
                bloodHu = bloodA;
                pulmBloodHu = pulmA;
                svcHu = svcA;
                ivcHu = ivcA;
                portalHu = portalA;
                hepVeinHu = hepVeinA;
                smaHu = bloodA;
                liverHu = liverA;
                spleenHu = spleenA;
                kidneyCortexHu = cortA;
                kidneyMedullaHu = medA;
                pancreasHu = pancA;
                myocardHu = myoA;
                bowelWallHu = wallA;
            }
            case PORTAL_VENOUS -> {
                muscleHu = muscleN + 10;
                bloodHu = bloodP;
                pulmBloodHu = pulmP;
                svcHu = bloodP;
                ivcHu = ivcP;
                portalHu = portalP;
                hepVeinHu = portalP * uni(t, 0.9, 1.0);
                smaHu = bloodP;
                liverHu = liverP;
                spleenHu = spleenP;
                kidneyCortexHu = cortP;
                kidneyMedullaHu = medP;
                pancreasHu = pancP;
                myocardHu = myoP;
                bowelWallHu = wallP;
            }
            default -> {
                muscleHu = muscleN;
                bloodHu = bloodN;
                pulmBloodHu = bloodN;
                svcHu = bloodN;
                ivcHu = bloodN;
                portalHu = bloodN;
                hepVeinHu = bloodN;
                smaHu = bloodN;
                liverHu = liverN;
                spleenHu = spleenN;
                kidneyCortexHu = kidN;
                kidneyMedullaHu = kidN;
                pancreasHu = pancN;
                myocardHu = bloodN + uni(t, -3, 3);
                bowelWallHu = uni(t, 35, 45);
            }
        }
        liverHuNone = liverN;
        spleenHuNone = spleenN;
        liverPhaseGain = phase == ContrastPhase.NONE ? 1.0 : 0.9;
        geo = Rng.stream(seed, 4);
        for (int s = 0; s < 2; s++) {
            lungLow[s] = computeLungLow(s);
        }
    }

    // ---------------------------------------------------------------- body profile

    double wAbd(double z) {
        return smoothstep(20 * k, -60 * k, z);
    }

    private double neck(double z) {
        return smoothstep(zApex - 20, zApex + 80, z);
    }

    double bodyA(double z) {
        return lerp(aChest, aAbd, wAbd(z)) * (1 - 0.35 * neck(z)) + fat(z);
    }

    double bodyBAnt(double z) {
        return lerp(bAntChest, bAntAbd, wAbd(z)) * (1 - 0.3 * neck(z)) + fat(z);
    }

    double bodyBPost(double z) {
        return bPost0 * (1 - 0.2 * neck(z)) + fat(z);
    }

    double fat(double z) {
        return fatBase * (1 + 0.35 * wAbd(z)) * (1 - 0.5 * neck(z));
    }

    /** Centre (y) of the vertebral body; keeps a roughly constant distance to the back skin. */
    double ys(double z) {
        return bodyBPost(z) - fat(z) - 74 * k;
    }

    double vr(double z) {
        return lerp(15.5 * k, 21 * k, smoothstep(40, -120, z));
    }

    double cavAnt(double z) {
        return -bodyBAnt(z) + fat(z) + muscleT;
    }

    double cavPost(double z) {
        return ys(z) + lerp(46, 35, wAbd(z)) * k;
    }

    double cavA(double z) {
        return bodyA(z) - fat(z) - muscleT - lerp(6, 2, wAbd(z)) * k;
    }

    double cavY(double z) {
        return 0.5 * (cavAnt(z) + cavPost(z));
    }

    double cavB(double z) {
        return 0.5 * (cavPost(z) - cavAnt(z));
    }

    /** Normalised radius of the body cavity: &lt; 1 inside. The back is flatter in the abdomen. */
    double cavRho(double x, double y, double z) {
        double u = x / cavA(z), v = (y - cavY(z)) / cavB(z);
        double r2 = Math.sqrt(u * u + v * v);
        if (v <= 0) {
            return r2;
        }
        double r4 = Math.sqrt(Math.sqrt(u * u * u * u + v * v * v * v));
        return lerp(r2, r4, postBlend(z));
    }

    /** Weight of the flat (quartic) posterior cavity contour: lungs reach furthest back beside the spine. */
    double postBlend(double z) {
        return lerp(0.65, 1.0, wAbd(z));
    }

    /** Cavity boundary point in direction theta (0 = posterior, pi/2 = patient side sx). */
    double[] cavBoundary(double theta, double sx, double z, double grow) {
        double ux = sx * Math.sin(theta), uy = Math.cos(theta);
        double a = cavA(z), b = cavB(z), yc = cavY(z);
        double rho = cavRho(ux * a, yc + uy * b, z);
        double lam = 1 / rho;
        double px = ux * a * lam, py = uy * b * lam;
        double len = Math.hypot(px, py);
        return new double[] {px + grow * px / len, yc + py + grow * py / len};
    }

    double dome(int s, double x, double y) {
        double dx = x - domeX[s], dy = 0.8 * (y - domeY[s]);
        return domeZ[s] - domeK[s] * (dx * dx + dy * dy);
    }

    double apex(int s, double x, double y) {
        double dx = x - apexX[s], dy = y - apexY[s];
        return apexZ[s] - apexK[s] * (dx * dx + dy * dy);
    }

    double medHalfWidth(double z) {
        return z > zArch ? 20 * k : lerp(30 * k, 20 * k, smoothstep(zArch - 40, zArch, z));
    }

    /** Analytic lung test (ignores vessels and later findings); used to grow trees and seed findings. */
    boolean inLung(int s, double x, double y, double z) {
        double sx = s == 0 ? -1 : 1;
        if (sx * x < medHalfWidth(z) + 4 * k || cavRho(x, y, z) > 0.97) {
            return false;
        }
        if (z < dome(s, x, y) + 2 || z > apex(s, x, y) - 2) {
            return false;
        }
        double dx = x - (sx * (vr(z) + 2)), dy = y - ys(z);
        if (dx * dx + dy * dy < (vr(z) + 6) * (vr(z) + 6) && Math.abs(x) < vr(z) + 8) {
            return false;
        }
        return heart == null || heart.q(x, y, z) > 1.1;
    }

    private double computeLungLow(int s) {
        double best = domeZ[s];
        double sx = s == 0 ? -1 : 1;
        double zz = domeZ[s] - 50 * k;
        for (double th = 0.05; th < Math.PI; th += 0.05) {
            double[] p = cavBoundary(th, sx, zz, -4);
            best = Math.min(best, dome(s, p[0], p[1]));
        }
        return best;
    }

    // ---------------------------------------------------------------- build

    private Ellipsoid heart;

    void build(Mods m) {
        SplittableRandom g = geo;
        liverLen = Double.isNaN(m.liverLength) ? liverLen0 : m.liverLength;
        spleenLen = Double.isNaN(m.spleenLength) ? spleenLen0 : m.spleenLength;
        double liverHuHere = liverHu;
        if (!Double.isNaN(m.steatosisHuNone)) {
            liverHuHere = liverHu - (liverHuNone - m.steatosisHuNone) * liverPhaseGain;
        }
        double zLow = Math.min(zKidUpR - lenKidR, zKidUpL - lenKidL) - 260;
        double zHigh = zApex + 140;

        elements.add(new Body(zLow, zHigh));
        // Psoas muscles appear below the kidneys' upper poles and thicken caudally.
        for (int s = 0; s < 2; s++) {
            double sx = s == 0 ? -1 : 1;
            double[][] n = new double[5][];
            double[] zs = {-85 * k, -150 * k, -220 * k, -300 * k, -420 * k};
            double[] rs = {3, 11, 18, 23, 25};
            for (int i = 0; i < 5; i++) {
                double zz = zs[i];
                n[i] = new double[] {sx * (vr(zz) + (12 + rs[i] * 0.4) * k), ys(zz) + 4 * k, zz, rs[i] * k};
            }
            elements.add(new Tube(Ink.of(muscleHu).cavity().label(Organ.BACKGROUND)).polyline(n));
        }
        addBowel(g);

        // Liver: right lobe under the right dome plus a left lobe across the midline.
        double sxy = Math.min(1.15, Math.sqrt(liverLen / liverLen0));
        double zl = zDomeR - liverLen / 2 + 1;
        liverRight = new Ellipsoid(-0.40 * cavA(zl), cavY(zl) + 0.04 * cavB(zl), zl,
                0.6 * cavA(zl) * sxy, 0.95 * cavB(zl) * sxy, liverLen / 2, uni(g, -0.15, 0.15), 0, uni(g, -0.1, 0.1),
                Ink.of(liverHuHere).cavity().label(Organ.LIVER));
        double zll = zDomeR - 32 * k;
        liverLeft = new Ellipsoid(0.1 * cavA(zll), cavAnt(zll) + 0.32 * cavB(zll), zll,
                0.46 * cavA(zll) * sxy, 0.3 * cavB(zll) * sxy, 40 * k * sxy, uni(g, 0.05, 0.3), 0, 0,
                Ink.of(liverHuHere).cavity().label(Organ.LIVER));
        elements.add(liverRight);
        elements.add(liverLeft);
        addHepaticVessels(g);

        // Gallbladder in its fossa on the visceral surface, fundus pointing anterior-inferior.
        double zg = zDomeR - 0.62 * liverLen0;
        double gr = uni(g, 13, 19) * k;
        gallbladder = new Ellipsoid(-0.3 * cavA(zg), cavAnt(zg) + 0.3 * cavB(zg), zg, gr, gr * uni(g, 0.9, 1.2),
                uni(g, 30, 42) * k, uni(g, -0.3, 0.3), -0.5, 0.2, Ink.of(bileHu).cavity().label(Organ.GALLBLADDER));
        elements.add(gallbladder);

        // Stomach (left upper quadrant), painted before spleen and lungs which clip it.
        double zst = zDomeL - 48 * k;
        boolean gas = g.nextDouble() < 0.7;
        double stomFluid = uni(g, 5, 25);
        double stomY = cavAnt(zst) + 45 * k;
        double level = stomY - uni(g, 5, 25) * k;
        Ellipsoid stomach = new Ellipsoid(0.32 * cavA(zst), stomY, zst, 42 * k, 33 * k, 52 * k, 0.5, 0.2, 0.2,
                Ink.of(stomFluid).cavity().label(Organ.BACKGROUND));
        double wallHu = bowelWallHu;
        stomach.shader((x, y, zz, q) -> q > 0.84 ? (float) wallHu : (gas && y < level ? -990f : (float) stomFluid));
        elements.add(stomach);

        // Spleen, its thin axis facing the posterolateral wall.
        double zsp = zDomeL - 6 - spleenLen / 2;
        double sf = Math.min(1.35, Math.pow(spleenLen / spleenLen0, 0.6));
        spleen = new Ellipsoid(0.63 * cavA(zsp), cavY(zsp) + 0.48 * cavB(zsp), zsp, 20 * k * sf, 36 * k * sf,
                spleenLen / 2, Math.atan2(0.7, 0.7) + uni(g, -0.2, 0.2), 0, uni(g, -0.2, 0.1),
                Ink.of(spleenHu).cavity().label(Organ.SPLEEN));
        double f1 = uni(g, 0.12, 0.2), ph = uni(g, 0, 6); // drawn in every phase so anatomy never depends on phase
        if (phase == ContrastPhase.ARTERIAL) {
            double base = spleenHu, amp = spleenMottle;
            spleen.shader((x, y, zz, q) -> (float) (base + amp * Math.sin(f1 * x + ph) * Math.sin(f1 * 1.3 * y + 0.7 * zz * f1)));
        }
        elements.add(spleen);

        addKidneys(g);
        addAorta(m);
        addPancreasAndVeins(g);

        // Lungs after the abdominal organs: whatever sits above a diaphragm dome becomes lung.
        for (int s = 0; s < 2; s++) {
            elements.add(new Lung(s));
        }
        addMediastinum(g);
        addAirwaysAndVessels(g, m);
        Tube aortaTube = aortaOuter;
        elements.add(aortaTube);
        if (aortaLumen != null) {
            elements.add(aortaLumen);
        }
        // Erector spinae: painted after the lungs so the paravertebral lung stops at the muscle.
        for (int s = 0; s < 2; s++) {
            double sx = s == 0 ? -1 : 1;
            double[][] n = new double[8][];
            for (int i = 0; i < 8; i++) {
                double zz = zApex + 60 - i * (zApex + 500) / 7.0;
                double cyc = ys(zz) + vr(zz) + 9 * k;
                n[i] = new double[] {sx * 27 * k, cyc + 24 * k, zz, 21 * k};
            }
            elements.add(new Tube(Ink.of(muscleHu).body().label(Organ.BACKGROUND)).polyline(n));
        }
        elements.add(new Spine());
        addRibsAndSternum(g);

        // Organ boxes for coverage checks and finding placement.
        double[] lung = {-cavA(0) - 10, cavA(0) + 10, cavAnt(0) - 10, cavPost(0) + 10,
            Math.min(lungLow[0], lungLow[1]), zApex};
        organBox[Organ.LUNG.label()] = lung;
        organBox[Organ.LIVER.label()] = union(box(liverRight), box(liverLeft));
        organBox[Organ.LIVER.label()][5] = Math.min(organBox[Organ.LIVER.label()][5], zDomeR);
        organBox[Organ.GALLBLADDER.label()] = box(gallbladder);
        organBox[Organ.KIDNEY.label()] = union(box(kidney[0]), box(kidney[1]));
        organBox[Organ.SPLEEN.label()] = box(spleen);
        organBox[Organ.SPLEEN.label()][5] = Math.min(organBox[Organ.SPLEEN.label()][5], zDomeL);
        organBox[Organ.PANCREAS.label()] = pancreasTube.bounds();
        organBox[Organ.AORTA.label()] = aortaTube.bounds();
    }

    static double[] box(Ellipsoid e) {
        return new double[] {e.cx - e.halfX(), e.cx + e.halfX(), e.cy - e.halfY(), e.cy + e.halfY(), e.zMin, e.zMax};
    }

    static double[] union(double[] a, double[] b) {
        return new double[] {Math.min(a[0], b[0]), Math.max(a[1], b[1]), Math.min(a[2], b[2]), Math.max(a[3], b[3]),
            Math.min(a[4], b[4]), Math.max(a[5], b[5])};
    }

    private void addBowel(SplittableRandom g) {
        int n = 22 + g.nextInt(14);
        double zTopB = zDomeR - 75 * k, zBotB = Math.min(zKidUpR - lenKidR, zKidUpL - lenKidL) - 150;
        for (int i = 0; i < n; i++) {
            double zz = uni(g, zBotB, zTopB);
            double x = uni(g, -0.72, 0.72) * cavA(zz);
            double y = uni(g, cavAnt(zz) + 14 * k, cavY(zz) + 0.15 * cavB(zz));
            double r = uni(g, 9, 19) * k;
            double el = uni(g, 1, 2.2);
            int type = g.nextInt(4);
            double content = type == 0 ? -950 : (type == 3 ? uni(g, -250, -120) : uni(g, 0, 25));
            double wall = bowelWallHu;
            double mot = uni(g, 0.3, 0.6), ph = uni(g, 0, 6);
            Ellipsoid e = new Ellipsoid(x, y, zz, r * el, r, r, uni(g, 0, Math.PI), uni(g, -1, 1), uni(g, -1, 1),
                    Ink.of(content).cavity().label(Organ.BACKGROUND));
            boolean feces = type == 3;
            e.shader((px, py, pz, q) -> q > 0.72 ? (float) wall
                    : (float) (feces ? content + 150 * Math.sin(mot * px + ph) * Math.sin(mot * py - ph) * Math.sin(mot * pz) : content));
            elements.add(e);
        }
        // Colon frame: ascending, transverse, descending.
        double[] part = new double[3];
        for (int i = 0; i < 3; i++) {
            part[i] = g.nextDouble() < 0.5 ? uni(g, -950, -700) : uni(g, -350, -150);
        }
        double zf = -112 * k, zb = -330 * k;
        Tube asc = new Tube(Ink.of(part[0]).cavity().label(Organ.BACKGROUND)).rim(2.5, bowelWallHu);
        asc.polyline(new double[][] {{-0.68 * cavA(zb), cavY(zb) + 0.05 * cavB(zb), zb, 22 * k},
            {-0.66 * cavA(zf), cavY(zf), zf, 21 * k}});
        Tube tr = new Tube(Ink.of(part[1]).cavity().label(Organ.BACKGROUND)).rim(2.5, bowelWallHu);
        tr.polyline(new double[][] {{-0.62 * cavA(zf), cavAnt(zf) + 40 * k, zf - 5, 19 * k},
            {0, cavAnt(zf) + 26 * k, zf - 28 * k, 18 * k}, {0.6 * cavA(zf), cavAnt(zf) + 40 * k, zf + 20 * k, 19 * k}});
        Tube desc = new Tube(Ink.of(part[2]).cavity().label(Organ.BACKGROUND)).rim(2.5, bowelWallHu);
        desc.polyline(new double[][] {{0.62 * cavA(zf), cavY(zf), zf + 22 * k, 18 * k},
            {0.7 * cavA(zb), cavY(zb) + 0.15 * cavB(zb), zb, 18 * k}});
        elements.add(asc);
        elements.add(tr);
        elements.add(desc);
    }

    private double ivcX(double z) {
        return -(vr(z) + 6 * k);
    }

    private double ivcY(double z) {
        return ys(z) - vr(z) - 10 * k;
    }

    private void addHepaticVessels(SplittableRandom g) {
        Tube hv = new Tube(Ink.of(hepVeinHu).allow(Organ.LIVER));
        double zc = zDomeR - 14 * k;
        double cx = ivcX(zc), cy = ivcY(zc);
        double[][] tg = {{-0.78, 0.1, -42}, {-0.35, -0.55, -50}, {0.15, -0.7, -30}};
        for (double[] t : tg) {
            double zt = zDomeR + t[2] * k;
            double tx = t[0] * cavA(zt), ty = cavY(zt) + t[1] * cavB(zt);
            double mx = 0.5 * (cx + tx) + uni(g, -8, 8), my = 0.5 * (cy + ty) + uni(g, -8, 8), mz = 0.5 * (zc + zt);
            hv.segment(cx, cy, zc, 6 * k, mx, my, mz, 4 * k);
            hv.segment(mx, my, mz, 4 * k, tx, ty, zt, 2 * k);
        }
        elements.add(hv);
    }

    private void addKidneys(SplittableRandom g) {
        for (int s = 0; s < 2; s++) {
            double sx = s == 0 ? -1 : 1;
            double len = s == 0 ? lenKidR : lenKidL;
            double zc = (s == 0 ? zKidUpR : zKidUpL) - len / 2;
            double ang = Math.toRadians(uni(g, 25, 45));
            double yaw = Math.atan2(-Math.sin(ang), -sx * Math.cos(ang));
            double kx = sx * (vr(zc) + uni(g, 40, 52) * k), ky = ys(zc) + uni(g, 2, 10) * k;
            double a = uni(g, 25, 30) * k, b = uni(g, 19, 23) * k;
            Ellipsoid kid = new Ellipsoid(kx, ky, zc, a, b, len / 2, yaw, -uni(g, 0.05, 0.25), -sx * uni(g, 0.05, 0.25),
                    Ink.of(kidneyCortexHu).cavity().label(Organ.KIDNEY));
            double cortex = kidneyCortexHu, medulla = kidneyMedullaHu, cq = uni(g, 0.45, 0.6);
            kid.shader((x, y, zz, q) -> q > cq ? (float) cortex : (float) medulla);
            kidney[s] = kid;
            elements.add(kid);
            double[] u = kid.axis(0), w = kid.axis(2);
            Ellipsoid sinus = new Ellipsoid(kx + u[0] * 0.55 * a, ky + u[1] * 0.55 * a, zc + u[2] * 0.55 * a,
                    0.45 * a, 0.5 * b, 0.33 * len, yaw, 0, 0, Ink.of(uni(g, -90, -50)).allow(Organ.KIDNEY).label(Organ.BACKGROUND));
            // Renal sinus fat is not parenchyma, so segmentation labels leave it out.
            elements.add(sinus);
            double[] pv = {kx + u[0] * 0.78 * a, ky + u[1] * 0.78 * a, zc + u[2] * 0.78 * a};
            pelvis[s] = pv;
            elements.add(Ellipsoid.sphere(pv[0], pv[1], pv[2], 4.5 * k,
                    Ink.of(urineHu).allow(Organ.KIDNEY, Organ.BACKGROUND).cavity().label(Organ.KIDNEY)));
            double[][] cal = new double[3][];
            double[] f = {0.55, 0, -0.55};
            for (int i = 0; i < 3; i++) {
                double off = i == 1 ? 0.15 : 0.3;
                cal[i] = new double[] {kx + u[0] * off * a + w[0] * f[i] * len / 2,
                    ky + u[1] * off * a + w[1] * f[i] * len / 2, zc + u[2] * off * a + w[2] * f[i] * len / 2};
            }
            calyces[s] = cal;
            double zu = -400 * k;
            Tube ureter = new Tube(Ink.of(urineHu).cavity().allow(Organ.BACKGROUND));
            ureter.polyline(new double[][] {{pv[0] - sx * 4, pv[1] - 3, pv[2] - 6, 2.5 * k},
                {sx * (vr(zc - 80) + 10 * k), ys(zc - 80) - 4 * k, zc - 80 * k, 2.5 * k},
                {sx * (vr(zu) + 16 * k), ys(zu) - 6 * k, zu, 2.5 * k}});
            elements.add(ureter);
        }
    }

    Tube aortaOuter, aortaLumen, pancreasTube;

    private double aortaR(double z) {
        return lerp(rAbd * 1.12, rAbd, smoothstep(zDomeL, -40 * k, z));
    }

    private double rAbd;

    double[] aortaXY(double z) {
        double r = aortaR(z);
        double d = vr(z) + r + 4 * k;
        double t = smoothstep(zDomeL - 10, -45 * k, z);
        double x = lerp(0.74 * d, 0.38 * d, t), y = ys(z) - lerp(0.68 * d, 0.93 * d, t);
        return new double[] {x, y, r};
    }

    private void addAorta(Mods m) {
        SplittableRandom g = Rng.stream(seed, 5);
        rAbd = uni(g, 9, 12.5) * k;
        // Heart geometry is needed for the aortic root.
        heartZ = zDomeL - 12 + 48 * k;
        heartX = 20 * k;
        heartY = cavAnt(heartZ) + 52 * k;
        List<double[]> nodes = new ArrayList<>();
        double rAsc = rAbd * 1.45;
        nodes.add(new double[] {heartX - 18 * k, heartY - 4 * k, heartZ + 22 * k, rAsc});
        nodes.add(new double[] {-8 * k, ys(zArch) - vr(zArch) - 50 * k, zArch - 22 * k, rAsc});
        nodes.add(new double[] {2 * k, ys(zArch) - vr(zArch) - 32 * k, zArch + 2, rAbd * 1.25});
        double[] ap = aortaXY(zArch - 14);
        nodes.add(new double[] {ap[0] + 2, ap[1] - 6 * k, zArch - 10, rAbd * 1.15});
        boolean aneu = !Double.isNaN(m.aneurysmZ);
        double rMax = m.aneurysmDiameter / 2;
        List<double[]> lumen = new ArrayList<>();
        for (double zz = zArch - 34; zz > -430 * k; zz -= 8) {
            double[] p = aortaXY(zz);
            double r = p[2];
            double rl = r;
            double ly = p[1];
            if (aneu && Math.abs(zz - m.aneurysmZ) < m.aneurysmLen / 2) {
                double c = Math.cos(Math.PI * (zz - m.aneurysmZ) / m.aneurysmLen);
                double bump = c * c;
                r = r + (rMax - r) * bump;
                rl = p[2] + 0.55 * (r - p[2]);
                ly = p[1] - 0.6 * (r - rl);
            }
            nodes.add(new double[] {p[0], p[1], zz, r});
            lumen.add(new double[] {p[0], ly, zz, rl});
        }
        aortaNodes = nodes.toArray(new double[0][]);
        aortaOuter = new Tube(Ink.of(aneu ? thrombusHu : bloodHu).body().label(Organ.AORTA));
        aortaOuter.polyline(aortaNodes);
        if (aneu) {
            // Mural thrombus keeps the outer calibre; only the eccentric lumen carries contrast.
            aortaOuter = new Tube(Ink.of(bloodHu).body().label(Organ.AORTA)).polyline(aortaNodes);
            if (rMax > 16) {
                Tube outer = new Tube(Ink.of(thrombusHu).body().label(Organ.AORTA)).polyline(aortaNodes);
                aortaOuter = outer;
                aortaLumen = new Tube(Ink.of(bloodHu).allow(Organ.AORTA)).polyline(lumen.toArray(new double[0][]));
            }
        }
    }

    /** Aorta centre and radius at z (descending/abdominal part). */
    double[] aortaAt(double z) {
        for (int i = 4; i + 1 < aortaNodes.length; i++) {
            double[] a = aortaNodes[i], b = aortaNodes[i + 1];
            if (z <= a[2] && z >= b[2]) {
                double t = (a[2] - z) / (a[2] - b[2]);
                return new double[] {lerp(a[0], b[0], t), lerp(a[1], b[1], t), z, lerp(a[3], b[3], t)};
            }
        }
        double[] p = aortaXY(z);
        return new double[] {p[0], p[1], z, p[2]};
    }

    private void addPancreasAndVeins(SplittableRandom g) {
        double pz = zKidUpL - 0.38 * lenKidL + uni(g, -8, 8);
        double[] ao = aortaAt(pz);
        double yP = ao[1] - ao[3] - 15 * k;
        double ca = cavA(pz);
        pancreasNodes = new double[][] {
            {-20 * k, yP + 10 * k, pz - 34 * k, 10 * k},
            {-30 * k, yP, pz - 14 * k, uni(g, 13, 16) * k},
            {-6 * k, yP - 8 * k, pz, uni(g, 9, 11) * k},
            {30 * k, yP - 4 * k, pz + 8 * k, uni(g, 9, 11) * k},
            {0.47 * ca, ys(pz) - 16 * k, pz + 20 * k, uni(g, 7, 9) * k}};
        pancreasTube = new Tube(Ink.of(pancreasHu).cavity().label(Organ.PANCREAS)).polyline(pancreasNodes);
        elements.add(pancreasTube);
        double[][] pn = pancreasNodes;
        Tube sv = new Tube(Ink.of(portalHu).cavity().allow(Organ.BACKGROUND, Organ.PANCREAS));
        sv.polyline(new double[][] {{pn[2][0], pn[2][1] + 10 * k, pn[2][2], 5 * k}, {pn[3][0], pn[3][1] + 9 * k, pn[3][2], 4 * k},
            {pn[4][0] + 6, pn[4][1] + 6 * k, pn[4][2] + 4, 3.5 * k}});
        elements.add(sv);
        double zph = zDomeR - 52 * k;
        double[] porta = {-0.3 * cavA(zph), cavY(zph) - 0.15 * cavB(zph), zph};
        Tube portal = new Tube(Ink.of(portalHu).cavity().allow(Organ.BACKGROUND, Organ.LIVER, Organ.PANCREAS));
        portal.segment(pn[2][0], pn[2][1] + 10 * k, pn[2][2], 6 * k, porta[0], porta[1], porta[2], 7 * k);
        portal.segment(porta[0], porta[1], porta[2], 6 * k, -0.7 * cavA(zph), cavY(zph), zph - 10, 3 * k);
        portal.segment(porta[0], porta[1], porta[2], 5 * k, 0.05 * cavA(zph), cavAnt(zph) + 25 * k, zph + 12, 3 * k);
        portal.segment(pn[2][0], pn[2][1] + 10 * k, pn[2][2], 5 * k, -10 * k, pn[1][1] + 4, -300 * k, 5 * k);
        elements.add(portal);
        Tube sma = new Tube(Ink.of(smaHu).cavity().allow(Organ.BACKGROUND));
        sma.polyline(new double[][] {{ao[0], ao[1] - ao[3] + 2, pz + 12, 3.5 * k}, {ao[0] - 2, yP + 6 * k, pz - 20 * k, 3.5 * k},
            {ao[0] - 4, yP + 2, -300 * k, 3 * k}});
        elements.add(sma);
        Tube ivc = new Tube(Ink.of(ivcHu).cavity().allow(Organ.BACKGROUND, Organ.LIVER));
        double[][] iv = new double[7][];
        double[] zs = {-420 * k, -250 * k, -120 * k, -60 * k, -20 * k, zDomeR + 5, zDomeR + 22 * k};
        for (int i = 0; i < 7; i++) {
            double zz = zs[i];
            iv[i] = i < 6 ? new double[] {ivcX(zz), ivcY(zz), zz, 11 * k} : new double[] {-22 * k, heartY + 10 * k, zz, 12 * k};
        }
        ivc.polyline(iv);
        elements.add(ivc);
    }

    private void addMediastinum(SplittableRandom g) {
        elements.add(new Mediastinum());
        heart = new Ellipsoid(heartX, heartY, heartZ, 62 * k, 47 * k, 50 * k, -0.6 + uni(g, -0.15, 0.15), 0,
                0.35 + uni(g, -0.1, 0.1), Ink.of(bloodHu).cavity().label(Organ.BACKGROUND));
        double blood = bloodHu, myo = myocardHu, mq = uni(g, 0.66, 0.76);
        heart.shader((x, y, z, q) -> q > mq ? (float) myo : (float) blood);
        elements.add(heart);
        double zs0 = zApex + 40, zs1 = heartZ + 30 * k;
        Tube svc = new Tube(Ink.of(svcHu).cavity().allow(Organ.BACKGROUND, Organ.LUNG).label(Organ.BACKGROUND));
        svc.polyline(new double[][] {{-26 * k, ys(zs0) - vr(zs0) - 42 * k, zs0, 9 * k},
            {-24 * k, ys(zs1) - vr(zs1) - 46 * k, zs1, 10 * k}});
        elements.add(svc);
        Tube pa = new Tube(Ink.of(pulmBloodHu).cavity().allow(Organ.BACKGROUND, Organ.LUNG).label(Organ.BACKGROUND));
        double zpt = zCarina - 14 * k;
        double[] pt = {10 * k, ys(zpt) - vr(zpt) - 42 * k, zpt};
        pa.segment(heartX - 4 * k, heartY - 18 * k, heartZ + 30 * k, 13 * k, pt[0], pt[1], pt[2], 12 * k);
        for (int s = 0; s < 2; s++) {
            double sx = s == 0 ? -1 : 1;
            double[] h = hilum(s);
            pa.segment(pt[0], pt[1], pt[2], 10 * k, h[0], h[1], h[2], 8 * k);
        }
        elements.add(pa);
        double ze = zApex + 100;
        Tube eso = new Tube(Ink.of(muscleHu).cavity().allow(Organ.BACKGROUND, Organ.LUNG).label(Organ.BACKGROUND));
        double zh = zDomeL - 20 * k;
        eso.polyline(new double[][] {{3 * k, ys(ze) - vr(ze) - 8 * k, ze, 7 * k}, {6 * k, ys(zCarina) - vr(zCarina) - 8 * k, zCarina, 7 * k},
            {16 * k, ys(zh) - vr(zh) - 16 * k, zh, 8 * k}, {34 * k, cavAnt(zh - 25) + 55 * k, zh - 25 * k, 9 * k}});
        elements.add(eso);
    }

    double[] hilum(int s) {
        double sx = s == 0 ? -1 : 1;
        double zh = zCarina - 24 * k;
        return new double[] {sx * (vr(zh) + 32 * k), ys(zh) - vr(zh) - 20 * k, zh};
    }

    private void addAirwaysAndVessels(SplittableRandom g, Mods m) {
        Tube trachea = new Tube(Ink.of(-1000).body().allow(Organ.BACKGROUND, Organ.LUNG)).rim(1.6, 50);
        double zt = zApex + 110;
        double[] car = {0, ys(zCarina) - vr(zCarina) - 24 * k, zCarina};
        trachea.segment(0, ys(zt) - vr(zt) - 22 * k, zt, 9 * k, car[0], car[1], car[2], 8.5 * k);
        double[][] ends = new double[2][];
        for (int s = 0; s < 2; s++) {
            double sx = s == 0 ? -1 : 1;
            double zb = zCarina - (s == 0 ? 18 : 30) * k;
            ends[s] = new double[] {sx * (vr(zb) + (s == 0 ? 20 : 24) * k), ys(zb) - vr(zb) - 20 * k, zb};
            trachea.segment(car[0], car[1], car[2], 7 * k, ends[s][0], ends[s][1], ends[s][2], 6 * k);
        }
        elements.add(trachea);
        for (int s = 0; s < 2; s++) {
            SplittableRandom rb = Rng.stream(seed, 40 + s);
            Tube br = new Tube(Ink.of(-1000).allow(Organ.LUNG)).rim(1.0, -150);
            double sx = s == 0 ? -1 : 1;
            for (double[] d : primaryDirections(sx)) {
                grow(br, rb, s, ends[s], d, 24 * k, 5 * k, 1.9, 0, null);
            }
            elements.add(br);
            SplittableRandom rv = Rng.stream(seed, 50 + s);
            Tube ves = new Tube(Ink.of(pulmBloodHu).allow(Organ.LUNG));
            double[] h = hilum(s);
            for (double[] d : primaryDirections(sx)) {
                grow(ves, rv, s, h, d, 30 * k, 5.2 * k, 0.75, 0, m.emphysemaRegions);
            }
            elements.add(ves);
        }
    }

    private static double[][] primaryDirections(double sx) {
        return new double[][] {{sx * 0.15, 0.1, 1}, {sx * 0.7, 0, 0.7}, {sx, 0, 0.1}, {sx * 0.4, -0.9, 0.05},
            {sx * 0.35, 0.9, -0.15}, {sx * 0.55, 0.2, -0.8}, {sx * 0.2, 0.6, -0.8}, {sx * 0.3, -0.5, -0.7}};
    }

    private void grow(Tube t, SplittableRandom r, int s, double[] p, double[] dir, double len, double rad,
                      double minR, int depth, List<double[]> prune) {
        double n = Math.sqrt(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
        double dx = dir[0] / n, dy = dir[1] / n, dz = dir[2] / n;
        double[] q = {p[0] + dx * len, p[1] + dy * len, p[2] + dz * len};
        if (!inLung(s, q[0], q[1], q[2])) {
            len *= 0.5;
            q = new double[] {p[0] + dx * len, p[1] + dy * len, p[2] + dz * len};
            if (depth > 0 && !inLung(s, q[0], q[1], q[2])) {
                return;
            }
        }
        double pruneDraw = r.nextDouble();
        if (prune != null && rad < 2.2) {
            for (double[] reg : prune) {
                double u = (q[0] - reg[0]) / reg[3], v = (q[1] - reg[1]) / reg[4], w = (q[2] - reg[2]) / reg[5];
                if (u * u + v * v + w * w < 1 && pruneDraw < 0.65) {
                    return;
                }
            }
        }
        t.segment(p[0], p[1], p[2], rad, q[0], q[1], q[2], rad * 0.88);
        double nr = rad * 0.74;
        if (nr < minR || depth >= 9) {
            return;
        }
        int children = r.nextDouble() < 0.3 ? 3 : 2;
        for (int c = 0; c < children; c++) {
            double[] perp = {r.nextGaussian(), r.nextGaussian(), r.nextGaussian()};
            double dot = perp[0] * dx + perp[1] * dy + perp[2] * dz;
            perp[0] -= dot * dx;
            perp[1] -= dot * dy;
            perp[2] -= dot * dz;
            double pn = Math.sqrt(perp[0] * perp[0] + perp[1] * perp[1] + perp[2] * perp[2]) + 1e-12;
            double ang = uni(r, 0.3, 0.75);
            double[] nd = {Math.cos(ang) * dx + Math.sin(ang) * perp[0] / pn, Math.cos(ang) * dy + Math.sin(ang) * perp[1] / pn,
                Math.cos(ang) * dz + Math.sin(ang) * perp[2] / pn};
            grow(t, r, s, q, nd, len * uni(r, 0.72, 0.9), nr, minR, depth + 1, prune);
        }
    }

    private void addRibsAndSternum(SplittableRandom g) {
        double period = uni(g, 22, 26) * k;
        double zT1 = zApex - uni(g, 2, 10) * k;
        for (int i = 0; i < 12; i++) {
            double zh = zT1 - i * period;
            double th1 = i < 7 ? 2.7 - 0.05 * i : (i < 10 ? 2.3 - 0.1 * (i - 7) : (i == 10 ? 1.5 : 1.05));
            double drop = (i == 0 ? 25 : (i < 9 ? 55 + 4 * i : 60)) * k;
            double rr = (i == 0 ? 5 : 4.2) * k;
            for (int s = 0; s < 2; s++) {
                double sx = s == 0 ? -1 : 1;
                Tube rib = new Tube(Ink.of(cancellousHu * 0.8).body().label(Organ.BACKGROUND)).rim(1.6, corticalHu * 0.85);
                int nn = 10;
                double[][] nodes = new double[nn][];
                double th0 = 0.38;
                for (int j = 0; j < nn; j++) {
                    double f = j / (double) (nn - 1);
                    double th = th0 + f * (th1 - th0);
                    double zz = zh - drop * Math.pow(f, 1.3);
                    double[] p = cavBoundary(th, sx, zz, rr + 1.5);
                    nodes[j] = new double[] {p[0], p[1], zz, rr};
                }
                elements.add(rib.polyline(nodes));
            }
        }
        double zs = 0.5 * (zCarina + 35 * k + zDomeL - 25 * k);
        double hz = 0.5 * (zCarina + 35 * k - (zDomeL - 25 * k));
        Ellipsoid st = new Ellipsoid(0, cavAnt(zs) - 7 * k, zs, 17 * k, 6.5 * k, hz, 0, 0, 0, Ink.of(cancellousHu).body().label(Organ.BACKGROUND));
        double cort = corticalHu, canc = cancellousHu;
        st.shader((x, y, z, q) -> q > 0.55 ? (float) cort : (float) canc);
        elements.add(st);
    }

    private static double clamp(double v, double lo, double hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    // ---------------------------------------------------------------- custom elements

    /** Skin, subcutaneous fat, muscular wall and cavity; also classifies each pixel's zone. */
    private final class Body extends Element {
        Body(double lo, double hi) {
            zMin = lo;
            zMax = hi;
        }

        @Override
        void paint(Canvas c, double z) {
            double a = bodyA(z), ba = bodyBAnt(z), bp = bodyBPost(z), ft = fat(z);
            double ca = cavA(z), cy = cavY(z), cb = cavB(z), wa = postBlend(z);
            double fill = lerp(fatHu + 8, muscleHu, smoothstep(zApex - 10, zApex + 30, z));
            int i0 = c.ix0(-a), i1 = c.ix1(a), j0 = c.iy0(-ba), j1 = c.iy1(bp);
            for (int j = j0; j <= j1; j++) {
                double y = c.y0 + j * c.ps;
                double b = y < 0 ? ba : bp;
                double v = y / b;
                double cv = (y - cy) / cb;
                int row = j * c.nx;
                for (int i = i0; i <= i1; i++) {
                    double x = c.x0 + i * c.ps;
                    double u = x / a;
                    double r2 = u * u + v * v;
                    double rho = Math.sqrt(r2);
                    if (v > 0) {
                        rho = lerp(rho, Math.sqrt(Math.sqrt(u * u * u * u + v * v * v * v)), 0.5);
                    }
                    if (rho >= 1) {
                        continue;
                    }
                    int idx = row + i;
                    double gu = u / a, gv = v / b;
                    double grad = Math.sqrt(gu * gu + gv * gv) / Math.max(rho, 1e-6);
                    double depth = grad > 1e-9 ? (1 - rho) / grad : 1e9;
                    double fatHere = ft * (1 + 0.3 * (u * u - v * v) / Math.max(r2, 1e-6));
                    if (depth < 2) {
                        c.hu[idx] = (float) skinHu;
                        c.zone[idx] = Canvas.ZONE_FAT;
                    } else if (depth < fatHere) {
                        c.hu[idx] = (float) fatHu;
                        c.zone[idx] = Canvas.ZONE_FAT;
                    } else {
                        double cu = x / ca;
                        double cr = Math.sqrt(cu * cu + cv * cv);
                        if (cv > 0) {
                            cr = lerp(cr, Math.sqrt(Math.sqrt(cu * cu * cu * cu + cv * cv * cv * cv)), wa);
                        }
                        if (cr < 1) {
                            c.hu[idx] = (float) fill;
                            c.zone[idx] = Canvas.ZONE_CAVITY;
                        } else {
                            c.hu[idx] = (float) muscleHu;
                            c.zone[idx] = Canvas.ZONE_WALL;
                        }
                    }
                }
            }
        }
    }

    /** One lung: the cavity on its side between the diaphragm dome and the apex cap. */
    private final class Lung extends Element {
        private final int s;

        Lung(int s) {
            this.s = s;
            zMax = apexZ[s] + 1;
            zMin = lungLow[s] - 20;
        }

        @Override
        void paint(Canvas c, double z) {
            double ca = cavA(z), cy = cavY(z), cb = cavB(z);
            boolean right = s == 0;
            int i0 = c.ix0(right ? -ca : 0), i1 = c.ix1(right ? 0 : ca);
            int j0 = c.iy0(cavAnt(z)), j1 = c.iy1(cavPost(z));
            byte lungLabel = (byte) Organ.LUNG.label();
            for (int j = j0; j <= j1; j++) {
                double y = c.y0 + j * c.ps;
                double dyD = 0.8 * (y - domeY[s]), dyA = y - apexY[s];
                float val = (float) (lungHu + lungGrad * (y - cy) / cb);
                int row = j * c.nx;
                for (int i = i0; i <= i1; i++) {
                    int idx = row + i;
                    if (c.zone[idx] != Canvas.ZONE_CAVITY) {
                        continue;
                    }
                    double x = c.x0 + i * c.ps;
                    double dxD = x - domeX[s], dxA = x - apexX[s];
                    if (z <= domeZ[s] - domeK[s] * (dxD * dxD + dyD * dyD)) {
                        continue;
                    }
                    if (z >= apexZ[s] - apexK[s] * (dxA * dxA + dyA * dyA)) {
                        continue;
                    }
                    c.hu[idx] = val;
                    c.lab[idx] = lungLabel;
                }
            }
        }
    }

    /** Mediastinal fat column between the lungs, from the heart up to the thoracic inlet. */
    private final class Mediastinum extends Element {
        Mediastinum() {
            zMin = zDomeL - 30;
            zMax = zApex + 10;
        }

        @Override
        void paint(Canvas c, double z) {
            double xm = 4 * k, w = medHalfWidth(z);
            double y0 = cavAnt(z) - 2, y1 = ys(z) - 0.3 * vr(z);
            double ym = 0.5 * (y0 + y1), hh = 0.5 * (y1 - y0);
            int i0 = c.ix0(xm - w), i1 = c.ix1(xm + w), j0 = c.iy0(y0), j1 = c.iy1(y1);
            float v = (float) (fatHu + 10);
            for (int j = j0; j <= j1; j++) {
                double yv = (c.y0 + j * c.ps - ym) / hh;
                double y4 = yv * yv * yv * yv;
                int row = j * c.nx;
                for (int i = i0; i <= i1; i++) {
                    int idx = row + i;
                    if (c.zone[idx] != Canvas.ZONE_CAVITY) {
                        continue;
                    }
                    double xv = (c.x0 + i * c.ps - xm) / w;
                    if (xv * xv * xv * xv + y4 < 1) {
                        c.hu[idx] = v;
                        c.lab[idx] = 0;
                    }
                }
            }
        }
    }

    /** Vertebrae repeating along z: bodies with cortical rims and endplates, discs, canal, arches. */
    private final class Spine extends Element {
        private final double period = 27 * k;
        private final double phase0 = geo.nextDouble();

        @Override
        void paint(Canvas c, double z) {
            double ph = z / period + phase0;
            ph -= Math.floor(ph);
            double vr = vr(z), ys = ys(z);
            boolean disc = ph > 0.8;
            boolean endplate = !disc && (ph > 0.75 || ph < 0.05);
            double rx = vr * 1.12, ry = vr;
            int i0 = c.ix0(-rx - 40 * k), i1 = c.ix1(rx + 40 * k), j0 = c.iy0(ys - ry), j1 = c.iy1(ys + vr + 60 * k);
            double canalY = ys + vr + 9 * k, canalR = 8 * k, ringR = canalR + 6 * k;
            boolean arch = ph > 0.15 && ph < 0.65;
            boolean trans = ph > 0.33 && ph < 0.45;
            double rimF = 1 - 1.6 / vr;
            float cort = (float) corticalHu, canc = (float) cancellousHu;
            for (int j = j0; j <= j1; j++) {
                double y = c.y0 + j * c.ps;
                double v = (y - ys) / ry;
                int row = j * c.nx;
                for (int i = i0; i <= i1; i++) {
                    int idx = row + i;
                    if (c.zone[idx] == Canvas.ZONE_AIR) {
                        continue;
                    }
                    double x = c.x0 + i * c.ps;
                    double u = x / rx;
                    double rb = Math.sqrt(u * u + v * v);
                    float val;
                    if (rb < 1) {
                        val = disc ? (float) discHu : (endplate || rb > rimF ? cort : canc);
                    } else {
                        double dc = Math.hypot(x, y - canalY);
                        if (dc < canalR) {
                            val = (float) csfHu;
                        } else if (arch && dc < ringR) {
                            val = cort * 0.8f;
                        } else if (arch && Math.abs(x) < 3.5 * k && y > canalY && y < canalY + ringR + 22 * k) {
                            val = cort * 0.75f;
                        } else if (trans && Math.abs(y - canalY + 2) < 4 * k && Math.abs(x) < vr + 17 * k && Math.abs(x) > canalR) {
                            val = cort * 0.7f;
                        } else {
                            continue;
                        }
                    }
                    c.hu[idx] = val;
                    c.lab[idx] = 0;
                }
            }
        }
    }
}
