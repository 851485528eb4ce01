package org.cttriage.plugin.web;

/** A part of the node's HTTP server: answers the exchanges it owns and says whether it did. */
@FunctionalInterface
public interface WebHandler {
    /** Answers {@code exchange} and returns true, or returns false (unanswered) when the path is not its own. */
    boolean handle(WebExchange exchange) throws Exception;
}
