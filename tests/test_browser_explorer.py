"""The explorer in a real browser: Voila serves a notebook showing ``explorer_widget()`` on 127.0.0.1,
headless Chromium (Debian's chromium + chromium-driver) drives it through Selenium.

Checked: the app renders with its three tab titles whole and no horizontal overflow; a typed family
returns its relation; a curvature field draws as a plotly heat map whose hover shows the value.
Every wait is explicit and bounded; the server is started on a free loopback port and killed in
teardown. Skipped (with the reason) only when chromium or chromedriver is not installed; CI installs
them (.ci/install-browser.sh).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.browser

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--window-size=1000,1400",
)
START_TIMEOUT = 90  # s: Voila starts a kernel that imports sympy, plotly and the package
ACTION_TIMEOUT = 60  # s: one computation and its round trip

if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip(
        "chromium and chromium-driver are not installed (apt-get install -y chromium chromium-driver, or run .ci/install-browser.sh)",
        allow_module_level=True,
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"voila exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"voila did not listen on 127.0.0.1:{port} within {START_TIMEOUT} s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Voila serving a one-cell notebook with the explorer, on a free loopback port."""
    folder = tmp_path_factory.mktemp("voila")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("from hmoe_theory.explorer import explorer_widget\n\nexplorer_widget()")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, folder / "explorer.ipynb")
    port, log = _free_port(), folder / "voila.log"
    env = {**os.environ, "JUPYTER_PLATFORM_DIRS": "1", "PYTHONUNBUFFERED": "1"}
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "voila", "explorer.ipynb", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"],
            cwd=folder, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
    try:
        _wait_for_port(port, process, log)
        yield f"http://127.0.0.1:{port}/", log
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture(scope="module")
def page(server, tmp_path_factory):
    """Headless Chromium on the explorer page, loaded once for the module's tests (in file order)."""
    url, log = server
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(START_TIMEOUT)
    shots = tmp_path_factory.mktemp("screenshots")
    try:
        driver.get(url)
        try:
            WebDriverWait(driver, START_TIMEOUT).until(
                EC.presence_of_element_located((By.XPATH, "//button[contains(., 'find relations')]"))
            )
        except TimeoutException:
            driver.save_screenshot(str(shots / "timeout.png"))
            raise AssertionError(f"the explorer did not render; voila log: {log.read_text()[-2000:]}") from None
        driver.shots = shots
        yield driver
    finally:
        driver.quit()


def _click_tab(driver, title: str) -> None:
    driver.find_element(By.XPATH, f"//*[contains(@class, 'lm-TabBar-tabLabel') and text()='{title}']").click()


def _result_containing(driver, text: str) -> str:
    """Wait for a visible result block containing ``text``; return its text."""
    locator = (By.XPATH, f"//pre[contains(@class, 'hmoe-result') and contains(., {text!r})]")
    try:
        return WebDriverWait(driver, ACTION_TIMEOUT).until(EC.visibility_of_element_located(locator)).text
    except TimeoutException:
        shown = [e.text[:300] for e in driver.find_elements(By.CSS_SELECTOR, "pre.hmoe-result") if e.is_displayed()]
        raise AssertionError(f"no result containing {text!r}; visible results: {shown}") from None


def test_explorer_renders_without_overflow(page):
    labels = page.find_elements(By.CSS_SELECTOR, ".lm-TabBar-tabLabel")
    assert [e.text for e in labels] == ["Relations", "Curvature", "Gallery"]
    for label in labels:  # a cut title has more content than room
        assert page.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", label), label.text
    page.save_screenshot(str(page.shots / "relations.png"))
    overflow = page.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls horizontally by {overflow} px"
    app = page.find_element(By.CSS_SELECTOR, ".hmoe-explorer")
    right = app.rect["x"] + app.rect["width"]
    for field in page.find_elements(By.CSS_SELECTOR, ".hmoe-explorer .widget-text, .hmoe-explorer .widget-dropdown"):
        if field.is_displayed():
            assert field.rect["x"] + field.rect["width"] <= right + 1, field.text


def test_typed_family_returns_its_relation(page):
    _click_tab(page, "Relations")
    typed = {"optional, e.g. exp(b*x)*(a*x + c)": "exp(b*x)*tanh(a*x + c)", "x": "x", "a, b, c": "a, b, c"}
    for placeholder, text in typed.items():
        field = page.find_element(By.CSS_SELECTOR, f".hmoe-explorer input[placeholder='{placeholder}']")
        field.clear()
        field.send_keys(text, Keys.TAB)  # leaving the field syncs it
    page.find_element(By.XPATH, "//button[contains(., 'find relations')]").click()
    result = _result_containing(page, "family   user")
    assert "interaction (PDE)  [proved] dF/da - d2F/db dc = 0" in result
    code = page.find_element(By.CSS_SELECTOR, ".hmoe-explorer textarea").get_attribute("value")
    assert "explore_family(function='exp(b*x)*tanh(a*x + c)', inputs='x', params='a, b, c')" in code
    page.save_screenshot(str(page.shots / "relations-typed.png"))


def test_curvature_field_draws_and_hovers(page):
    _click_tab(page, "Curvature")
    constants = page.find_element(By.CSS_SELECTOR, ".hmoe-explorer input[placeholder^='constants and other coordinates']")
    constants.clear()
    constants.send_keys("R=3", Keys.TAB)
    page.find_element(By.XPATH, "//button[contains(., 'apply')]").click()
    result = _result_containing(page, "min 0.111111   max 0.111111")
    assert "Gaussian curvature K of Y = [R*cos(u)*cos(v), R*cos(u)*sin(v), R*sin(u)] with R=3" in result
    title = WebDriverWait(page, ACTION_TIMEOUT).until(
        EC.presence_of_element_located((By.XPATH, "//*[contains(@class, 'gtitle') and contains(., 'K = 0.111111 everywhere')]"))
    )
    heat_map = page.find_element(By.CSS_SELECTOR, ".hmoe-explorer .js-plotly-plot .heatmaplayer image")
    page.save_screenshot(str(page.shots / "curvature.png"))
    assert title.is_displayed() and heat_map.size["width"] > 300 and heat_map.size["height"] > 200, heat_map.size
    ActionChains(page).move_to_element(heat_map).perform()
    hover = WebDriverWait(page, ACTION_TIMEOUT).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, ".js-plotly-plot .hoverlayer .hovertext"))
    )
    assert "K = 0.111111" in hover.text and "u = " in hover.text and "v = " in hover.text
    overflow = page.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the curvature tab scrolls horizontally by {overflow} px"


def test_gallery_example_loads_into_the_curvature_tab(page):
    _click_tab(page, "Gallery")
    page.find_element(By.XPATH, "//div[contains(@class, 'widget-select')]//option[contains(., 'helicoid')]").click()
    page.find_element(By.XPATH, "//button[contains(., 'load and run')]").click()
    result = _result_containing(page, "Y = [u*cos(v), u*sin(v), c*v] with c=3/2")  # 1.5 is kept exact
    assert "min -0.444444" in result  # K = -c^2/(c^2 + u^2)^2 is smallest at u = 0: -1/c^2
    selected = page.find_element(By.CSS_SELECTOR, ".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel")
    assert selected.text == "Curvature"
    page.save_screenshot(str(page.shots / "gallery-helicoid.png"))
