"""End-to-end: the playground page in a real headless Chromium (Debian's, driven by Playwright).

Never `playwright install`: the browser is /usr/bin/chromium (`apt-get install chromium`).
"""

import os
import re

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip

if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
pytest.importorskip("uvicorn")

from neuralab.playground.server import BackgroundServer  # noqa: E402

SVM = "dataset=gauss&noise=10&networkShape=&learningRate=0.01&loss=hinge&regularization=L2&regularizationRate=0.01"


@pytest.fixture(scope="module")
def server():
    with BackgroundServer() as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    """A fresh tab (its own server session); fails the test on any page error."""
    # wait_for_function evaluates strings, which the page's CSP forbids; see the test below
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, bypass_csp=True)
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda e: errors.append(str(e)))

    def open_(fragment=""):
        tab.goto(f"{server.url}#{fragment}")
        tab.wait_for_function("document.querySelector('#conn').textContent === 'live'")
        tab.wait_for_selector(".node[data-node='o0']")
        return tab

    tab.open = open_
    yield tab
    context.close()
    assert not errors, errors


def number(page, selector):
    return float(page.inner_text(selector).replace(",", ""))


def test_play_trains_circle_with_tanh_below_0_1_and_linear_stays_high(page, tmp_path):
    page.open()
    assert page.input_value("#activation") == "tanh" and page.input_value("#learningRate") == "0.03"
    page.click("#play")
    page.wait_for_function("document.querySelector('#epoch').textContent !== '000,000'")
    page.wait_for_function(
        "Number(document.querySelector('#test-loss').textContent) < 0.1", timeout=30_000
    )
    page.click("#play")  # pause
    assert number(page, "#epoch") > 0
    assert page.locator("#loss-chart").bounding_box()["height"] > 20
    shot = tmp_path / "playground.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000

    page.select_option("#activation", "linear")
    page.wait_for_function("document.querySelector('#epoch').textContent === '000,000'")
    assert "activation=linear" in page.url
    page.click("#play")
    page.wait_for_function(
        "Number(document.querySelector('#epoch').textContent.replace(',', '')) >= 100",
        timeout=30_000,
    )
    page.click("#play")
    assert number(page, "#test-loss") > 0.3


def test_preset_links_set_the_whole_configuration(page):
    page.open(SVM)
    page.wait_for_function("document.querySelector('#loss').value === 'hinge'")
    assert page.input_value("#regularization") == "L2"
    assert page.text_content("#layers-title") == "0 hidden layers"
    assert page.locator(".dataset.selected").get_attribute("data-dataset") == "gauss"
    page.select_option("#presets", label="Multiclass: three blobs with softmax")
    page.wait_for_selector(".node[data-node='o2']")
    assert page.input_value("#problem") == "multiclass" and "problem=multiclass" in page.url
    assert page.is_visible("#class-legend")
    page.select_option("#presets", label="Gradient descent on x²: Exercise 5.1")
    page.wait_for_function(
        "document.querySelector('.gd-table tbody').textContent.includes('4.608')"
    )
    table = page.inner_text(".gd-table tbody")
    assert "7.2000" in table and "5.7600" in table and page.is_hidden("#view-net")


def test_classroom_flags_hide_controls(page):
    page.open("learningRate_hide=true&playButton_hide=true&hideText=true&sinX_hide=true")
    assert (
        page.is_hidden("#learningRate") and page.is_hidden("#play") and page.is_hidden(".tagline")
    )
    assert page.locator(".node[data-node='f:sinX']").count() == 0
    assert page.is_visible("#activation")


def test_upload_csv_and_edit_points(page, tmp_path):
    page.open()
    good = tmp_path / "points.csv"
    good.write_text(
        "x1,x2,label\n" + "".join(f"{i / 10 - 5},{(-1) ** i},{(-1) ** i}\n" for i in range(40))
    )
    page.set_input_files("#csv-file", str(good))
    page.wait_for_function("document.querySelectorAll('svg.points circle').length === 20")
    assert page.locator(".dataset.selected").get_attribute("data-dataset") == "custom"
    assert "points=" in page.url and page.is_hidden("#data-error")
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,1\n3,oops,1\n")
    page.set_input_files("#csv-file", str(bad))
    page.wait_for_selector("#data-error:not([hidden])")
    assert "line 2: 'oops' is not a number" in page.inner_text("#data-error")
    page.click("#point-modes button[data-mode='add:1']")
    box = page.locator("svg.points").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.1)
    page.wait_for_function(
        "document.querySelectorAll('svg.points circle').length >= 20 && location.hash.split(';').length === 41"
    )


def test_hover_and_edit_the_output_bias(page):
    page.open()
    page.hover(".node[data-node='h0_1']")
    page.wait_for_function(
        "document.querySelector('.heat-caption').textContent === 'hovered neuron'"
    )
    bias = page.locator(".bias").last  # the output unit's bias: visible and editable
    bias.click()
    page.fill(".weight-editor", "2.5")
    page.press(".weight-editor", "Enter")
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    bias.hover()
    assert re.search(r"bias of the output\s+2\.500", page.inner_text("#tooltip"))


def test_the_page_works_under_its_content_security_policy(browser, server):
    context = browser.new_context()
    tab = context.new_page()
    problems = []
    tab.on("pageerror", lambda e: problems.append(str(e)))
    tab.on("console", lambda m: m.type == "error" and problems.append(m.text))
    tab.goto(server.url)
    tab.wait_for_selector("#conn.live")
    tab.wait_for_selector(".node[data-node='h0_3'] canvas")
    tab.click("#step-epoch")
    tab.wait_for_selector("#epoch:has-text('000,001')")
    context.close()
    assert not problems, problems
