package org.cttriage.plugin.web;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.node.NodeDatabase;
import org.cttriage.core.node.UserRepository;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;

/**
 * The worklist's local users: passwords hashed with BCrypt (Spring Security's, salted, cost {@link #COST}), API
 * tokens stored as SHA-256 only, and a lock-out after {@link #LOCK_AFTER} failed logins in a row for
 * {@link #LOCK_FOR}. Used by {@code ct-triage users} and by the worklist's login.
 */
public final class Users {
    /** BCrypt's cost: 2^10 rounds, about 60 ms a hash here; enough to make guessing slow, cheap for one login. */
    static final int COST = 10;
    /** Failed logins in a row that lock a user. */
    public static final int LOCK_AFTER = 5;
    /** How long a lock-out lasts. */
    public static final Duration LOCK_FOR = Duration.ofMinutes(15);
    /** The shortest password accepted. */
    public static final int MIN_PASSWORD = 12;
    /** A hash to compare against when the user is unknown, so that an unknown name costs as long as a known one. */
    private static final String DUMMY_HASH = new BCryptPasswordEncoder(COST).encode("no such user: constant time");

    /** What a user may do: a reader sees and reviews studies; an admin also handles dead letters and settings. */
    public enum Role {
        READER, ADMIN;

        public static Role parse(String name) {
            try {
                return valueOf(name.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("role must be reader or admin, was " + name);
            }
        }

        public String code() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Who is logged in (or whose token was shown). */
    public record Principal(String name, Role role) {
    }

    /** How a login went. */
    public sealed interface Login permits Login.Ok, Login.Refused, Login.Locked {
        record Ok(Principal principal) implements Login {
        }

        /** Wrong name or password (which of the two is not said). */
        record Refused(int failuresInARow) implements Login {
        }

        /** Too many failures: refused whatever the password, until the lock ends. */
        record Locked() implements Login {
        }
    }

    private final UserRepository repository;
    private final BCryptPasswordEncoder encoder = new BCryptPasswordEncoder(COST);
    private final SecureRandom random = new SecureRandom();
    private final Clock clock;

    public Users(NodeDatabase database, Clock clock) {
        this.repository = new UserRepository(database);
        this.clock = clock;
    }

    public UserRepository repository() {
        return repository;
    }

    /** Adds a user; TriageException (TRIAGE-0612) for a taken name, a bad name or a short password. */
    public void add(String name, char[] password, Role role) throws TriageException {
        checkName(name);
        if (!repository.add(name, hash(password), role.code(), clock.instant())) {
            throw invalid("user '" + name + "' exists already (users passwd changes a password)");
        }
    }

    public void setPassword(String name, char[] password) throws TriageException {
        if (!repository.setPassword(name, hash(password))) {
            throw invalid("no user '" + name + "'");
        }
    }

    public void remove(String name) throws TriageException {
        if (!repository.remove(name)) {
            throw invalid("no user '" + name + "'");
        }
    }

    /** A new API token for {@code name}: returned once, only its hash is kept. */
    public String newToken(String name, String label) throws TriageException {
        if (repository.find(name).isEmpty()) {
            throw invalid("no user '" + name + "'");
        }
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String token = "ctt_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        repository.addToken(sha256(token), name, label, clock.instant());
        return token;
    }

    /** Checks a name and password, counting failures and honouring the lock-out. */
    public Login login(String name, char[] password) throws TriageException {
        Optional<UserRepository.User> user = repository.find(name);
        if (user.isEmpty()) {
            encoder.matches(CharBuffers.string(password), DUMMY_HASH);
            return new Login.Refused(0);
        }
        UserRepository.User u = user.get();
        if (u.lockedAt(clock.instant())) {
            return new Login.Locked();
        }
        if (!encoder.matches(CharBuffers.string(password), u.passwordHash())) {
            int failures = repository.loginFailed(name, LOCK_AFTER, clock.instant().plus(LOCK_FOR));
            return failures >= LOCK_AFTER ? new Login.Locked() : new Login.Refused(failures);
        }
        repository.loginSucceeded(name);
        return new Login.Ok(new Principal(u.name(), Role.parse(u.role())));
    }

    /** The user of an API token, if the token is known. */
    public Optional<Principal> byToken(String token) throws TriageException {
        return repository.byToken(sha256(token)).map(u -> new Principal(u.name(), Role.parse(u.role())));
    }

    private String hash(char[] password) throws TriageException {
        if (password.length < MIN_PASSWORD) {
            throw invalid("a password needs at least " + MIN_PASSWORD + " characters");
        }
        return encoder.encode(CharBuffers.string(password));
    }

    private static void checkName(String name) throws TriageException {
        if (!name.matches("[A-Za-z0-9._@-]{1,64}")) {
            throw invalid("a user name is 1-64 letters, digits or . _ @ -; was '" + name + "'");
        }
    }

    static String sha256(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static TriageException invalid(String message) {
        return new TriageException(ErrorCode.CONFIGURATION_INVALID, message);
    }

    /** Spring's encoder takes a CharSequence; the char[] stays the caller's to clear. */
    static final class CharBuffers {
        private CharBuffers() {
        }

        static CharSequence string(char[] chars) {
            return java.nio.CharBuffer.wrap(chars);
        }
    }
}
