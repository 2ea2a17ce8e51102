"""The HTML report: self-contained, and every image decodes in a real headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ridgeway.cli import main

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]

# Injected first into <head>: records load errors and console.error calls, and after load
# writes every image's naturalWidth and the errors into the DOM for --dump-dom to return.
PROBE = """<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  window.__errors.push('error: ' + (e.message || (e.target && e.target.src) || 'resource'));
}, true);
var __ce = console.error;
console.error = function () {
  window.__errors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
  __ce.apply(console, arguments);
};
window.addEventListener('load', function () {
  var imgs = Array.prototype.map.call(document.images, function (i) {
    return {alt: i.alt, width: i.naturalWidth, height: i.naturalHeight};
  });
  var pre = document.createElement('pre');
  pre.id = '__probe';
  pre.textContent = JSON.stringify({images: imgs, errors: window.__errors});
  document.body.appendChild(pre);
});
</script>"""


def _chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists(
        "/usr/bin/chromium") else None)
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is required in CI (install Debian's chromium)")
        pytest.skip("chromium is not installed")
    return path


REGRESSION_PLOTS = ["cv_curve.png", "coefficients.png", "predicted_vs_actual.png",
                    "residuals.png", "path.png", "shrinkage.png", "bias_variance.png",
                    "l1_vs_l2.png"]
CLASSIFICATION_PLOTS = ["cv_curve.png", "coefficients.png", "roc.png", "calibration.png",
                        "confusion_matrix.png", "path.png", "l1_vs_l2.png"]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    return out / "report.html"


@pytest.fixture(scope="module")
def credit_report(tmp_path_factory) -> Path:
    import sys

    tmp = tmp_path_factory.mktemp("credit")
    examples = Path(__file__).resolve().parents[2] / "docs" / "examples"
    sys.path.insert(0, str(examples))
    try:
        from make_credit import credit_table
    finally:
        sys.path.remove(str(examples))
    from pyarrow import csv

    csv.write_csv(credit_table(1500, 0), tmp / "credit.csv")
    out = tmp / "out"
    assert main(["fit", str(tmp / "credit.csv"), "-t", "default", "--drop", "customer_id",
                 "--seed", "7", "--out", str(out)]) == 0
    return out / "report.html"


def _img_alts(html: str) -> list[str]:
    return re.findall(r"<img alt='([^']*)'", html)


def _run(chromium: str, args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    return subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'profile'}",
                           *args], capture_output=True, text=True, timeout=120)


def test_report_is_self_contained(report):
    html = report.read_text()
    sources = re.findall(r"<img[^>]*src='([^']*)'", html)
    assert _img_alts(html) == REGRESSION_PLOTS
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", html)
    for title in ("Chosen regularization strength", "Train vs held-out",
                  "Prediction error reduction by L2", "Coefficients, by standardized magnitude",
                  "other tools' conventions"):
        assert title in html


def test_report_states_how_alpha_was_chosen_and_where_it_came_from(report, credit_report):
    from ridgeway import __version__

    for page, seed in ((report, "0"), (credit_report, "7")):
        html = page.read_text()
        assert "alpha is chosen as the alpha with the best mean CV" in html
        assert "(--selection min)" in html and "Cross-validation:" in html
        provenance = re.search(r"<p class='muted' id='provenance'>(.*?)</p>", html).group(1)
        assert f"ridgeway {__version__}" in provenance and f"seed {seed}" in provenance
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", provenance)
        assert "<code>ridgeway " in provenance and f"--seed {seed}</code>" in provenance
        # the (possibly long) coefficient table comes after the plots
        assert html.index("<h2>Plots</h2>") < html.index("Coefficients, by standardized")
    html = credit_report.read_text()
    assert "folds of consecutive rows" in html and "stratified" in html
    assert "positive class: &#x27;Yes&#x27; (base rate" in html
    assert "majority-class baseline (always &#x27;No&#x27;)" in html
    assert _img_alts(html) == CLASSIFICATION_PLOTS
    assert "L1 logistic, lambda=" in html and "LogisticRegressionCV" not in html


def _render(chromium: str, page: Path, tmp_path: Path) -> tuple[dict, str]:
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("<head>", "<head>" + PROBE, 1))
    res = _run(chromium, ["--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
                          "--dump-dom", probe.as_uri()], tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    found = re.search(r'<pre id="__probe">(.*?)</pre>', res.stdout, re.S)
    assert found, "the page did not finish loading"
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert "CONSOLE(" not in res.stderr  # the page itself logged nothing
    return result, res.stdout


def test_classification_report_renders_in_headless_chromium(credit_report, tmp_path):
    chromium = _chromium()
    result, dom = _render(chromium, credit_report, tmp_path)
    assert [i["alt"] for i in result["images"]] == CLASSIFICATION_PLOTS
    for img in result["images"]:
        assert img["width"] > 0 and img["height"] > 0, img
    assert result["errors"] == []
    for text in ("the diagonal is a random ranking", "a calibrated model lies on the diagonal",
                 "Rows: actual class", "positive class", "majority-class baseline",
                 'id="provenance"'):
        assert text in dom, text


def test_report_renders_in_headless_chromium(report, tmp_path):
    chromium = _chromium()
    result, _ = _render(chromium, report, tmp_path)
    assert [i["alt"] for i in result["images"]] == REGRESSION_PLOTS
    for img in result["images"]:
        assert img["width"] > 0 and img["height"] > 0, img
    assert result["errors"] == []
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    res = _run(chromium, [f"--screenshot={shot}", "--window-size=1280,2400",
                          "--virtual-time-budget=10000", report.as_uri()], tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert shot.read_bytes()[:4] == b"\x89PNG"


def test_report_with_math_text_names_long_labels_and_huge_alpha(tmp_path):
    """Issue 8: "$\\foo$" column names, 100,000-character category labels and --alphas 1e308
    made the report fail (or take minutes)."""
    import numpy as np
    import pyarrow as pa
    from pyarrow import csv

    rng = np.random.default_rng(0)
    n = 200
    x = rng.normal(size=(n, 3))
    label = np.array(["a" * 100_000, "b" * 100_000])[rng.integers(0, 2, n)]
    y = x[:, 0] + (label == label[0]) + rng.normal(size=n)
    path = tmp_path / "weird.csv"
    csv.write_csv(pa.table({"$\\foo$": x[:, 0], "cost $^$ usd": x[:, 1], "x2": x[:, 2],
                            "lab": label, "y": y}), path)
    assert main(["fit", str(path), "-t", "y", "--out", str(tmp_path / "o")]) == 0
    html = (tmp_path / "o" / "report.html").read_text()
    assert "$\\foo$" in html and "cost $^$ usd" in html
    assert len(html) < 1_000_000  # the 100,000-character labels are cut for display
    assert "lab=" + "b" * 59 + "…" in html or "lab=" + "b" * 55 in html
    assert main(["demo", "--alphas", "1e308", "--out", str(tmp_path / "big")]) == 0
    assert (tmp_path / "big" / "cv_curve.png").read_bytes()[:4] == b"\x89PNG"
