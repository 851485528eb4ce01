package org.cttriage.core.node;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The worklist's local users ({@code node_user}) and API tokens ({@code node_api_token}). Only hashes are stored: a
 * slow salted password hash (made by the caller with a kept library) and a token's SHA-256. Failed logins are
 * counted here so that a lock-out holds across restarts and across nodes on one database.
 */
public final class UserRepository {
    /** A user as stored. */
    public record User(String name, String passwordHash, String role, int failedLogins, Instant lockedUntil,
            Instant created) {
        /** Whether logins are refused at {@code now}. */
        public boolean lockedAt(Instant now) {
            return lockedUntil != null && now.isBefore(lockedUntil);
        }
    }

    private final NodeDatabase database;

    public UserRepository(NodeDatabase database) {
        this.database = database;
    }

    /** Adds a user; false when the name is taken. */
    public boolean add(String name, String passwordHash, String role, Instant now) throws org.cttriage.core.error.TriageException {
        return database.transaction(c -> {
            if (find(c, name) != null) {
                return false;
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO node_user (name, password_hash, role, "
                    + "failed_logins, locked_until, created) VALUES (?, ?, ?, 0, NULL, ?)")) {
                s.setString(1, name);
                s.setString(2, passwordHash);
                s.setString(3, role);
                s.setTimestamp(4, Timestamp.from(now));
                s.executeUpdate();
            }
            return true;
        });
    }

    /** A new password (and an end to any lock-out); false for an unknown user. */
    public boolean setPassword(String name, String passwordHash) throws org.cttriage.core.error.TriageException {
        return update("UPDATE node_user SET password_hash = ?, failed_logins = 0, locked_until = NULL WHERE name = ?",
                passwordHash, name);
    }

    /** A new role; false for an unknown user. */
    public boolean setRole(String name, String role) throws org.cttriage.core.error.TriageException {
        return update("UPDATE node_user SET role = ? WHERE name = ?", role, name);
    }

    /** Removes the user and its tokens; false for an unknown user. */
    public boolean remove(String name) throws org.cttriage.core.error.TriageException {
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("DELETE FROM node_api_token WHERE user_name = ?")) {
                s.setString(1, name);
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("DELETE FROM node_user WHERE name = ?")) {
                s.setString(1, name);
                return s.executeUpdate() == 1;
            }
        });
    }

    public Optional<User> find(String name) throws org.cttriage.core.error.TriageException {
        return Optional.ofNullable(database.transaction(c -> find(c, name)));
    }

    /** Every user, by name. */
    public List<User> list() throws org.cttriage.core.error.TriageException {
        return database.transaction(c -> {
            List<User> users = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT name, password_hash, role, failed_logins, "
                    + "locked_until, created FROM node_user ORDER BY name");
                 ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    users.add(user(r));
                }
            }
            return users;
        });
    }

    /**
     * Counts a failed login; the {@code lockAfter}-th failure in a row locks the user until {@code lockedUntil}.
     *
     * @return the failures in a row, this one included
     */
    public int loginFailed(String name, int lockAfter, Instant lockedUntil) throws org.cttriage.core.error.TriageException {
        return database.transaction(c -> {
            User u = find(c, name);
            if (u == null) {
                return 0;
            }
            int failures = u.failedLogins() + 1;
            try (PreparedStatement s = c.prepareStatement(
                    "UPDATE node_user SET failed_logins = ?, locked_until = ? WHERE name = ?")) {
                s.setInt(1, failures >= lockAfter ? 0 : failures);
                s.setTimestamp(2, failures >= lockAfter ? Timestamp.from(lockedUntil)
                        : u.lockedUntil() == null ? null : Timestamp.from(u.lockedUntil()));
                s.setString(3, name);
                s.executeUpdate();
            }
            return failures;
        });
    }

    /** A successful login ends the count of failures. */
    public void loginSucceeded(String name) throws org.cttriage.core.error.TriageException {
        update("UPDATE node_user SET failed_logins = 0, locked_until = NULL WHERE name = ?", name);
    }

    /** Records an API token's hash for {@code user}. */
    public void addToken(String tokenHash, String user, String label, Instant now) throws org.cttriage.core.error.TriageException {
        database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement(
                    "INSERT INTO node_api_token (token_hash, user_name, label, created) VALUES (?, ?, ?, ?)")) {
                s.setString(1, tokenHash);
                s.setString(2, user);
                s.setString(3, label);
                s.setTimestamp(4, Timestamp.from(now));
                s.executeUpdate();
            }
            return null;
        });
    }

    /** The user an API token (by its hash) belongs to. */
    public Optional<User> byToken(String tokenHash) throws org.cttriage.core.error.TriageException {
        return Optional.ofNullable(database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT u.name, u.password_hash, u.role, u.failed_logins, "
                    + "u.locked_until, u.created FROM node_api_token t JOIN node_user u ON u.name = t.user_name "
                    + "WHERE t.token_hash = ?")) {
                s.setString(1, tokenHash);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? user(r) : null;
                }
            }
        }));
    }

    /** Revokes every token of {@code user}; how many there were. */
    public int removeTokens(String user) throws org.cttriage.core.error.TriageException {
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("DELETE FROM node_api_token WHERE user_name = ?")) {
                s.setString(1, user);
                return s.executeUpdate();
            }
        });
    }

    private boolean update(String sql, String... args) throws org.cttriage.core.error.TriageException {
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement(sql)) {
                for (int i = 0; i < args.length; i++) {
                    s.setString(i + 1, args[i]);
                }
                return s.executeUpdate() == 1;
            }
        });
    }

    private static User find(Connection c, String name) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT name, password_hash, role, failed_logins, locked_until, "
                + "created FROM node_user WHERE name = ?")) {
            s.setString(1, name);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? user(r) : null;
            }
        }
    }

    private static User user(ResultSet r) throws SQLException {
        Timestamp locked = r.getTimestamp(5);
        return new User(r.getString(1), r.getString(2), r.getString(3), r.getInt(4),
                locked == null ? null : locked.toInstant(), r.getTimestamp(6).toInstant());
    }
}
