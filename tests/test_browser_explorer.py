"""The explorer in a real browser: Voila serves a notebook showing ``explorer_widget()`` on 127.0.0.1,
headless Chromium (Debian's chromium + chromium-driver) drives it through Selenium.

Checked: the app renders with its four tab titles whole and no horizontal overflow; a typed family
returns its relation; a curvature field draws as a plotly heat map whose hover shows the value; the view
is written to the address bar (URL fragment) and opening that address reproduces it; a reversed range is
one red line and removes the old map; the attention tab compares the gate positions.
Every wait is a condition on the page (WebDriverWait on the DOM, never a fixed sleep), bounded by a
generous timeout so that a loaded machine only makes the test slower; the server is started on a free
loopback port and killed in teardown. Skipped (with the reason) only when chromium or chromedriver is not installed; CI installs
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
START_TIMEOUT = 180  # s: Voila starts a kernel that imports sympy, plotly and the package (slow under load)
ACTION_TIMEOUT = 120  # s: one computation and its round trip (an upper bound: waits end as soon as the page is ready)

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
        driver.url, driver.log, driver.shots = url, log, shots
        _open(driver, url)
        yield driver
    finally:
        driver.quit()


def _open(driver, address: str) -> None:
    """Load ``address`` and wait until the app has rendered and drawn its first field."""
    driver.get(address)
    try:
        WebDriverWait(driver, START_TIMEOUT).until(
            EC.presence_of_element_located((By.XPATH, "//button[contains(., 'find relations')]"))
        )
    except TimeoutException:
        driver.save_screenshot(str(driver.shots / "timeout.png"))
        raise AssertionError(f"the explorer did not render; voila log: {driver.log.read_text()[-2000:]}") from None


def _click_tab(driver, title: str) -> None:
    locator = (By.XPATH, f"//*[contains(@class, 'lm-TabBar-tabLabel') and text()='{title}']")
    WebDriverWait(driver, ACTION_TIMEOUT).until(EC.element_to_be_clickable(locator)).click()
    WebDriverWait(driver, ACTION_TIMEOUT).until(
        lambda d: d.find_element(By.CSS_SELECTOR, ".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel").text == title
    )


def _click_button(driver, label: str) -> None:
    locator = (By.XPATH, f"//button[contains(., {label!r}) and not(@disabled)]")
    WebDriverWait(driver, ACTION_TIMEOUT).until(EC.element_to_be_clickable(locator)).click()


def _field(label: str) -> tuple[str, str]:
    """The text input labelled ``label``."""
    return By.XPATH, f"//div[contains(@class, 'widget-text')][.//label[normalize-space()={label!r}]]//input"


def _type(driver, locator: tuple[str, str], text: str) -> None:
    """Replace a visible text field's value and leave it (that syncs it to the kernel)."""
    field = WebDriverWait(driver, ACTION_TIMEOUT).until(EC.visibility_of_element_located(locator))
    field.clear()
    field.send_keys(text, Keys.TAB)


def _hash(driver) -> str:
    return driver.execute_script("return decodeURIComponent(window.location.hash)")


def _kernel_has(driver, *parts: str) -> None:
    """Wait until the address shows ``parts``: the app writes every input it receives into the URL fragment.
    Needed before a click: ipywidgets holds a field's new value back while the kernel is busy but sends a
    click at once, so under load a click could otherwise reach the kernel before the value."""
    WebDriverWait(driver, ACTION_TIMEOUT).until(lambda d: all(p in _hash(d) for p in parts))


def _result_containing(driver, text: str) -> str:
    """Wait for a visible result block containing ``text`` (hidden tabs hold results too); return its text."""
    locator = (By.XPATH, f"//pre[contains(@class, 'hmoe-result') and contains(., {text!r})]")

    def visible(d):
        return next((e.text for e in d.find_elements(*locator) if e.is_displayed()), False)

    try:
        return WebDriverWait(driver, ACTION_TIMEOUT).until(visible)
    except TimeoutException:
        shown = [e.text[:300] for e in driver.find_elements(By.CSS_SELECTOR, "pre.hmoe-result") if e.is_displayed()]
        link = [e.text[:300] for e in driver.find_elements(By.CSS_SELECTOR, ".hmoe-permalink")]
        raise AssertionError(f"no result containing {text!r}; visible results: {shown}; address {_hash(driver)!r}; "
                             f"permalink line {link}") from None


def test_explorer_renders_without_overflow(page):
    labels = page.find_elements(By.CSS_SELECTOR, ".lm-TabBar-tabLabel")
    assert [e.text for e in labels] == ["Relations", "Curvature", "Attention", "Gallery"]
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
        _type(page, (By.CSS_SELECTOR, f".hmoe-explorer input[placeholder='{placeholder}']"), text)
    _kernel_has(page, "tab=relations", "function=exp(b*x)*tanh(a*x + c)", "inputs=x", "params=a, b, c")
    _click_button(page, "find relations")
    result = _result_containing(page, "family   user")
    assert "interaction (PDE)  [proved] dF/da - d2F/db dc = 0" in result
    code = page.find_element(By.CSS_SELECTOR, ".hmoe-explorer textarea").get_attribute("value")
    assert "explore_family(function='exp(b*x)*tanh(a*x + c)', inputs='x', params='a, b, c')" in code
    WebDriverWait(page, ACTION_TIMEOUT).until(lambda d: "tab=relations" in _hash(d) and "function=exp(b*x)*tanh(a*x + c)" in _hash(d))
    page.save_screenshot(str(page.shots / "relations-typed.png"))


def test_curvature_field_draws_and_hovers(page):
    _click_tab(page, "Curvature")
    _type(page, _field("constants"), "R=3")
    _kernel_has(page, "tab=curvature", "sets=R=3")
    _click_button(page, "apply")
    result = _result_containing(page, "min 0.111111   max 0.111111")
    assert "Gaussian curvature K of Y = [R*cos(u)*cos(v), R*cos(u)*sin(v), R*sin(u)] with R=3" in result
    title = WebDriverWait(page, ACTION_TIMEOUT).until(
        EC.presence_of_element_located((By.XPATH, "//*[contains(@class, 'gtitle') and contains(., 'K = 0.111111 everywhere')]"))
    )
    heat_map = page.find_element(By.CSS_SELECTOR, ".hmoe-explorer .js-plotly-plot .heatmaplayer image")
    page.save_screenshot(str(page.shots / "curvature.png"))
    assert title.is_displayed() and heat_map.size["width"] > 300 and heat_map.size["height"] > 200, heat_map.size
    moves = iter(range(10**6))

    def hovered(driver):
        """Move the mouse over the map (a new point each poll: plotly may attach its handlers late) and
        return the hover label once there is one."""
        step = next(moves) % 7
        ActionChains(driver).move_to_element_with_offset(heat_map, 10 * step - 30, 8 * step - 24).perform()
        labels = driver.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .hoverlayer .hovertext")
        return labels[0].text if labels and labels[0].text else False

    hover = WebDriverWait(page, ACTION_TIMEOUT, poll_frequency=0.5).until(hovered)
    assert "K = 0.111111" in hover and "u = " in hover and "v = " in hover
    overflow = page.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the curvature tab scrolls horizontally by {overflow} px"
    WebDriverWait(page, ACTION_TIMEOUT).until(lambda d: "tab=curvature" in _hash(d) and "sets=R=3" in _hash(d))


def test_a_reversed_range_is_one_red_line_and_the_old_map_goes(page):
    _click_tab(page, "Curvature")
    assert page.find_elements(By.CSS_SELECTOR, ".hmoe-explorer .js-plotly-plot")
    _type(page, _field("ranges"), "u=2:-2, v=0:2*pi")
    _kernel_has(page, "ranges=u=2:-2, v=0:2*pi")
    _click_button(page, "apply")
    error = _result_containing(page, "error: range of 'u' must have low < high, got 2:-2")
    assert error.count("\n") == 0
    WebDriverWait(page, ACTION_TIMEOUT).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".hmoe-explorer .js-plotly-plot"))
    _type(page, _field("ranges"), "u=-1.2:1.2, v=0:2*pi")
    _kernel_has(page, "ranges=u=-1.2:1.2, v=0:2*pi")
    _click_button(page, "apply")
    _result_containing(page, "min 0.111111   max 0.111111")


def test_attention_tab_compares_gate_positions(page):
    _click_tab(page, "Attention")
    _click_button(page, "compare positions")
    result = _result_containing(page, "strongly identifiable")
    rows = {line.split()[0]: line.split()[1:] for line in result.splitlines()[1:8]}
    assert rows["plain"][:5] == ["5", "13", "8", "5", "0"] and rows["G2"][:5] == ["6", "14", "6", "8", "2"]
    WebDriverWait(page, ACTION_TIMEOUT).until(lambda d: "tab=attention&position=G2" in _hash(d))


def test_gallery_example_loads_into_the_curvature_tab(page):
    _click_tab(page, "Gallery")
    option = (By.XPATH, "//div[contains(@class, 'widget-select')]//option[contains(., 'helicoid')]")
    WebDriverWait(page, ACTION_TIMEOUT).until(EC.element_to_be_clickable(option)).click()
    _result_containing(page, "explore_curvature('[u*cos(v), u*sin(v), c*v]'")  # the kernel has the choice
    _click_button(page, "load and run")
    result = _result_containing(page, "Y = [u*cos(v), u*sin(v), c*v] with c=3/2")  # 1.5 is kept exact
    assert "min -0.444444" in result  # K = -c^2/(c^2 + u^2)^2 is smallest at u = 0: -1/c^2
    selected = page.find_element(By.CSS_SELECTOR, ".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel")
    assert selected.text == "Curvature"
    page.save_screenshot(str(page.shots / "gallery-helicoid.png"))
    WebDriverWait(page, ACTION_TIMEOUT).until(lambda d: "map=[u*cos(v), u*sin(v), c*v]" in _hash(d))


def test_the_address_is_a_permalink_that_reproduces_the_view(page):
    """Open the address the curvature tab wrote (a typed helicoid) in a fresh page, that is a new kernel: the
    same tab, inputs and field come back."""
    _click_tab(page, "Curvature")
    _type(page, _field("map Y"), "[u*cos(v), u*sin(v), c*v]")
    _type(page, _field("ranges"), "u=-2:2, v=0:1")
    _type(page, _field("constants"), "c=5/2")
    _kernel_has(page, "map=[u*cos(v), u*sin(v), c*v]", "ranges=u=-2:2, v=0:1", "sets=c=5/2")
    _click_button(page, "apply")
    _result_containing(page, "min -0.16")  # K = -c^2/(c^2 + u^2)^2 is -1/c^2 at u = 0
    address = page.execute_script("return window.location.href")
    page.get("about:blank")
    _open(page, address)
    result = _result_containing(page, "Y = [u*cos(v), u*sin(v), c*v] with c=5/2")
    assert "min -0.16" in result
    selected = page.find_element(By.CSS_SELECTOR, ".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel")
    assert selected.text == "Curvature"
    assert page.find_element(*_field("constants")).get_attribute("value") == "c=5/2"
    page.save_screenshot(str(page.shots / "permalink.png"))
