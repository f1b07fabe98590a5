"""A real browser: Debian's Chromium, driven by Selenium through chromedriver.

A tiny generated sample is built; then the Dagster webserver is started on a free local port and
the asset graph must show every layer; an asset page its latest materialisation and its column
catalogue (descriptions, a personal tag); the lineage of one journey run the journeys' effect
assets; and the dashboard file must render every chart (an SVG per plot) with no error in the
browser's console. Screenshots go to data/screenshots/ (BLUEPRINT_SCREENSHOT_DIR). Without
Chromium the tests skip, unless BLUEPRINT_REQUIRE_BROWSER=1 (set by .ci/run, which installs it):
then they fail.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from blueprint_pipeline.core.paths import DATA_DIR, PROJECT_DIR, SQL_PROJECT_DIR
from blueprint_pipeline.definitions import build_definitions
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline_tests.test_ui import WRAPPER, free_port

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
LAYERS = ["sources", "staging", "identity", "audiences", "buying_groups", "scoring", "journeys", "activation",
          "governance", "reporting"]  # fmt: skip
LOCATION = "blueprint_pipeline"  # workspace.yaml
PROJECT = load_project(SQL_PROJECT_DIR)
_GRAPH = build_definitions().resolve_asset_graph()
JOURNEY_RUN_ASSETS = {
    k.to_user_string() for k in _GRAPH.get_all_asset_keys() if "journey_run" in (_GRAPH.get(k).tags or {})
}


def _require_browser() -> None:
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    message = "no Chromium: apt-get install chromium chromium-driver (Debian)"
    if os.environ.get("BLUEPRINT_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _screenshots() -> Path:
    folder = Path(os.environ.get("BLUEPRINT_SCREENSHOT_DIR") or DATA_DIR / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """A tiny sample built on DuckDB with its own Dagster storage and report folder."""
    _require_browser()
    root = tmp_path_factory.mktemp("browser")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLUEPRINT_")}
    env |= {
        "DAGSTER_HOME": str(PROJECT_DIR),
        "BLUEPRINT_DAGSTER_STORAGE": str(root / "dagster"),
        "BLUEPRINT_WAREHOUSE_URL": f"duckdb:///{root}/warehouse.duckdb",
        "BLUEPRINT_LANDING_DIR": str(root / "landing"),
        "BLUEPRINT_REPORTS_DIR": str(root / "reports"),
        "BLUEPRINT_ACTIVATION_DIR": str(root / "activation"),
        "BLUEPRINT_MAILBOX_DIR": str(root / "mailbox"),
        "BLUEPRINT_CONFIG_DIR": str(PROJECT_DIR / "examples" / "config"),
    }
    for args in (["generate", "--scale", "tiny", "--seed", "3", "--out", str(root / "landing")], ["run"]):
        done = subprocess.run([sys.executable, "-m", "blueprint_pipeline.runtime.cli", *args], capture_output=True,
                              text=True, env=env, timeout=600)  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return {"env": env, "dashboard": root / "reports" / "dashboard.html"}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # The machine's network is closed: Chromium's background connections would only be refused.
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1600,1200",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def webserver(built):
    port = free_port()
    command = [str(Path(sys.executable).parent / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1",
               "-p", str(port)]  # fmt: skip
    process = subprocess.Popen([sys.executable, "-c", WRAPPER, *command], cwd=PROJECT_DIR, env=built["env"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # a liveness bound, for a loaded two-core CI machine
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/server_info", timeout=5):
                    break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail("the Dagster webserver did not answer within 300 s")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _wait_for_text(browser, texts: list[str], seconds: int = 60) -> str:
    from selenium.webdriver.support.ui import WebDriverWait

    def shown(driver):
        body = driver.find_element("tag name", "body").text
        return body if all(t in body for t in texts) else False

    from selenium.common.exceptions import TimeoutException

    try:
        return WebDriverWait(browser, seconds, poll_frequency=1).until(shown)
    except TimeoutException:
        browser.save_screenshot(str(_screenshots() / "timed_out.png"))
        body = browser.find_element("tag name", "body").text
        missing = [t for t in texts if t not in body]
        pytest.fail(
            f"{browser.current_url}: not shown within {seconds} s: {missing}; the page: {body[:1500]!r}"
        )


def _skip_welcome(browser) -> None:
    """A fresh instance greets with a community dialog; close it before the screenshot."""
    for button in browser.find_elements("xpath", "//button[normalize-space()='Skip']"):
        button.click()


def test_asset_graph_shows_the_layers_and_a_materialisation(webserver, browser):
    browser.get(f"{webserver}/asset-groups")
    _wait_for_text(browser, ["Global asset lineage", *LAYERS])
    _skip_welcome(browser)
    time.sleep(1)
    browser.save_screenshot(str(_screenshots() / "asset_graph.png"))
    browser.get(f"{webserver}/assets/unified_persons")
    body = _wait_for_text(browser, ["Latest materialization", "Row count", "Grain: one row per person."])
    assert "identity" in body  # its group
    browser.save_screenshot(str(_screenshots() / "unified_persons.png"))


def test_asset_page_shows_the_column_catalogue(webserver, browser):
    """The columns' descriptions and types from the model's YAML (sql_models/columns.py), as the
    materialisation's column schema; a personal column carries its tag."""
    email = PROJECT.column_docs()["unified_persons"]["email"].description
    browser.get(f"{webserver}/assets/unified_persons")
    _wait_for_text(browser, ["Columns", email, "first_name", "personal"])
    browser.save_screenshot(str(_screenshots() / "unified_persons_columns.png"))


def test_lineage_shows_the_journey_effect_assets(webserver, browser):
    """The journeys' effects are assets of their own (docs/architecture.md, the journey loop): the
    lineage filtered to one journey run (`tag:journey_run`) lists and draws each of them."""
    effects = sorted(JOURNEY_RUN_ASSETS - {"journey_enrolments", "journey_node_counts", "journey_step_log"})
    assert len(effects) >= 6
    browser.get(f"{webserver}/asset-groups~{quote('tag:journey_run')}/")
    _wait_for_text(browser, ["Global asset lineage", *effects])
    _skip_welcome(browser)
    time.sleep(1)
    browser.save_screenshot(str(_screenshots() / "journey_effects_lineage.png"))


def test_dashboard_charts_render(built, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    page = built["dashboard"].read_text()
    expected = page.count('class="plotly-graph-div"')
    assert expected >= 8  # the tiny sample fills most charts
    browser.get_log("browser")  # drop what came before
    browser.get(built["dashboard"].as_uri())
    drawn = WebDriverWait(browser, 60, poll_frequency=1).until(
        lambda d: d.execute_script(
            "const plots = document.querySelectorAll('.js-plotly-plot');"
            "return plots.length && [...plots].every(p => p.querySelector('svg.main-svg')) ? plots.length : 0;"
        )
    )
    assert drawn == expected
    assert browser.execute_script("return document.querySelectorAll('.tile').length") == 8
    # Axes fit the data: days tick as days, never as times of day ("23:59:59.9995").
    ticks = browser.execute_script(
        "return [...document.querySelectorAll('.xtick text')].map(t => t.textContent)"
    )
    assert ticks and not [t for t in ticks if ":" in t], ticks
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    browser.save_screenshot(str(_screenshots() / "dashboard.png"))
