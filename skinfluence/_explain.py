"""``Influence.explain`` (training rows behind test predictions) and the HTML summary."""

import html

import numpy as np
import scipy.sparse as sp

from .utils._chunks import top_indices
from .utils._validation import _is_dataframe

_TEST_CHUNK = 256  # test rows per loss_change call: at most 256 x n floats at once


def _take(a, rows):
    return a.iloc[rows] if hasattr(a, "iloc") else a[rows]


def _decoded_labels(inf):
    """The training labels as the user knows them (class labels for classifiers)."""
    obj = inf.objective
    y = np.asarray(obj.y)
    classes = getattr(obj, "classes", None)
    if classes is None:
        return y
    classes = np.asarray(classes)
    if classes.size == 2:
        return classes[(y > 0).astype(int)]
    return classes[y.astype(int)]


def _feature_frame(inf, X, rows):
    """Feature values of training ``rows`` as a DataFrame (columns named)."""
    import pandas as pd

    if X is None:
        X = getattr(inf, "X_input", None)
    if X is not None:
        if X.shape[0] != inf.objective.n_samples:
            raise ValueError(
                f"X has {X.shape[0]} rows but the model was fitted on "
                f"{inf.objective.n_samples}."
            )
        if _is_dataframe(X):
            return X.iloc[rows].reset_index(drop=True)
        block = X[rows]
        block = block.toarray() if sp.issparse(block) else np.asarray(block)
        return pd.DataFrame(block, columns=[f"x{j}" for j in range(block.shape[1])])
    Xd = inf.objective.X
    block = Xd[rows]
    # the backend brings its own arrays (a device tensor) to the host
    block = block.toarray() if sp.issparse(block) else inf.engine.backend.to_numpy(block)
    names = [q for q in inf.param_names if q != "(Intercept)"]
    if len(names) != block.shape[1]:
        names = [f"x{j}" for j in range(block.shape[1])]
    return pd.DataFrame(block, columns=names)


_BY = {
    # score column, role of the largest scores, role of the smallest
    "loss": ("loss_change", "helpful", "harmful"),
    "decision": ("decision_change", "lowers", "raises"),
}


def decision_change(inf, X_test, y_test, method="influence"):
    """Predicted eta_test(theta_(-i)) - eta_test(theta), shape (n_test, n_samples).

    The change of each test row's linear predictor (decision function) when
    training row i is removed: xt_test' (theta_(-i) - theta), from
    :meth:`Influence.param_change`. Single-output models only.
    """
    obj = inf.objective
    if obj.n_outputs != 1:
        raise ValueError(
            "by='decision' needs a single-output model (one linear predictor); this model "
            f"has {obj.n_outputs} outputs. Use by='loss'."
        )
    Xt, _ = inf._prepare_test(X_test, y_test)
    delta = inf.param_change(method)  # (n, P), the parameters in objective order
    return np.asarray(inf.engine.backend.design_matmul(Xt, delta.T, obj.fit_intercept))


def explain_rows(inf, X_test, y_test, n=5, X=None, y=None, method="influence", by="loss"):
    """See :meth:`skinfluence.Influence.explain`."""
    import pandas as pd

    if by not in _BY:
        raise ValueError(f"by must be 'loss' or 'decision'; got {by!r}.")
    score_name, top_role, bottom_role = _BY[by]
    n = int(n)
    if n < 1:
        raise ValueError(f"n must be a positive integer; got {n}.")
    n_train = inf.objective.n_samples
    if y is None:
        labels_y = _decoded_labels(inf)
    else:
        labels_y = np.asarray(y)
        if labels_y.shape[0] != n_train:
            raise ValueError(f"y has {labels_y.shape[0]} rows; the model was fitted on {n_train}.")
    n_test = X_test.shape[0]
    test_labels = np.asarray(X_test.index) if _is_dataframe(X_test) else np.arange(n_test)
    train_labels = np.arange(n_train) if inf.index is None else np.asarray(inf.index)
    k = min(n, n_train)
    yt = y_test if hasattr(y_test, "iloc") else np.asarray(y_test)
    pos, test_col, role, rank, scores = [], [], [], [], []
    for start in range(0, n_test, _TEST_CHUNK):
        sl = np.arange(start, min(start + _TEST_CHUNK, n_test))
        score = inf.loss_change if by == "loss" else lambda *a, **kw: decision_change(inf, *a, **kw)
        change = score(_take(X_test, sl), _take(yt, sl), method=method)
        for r, c in zip(sl, change):
            order = np.argsort(-c, kind="stable")
            for name, rows in ((top_role, order[:k]), (bottom_role, order[::-1][:k])):
                pos.extend(rows)
                test_col.extend([test_labels[r]] * k)
                role.extend([name] * k)
                rank.extend(range(1, k + 1))
                scores.extend(c[rows])
    pos = np.asarray(pos, dtype=int)
    out = pd.DataFrame(
        {"test_row": test_col, "role": role, "rank": rank, score_name: scores,
         "y": labels_y[pos]},
        index=pd.Index(train_labels[pos],
                       name=getattr(inf.index, "name", None) if inf.index is not None else None),
    )
    feats = _feature_frame(inf, X, pos)
    feats.index = out.index
    clash = [c for c in feats.columns if c in out.columns]
    if clash:
        feats = feats.rename(columns={c: f"x_{c}" for c in clash})
    return pd.concat([out, feats], axis=1)


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    return html.escape(str(v))


def html_table(rows, header):
    """A plain HTML table from a list of row tuples."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    head = f"<thead><tr>{head}</tr></thead>" if any(str(h) for h in header) else ""
    body = "".join("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table>{head}<tbody>{body}</tbody></table>"


def summary_rows(inf):
    """(name, value) pairs summarizing an Influence (model, sizes, cut-offs)."""
    from .plotting import cooks_thresholds

    obj = inf.objective
    d = inf.cooks_distance
    rows = [
        ("loss", type(obj.loss).__name__),
        ("rows", obj.n_samples),
        ("parameters", obj.n_params),
        ("penalized", obj.is_penalized),
        ("p (effective)", float(inf.n_params)),
        ("dispersion", float(inf.dispersion)),
        ("max Cook's distance", float(np.max(d)) if d.size else float("nan")),
    ]
    for name, value in cooks_thresholds(inf).items():
        rows.append((f"rows with Cook's distance > {name} ({value:.3g})", int(np.sum(d > value))))
    if inf._glm:
        rows.append(("rows flagged by R's influence.measures",
                     int(inf.influential.any(axis=1).sum())))
    return rows


def top_rows(inf, n=10):
    """(positions, header, rows) of the n rows with the largest Cook's distance."""
    from .plotting import row_labels

    pos = top_indices(np.abs(inf.cooks_distance), n)
    labels = row_labels(inf)
    header = ["row", "Cook's distance", "leverage"]
    cols = [inf.cooks_distance, inf.leverage]
    if inf._glm:
        header.append("studentized residual")
        cols.append(inf.studentized_residuals_external)
    rows = [(labels[i], *(c[i] for c in cols)) for i in pos]
    return pos, header, rows


def influence_html(inf, n=5):
    """The HTML of ``Influence._repr_html_``."""
    summary = html_table(summary_rows(inf), ["", ""])
    _, header, rows = top_rows(inf, n)
    return (
        f"<div><strong>{html.escape(repr(inf))}</strong>{summary}"
        f"<p>Most influential rows (Cook's distance)</p>{html_table(rows, header)}</div>"
    )
