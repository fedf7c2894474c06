"""Extract Finney's vaso-constriction data + SAS PROC LOGISTIC influence output.

Source (shipped inside statsmodels, used by its own test
``statsmodels/stats/tests/test_influence.py::test_influence_glm_bernoulli``):

* data:  statsmodels/stats/tests/results/binary_constrict.csv
* SAS:   statsmodels/stats/tests/results/results_influence_logit.csv
  (PROC LOGISTIC ... / INFLUENCE output for ``constrict ~ log_rate +
  log_volume``, event = constrict 1, printed to ~4 decimals / 3-4 significant
  digits)

Writes ``data/finney_sas.json``.  Besides the values, for every SAS number we
store ``atol`` = half a unit in the last printed digit (the rounding error of
the printed value), so the tests can compare "at the SAS precision shipped".

SAS column meanings (PROC LOGISTIC INFLUENCE / OUTPUT keywords):
  resid_pearson        RESCHI    Pearson residual
  resid_deviance       RESDEV    deviance residual
  hat_matrix_diagonal  H         leverage
  dfb_*                DFBETAS   one-step DFBETA / SE(beta)  (full-sample SE)
  Cooks C              C         confidence-interval displacement
                                   = r_P^2 h / (1-h)^2  (= p * R cooks.distance)
  Cooks Cbar           CBAR      = r_P^2 h / (1-h)
  d_deviance           DIFDEV    = r_D^2 + CBAR
  d_pearson_chi2       DIFCHISQ  = CBAR / h = r_P^2 / (1-h)

Run:  python tests/reference/export_finney.py
"""
from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import statsmodels

HERE = Path(__file__).resolve().parent
SRC = Path(statsmodels.__file__).resolve().parent / "stats" / "tests" / "results"
DATA_FILE = SRC / "binary_constrict.csv"
SAS_FILE = SRC / "results_influence_logit.csv"

SAS_COLUMNS = {  # SAS csv column -> key in finney_sas.json
    "resid_pearson": "resid_pearson",
    "resid_deviance": "resid_deviance",
    "hat_matrix_diagonal": "hat",
    "Cooks C": "c",
    "Cooks Cbar": "cbar",
    "d_deviance": "difdev",
    "d_pearson_chi2": "difchisq",
}
DFB_COLUMNS = ["dfb_intercept", "dfb_lograte", "dfb_logvolumne"]


def _half_ulp(text: str) -> float:
    """Half a unit in the last printed digit of ``text`` (e.g. '0.0165' -> 5e-5)."""
    exp = Decimal(text.strip()).as_tuple().exponent
    return 0.5 * 10.0 ** exp


def main() -> None:
    with DATA_FILE.open() as fh:
        data = list(csv.DictReader(fh))
    with SAS_FILE.open() as fh:
        sas = list(csv.DictReader(fh))
    assert len(data) == len(sas) == 39
    for d, s in zip(data, sas):  # same cases, same order
        assert d["Case"] == s["Case"]
        assert abs(float(d["log_rate"]) - float(s["LogRate"])) <= 5e-5
        assert abs(float(d["log_volumne"]) - float(s["LogVolumne"])) <= 5e-5

    out = {
        "description": "Finney (1947) vaso-constriction data, logistic regression "
                       "constrict ~ 1 + log_rate + log_volume; SAS PROC LOGISTIC "
                       "influence diagnostics as shipped in statsmodels' test suite",
        "source_data": "statsmodels/stats/tests/results/binary_constrict.csv",
        "source_sas": "statsmodels/stats/tests/results/results_influence_logit.csv",
        "statsmodels_version": statsmodels.__version__,
        "n": len(data),
        "coef_names": ["(Intercept)", "log_rate", "log_volume"],
        "data": {
            "rate": [float(d["rate"]) for d in data],
            "volume": [float(d["volumne"]) for d in data],
            "log_rate": [float(d["log_rate"]) for d in data],
            "log_volume": [float(d["log_volumne"]) for d in data],
            "constrict": [int(d["constrict"]) for d in data],
        },
        "sas": {},
        "sas_atol": {},
    }
    for src, key in SAS_COLUMNS.items():
        out["sas"][key] = [float(s[src]) for s in sas]
        out["sas_atol"][key] = [_half_ulp(s[src]) for s in sas]
    out["sas"]["dfbetas"] = [[float(s[c]) for c in DFB_COLUMNS] for s in sas]
    out["sas_atol"]["dfbetas"] = [[_half_ulp(s[c]) for c in DFB_COLUMNS] for s in sas]

    path = HERE / "data" / "finney_sas.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
