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

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
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


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    return out / "report.html"


def _run(chromium: str, args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    return subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'profile'}",
                           *args], capture_output=True, text=True, timeout=120)


def test_report_is_self_contained(report):
    html = report.read_text()
    sources = re.findall(r"<img[^>]*src='([^']*)'", html)
    assert len(sources) == 6  # cv curve, coefficients, path, shrinkage, bias-variance, L1/L2
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", html)
    for title in ("Chosen regularization strength", "Train vs held-out",
                  "Prediction error reduction by L2", "Coefficients, by standardized magnitude",
                  "other tools' conventions"):
        assert title in html


def test_report_renders_in_headless_chromium(report, tmp_path):
    chromium = _chromium()
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text().replace("<head>", "<head>" + PROBE, 1))
    res = _run(chromium, ["--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
                          "--dump-dom", probe.as_uri()], tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    found = re.search(r'<pre id="__probe">(.*?)</pre>', res.stdout, re.S)
    assert found, "the page did not finish loading"
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert len(result["images"]) == 6
    for img in result["images"]:
        assert img["width"] > 0 and img["height"] > 0, img
    assert result["errors"] == []
    assert "CONSOLE(" not in res.stderr  # the page itself logged nothing
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    res = _run(chromium, [f"--screenshot={shot}", "--window-size=1280,2400",
                          "--virtual-time-budget=10000", report.as_uri()], tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert shot.read_bytes()[:4] == b"\x89PNG"
