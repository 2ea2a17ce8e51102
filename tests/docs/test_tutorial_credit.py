"""docs/tutorial-credit.md: every command runs (in order, in a scratch folder), exits as the
text says, and every table row quoted in the text is in the real output."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial-credit.md"


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"^```{kind}\n(.*?)^```", TUTORIAL.read_text(), re.S | re.M)


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_tutorial_commands_run_and_quoted_rows_are_real(tmp_path):
    commands = [line[2:] for block in _blocks("console") for line in block.splitlines()
                if line.startswith("$ ")]
    assert len(commands) == 5
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "100"}
    output = []
    for command in commands:
        words = shlex.split(command)
        if words[0] == "ridgeway":
            words = [sys.executable, "-m", "ridgeway", *words[1:]]
        elif words[0] == "python":
            words = [sys.executable, str(ROOT / words[1]), *words[2:]]
        res = subprocess.run(words, cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=300)
        expected = 1 if words[3:4] == ["check"] else 0
        assert res.returncode == expected, (command, res.stderr[-2000:])
        output.append(res.stdout + res.stderr)
    real = _squash("\n".join(output))
    quoted = [line for block in _blocks("text") for line in block.splitlines()
              if line.startswith("│") or line.startswith("ridgeway: alert")]
    assert len(quoted) > 15
    for line in quoted:
        assert _squash(line) in real, line
    assert (tmp_path / "credit-model" / "report.html").is_file()
    assert (tmp_path / "scores.csv").read_text().startswith("customer_id")
