"""The rendered book, loaded in headless Chromium from a local server.

Needs the site (``make book``) and Debian's ``chromium`` and ``chromium-driver``. Without them the
tests skip, except where ``TOPOSCOPE_REQUIRE_SITE=1`` (CI), which turns a skip into a failure.
Screenshots of every page are saved to ``_build/screenshots/`` for a human to look at.
"""

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

import toposcope as ts
from toposcope._book import chapters

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
REQUIRED = os.environ.get("TOPOSCOPE_REQUIRE_SITE") == "1"
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
MIN_TEXT_PX = 7


def _unavailable(reason: str):
    if REQUIRED:
        pytest.fail(f"TOPOSCOPE_REQUIRE_SITE=1 but {reason}")
    pytest.skip(reason)


def _pages() -> list[str]:
    return ["book/intro", *[str(c.with_suffix("")) for c in chapters(ROOT)], "book/api"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").is_file():
        _unavailable("the site is not built: run `make book` first")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM and DRIVER):
        _unavailable("Debian packages chromium and chromium-driver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 "--window-size=1280,1600", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _wait(driver, script: str, timeout: float = 20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(script))


@pytest.mark.parametrize("page", _pages())
def test_page_renders(server, browser, page):
    browser.get(f"{server}/{page}.html")
    _wait(browser, "return document.readyState === 'complete'")
    heading = browser.execute_script("return document.querySelector('main h1')?.innerText || ''").strip("#¶ \n")
    assert heading, f"{page}: no title"
    assert heading in browser.title

    # No executed cell may show an error.
    errors = browser.execute_script("return document.querySelectorAll('.output.traceback, .output.error').length")
    assert errors == 0, f"{page}: {errors} error outputs"
    assert "Traceback (most recent call last)" not in browser.page_source

    # Nothing in the content column scrolls sideways at 1280 px (code, printed lines, tables, warnings);
    # 2 px of slack for MathJax's glyph boxes, which clip rather than scroll.
    wide = browser.execute_script(
        "const out = []; for (const e of document.querySelectorAll('main *')) {"
        "  if (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 2 && getComputedStyle(e).overflowX !== 'visible')"
        "    out.push(e.tagName + ' ' + e.scrollWidth + '>' + e.clientWidth + ': ' + e.innerText.slice(0, 60));"
        "} return out;"
    )
    assert not wide, f"{page}: {len(wide)} element(s) scroll sideways: {wide[:5]}"
    # No table cell cut short by pandas ("..." or an ellipsis where its text was shortened).
    cut = browser.execute_script(
        "return Array.from(document.querySelectorAll('main td, main th')).map(c => c.innerText.trim())"
        ".filter(t => t.length > 3 && (t.endsWith('...') || t.endsWith('\u2026')));"
    )
    assert not cut, f"{page}: {len(cut)} table cell(s) cut short: {cut[:5]}"

    notebook = ROOT / f"{page}.ipynb"
    source = notebook.read_text() if notebook.exists() else ""
    # Formulas are typeset by the vendored MathJax (no CDN).
    if "$" in source:
        _wait(browser, "return document.querySelectorAll('mjx-container').length > 0")

    if notebook.exists():
        # Every figure is a loaded image of non-zero size.
        _wait(browser, "return Array.from(document.images).every(i => i.complete)")
        images = browser.execute_script(
            "return Array.from(document.querySelectorAll('main .cell_output img, main figure img')).map("
            "i => [i.getAttribute('src'), i.naturalWidth, i.getBoundingClientRect().width])"
        )
        assert images, f"{page}: no figures"
        empty = [src for src, natural, shown in images if natural == 0 or shown == 0]
        assert not empty, f"{page}: empty images {empty}"
        # Legible figures: the smallest text of the book style, shown at the page's scale, is >= 7 px.
        style = ts.plotting.BOOK_STYLE
        smallest = min(style["legend.fontsize"], style["xtick.labelsize"]) * style["figure.dpi"] / 72
        tiny = [f"{src} ({natural} px shown at {shown:.0f})" for src, natural, shown in images
                if natural and smallest * shown / natural < MIN_TEXT_PX]  # fmt: skip
        assert not tiny, f"{page}: figures shrunk until their legends and ticks are under {MIN_TEXT_PX} px: {tiny}"
    # No control that needs a kernel is shown on the static site: the live widgets' cells are removed there.
    live = browser.execute_script("return document.querySelectorAll('.jupyter-widgets input, .widget-slider').length")
    assert live == 0, f"{page}: {live} kernel-only controls shown on the static site"

    if "frames_html" in source:
        # The precomputed explorers respond without a kernel: moving a slider changes the picture.
        SHOTS.mkdir(parents=True, exist_ok=True)
        roots = browser.find_elements("css selector", ".toposcope-frames")
        assert roots, f"{page}: no precomputed explorer"
        name = page.replace("/", "_")
        for n, root in enumerate(roots):
            browser.execute_script("arguments[0].scrollIntoView()", root)
            image = root.find_element("css selector", "img")
            before = image.get_attribute("src")
            browser.save_screenshot(str(SHOTS / f"{name}_explorer{n}_before.png"))
            for m in range(len(root.find_elements("css selector", "input"))):  # every slider moves the picture
                before = image.get_attribute("src")
                browser.execute_script(
                    "const s = arguments[0].querySelectorAll('input')[arguments[1]];"
                    "s.value = s.value == s.max ? s.min : s.max; s.dispatchEvent(new Event('input'));",
                    root,
                    m,
                )
                assert image.get_attribute("src") != before, f"{page}: explorer {n}, slider {m} changed nothing"
            browser.save_screenshot(str(SHOTS / f"{name}_explorer{n}_after.png"))
        browser.execute_script("window.scrollTo(0, 0)")

    # Code cells fit the page: no horizontal scroll bar at 1280 px (code is at most 79 columns).
    wide = browser.execute_script(
        "return Array.from(document.querySelectorAll('div.cell_input pre'))"
        ".filter(p => p.scrollWidth > p.clientWidth + 1).map(p => p.innerText.split('\\n')[0])"
    )
    assert not wide, f"{page}: code cells wider than the page: {wide}"

    # Zero console errors: a failing script, a missing font or file is a broken page.
    errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, f"{page}: browser console errors {errors}"

    SHOTS.mkdir(parents=True, exist_ok=True)
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1280, min(int(height), 12000))
    browser.save_screenshot(str(SHOTS / f"{page.replace('/', '_')}.png"))
    browser.set_window_size(1280, 1600)


def test_api_reference_covers_every_public_name():
    import toposcope
    from toposcope import pruning

    page = SITE / "book" / "api.html"
    if not page.is_file():
        _unavailable("the site is not built: run `make book` first")
    html = page.read_text()
    names = [f"toposcope.{n}" for n in toposcope.__all__] + [f"toposcope.pruning.{n}" for n in pruning.__all__]
    missing = [n for n in names if f'id="{n}"' not in html and f'id="module-{n}"' not in html]
    assert not missing, f"the API page lacks {missing}"
