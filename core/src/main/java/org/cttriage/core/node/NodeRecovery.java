package org.cttriage.core.node;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import org.cttriage.core.error.TriageException;

/**
 * What the database says is unfinished at start-up: series still receiving (their quiet period
 * must run again; the instances are on disk) and deliveries still pending.
 */
public final class NodeRecovery {
    private final NodeDatabase database;

    public NodeRecovery(NodeDatabase database) {
        this.database = database;
    }

    /** Series whose instances were recorded but that were not triaged yet. */
    public List<SeriesKey> seriesAwaitingTriage() throws TriageException {
        return database.transaction(c -> {
            List<SeriesKey> keys = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT study_uid, series_uid FROM node_series WHERE state = ? "
                    + "ORDER BY last_received")) {
                s.setString(1, SeriesState.RECEIVING.name());
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        keys.add(new SeriesKey(r.getString(1), r.getString(2)));
                    }
                }
            }
            return keys;
        });
    }
}
