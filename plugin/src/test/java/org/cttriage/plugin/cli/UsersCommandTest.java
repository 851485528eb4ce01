package org.cttriage.plugin.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ct-triage users}: passwords from standard input, the checks on names and passwords, tokens, removal. */
class UsersCommandTest {
    @TempDir
    Path dir;

    @Test
    void usersAreAddedListedGivenTokensAndRemovedAndBadInputIsRefused() throws Exception {
        Path config = dir.resolve("node.properties");
        Files.writeString(config, "node.data-dir=" + dir.resolve("var") + "\n");

        CommandLineTest.Run added = withStdin("a long enough password\n", "users", "add", "alice", "--role", "admin",
                "--password-stdin", "--config", config.toString());
        assertThat(added.exitCode()).as(added.err()).isZero();
        assertThat(added.out()).contains("user alice added (admin)");
        assertThat(withStdin("another long password\n", "users", "add", "alice", "--password-stdin", "--config",
                config.toString()).err()).contains("TRIAGE-0612").contains("exists already");
        CommandLineTest.Run shortPassword = withStdin("short\n", "users", "add", "bob", "--password-stdin", "--config",
                config.toString());
        assertThat(shortPassword.exitCode()).isEqualTo(2);
        assertThat(shortPassword.err()).contains("at least 12 characters");
        assertThat(withStdin("a long enough password\n", "users", "add", "bad name", "--password-stdin", "--config",
                config.toString()).exitCode()).isEqualTo(2);

        CommandLineTest.Run list = CommandLineTest.run("users", "list", "--config", config.toString());
        assertThat(list.out()).startsWith("alice\tadmin\tcreated ").doesNotContain("bob");
        CommandLineTest.Run token = CommandLineTest.run("users", "token", "alice", "--config", config.toString());
        assertThat(token.out().trim()).startsWith("ctt_").hasSizeGreaterThan(40);
        assertThat(CommandLineTest.run("users", "revoke-tokens", "alice", "--config", config.toString()).out())
                .contains("1 token(s) of alice revoked");
        assertThat(CommandLineTest.run("users", "remove", "alice", "--config", config.toString()).out())
                .contains("user alice and its API tokens removed");
        assertThat(CommandLineTest.run("users", "list", "--config", config.toString()).out()).isEmpty();
        assertThat(CommandLineTest.run("users", "passwd", "--config", config.toString()).exitCode()).isEqualTo(2);
    }

    private static CommandLineTest.Run withStdin(String input, String... args) {
        InputStream before = System.in;
        System.setIn(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
        try {
            return CommandLineTest.run(args);
        } finally {
            System.setIn(before);
        }
    }
}
