package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.dicom.SeriesWriteOptions;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.LoopbackPorts;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.StoreScp;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operational log carries no patient data by default: a real node process receives a study with a distinctive
 * patient name, ID, birth date and accession number, triages it and delivers its SR to a real storescp, and none of
 * them appears in anything the node wrote that is not a DICOM object or its database (its log, and any log file under
 * its data folder). With {@code log.patient-data=true} the start is logged as a security event and the patient is
 * named, which also proves the search above could have found them.
 */
@RequiresTools({"storescu", "storescp", "echoscu"})
class NodePatientDataLogTest {
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final String NAME = "Quixoticus^Zebulonia";

    @TempDir
    Path dir;

    private NodeProcess node;
    private StoreScp pacs;

    @AfterEach
    void stop() throws Exception {
        if (node != null) {
            node.close();
        }
        if (pacs != null) {
            pacs.close();
        }
    }

    @Test
    void noPatientDataInTheLogUnlessTheSwitchIsOn() throws Exception {
        int nodePort = LoopbackPorts.free();
        pacs = StoreScp.start("PACS", dir.resolve("pacs"), LoopbackPorts.free(), true);
        Path config = dir.resolve("node.properties");
        Path log = dir.resolve("node.log");
        List<String> settings = List.of("node.data-dir=" + dir.resolve("var"), "dicom.port=" + nodePort, "http.port=0",
                "assembly.quiet-period=2s", "dicom.min-free-disk-mb=1",
                "delivery.dicom-destinations=PACS@127.0.0.1:" + pacs.port());
        Files.write(config, settings);

        CtSeriesWriter.WrittenSeries first = study(918273, dir.resolve("first"));
        List<String> phi = patientData(first.files().get(0));
        node = NodeProcess.start(config, log, nodePort, WAIT);
        send(first, nodePort);
        Eventually.awaitTrue(WAIT, "the SR delivered", () -> Files.readString(log).contains(") done in attempt"));
        node.stop();

        // One result: its SR, SEG and KOS (storescp names them SR…, SG…, KO…).
        assertThat(pacs.receivedFiles()).extracting(p -> p.getFileName().toString().substring(0, 2))
                .containsExactlyInAnyOrder("SR", "SG", "KO");
        List<Path> logs = logs(log);
        assertThat(logs).contains(log);
        for (Path file : logs) {
            // Byte for byte (ISO-8859-1 never fails to decode): the key-image PNGs beside the SRs are checked too.
            String text = Files.readString(file, java.nio.charset.StandardCharsets.ISO_8859_1);
            for (String value : phi) {
                assertThat(text).as("%s must not contain the patient's %s", file, value).doesNotContain(value);
            }
        }

        // The troubleshooting switch: a security event at start, then the patient of each result is named.
        List<String> on = new ArrayList<>(settings);
        on.add("log.patient-data=true");
        Files.write(config, on);
        CtSeriesWriter.WrittenSeries second = study(918274, dir.resolve("second"));
        List<String> secondPhi = patientData(second.files().get(0));
        Path logOn = dir.resolve("node-on.log");
        node = NodeProcess.start(config, logOn, nodePort, WAIT);
        send(second, nodePort);
        Eventually.awaitTrue(WAIT, "the second SR delivered", () -> Files.readString(logOn).contains(") done in attempt"));
        node.stop();
        String text = Files.readString(logOn);
        assertThat(text).containsPattern("WARN .*TRIAGE-0690 security: log.patient-data is on");
        // As DICOM wrote them (the ISO birth date is only what the first search also looked for).
        for (String value : List.of(secondPhi.get(0), secondPhi.get(1), secondPhi.get(2), secondPhi.get(4))) {
            assertThat(text).contains(value);
        }
    }

    /** A study whose patient is unmistakable in any text: a made-up name, and the writer's ID, birth date, accession. */
    private CtSeriesWriter.WrittenSeries study(long seed, Path folder) throws Exception {
        PhantomSpec spec = new PhantomSpec(seed, 64, 64, 20, 400.0 / 64, 10, 10, ContrastPhase.NONE, Set.of(), false);
        return new CtSeriesWriter().write(new PhantomGenerator().generate(spec),
                SeriesWriteOptions.defaults().withPatientName(NAME + seed), folder);
    }

    /** The patient's name (and its family name alone), ID, birth date (as written and in ISO form), accession number. */
    private static List<String> patientData(Path file) throws Exception {
        AttributeList header = new AttributeList();
        header.read(file.toString());
        String birth = header.get(TagFromName.PatientBirthDate).getSingleStringValueOrEmptyString();
        List<String> values = List.of(header.get(TagFromName.PatientName).getSingleStringValueOrEmptyString(),
                header.get(TagFromName.PatientID).getSingleStringValueOrEmptyString(), birth,
                birth.substring(0, 4) + "-" + birth.substring(4, 6) + "-" + birth.substring(6),
                header.get(TagFromName.AccessionNumber).getSingleStringValueOrEmptyString());
        assertThat(values).allSatisfy(v -> assertThat(v).hasSizeGreaterThan(5));
        return values;
    }

    private static void send(CtSeriesWriter.WrittenSeries series, int port) throws Exception {
        List<String> command = new ArrayList<>(List.of("storescu", "-aet", "MODALITY", "-aec", "CTTRIAGE", "127.0.0.1",
                Integer.toString(port)));
        series.files().forEach(f -> command.add(f.toString()));
        ExternalCommand.Result r = ExternalCommand.run(WAIT, command);
        assertThat(r.exitCode()).as(r.output()).isZero();
    }

    /** The node's log and every file under its data folder that is not a DICOM object or the database. */
    private List<Path> logs(Path log) throws Exception {
        List<Path> files = new ArrayList<>(List.of(log));
        try (Stream<Path> all = Files.walk(dir.resolve("var"))) {
            all.filter(Files::isRegularFile)
                    .filter(p -> !p.toString().endsWith(".dcm") && !p.startsWith(dir.resolve("var/spool"))
                            && !p.startsWith(dir.resolve("var/db")))
                    .forEach(files::add);
        }
        return files;
    }
}
