"""Optional Dask backend: influence diagnostics on tables larger than one machine.

Installed with ``pip install "skinfluence[dask]"`` and registered as the ``dask``
plugin of the ``skinfluence.backends`` entry-point group. It is chosen from the
array: ``skinfluence.influence(est, X, y)`` with a ``dask.array.Array`` X uses
it (or ask for it with ``backend="dask"``). This module imports without dask;
dask is imported when a :class:`DaskBackend` is created.

What it does
------------
* **Design**: a 2-D ``dask.array.Array`` chunked by rows (column chunks are
  merged lazily: every row block must hold all features). ``check_design``
  validates shape and dtype at once and finiteness *lazily*: every block is
  checked when it is first read by a computation (no extra pass over the data),
  and a NaN or infinity raises ``ValueError`` from that computation.
* **Reductions** (the Hessian/Gram ``Xt' W Xt``, ``Xt' V``) are tree reductions
  over row blocks (``blockwise`` per block, ``sum(split_every=...)``); each block
  is reduced by the NumPy backend's own code (formulas live once), and the small
  (p' x p') result is computed and returned as a NumPy array. The Cholesky
  factor and the triangular solves run on the client, in NumPy.
* **Per-row results** (linear predictor, leverage blocks, ``dfbeta``...) stay
  lazy: dask arrays with the row chunks of X. ``Influence.leverage``,
  ``cooks_distance``, ``dfbeta``, residuals, ``self_influence``,
  ``loss_change(..., reduce="mean")`` come back as dask arrays; write them with
  ``da.to_zarr`` or ``dask.dataframe.to_parquet`` without gathering them.
  Scalars the formulas need (the dispersion, a penalized fit's degrees of
  freedom) are computed when asked for, one reduction each.
* **Scheduler**: whatever dask uses at the time of the computation: the
  threaded scheduler, or the ``dask.distributed`` ``Client`` the user connected
  (a ``LocalCluster`` or any cluster); progress shows in dask's dashboard and
  diagnostics as for any dask computation.
* **Kept once per fit** (``persist``): the linear predictor (8 bytes per row
  and output; every later pass reuses it instead of re-reading X) and the
  training y and ``sample_weight`` (placed beside X's row blocks once, so a
  cluster does not receive them with every graph; constant weights are made
  on the workers).
* **Sketching** (:mod:`skinfluence.sketch`): ``influence_sketch``,
  ``randomized_leverage`` and ``leverage_method="sketch"`` reduce their k x k
  (r x d) matrices with :meth:`row_reduce` and return lazy per-row scores
  (:meth:`row_map`); the same ``random_state`` gives the NumPy backend's numbers
  (CountSketch row sketches draw the n hashes on the client: 16 bytes per row).
* **Limits of this version**: y and ``sample_weight`` (one number per row) are
  gathered to the client by the validation (``check_target``: the adapters
  encode labels and check them in NumPy; X, p numbers per row, stays
  distributed), then placed back beside X once; scipy.sparse blocks are not
  supported; ``subspace="hat"`` sketches are refused. Multinomial logistic
  regression works (its K x K leave-one-out systems are solved block by
  block); its ``loo_predict`` labels are computed eagerly.

Non-dask inputs (e.g. a small NumPy test set passed to ``loss_change``) are
handled by the NumPy backend.
"""

import sys
from functools import partial

import numpy as np

from ._base import Backend
from ._numpy import NumpyBackend

_SPLIT_EVERY = 8  # fan-in of the tree reductions


def _dask_array_type():
    """dask.array.Array if dask.array is already imported (never imports it), else None."""
    mod = sys.modules.get("dask.array")
    return getattr(mod, "Array", None)


def _is_dask(a):
    t = _dask_array_type()
    return t is not None and isinstance(a, t)


# -- block functions (module level: picklable, deterministic dask tokens) -----------
_NP = NumpyBackend()


def _finite_block(block, name):
    # a NaN or infinity makes the float64 sum non-finite; the exact (slower) test
    # runs only then, so a sum that merely overflows is no false alarm
    if not np.isfinite(block.sum(dtype=np.float64)) and not np.isfinite(block).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    return block


def _one(block):
    """The block itself from blockwise's list over a contracted axis (concatenate=False):
    every contracted axis here has one chunk (X's columns, a per-row array's trailing
    axes), and concatenating one block would copy it (~10% of a pass)."""
    while isinstance(block, list):
        (block,) = block
    return block


def _matmul_block(Xb, M, fit_intercept):
    return _NP.design_matmul(Xb, M, fit_intercept)


def _rmatmul_block(Xb, Vb, fit_intercept):
    return _NP.design_rmatmul(_one(Xb), _one(Vb), fit_intercept)[None]


def _gram_block(Xb, wb, fit_intercept):
    return _NP.weighted_gram(_one(Xb), wb, fit_intercept)[None]


def _gram_rmatmul_block(Xb, wb, Vb, fit_intercept):
    G, R = _NP.weighted_gram_rmatmul(Xb, wb, Vb, fit_intercept)
    return np.hstack([G, R])


def _quadratic_block(Xb, blocks, fit_intercept):
    return _NP.row_quadratic(Xb, blocks, fit_intercept)


def _solve_block(A, b):
    return np.linalg.solve(A, b[..., None])[..., 0]


def _combination_block(Xb, cb, blocks, fit_intercept):
    return _NP.row_combination(_one(Xb), _one(cb), blocks, fit_intercept)


def _reduce_block(Xb, *rows, fn):
    return np.asarray(fn(_one(Xb), *map(_one, rows)), dtype=np.float64)[None]


def _map_block(Xb, *rows, fn):
    return np.asarray(fn(_one(Xb), *map(_one, rows)), dtype=np.float64)


def _row_args(X, rows):
    """blockwise's (array, index) pairs: rows on axis "i", other axes their own letters."""
    args, letters = [X, "ip"], iter("abcdefghjklmnoqrstuvwxyz")
    for r in rows:
        args += [r, "i" + "".join(next(letters) for _ in range(r.ndim - 1))]
    return args


class DaskBackend(Backend):
    """Backend for ``dask.array`` designs: lazy per-row results, tree-reduced Hessians.

    Parameters
    ----------
    device : None
        Unused (dask runs where its scheduler runs); kept for the interface.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from sklearn.linear_model import LinearRegression
    >>> import skinfluence
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1000, 3)); y = X @ [1.0, 2.0, 3.0] + rng.normal(size=1000)
    >>> Xd = da.from_array(X, chunks=(250, 3))
    >>> inf = skinfluence.influence(LinearRegression().fit(X, y), Xd, y)
    >>> inf.engine.backend
    DaskBackend(device=None)
    >>> cooks = inf.cooks_distance             # lazy, chunked like X's rows
    >>> type(cooks).__name__, cooks.chunks
    ('Array', ((250, 250, 250, 250),))
    >>> ref = skinfluence.influence(LinearRegression().fit(X, y), X, y).cooks_distance
    >>> bool(np.allclose(cooks.compute(), ref))
    True
    """

    name = "dask"
    #: per-row results are lazy dask arrays (callers do one pass, not a chunk loop)
    lazy = True

    def __init__(self, device=None):
        super().__init__(device=device)
        try:
            import dask.array as da
        except ImportError as exc:
            raise ImportError(
                f'The dask backend needs dask ({exc}); pip install "skinfluence[dask]".'
            ) from exc
        self._da = da
        self._np = NumpyBackend()

    # -- the front door's hooks ---------------------------------------------------
    @classmethod
    def owns(cls, X):
        """True if X is a dask array (checked without importing dask).

        Examples
        --------
        >>> import numpy as np
        >>> from skinfluence.backends._dask import DaskBackend
        >>> DaskBackend.owns(np.ones((2, 2)))
        False
        """
        return _is_dask(X)

    def _rows(self, X):
        """X with one chunk across the columns (lazy rechunk when needed)."""
        if len(X.chunks) == 2 and len(X.chunks[1]) > 1:
            X = X.rechunk({1: -1})
        return X

    def check_design(self, X, name="X"):
        """Validate a 2-D dask design without computing it.

        Shape, dtype and known chunk sizes are checked at once; finiteness is
        checked lazily, block by block, when a computation first reads a block
        (it raises ``ValueError`` naming ``name`` then). Integer and boolean
        designs are cast to float64 lazily; column chunks are merged (lazily)
        so that each row block holds all features.

        Examples
        --------
        >>> import numpy as np, dask.array as da
        >>> from skinfluence.backends._dask import DaskBackend
        >>> X = da.from_array(np.array([[1.0, np.nan], [0.0, 1.0]]), chunks=1)
        >>> Xc = DaskBackend().check_design(X)      # nothing computed yet
        >>> Xc.compute()
        Traceback (most recent call last):
        ...
        ValueError: X contains NaN or infinity.
        """
        da = self._da
        if not _is_dask(X):
            raise TypeError(f"{name} must be a dask array for the dask backend; got {type(X)}.")
        if X.ndim != 2:
            raise ValueError(
                f"{name} must be 2-dimensional (n_samples, n_features); got shape {X.shape}."
            )
        if any(np.isnan(c) for c in X.chunks[0]):
            raise ValueError(
                f"{name} has unknown chunk sizes (e.g. from boolean indexing); call "
                f"{name}.compute_chunk_sizes() first."
            )
        if X.dtype.kind == "c":
            raise ValueError(f"{name} must be real-valued; got dtype {X.dtype}.")
        if X.dtype.kind not in "fiub":
            raise ValueError(f"{name} must be numeric; got dtype {X.dtype}.")
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        if X.shape[0] == 0:
            raise ValueError(f"{name} has no rows.")
        X = self._rows(X)
        return da.map_blocks(_finite_block, X, name, dtype=X.dtype, meta=np.empty((0, 0), X.dtype))

    def to_numpy(self, a):
        """A (small) array on the host: computes a dask array, else ``np.asarray``.

        Examples
        --------
        >>> import dask.array as da
        >>> from skinfluence.backends._dask import DaskBackend
        >>> DaskBackend().to_numpy(da.ones(3)).tolist()
        [1.0, 1.0, 1.0]
        """
        return np.asarray(a.compute() if _is_dask(a) else a)

    def to_frame(self, data, index=None):
        """A dask DataFrame from lazy row-aligned columns (pandas if none is lazy).

        Examples
        --------
        >>> import dask.array as da
        >>> from skinfluence.backends._dask import DaskBackend
        >>> df = DaskBackend().to_frame({"a": da.arange(4, chunks=2)})
        >>> type(df).__module__.split(".")[0], df.npartitions
        ('dask', 2)
        """
        if not any(_is_dask(v) for v in data.values()):
            return super().to_frame(data, index)
        import dask.dataframe as dd

        da = self._da
        cols = list(data)
        ref = next(v for v in data.values() if _is_dask(v))
        arrays = [
            (v if _is_dask(v) else da.from_array(np.asarray(v), chunks=ref.chunks[0]))
            .astype(np.float64)
            for v in data.values()
        ]
        bools = [c for c, v in zip(cols, data.values()) if v.dtype == bool]
        frame = dd.from_dask_array(da.stack(arrays, axis=1), columns=cols)
        if bools:
            frame = frame.astype({c: bool for c in bools})
        return frame

    # -- helpers -----------------------------------------------------------------------
    def _aligned(self, v, X):
        """A per-row NumPy or dask array as a dask array with X's row chunks."""
        da = self._da
        if _is_dask(v):
            if v.chunks[0] != X.chunks[0]:
                v = v.rechunk({0: X.chunks[0]})
            if any(len(c) > 1 for c in v.chunks[1:]):
                v = v.rechunk({a: -1 for a in range(1, v.ndim)})
            return v
        v = np.asarray(v, dtype=np.float64)
        chunks = (X.chunks[0],) + tuple((s,) for s in v.shape[1:])
        return da.from_array(v, chunks=chunks, name=False)  # no hashing of n values

    def _tree_sum(self, parts):
        """Sum (1, a, b) blocks with a tree reduction and bring the result home."""
        return np.asarray(parts.sum(axis=0, split_every=_SPLIT_EVERY).compute(), np.float64)

    # -- the Backend interface --------------------------------------------------------
    def prepare(self, X):
        return self._rows(X) if _is_dask(X) else X

    def design_matmul(self, X, M, fit_intercept):
        if not _is_dask(X):
            return self._np.design_matmul(X, M, fit_intercept)
        X = self._rows(X)
        M = np.asarray(M, dtype=np.float64)
        squeeze = M.ndim == 1
        M2 = M[:, None] if squeeze else M
        out = X.map_blocks(
            partial(_matmul_block, M=M2, fit_intercept=fit_intercept),
            dtype=np.float64, chunks=(X.chunks[0], (M2.shape[1],)),
            meta=np.empty((0, 0)),
        )
        return out[:, 0] if squeeze else out

    def design_rmatmul(self, X, V, fit_intercept):
        if not _is_dask(X):
            return self._np.design_rmatmul(X, self.to_numpy(V), fit_intercept)
        da = self._da
        X = self._rows(X)
        squeeze = V.ndim == 1
        V = self._aligned(V[:, None] if squeeze else V, X)
        q = X.shape[1] + fit_intercept
        parts = da.blockwise(
            partial(_rmatmul_block, fit_intercept=fit_intercept), "bqm",
            X, "bp", V, "bm", new_axes={"q": q}, adjust_chunks={"b": 1},
            concatenate=False, dtype=np.float64, meta=np.empty((0, 0, 0)),
        )
        out = self._tree_sum(parts)
        return out[:, 0] if squeeze else out

    def weighted_gram(self, X, weights, fit_intercept):
        if not _is_dask(X):
            return self._np.weighted_gram(X, self.to_numpy(weights), fit_intercept)
        da = self._da
        X = self._rows(X)
        w = self._aligned(weights, X)
        q = X.shape[1] + fit_intercept
        parts = da.blockwise(
            partial(_gram_block, fit_intercept=fit_intercept), "bqr",
            X, "bp", w, "b", new_axes={"q": q, "r": q}, adjust_chunks={"b": 1},
            concatenate=False, dtype=np.float64, meta=np.empty((0, 0, 0)),
        )
        return self._tree_sum(parts)

    def weighted_gram_rmatmul(self, X, weights, V, fit_intercept):
        """One tree reduction for the Gram and Xt' V (one read of X, not two)."""
        if not _is_dask(X):
            return self._np.weighted_gram_rmatmul(X, self.to_numpy(weights), self.to_numpy(V),
                                                  fit_intercept)
        squeeze = V.ndim == 1
        V2 = V[:, None] if squeeze else V
        q = X.shape[1] + fit_intercept
        both = self.row_reduce(partial(_gram_rmatmul_block, fit_intercept=fit_intercept),
                               X, weights, V2, shape=(q, q + V2.shape[1]))
        G, R = both[:, :q], both[:, q:]
        return G, (R[:, 0] if squeeze else R)

    def row_quadratic(self, X, blocks, fit_intercept):
        if not _is_dask(X):
            return self._np.row_quadratic(X, blocks, fit_intercept)
        X = self._rows(X)
        K = len(blocks)
        blocks = [np.asarray(Mk, dtype=np.float64) for Mk in blocks]
        return X.map_blocks(
            partial(_quadratic_block, blocks=blocks, fit_intercept=fit_intercept),
            dtype=np.float64, chunks=(X.chunks[0], (K,), (K,)), new_axis=2,
            meta=np.empty((0, 0, 0)),
        )

    def row_combination(self, X, coefs, blocks, fit_intercept):
        if not _is_dask(X):
            return self._np.row_combination(X, self.to_numpy(coefs), blocks, fit_intercept)
        da = self._da
        X = self._rows(X)
        blocks = [np.asarray(Mk, dtype=np.float64) for Mk in blocks]
        coefs = self._aligned(coefs, X)
        return da.blockwise(
            partial(_combination_block, blocks=blocks, fit_intercept=fit_intercept), "im",
            X, "ip", coefs, "ik", new_axes={"m": blocks[0].shape[1]},
            concatenate=False, dtype=np.float64, meta=np.empty((0, 0)),
        )

    def solve_small(self, A, b):
        """Batched solve of the (n, K, K) systems A_i x_i = b_i, block by block (lazy)."""
        if not (_is_dask(A) or _is_dask(b)):
            from .._engine import solve_small

            return solve_small(A, b)
        if A.shape[1] == 1:
            return b / A[:, 0, :]
        da = self._da
        b = self._aligned(b, A)
        if len(A.chunks[1]) > 1 or len(A.chunks[2]) > 1:
            A = A.rechunk({1: -1, 2: -1})
        return da.blockwise(
            _solve_block, "ik", A, "ikl", b, "ik", concatenate=True,
            dtype=np.float64, meta=np.empty((0, 0)),
        )

    def row_reduce(self, fn, X, *rows, shape, width=None):
        """A tree reduction over X's row blocks of ``fn(X_b, *rows_b)`` (a NumPy result).

        Examples
        --------
        >>> import numpy as np, dask.array as da
        >>> from skinfluence.backends._dask import DaskBackend
        >>> X = da.from_array(np.arange(6.0).reshape(3, 2), chunks=(2, 2))
        >>> DaskBackend().row_reduce(np.sum, X, shape=())
        array(15.)
        """
        if not _is_dask(X):
            return self._np.row_reduce(fn, X, *(self.to_numpy(r) for r in rows),
                                       shape=shape, width=width)
        return self._tree_sum(self._per_block(_reduce_block, fn, X, rows, shape, reduce=True))

    def row_map(self, fn, X, *rows, shape=(), width=None):
        """Lazy per-row ``fn(X_b, *rows_b)``: a dask array with X's row chunks.

        Examples
        --------
        >>> import numpy as np, dask.array as da
        >>> from skinfluence.backends._dask import DaskBackend
        >>> X = da.from_array(np.arange(6.0).reshape(3, 2), chunks=(2, 2))
        >>> out = DaskBackend().row_map(lambda Xb: Xb.sum(axis=1), X)
        >>> out.chunks, out.compute().tolist()
        (((2, 1),), [1.0, 5.0, 9.0])
        """
        if not _is_dask(X):
            return self._np.row_map(fn, X, *(self.to_numpy(r) for r in rows),
                                    shape=shape, width=width)
        return self._per_block(_map_block, fn, X, rows, shape, reduce=False)

    def _per_block(self, wrapper, fn, X, rows, shape, reduce):
        """blockwise ``wrapper(X_b, *rows_b, fn=fn)``: one (1, *shape) part per block
        when ``reduce``, else (rows of the block, *shape)."""
        X = self._rows(X)
        rows = [self._aligned(r, X) for r in rows]
        out = "i" + "ABCDEFGH"[:len(shape)]
        return self._da.blockwise(
            partial(wrapper, fn=fn), out, *_row_args(X, rows),
            new_axes=dict(zip(out[1:], shape)), adjust_chunks={"i": 1} if reduce else None,
            concatenate=False, dtype=np.float64, meta=np.empty((0,) * len(out)),
        )

    def like_rows(self, v, like):
        """``v`` (a host per-row array) as a dask array with the row chunks of ``like``.

        Wrapped without hashing its values and persisted (one wrapper per
        objective, reused by every graph: no repeated tokenizing of n values, and
        on a cluster the blocks travel to the workers once).

        Examples
        --------
        >>> import numpy as np, dask.array as da
        >>> from skinfluence.backends._dask import DaskBackend
        >>> DaskBackend().like_rows(np.arange(4), da.zeros(4, chunks=2)).chunks
        ((2, 2),)
        """
        if not _is_dask(like) or _is_dask(v):
            return v
        v = np.asarray(v)
        chunks = (like.chunks[0],) + tuple((s,) for s in v.shape[1:])
        if v.size and v.dtype.kind in "fiub" and v.min() == v.max():
            # a constant (e.g. unit sample weights): made where it is used, nothing
            # sent to the workers or kept
            return self._da.full(v.shape, v.flat[0], dtype=v.dtype, chunks=chunks)
        # persisted: on a cluster the blocks are sent to the workers once, not with
        # every graph that uses them
        return self._da.from_array(v, chunks=chunks, name=False).persist()

    def persist(self, a):
        """``a.persist()`` for a dask array (kept in the scheduler's memory once computed)."""
        return a.persist() if _is_dask(a) else a

    def cholesky(self, A):
        return self._np.cholesky(A)

    def solve_triangular(self, L, B, lower=True, trans=False):
        return self._np.solve_triangular(L, B, lower=lower, trans=trans)
