package org.cttriage.plugin.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.node.NodeDatabase;
import org.cttriage.core.node.UserRepository;
import org.cttriage.plugin.node.NodeDatabaseFiles;
import org.cttriage.plugin.node.NodeSettings;
import org.cttriage.plugin.web.Users;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ct-triage users add|passwd|remove|list|token|revoke-tokens}: the worklist's local users, in the node's
 * database (works beside a running node). Passwords are read from the terminal without echo, or from standard input
 * with {@code --password-stdin} (for scripts); never from the command line.
 */
@Command(name = "users", mixinStandardHelpOptions = true,
        description = {"Manages the worklist's users: add NAME [--role reader|admin], passwd NAME, remove NAME, list,",
            "token NAME [--label L] (prints a new API token once), revoke-tokens NAME."})
final class UsersCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ACTION", description = "add, passwd, remove, list, token or revoke-tokens.")
    String action;

    @Parameters(index = "1", arity = "0..1", paramLabel = "NAME", description = "The user.")
    String name;

    @Option(names = "--role", defaultValue = "reader", description = "reader (see and review) or admin (default: ${DEFAULT-VALUE}).")
    String role;

    @Option(names = "--label", defaultValue = "api", description = "What an API token is for (default: ${DEFAULT-VALUE}).")
    String label;

    @Option(names = "--password-stdin", description = "Read the password from the first line of standard input.")
    boolean passwordStdin;

    @Option(names = "--config", paramLabel = "FILE", description = "The node's configuration file (node.data-dir, database.*).")
    Path config;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!action.equals("list") && name == null) {
            err.println(ErrorCode.CONFIGURATION_INVALID.code() + " users " + action + " needs a NAME");
            return 2;
        }
        Optional<NodeDatabaseFiles.Opened> openedOrNot = CliDatabase.open(config, err);
        if (openedOrNot.isEmpty()) {
            return 2;
        }
        NodeDatabaseFiles.Opened opened = openedOrNot.get();
        try {
            NodeDatabase database = new NodeDatabase(opened.dataSource());
            database.migrate();
            Users users = new Users(database, Clock.systemUTC());
            switch (action) {
                case "add" -> {
                    users.add(name, password(), Users.Role.parse(role));
                    out.printf("user %s added (%s)%n", name, Users.Role.parse(role).code());
                }
                case "passwd" -> {
                    users.setPassword(name, password());
                    out.printf("password of %s changed (any lock-out ended)%n", name);
                }
                case "remove" -> {
                    users.remove(name);
                    out.printf("user %s and its API tokens removed%n", name);
                }
                case "list" -> {
                    for (UserRepository.User u : users.repository().list()) {
                        out.printf("%s\t%s\tcreated %s%s%n", u.name(), u.role(), u.created(),
                                u.lockedAt(Clock.systemUTC().instant()) ? "\tlocked until " + u.lockedUntil() : "");
                    }
                }
                case "token" -> out.println(users.newToken(name, label));
                case "revoke-tokens" -> out.printf("%d token(s) of %s revoked%n", users.repository().removeTokens(name),
                        name);
                default -> {
                    err.println(ErrorCode.CONFIGURATION_INVALID.code()
                            + " ACTION must be add, passwd, remove, list, token or revoke-tokens; was " + action);
                    return 2;
                }
            }
            out.flush();
            return 0;
        } catch (TriageException | IllegalArgumentException e) {
            err.println(e instanceof TriageException ? e.getMessage() : ErrorCode.CONFIGURATION_INVALID.code() + " "
                    + e.getMessage());
            return 2;
        } finally {
            opened.close();
        }
    }

    private char[] password() throws IOException, TriageException {
        if (passwordStdin) {
            String line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            if (line == null) {
                throw new TriageException(ErrorCode.CONFIGURATION_INVALID, "no password on standard input");
            }
            return line.toCharArray();
        }
        java.io.Console console = System.console();
        if (console == null) {
            throw new TriageException(ErrorCode.CONFIGURATION_INVALID,
                    "no terminal to read the password from: use --password-stdin");
        }
        char[] first = console.readPassword("password for %s: ", name);
        char[] again = console.readPassword("again: ");
        if (first == null || !java.util.Arrays.equals(first, again)) {
            throw new TriageException(ErrorCode.CONFIGURATION_INVALID, "the two passwords differ");
        }
        return first;
    }
}
