package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.cttriage.core.dicom.DicomScanner;
import org.cttriage.core.dicom.net.DimseStatus;
import org.cttriage.core.inference.EngineOptions;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.inference.ModelPackage;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.core.dicom.net.ScriptedPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue "Hardening": a fuzzing corpus of at least 1,000 mutated instances per run
 * ({@link FuzzCorpus}, deterministic from {@code -Dfuzz.seed}, default 20261203), sent raw on the
 * wire by a scripted peer to the whole node (listener, ingest, assembly, triage, delivery to a
 * storescp PACS). Every mutant gets a status from the conformance statement's table, or an
 * A-ABORT / close after which the node answers the next association; a Success is never a lie
 * (the stored instance reads and passes the plausibility checks); a mutant no correct node may
 * accept is never answered Success; the node's heap stays bounded; no SR comes from any mutant;
 * and a valid study sent afterwards gets its SR as usual.
 */
@RequiresTools({"storescu", "storescp"})
class NodeFuzzTest {
    private static final int MUTANTS = Integer.getInteger("fuzz.count", 1200);
    private static final long SEED = Long.getLong("fuzz.seed", 20261203L);
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final Set<Integer> TABLE = Set.of(DimseStatus.SUCCESS.code(),
            DimseStatus.REFUSED_OUT_OF_RESOURCES.code(), DimseStatus.REFUSED_SOP_CLASS_NOT_SUPPORTED.code(),
            DimseStatus.ERROR_DATASET_DOES_NOT_MATCH_SOP_CLASS.code(), DimseStatus.ERROR_CANNOT_UNDERSTAND.code(),
            DimseStatus.PROCESSING_FAILURE.code());
    /** Retained heap growth the whole corpus may cause (the model and caches are loaded before). */
    private static final long MAX_HEAP_GROWTH = 128L << 20;

    @TempDir
    Path dir;

    private ExecutorService pool;
    private InferenceEngine engine;
    private NodeHarness harness;

    @BeforeEach
    void start() throws Exception {
        pool = Executors.newFixedThreadPool(2);
        engine = new InferenceEngine(ModelPackage.load(Path.of(System.getProperty("ctglip.package",
                "../models/ctglip-ref"))), EngineOptions.defaults().withDevice(EngineOptions.Device.CPU));
        harness = NodeHarness.start(dir, engine, pool);
    }

    @AfterEach
    void stop() throws Exception {
        harness.close();
        engine.close();
        pool.shutdownNow();
    }

    @Test
    void everyMutantGetsATrueAnswerNoSrAndTheNodeKeepsWorking() throws Exception {
        List<Path> base = PhantomSeries.write(21, 64, 20, 10, dir.resolve("base")).files();
        List<FuzzCorpus.Mutant> corpus = FuzzCorpus.generate(base, MUTANTS, SEED);
        long heapBefore = usedHeapAfterGc();

        Map<FuzzCorpus.Kind, Map<String, Integer>> answers = new EnumMap<>(FuzzCorpus.Kind.class);
        List<String> successes = new ArrayList<>();
        ScriptedPeer peer = null;
        for (FuzzCorpus.Mutant m : corpus) {
            if (peer == null) {
                peer = ScriptedPeer.connect(harness.node().port());
                peer.associate("CTTRIAGE", "FUZZER");
            }
            peer.send(ScriptedPeer.pData(3, true, true, ScriptedPeer.storeCommand(m.sopInstanceUid())));
            for (byte[] pdu : ScriptedPeer.dataPdus(3, m.dataSet(), 16000)) {
                peer.send(pdu);
            }
            ScriptedPeer.Pdu answer = peer.read();
            String outcome;
            if (answer.type() == ScriptedPeer.P_DATA_TF) {
                int status = answer.dimseStatus();
                assertThat(TABLE).as("status %04XH for mutant %d (%s)", status, m.index(), m.description())
                        .contains(status);
                outcome = String.format("%04XH", status);
                if (status == DimseStatus.SUCCESS.code()) {
                    assertThat(m.mustBeRefused()).as("Success for mutant %d (%s)", m.index(), m.description())
                            .isFalse();
                    successes.add(m.sopInstanceUid());
                }
            } else {
                // The node ended the association (A-ABORT, or a close for what it could not frame).
                outcome = answer.type() == ScriptedPeer.A_ABORT ? "A-ABORT" : "closed";
                assertThat(answer.type()).as("mutant %d (%s): %s", m.index(), m.description(), answer)
                        .isIn(ScriptedPeer.A_ABORT, -1);
                assertThat(m.mustBeRefused() || m.kind() == FuzzCorpus.Kind.HEADER_BYTE_FLIPS).isTrue();
                peer.close();
                peer = null;
            }
            answers.computeIfAbsent(m.kind(), k -> new TreeMap<>()).merge(outcome, 1, Integer::sum);
        }
        if (peer != null) {
            peer.send(ScriptedPeer.releaseRq());
            peer.close();
        }
        System.out.println("NodeFuzzTest seed " + SEED + ", " + corpus.size() + " mutants: " + answers);

        // A Success is never a lie: what the node kept reads and passes the plausibility checks.
        for (String sop : successes) {
            String path = harness.first("SELECT path FROM node_instance WHERE sop_uid = ?", sop);
            assertThat(path).as("spool file of %s", sop).isNotNull();
            Path stored = Path.of(path);
            assertThat(new DicomScanner().readSlices(stored)).isNotEmpty();
        }
        assertThat(harness.rows("SELECT COUNT(*) FROM node_instance")).isEqualTo(successes.size());

        // The node still works: a valid study gets its SR, and it is the only SR there is.
        List<Path> good = PhantomSeries.write(22, 64, 30, 10, dir.resolve("good")).files();
        assertThat(harness.storescu(good).exitCode()).isZero();
        List<Path> srs = Eventually.await(WAIT, "the valid study's SR", harness::srFiles, l -> !l.isEmpty());
        // Every mutant's series has had its quiet period and triage by now (they came first).
        Eventually.await(WAIT, "no series left receiving",
                () -> harness.rows("SELECT COUNT(*) FROM node_series WHERE state = 'RECEIVING'"), n -> n == 0);
        assertThat(harness.srFiles()).hasSize(1);
        assertThat(NodeHarness.studyOf(srs.get(0))).isEqualTo(NodeHarness.studyOf(good.get(0)));
        assertThat(harness.rows("SELECT COUNT(*) FROM node_result")).isEqualTo(1);

        long growth = usedHeapAfterGc() - heapBefore;
        System.out.printf("NodeFuzzTest: retained heap growth %d MiB%n", growth >> 20);
        assertThat(growth).isLessThan(MAX_HEAP_GROWTH);
    }

    private static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
