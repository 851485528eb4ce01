package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.node.WorklistRepository;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.junit.RequiresTools;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The worklist page in a real browser (Debian's headless Chromium driven by Selenium through chromedriver): a
 * reader logs in and sees the list; a study whose finding the site rates STAT arrives over DICOM and, without a
 * reload (server-sent events), is at the top with its STAT badge within seconds of its result; the reader opens it,
 * sees its findings and confirms it. The screenshot it takes is docs/images/worklist.png.
 */
@RequiresTools({"storescu", "/usr/bin/chromium", "/usr/bin/chromedriver"})
class WorklistBrowserTest {
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    private WorklistNode node;
    private WebDriver browser;

    @AfterEach
    void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (node != null) {
            node.close();
        }
    }

    /** Whether an image element holds a decoded image. */
    private boolean loaded(WebElement img) {
        Object width = ((org.openqa.selenium.JavascriptExecutor) browser).executeScript(
                "return arguments[0].complete ? arguments[0].naturalWidth : 0;", img);
        return width instanceof Number n && n.intValue() > 0;
    }

        @Test
    void aStatStudyArrivesAtTheTopAndIsReviewed() throws Exception {
        // Emphysema is what the reference model calls on this phantom; this site rates it STAT.
        node = new WorklistNode(dir, Optional.empty(), Map.of("emphysema", Priority.STAT));
        // A routine study already waiting.
        node.node.database().transaction(c -> WorklistRepository.resultRecorded(c, "1.2.826.0.1.3680043.9.7433.1",
                Priority.ROUTINE, List.of(), Instant.now().minusSeconds(600)));

        ChromeOptions options = new ChromeOptions();
        options.setBinary("/usr/bin/chromium");
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,768",
                "--disable-gpu", "--no-first-run", "--disable-extensions");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
        WebDriverWait wait = new WebDriverWait(browser, WAIT);

        browser.get(node.base() + "/worklist/");
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("login-user"))).sendKeys("reader");
        browser.findElement(By.id("login-password")).sendKeys(WorklistNode.PASSWORD);
        browser.findElement(By.id("login-submit")).click();
        wait.until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#worklist tbody tr"), 1));
        wait.until(ExpectedConditions.attributeContains(By.id("live"), "class", "on"));
        assertThat(browser.findElement(By.id("user")).getText()).isEqualTo("reader (reader)");

        var series = PhantomSeries.write(21, 64, 20, 10, dir.resolve("ct"));
        node.send(series);
        // No reload: the event stream brings it, and it goes to the top.
        wait.until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#worklist tbody tr"), 2));
        WebElement top = browser.findElement(By.cssSelector("#worklist tbody tr"));
        assertThat(top.getAttribute("data-study")).isEqualTo(series.studyInstanceUid());
        assertThat(top.getAttribute("data-priority")).isEqualTo("stat");
        WebElement badge = top.findElement(By.cssSelector(".badge"));
        assertThat(badge.getText()).isEqualToIgnoringCase("stat");
        assertThat(badge.getCssValue("background-color")).isEqualTo("rgba(198, 40, 40, 1)");
        assertThat(top.getText()).contains("PHANTOM-21").containsIgnoringCase("emphysema");
        List<WebElement> rows = browser.findElements(By.cssSelector("#worklist tbody tr"));
        assertThat(rows.get(1).getAttribute("data-priority")).isEqualTo("routine");
        assertThat(rows.get(1).getAttribute("class")).as("waited past routine's overdue time").contains("overdue");
        // The row's key-image thumbnail has loaded (an image the browser decoded, fetched with the session).
        wait.until(d -> loaded(top.findElement(By.cssSelector("img.thumb"))));
        Path shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
        Files.createDirectories(Path.of("target"));
        Files.copy(shot, Path.of("target", "worklist.png"), StandardCopyOption.REPLACE_EXISTING);

        top.click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("study")));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("study-title"), "PHANTOM-21"));
        assertThat(browser.findElement(By.id("study-priority")).getText()).isEqualToIgnoringCase("stat");
        List<WebElement> findings = browser.findElements(By.cssSelector("#findings tbody tr"));
        assertThat(findings).hasSize(16);
        assertThat(findings.get(0).getText()).containsIgnoringCase("emphysema");
        assertThat(browser.findElement(By.id("objects")).getText()).as("what the PACS got")
                .contains("Structured report (SR)").contains("Organ segmentation (SEG)").contains("Key images (KOS)");
        WebElement key = wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("#key-images img.key")));
        wait.until(d -> loaded(key));
        assertThat(browser.findElement(By.cssSelector("#key-images figcaption")).getText()).containsIgnoringCase("emphysema")
                .contains("organ centre");
        browser.findElement(By.id("review-comment")).sendKeys("seen");
        browser.findElement(By.id("review-confirm")).click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("review-done")));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("reviews"), "reader: confirm"));
        assertThat(new WorklistRepository(node.node.database()).find(series.studyInstanceUid()).orElseThrow().state())
                .isEqualTo(WorklistRepository.State.CONFIRMED);
    }
}
