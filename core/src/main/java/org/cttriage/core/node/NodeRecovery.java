package org.cttriage.core.node;

import java.util.List;
import org.cttriage.core.error.TriageException;

/**
 * What the database says is unfinished at start-up: series still receiving (their quiet period
 * must run again; the instances are on disk) and deliveries still pending.
 */
public final class NodeRecovery {
    private final SeriesRepository seriesRepository;

    public NodeRecovery(NodeDatabase database) {
        this.seriesRepository = new SeriesRepository(database);
    }

    /** Series whose instances were recorded but that were not triaged yet. */
    public List<SeriesKey> seriesAwaitingTriage() throws TriageException {
        return seriesRepository.inState(SeriesState.RECEIVING);
    }
}
