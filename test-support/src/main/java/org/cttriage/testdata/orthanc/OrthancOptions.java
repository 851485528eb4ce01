package org.cttriage.testdata.orthanc;

import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;

/**
 * How {@link OrthancServer} configures the Orthanc it starts. {@link #defaults()} documents every
 * default. Ports, storage and index are never options: they are always free loopback ports and
 * folders inside the server's directory, so a test can't collide with a system Orthanc service.
 *
 * @param aet          Orthanc's own AE title ("DicomAet"); C-STOREs must call it, since the
 *                     harness sets "DicomCheckCalledAet" (default "ORTHANC")
 * @param stableAge    "StableAge": how long a series must receive nothing before Orthanc calls it
 *                     stable and the routing script runs; whole seconds, at least 1 (default 2 s)
 * @param routing      the Lua script Orthanc runs (default {@link Routing#ROUTE_CT_TO_CT_TRIAGE})
 * @param routingPeer  where the "cttriage" modality points; null leaves it out of the configuration
 *                     until {@link OrthancServer#routeTo(DicomPeer)} (default null)
 * @param callingAets  AE titles, besides {@code routingPeer}'s, that may associate from 127.0.0.1
 *                     (default dcmtk's own: "ECHOSCU", "STORESCU")
 * @param startTimeout how long to wait for the REST API to answer after starting (default 60 s)
 */
public record OrthancOptions(String aet, Duration stableAge, Routing routing, DicomPeer routingPeer,
                             Set<String> callingAets, Duration startTimeout) {

    /** The Lua script that Orthanc runs. */
    public enum Routing {
        /**
         * The shipped {@code route-ct-to-ct-triage.lua} (the copy in {@code deploy/orthanc/}): stable CT
         * series go to the "cttriage" modality, nothing else does.
         */
        ROUTE_CT_TO_CT_TRIAGE,
        /** No Lua script: Orthanc only stores what it is sent. */
        NONE
    }

    public OrthancOptions {
        DicomPeer.checkAeTitle("aet", aet);
        if (stableAge == null || stableAge.getNano() != 0 || stableAge.getSeconds() < 1) {
            throw new IllegalArgumentException("stableAge must be a whole number of seconds, at least 1, was "
                    + stableAge);
        }
        if (routing == null) {
            throw new IllegalArgumentException("routing must not be null");
        }
        if (callingAets == null) {
            throw new IllegalArgumentException("callingAets must not be null (use an empty set)");
        }
        TreeSet<String> copy = new TreeSet<>();
        for (String a : callingAets) {
            DicomPeer.checkAeTitle("callingAets", a);
            copy.add(a);
        }
        callingAets = Set.copyOf(copy);
        if (startTimeout == null || startTimeout.isNegative() || startTimeout.isZero()) {
            throw new IllegalArgumentException("startTimeout must be positive, was " + startTimeout);
        }
    }

    /** The defaults listed on the record. */
    public static OrthancOptions defaults() {
        return new OrthancOptions("ORTHANC", Duration.ofSeconds(2), Routing.ROUTE_CT_TO_CT_TRIAGE, null,
                Set.of("ECHOSCU", "STORESCU"), Duration.ofSeconds(60));
    }

    public OrthancOptions withAet(String newAet) {
        return new OrthancOptions(newAet, stableAge, routing, routingPeer, callingAets, startTimeout);
    }

    public OrthancOptions withStableAge(Duration age) {
        return new OrthancOptions(aet, age, routing, routingPeer, callingAets, startTimeout);
    }

    public OrthancOptions withRouting(Routing r) {
        return new OrthancOptions(aet, stableAge, r, routingPeer, callingAets, startTimeout);
    }

    public OrthancOptions withRoutingPeer(DicomPeer peer) {
        return new OrthancOptions(aet, stableAge, routing, peer, callingAets, startTimeout);
    }

    public OrthancOptions withCallingAets(Set<String> aets) {
        return new OrthancOptions(aet, stableAge, routing, routingPeer, aets, startTimeout);
    }

    public OrthancOptions withStartTimeout(Duration timeout) {
        return new OrthancOptions(aet, stableAge, routing, routingPeer, callingAets, timeout);
    }
}
