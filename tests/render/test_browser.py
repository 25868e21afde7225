"""report.html and the runs index in a real browser: the distribution's headless Chromium driven by
Selenium through the distribution's chromedriver (nothing downloaded). No console errors, every
figure present and non-blank in a screenshot, the test-metrics table shows metrics.json's values,
and sorting the leaderboard by test AUC orders its rows."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.image import imread
from test_run_report import add_eval, make_run

from automm.cli import cli

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                       reason="needs chromium and chromedriver (apt-get install chromium chromium-driver)"),
    pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed"),
]
FIGURES = ("fig-architecture", "fig-entropy", "fig-training", "fig-roc", "fig-retraining")
TEST_AUCS = {"alpha": 0.61, "beta": 0.93, "gamma": 0.72}


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium (in automm[dev])")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1600"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    yield driver
    driver.quit()


def open_page(driver, path: Path) -> list[dict]:
    """Load ``path`` from disk; return the console's errors."""
    driver.get(path.resolve().as_uri())
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def blank(png: bytes) -> bool:
    """Whether a screenshot is one flat colour (nothing drawn)."""
    pixels = imread(io.BytesIO(png), format="png")[..., :3]
    return float(pixels.std()) < 0.02 or float((pixels.mean(axis=2) < 0.9).mean()) < 0.005


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Three reported runs with evaluations under one directory, and its index.html."""
    root = tmp_path_factory.mktemp("browser") / "runs"
    root.mkdir()
    for name, auc in TEST_AUCS.items():
        run = make_run(root / name)
        evaluation = add_eval(run / "eval")
        metrics = json.loads((evaluation / "metrics.json").read_text())
        metrics.update(test_auc=auc, test_auc_ci=[auc - 0.1, min(auc + 0.05, 1.0)])
        (evaluation / "metrics.json").write_text(json.dumps(metrics))
        result = CliRunner().invoke(cli, ["report", str(run)])
        assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["runs", str(root), "--html"])
    assert result.exit_code == 0, result.output
    return root


def test_report_html_opens_without_errors_and_draws_every_figure(browser, runs):
    from selenium.webdriver.common.by import By

    assert open_page(browser, runs / "beta" / "report.html") == []
    for figure_id in FIGURES:
        element = browser.find_element(By.ID, figure_id)
        svg = element.find_element(By.TAG_NAME, "svg")
        assert svg.size["width"] > 100 and svg.size["height"] > 100, figure_id
        browser.execute_script("arguments[0].scrollIntoView();", element)
        assert not blank(svg.screenshot_as_png), f"{figure_id} is blank"


def test_the_test_metrics_table_shows_metrics_json(browser, runs):
    from selenium.webdriver.common.by import By

    open_page(browser, runs / "beta" / "report.html")
    metrics = json.loads((runs / "beta" / "eval" / "metrics.json").read_text())
    rows = {}
    for row in browser.find_elements(By.CSS_SELECTOR, "#test-metrics tbody tr"):
        label, value, interval = row.find_elements(By.TAG_NAME, "td")
        rows[label.text] = (float(value.get_attribute("data-sort")), value.text, interval.text)
    assert rows["test AUC"] == (metrics["test_auc"], "0.93", "[0.83, 0.98]")
    assert rows["test accuracy"][:2] == (metrics["test_acc"], "0.75")
    assert rows["test EER"][:2] == (metrics["test_eer"], "0.25")


def test_sorting_the_index_by_test_auc_orders_its_rows(browser, runs):
    from selenium.webdriver.common.by import By

    assert open_page(browser, runs / "index.html") == []
    headers = [th.text.strip() for th in browser.find_elements(By.CSS_SELECTOR, "#runs thead th")]
    column = headers.index("test AUC")
    header = browser.find_elements(By.CSS_SELECTOR, "#runs thead th")[column]

    def shown() -> list[tuple[str, str]]:
        return [(r.find_elements(By.TAG_NAME, "td")[0].text, r.find_elements(By.TAG_NAME, "td")[column].text)
                for r in browser.find_elements(By.CSS_SELECTOR, "#runs tbody tr")]

    header.click()
    searches = [(run, auc) for run, auc in shown() if "/" not in run]
    assert searches == [("alpha", "0.61"), ("gamma", "0.72"), ("beta", "0.93")]
    values = [float(auc) for _, auc in shown()]
    assert values == sorted(values)
    header.click()
    values = [float(auc) for _, auc in shown()]
    assert values == sorted(values, reverse=True) and values[0] == max(TEST_AUCS.values())
    link = browser.find_element(By.LINK_TEXT, "beta")
    assert link.get_attribute("href").endswith("/runs/beta/report.html")
    assert np.isclose(values[-1], min(TEST_AUCS.values()))
