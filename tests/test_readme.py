"""Every ```python block of README.md runs as written, each on its own (a newcomer's path)."""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(), re.DOTALL | re.MULTILINE)


def _first_line(block):
    return next((ln for ln in block.splitlines() if ln.strip()), "")[:60]


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs(block):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    if re.search(r"^\s*(import torch|from torch)|backend=\"torch\"", block, re.MULTILINE):
        pytest.importorskip("torch")
    if "imblearn" in block:
        pytest.importorskip("imblearn")
    import matplotlib.pyplot as plt

    try:
        exec(compile(block, f"README.md: {_first_line(block)}", "exec"), {"__name__": "readme"})  # noqa: S102
    finally:
        plt.close("all")
