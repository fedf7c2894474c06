#!/usr/bin/env bash
# Regenerate every reference file under tests/reference/data/.
# Needs: python with numpy, scikit-learn, statsmodels (the dev venv) and
# Rscript (Debian: apt-get install r-base-core; base R only, no CRAN packages).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python}"
"$PYTHON" "$here/export_data.py"
"$PYTHON" "$here/export_finney.py"
Rscript --vanilla "$here/make_reference.R"
Rscript --version 2>&1 | head -1
