package org.cttriage.core.inference;

import ai.onnxruntime.OrtEnvironment;
import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.zip.CRC32;
import org.cttriage.core.error.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where ONNX Runtime loads its native libraries from. Its Java binding (1.23) copies them out of its jar into a new
 * {@code onnxruntime-java…} folder under {@code java.io.tmpdir} at every start and never removes it: 22 MB left behind
 * by every JVM that runs a model, whether it exits cleanly or not (every node start, every CLI command, every test
 * JVM; a full test run left 32 such folders, and a disk under the node's free-space floor refuses every association).
 * Before the first model is opened this points the binding (its system property {@value #PATH_PROPERTY}) at one
 * folder per user and library content, written once and reused by every later JVM:
 * <ul>
 *   <li>a {@value #PATH_PROPERTY} already set (the operator's {@code CT_TRIAGE_JAVA_OPTS}) is kept;</li>
 *   <li>otherwise {@code <java.io.tmpdir>/ct-triage-onnxruntime-<user>/<key>}, the key made of the libraries' names,
 *       sizes and CRC-32s as their jar records them (a new ONNX Runtime gets a new folder, never a mix);</li>
 *   <li>the per-user folder is created owner-only, and used only while it is a real folder (not a link) that this
 *       user owns and nobody else may write to or read: anything else could let another local user put a library of
 *       their own where the node loads its code from;</li>
 *   <li>each library is copied under a temporary name, its size checked, and moved into place atomically: a crash
 *       in mid-copy, or two processes starting at once, never leave a half library under the name that is loaded.</li>
 * </ul>
 * When that is not possible the binding's own extraction runs as before, with {@code TRIAGE-0406} logged once.
 * The GPU build's provider libraries (CUDA, TensorRT) are still unpacked by the binding itself, which copies a
 * provider it finds in its jar before it looks at {@value #PATH_PROPERTY}; the systemd unit's private /tmp removes
 * them when the node stops.
 */
final class OnnxRuntimeNatives {
    static final String PATH_PROPERTY = "onnxruntime.native.path";

    private static final Logger LOG = LoggerFactory.getLogger(OnnxRuntimeNatives.class);

    /** Every library ONNX Runtime's binding loads or lets its native code load, as it names them (1.23). */
    private static final List<String> LIBRARIES = List.of("onnxruntime", "onnxruntime4j_jni",
            "onnxruntime_providers_shared", "onnxruntime_providers_cuda", "onnxruntime_providers_rocm",
            "onnxruntime_providers_dnnl", "onnxruntime_providers_openvino", "onnxruntime_providers_tensorrt",
            "onnxruntime_providers_qnn", "webgpu_dawn");
    private static final Set<PosixFilePermission> OWNER_ONLY = EnumSet.of(PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE);

    private static boolean prepared;

    private OnnxRuntimeNatives() {
    }

    /** One library in the binding's jar (or class folder): its file name and where to read it. */
    record Library(String fileName, URL source, long size, long crc) {
    }

    /**
     * Sets {@value #PATH_PROPERTY} to the shared, reused copy of the libraries, unless it is set already. Idempotent;
     * must run before the first ONNX Runtime class is initialised, as the binding reads the property only then.
     */
    static synchronized void prepare() {
        if (prepared) {
            return;
        }
        prepared = true;
        if (System.getProperty(PATH_PROPERTY) != null) {
            LOG.debug("ONNX Runtime native libraries from {} ({})", System.getProperty(PATH_PROPERTY), PATH_PROPERTY);
            return;
        }
        String platform = platform();
        try {
            List<Library> libraries = libraries(platform);
            if (libraries.isEmpty()) {
                LOG.debug("no ONNX Runtime native library for {} in its jar; the binding looks for it itself", platform);
                return;
            }
            Path folder = unpack(userFolder(Path.of(System.getProperty("java.io.tmpdir")),
                    System.getProperty("user.name", "")), libraries);
            System.setProperty(PATH_PROPERTY, folder.toString());
            LOG.debug("ONNX Runtime native libraries from {}", folder);
        } catch (IOException | IllegalStateException e) {
            LOG.warn("{} {}: {}; ONNX Runtime unpacks its own copy under java.io.tmpdir and leaves it there"
                            + " (set -D{} to a folder holding its libraries to avoid it)",
                    ErrorCode.NATIVE_LIBRARIES_NOT_SHARED.code(), ErrorCode.NATIVE_LIBRARIES_NOT_SHARED.summary(),
                    e.getMessage(), PATH_PROPERTY);
        }
    }

    /** The binding's name for this machine's folder in its jar: linux-x64, linux-aarch64, osx-aarch64, win-x64… */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.contains("mac") || os.contains("darwin") ? "osx" : os.contains("win") ? "win" : "linux";
        String a = arch.startsWith("amd64") || arch.startsWith("x86_64") ? "x64"
                : arch.startsWith("aarch64") ? "aarch64" : arch;
        return o + "-" + a;
    }

    /** The libraries of {@code platform} that the binding's jar holds, with the size and CRC-32 it records. */
    static List<Library> libraries(String platform) throws IOException {
        List<Library> found = new ArrayList<>();
        for (String name : LIBRARIES) {
            String fileName = System.mapLibraryName(name).replace("jnilib", "dylib");
            URL url = OrtEnvironment.class.getResource("/ai/onnxruntime/native/" + platform + "/" + fileName);
            if (url != null) {
                found.add(describe(fileName, url));
            }
        }
        return found;
    }

    private static Library describe(String fileName, URL url) throws IOException {
        URLConnection connection = url.openConnection();
        if (connection instanceof JarURLConnection jar) {
            JarEntry entry = jar.getJarEntry();
            if (entry.getSize() >= 0 && entry.getCrc() >= 0) {
                return new Library(fileName, url, entry.getSize(), entry.getCrc());
            }
        }
        CRC32 crc = new CRC32();
        long size = 0;
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = connection.getInputStream()) {
            for (int n; (n = in.read(buffer)) > 0; size += n) {
                crc.update(buffer, 0, n);
            }
        }
        return new Library(fileName, url, size, crc.getValue());
    }

    /**
     * This user's folder under {@code tmp}, created owner-only when missing.
     *
     * @throws IllegalStateException when it exists but is a link, not a folder, another user's, or open to others
     */
    static Path userFolder(Path tmp, String user) throws IOException {
        Path folder = tmp.resolve(userFolderName(user));
        if (Files.getFileAttributeView(tmp, PosixFileAttributeView.class) == null) {
            throw new IllegalStateException(tmp + " has no POSIX permissions to keep the libraries owner-only");
        }
        try {
            Files.createDirectory(folder, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        } catch (FileAlreadyExistsException e) {
            // checked below, like a folder made just now
        }
        PosixFileAttributes attributes = Files.readAttributes(folder, PosixFileAttributes.class,
                LinkOption.NOFOLLOW_LINKS);
        if (!attributes.isDirectory()) {
            throw new IllegalStateException(folder + " is not a folder (a link or a file)");
        }
        Path probe = Files.createTempFile(tmp, "ct-triage-owner", ".probe");
        try {
            if (!attributes.owner().equals(Files.getOwner(probe))) {
                throw new IllegalStateException(folder + " belongs to " + attributes.owner().getName()
                        + ", not to this user");
            }
        } finally {
            Files.deleteIfExists(probe);
        }
        if (!OWNER_ONLY.containsAll(attributes.permissions())) {
            throw new IllegalStateException(folder + " is open to other users ("
                    + PosixFilePermissions.toString(attributes.permissions()) + ")");
        }
        return folder;
    }

    /** The name of {@code user}'s folder: ct-triage-onnxruntime-, then the name with anything unusual as _. */
    static String userFolderName(String user) {
        String safe = user.replaceAll("[^A-Za-z0-9._-]", "_");
        return "ct-triage-onnxruntime-" + (safe.isEmpty() ? "user" : safe);
    }

    /** The libraries' folder under {@code userFolder}, each library copied there unless it already is. */
    static Path unpack(Path userFolder, List<Library> libraries) throws IOException {
        CRC32 key = new CRC32();
        for (Library library : libraries) {
            key.update((library.fileName() + ":" + library.size() + ":" + library.crc() + "\n")
                    .getBytes(StandardCharsets.UTF_8));
        }
        Path folder = userFolder.resolve("onnxruntime-" + HexFormat.of().toHexDigits((int) key.getValue()));
        Files.createDirectories(folder);
        for (Library library : libraries) {
            Path target = folder.resolve(library.fileName());
            if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS) && Files.size(target) == library.size()) {
                continue;
            }
            Path part = Files.createTempFile(folder, "." + library.fileName(), ".part");
            try {
                try (InputStream in = library.source().openStream()) {
                    Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
                }
                if (Files.size(part) != library.size()) {
                    throw new IOException("copied " + Files.size(part) + " bytes of " + library.fileName() + ", its jar"
                            + " records " + library.size());
                }
                Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(part);
            }
        }
        return folder;
    }
}
