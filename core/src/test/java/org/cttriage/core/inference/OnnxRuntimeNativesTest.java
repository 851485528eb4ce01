package org.cttriage.core.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX Runtime's native libraries are unpacked once per user and library content, into an owner-only folder, and a
 * JVM that opens the model leaves nothing else in its temporary folder (the binding alone leaves 22 MB a start).
 */
class OnnxRuntimeNativesTest {
    @TempDir
    Path tmp;

    @Test
    void theLibrariesAreUnpackedOnceAndReused() throws IOException {
        List<OnnxRuntimeNatives.Library> libraries = OnnxRuntimeNatives.libraries(OnnxRuntimeNatives.platform());
        assertThat(libraries).extracting(OnnxRuntimeNatives.Library::fileName)
                .contains(System.mapLibraryName("onnxruntime"), System.mapLibraryName("onnxruntime4j_jni"));

        Path user = OnnxRuntimeNatives.userFolder(tmp, "pacs admin");
        assertThat(user.getFileName().toString()).isEqualTo("ct-triage-onnxruntime-pacs_admin");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(user))).isEqualTo("rwx------");
        Path folder = OnnxRuntimeNatives.unpack(user, libraries);
        List<FileTime> written = new ArrayList<>();
        for (OnnxRuntimeNatives.Library library : libraries) {
            Path file = folder.resolve(library.fileName());
            assertThat(Files.size(file)).isEqualTo(library.size());
            written.add(Files.getLastModifiedTime(file));
        }

        assertThat(OnnxRuntimeNatives.userFolder(tmp, "pacs admin")).isEqualTo(user);
        assertThat(OnnxRuntimeNatives.unpack(user, libraries)).isEqualTo(folder);
        for (int i = 0; i < libraries.size(); i++) {
            assertThat(Files.getLastModifiedTime(folder.resolve(libraries.get(i).fileName())))
                    .as("not copied again").isEqualTo(written.get(i));
        }
        assertThat(entries(user)).containsExactly(folder);
        assertThat(entries(folder)).hasSize(libraries.size());
    }

    @Test
    void aLibraryCutShortIsCopiedAgain() throws IOException {
        List<OnnxRuntimeNatives.Library> libraries = OnnxRuntimeNatives.libraries(OnnxRuntimeNatives.platform());
        Path user = OnnxRuntimeNatives.userFolder(tmp, "node");
        Path folder = OnnxRuntimeNatives.unpack(user, libraries);
        Path first = folder.resolve(libraries.get(0).fileName());
        try (FileChannel channel = FileChannel.open(first, StandardOpenOption.WRITE)) {
            channel.truncate(4096);
        }

        assertThat(OnnxRuntimeNatives.unpack(user, libraries)).isEqualTo(folder);
        assertThat(Files.size(first)).isEqualTo(libraries.get(0).size());
        assertThat(entries(folder)).as("no .part left").hasSize(libraries.size());
    }

    @Test
    void aFolderOthersMayWriteToOrALinkIsNotUsed() throws IOException {
        Path open = Files.createDirectory(tmp.resolve("ct-triage-onnxruntime-node"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> OnnxRuntimeNatives.userFolder(tmp, "node"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("open to other users (rwxrwxrwx)");

        Path elsewhere = Files.createDirectory(tmp.resolve("elsewhere"));
        Files.createSymbolicLink(tmp.resolve("ct-triage-onnxruntime-archive"), elsewhere);
        assertThatThrownBy(() -> OnnxRuntimeNatives.userFolder(tmp, "archive"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("is not a folder");
        assertThat(entries(elsewhere)).as("nothing written through the link").isEmpty();
    }

    /**
     * Two JVMs, each opening the shipped model with its own java.io.tmpdir (the node's start, a CLI command): after
     * both, that folder holds the one per-user folder and nothing of the binding's own.
     */
    @Test
    void aJvmThatOpensTheModelLeavesNoCopyOfTheLibrariesBehind() throws Exception {
        Path jvmTmp = Files.createDirectory(tmp.resolve("jvm-tmp"));
        for (int run = 0; run < 2; run++) {
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), "-Djava.io.tmpdir=" + jvmTmp,
                    OpenTheModel.class.getName(), InferenceEngineTest.PACKAGE.toAbsolutePath().toString())
                    .redirectErrorStream(true).start();
            String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(child.waitFor(2, TimeUnit.MINUTES)).as(output).isTrue();
            assertThat(child.exitValue()).as(output).isZero();
            assertThat(output).contains("native libraries from "
                    + jvmTmp.resolve(OnnxRuntimeNatives.userFolderName(System.getProperty("user.name"))));
        }
        List<Path> left = entries(jvmTmp);
        assertThat(left).as("java.io.tmpdir after two JVMs").hasSize(1);
        assertThat(left.get(0).getFileName().toString()).startsWith("ct-triage-onnxruntime-");
        assertThat(entries(left.get(0))).hasSize(1);
    }

    /** A JVM that opens the model package named by its argument, as the node does, and prints where from. */
    public static final class OpenTheModel {
        public static void main(String[] args) throws Exception {
            try (InferenceEngine engine = new InferenceEngine(ModelPackage.load(Path.of(args[0])),
                    EngineOptions.defaults().withDevice(EngineOptions.Device.CPU))) {
                System.out.println("model " + engine.getClass().getSimpleName() + " open; native libraries from "
                        + System.getProperty(OnnxRuntimeNatives.PATH_PROPERTY));
            }
        }
    }

    private static List<Path> entries(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.toList();
        }
    }
}
