"""The README's quickstart code runs as written."""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_quickstart_blocks_run():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    namespace = {}
    for block in blocks[:2]:  # the quickstart: self-contained
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["inf"].summary_frame().shape[0] == 442
