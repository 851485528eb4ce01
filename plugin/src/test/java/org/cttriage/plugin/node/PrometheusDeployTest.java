package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.junit.jupiter.api.Test;

/**
 * deploy/prometheus/ is what an operator installs: Prometheus' own checker accepts the scrape configuration and the
 * alert rules, and the rules' unit tests (each alert fires on the series that should fire it, after its "for")
 * pass. That the rules name metrics the node really exposes is checked against a live scrape in
 * {@link NodeHealthTest}.
 */
@RequiresTools("promtool")
class PrometheusDeployTest {
    static final Path DEPLOY = Path.of("..", "deploy", "prometheus").toAbsolutePath().normalize();

    @Test
    void scrapeConfigIsValid() throws Exception {
        promtool("check", "config", DEPLOY.resolve("prometheus.yml").toString());
    }

    @Test
    void alertRulesAreValidAndFireAsTheirTestsSay() throws Exception {
        promtool("check", "rules", DEPLOY.resolve("ct-triage-alerts.yml").toString());
        String out = promtool("test", "rules", DEPLOY.resolve("ct-triage-alerts.test.yml").toString());
        assertThat(out).contains("SUCCESS");
    }

    static String promtool(String... args) throws Exception {
        java.util.List<String> command = new java.util.ArrayList<>();
        command.add("promtool");
        command.addAll(java.util.List.of(args));
        ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(60), command);
        assertThat(r.exitCode()).as(String.join(" ", command) + "\n" + r.output()).isZero();
        return r.output();
    }
}
