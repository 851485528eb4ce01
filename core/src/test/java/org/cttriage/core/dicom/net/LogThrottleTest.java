package org.cttriage.core.dicom.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** One line per key and window, with the count of what was held back. */
class LogThrottleTest {
    private Instant now = Instant.parse("2026-12-03T08:00:00Z");
    private final Clock clock = new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    };

    @Test
    void aFloodOfBareConnectsGivesOneLineAMinuteWithTheCount() {
        LogThrottle throttle = new LogThrottle(clock, Duration.ofMinutes(1));
        assertThat(throttle.admit("TRIAGE-0618 10.0.0.9")).isZero();
        for (int i = 0; i < 500; i++) {
            now = now.plusMillis(100);
            assertThat(throttle.admit("TRIAGE-0618 10.0.0.9")).isEqualTo(-1);
        }
        assertThat(throttle.admit("TRIAGE-0618 10.0.0.10")).as("another host has its own window").isZero();
        now = now.plusSeconds(10);
        assertThat(throttle.admit("TRIAGE-0618 10.0.0.9")).isEqualTo(500);
        assertThat(LogThrottle.suffix(500)).isEqualTo(" (500 more like this suppressed)");
        assertThat(LogThrottle.suffix(0)).isEmpty();
    }
}
