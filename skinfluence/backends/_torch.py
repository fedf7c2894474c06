"""Optional torch backend: the engine's row passes on any torch device (GPU, CPU, MPS).

Installed with ``pip install "skinfluence[torch]"`` and registered as the
``torch`` plugin of the ``skinfluence.backends`` entry-point group, so::

    import skinfluence
    with skinfluence.config_context(backend="torch", device="cuda"):
        inf = est.influence()
        inf.cooks_distance

or ``skinfluence.influence(est, X, y, backend="torch")``. This module imports
without torch; torch is imported when a :class:`TorchBackend` is created, and a
missing torch raises an ImportError saying how to install it.

What it does
------------
* **Inputs**: NumPy arrays, scipy.sparse CSR matrices and dense torch tensors.
  Rows stream through the device in chunks of ``get_config()["working_memory"]``
  MiB (capped by the device's free memory), so X may be larger than the device's
  memory. Tensors already on the device are sliced in place: no host round trip.
  NumPy/CSR chunks are copied to the device one at a time. On the CPU device,
  dense passes run the NumPy backend's kernels on zero-copy views of the tensor
  (symmetric rank-k Gram updates, triangular whitening products, cache-sized
  chunks: torch has no symmetric product), so the torch backend on CPU is as fast
  as the NumPy backend.
* **Precision** (``precision=``): float64 data is computed in float64. For
  float32 data the default ``"mixed"`` runs the O(n p^2) products (the GEMMs)
  in float32 and accumulates every reduction over rows (Gram/Hessian, X' V) in
  float64, in blocks of at most 8192 rows, so the Hessian's error does not grow
  with n; per-row results (projections, leverage blocks) are returned in
  float64. ``precision="float64"`` upcasts each chunk on the device and matches
  the NumPy backend to rounding. scipy.sparse input is always computed in
  float64 (sparse products are memory-bound; the precision is nearly free).
  TF32 is never switched on by skinfluence.
* **Small results** (p' x p' matrices, (n, K, K) blocks, (n, m) outputs) come
  back as float64 NumPy arrays, as the engine expects. Cholesky factors and
  triangular solves of the (small) Hessian run on the device in float64.
* **Devices**: ``device`` is any torch device string (``"cpu"``, ``"cuda"``,
  ``"cuda:1"``, ``"mps"``); ``None`` means the device of the first tensor
  input, else ``"cuda"`` when available, else ``"cpu"``. A tensor on another
  device than the backend's raises ValueError (no silent copies between
  devices). A device that cannot hold one chunk raises MemoryError naming the
  chunk and how to fix it; so does an out-of-memory error during a pass.

Writing another backend (CuPy, JAX, ...)
---------------------------------------
Subclass :class:`skinfluence.backends.Backend` and implement, for the implicit
design ``Xt = [1, X]`` (the intercept column is never materialized; it is
present when ``fit_intercept`` is true):

==============================================  =====================================
method                                          returns (NumPy, float64)
==============================================  =====================================
``design_matmul(X, M, fit_intercept)``          Xt @ M, M (p', m) or (p',) -> (n, m)/(n,)
``design_rmatmul(X, V, fit_intercept)``         Xt' @ V, V (n, m) or (n,) -> (p', m)/(p',)
``weighted_gram(X, w, fit_intercept)``          Xt' diag(w) Xt (p', p'); w may be negative
``row_quadratic(X, blocks, fit_intercept)``     (n, K, K): (xt_i M_k) . (xt_i M_l)
``row_combination(X, coefs, blocks, fi)``       (n, m): sum_k coefs[i, k] (xt_i M_k)
``cholesky(A)``                                 lower factor; numpy.linalg.LinAlgError if
                                                A is not positive definite
``solve_triangular(L, B, lower, trans)``        solution of L x = B (L' x = B if trans)
==============================================  =====================================

``blocks`` is a list of K NumPy matrices of shape (p', m). X is whatever the user
passed after :func:`skinfluence.utils._validation.check_design` (NumPy, CSR, or a
native array your backend recognizes). The constructor takes ``device=None``.
Chunk row passes by ``skinfluence.get_config()["working_memory"]`` and never form
an n x n matrix. Register the class with
``skinfluence.backends.register_backend("name", Cls)`` or, in your package's
``pyproject.toml``::

    [project.entry-points."skinfluence.backends"]
    name = "yourpackage.module:YourBackend"

Import heavy dependencies inside the class (not at module import), so that
listing backends stays cheap. Test parity against ``backend="numpy"`` on every
``Influence`` quantity, as ``tests/test_backend_torch.py`` does.
"""

import contextlib
import sys
import warnings

import numpy as np
import scipy.sparse as sp

from .._config import get_config
from ._base import Backend
from ._numpy import NumpyBackend

_INSTALL_HINT = 'pip install "skinfluence[torch]"'
# rows per block of a float32 reduction accumulated in float64 ("mixed" precision)
_REDUCE_BLOCK = 8192
_HOST = NumpyBackend()  # the CPU kernels (see TorchBackend._on_host)


def _import_torch():
    try:
        import torch
    except ImportError as exc:
        raise ImportError(
            f"The torch backend needs PyTorch, which could not be imported ({exc}). "
            f"Install it with: {_INSTALL_HINT} (for a CPU-only build, first "
            "pip install torch==2.13.0)."
        ) from exc
    return torch


def _is_tensor(X, torch):
    return isinstance(X, torch.Tensor)


class TorchBackend(Backend):
    """Linear-algebra backend running the engine's row passes with PyTorch.

    Parameters
    ----------
    device : str or torch.device, default=None
        Any torch device (``"cuda"``, ``"cuda:1"``, ``"cpu"``, ``"mps"``).
        ``None``: the device of the first tensor input, else ``"cuda"`` when
        available, else ``"cpu"``.
    precision : {"mixed", "float64"}, default="mixed"
        For float32 data: ``"mixed"`` runs the products in float32 and
        accumulates reductions over rows (Gram/Hessian) in float64;
        ``"float64"`` upcasts every chunk. float64 data is always float64.
    memory_limit : int, default=None
        Bytes of device memory the backend may use; ``None`` asks the device
        (free CUDA memory; unlimited on the CPU). Chunks are capped by it.

    Examples
    --------
    >>> import pytest; torch = pytest.importorskip("torch")
    >>> import numpy as np
    >>> from skinfluence.backends import get_backend
    >>> be = get_backend("torch", device="cpu")
    >>> be.weighted_gram(np.eye(2), np.ones(2), fit_intercept=True)
    array([[2., 1., 1.],
           [1., 1., 0.],
           [1., 0., 1.]])
    """

    name = "torch"

    @classmethod
    def owns(cls, X):
        torch = sys.modules.get("torch")  # never imports torch
        return torch is not None and isinstance(X, torch.Tensor)

    def check_design(self, X, *, name="X"):
        """Validate a dense tensor on its own device (only one flag per chunk comes
        back to the host); non-float dtypes become float64 on the device."""
        torch = self._torch
        if X.layout != torch.strided:
            raise TypeError(
                f"{name} is a sparse torch tensor ({X.layout}); pass a dense tensor or a "
                "scipy.sparse CSR matrix."
            )
        given, X = X, X.detach()
        if X.is_complex():
            raise ValueError(f"{name} must be real-valued; got a {X.dtype} tensor.")
        if X.dtype not in (torch.float32, torch.float64):
            X = X.to(torch.float64)
        if X.ndim != 2:
            raise ValueError(
                f"{name} must be 2-dimensional (n_samples, n_features); got shape "
                f"{tuple(X.shape)}."
            )
        from ..utils._chunks import chunk_rows
        from ..utils._validation import check_scale, remember_validated, validated

        # the same tensor, unmodified (torch counts in-place writes in _version),
        # is validated once
        fingerprint = (given.data_ptr(), tuple(given.shape), given.stride(), str(given.dtype),
                       str(given.device), given._version)
        if validated(given, fingerprint):
            return X
        if X.device.type == "cpu":
            # a zero-copy view: the NumPy check (NaN/inf and squares that over- or
            # underflow, one flat pass)
            check_scale(X.numpy(), name=name)
        else:
            step = chunk_rows(X.shape[0], X.shape[1])
            for block in X.split(max(step, 1)):
                if not bool(torch.isfinite(block).all()):
                    raise ValueError(f"{name} contains NaN or infinity.")
        remember_validated(given, fingerprint)
        return X

    def to_numpy(self, a):
        if self.owns(a):
            return a.detach().cpu().numpy()
        return np.asarray(a)

    def __init__(self, device=None, precision="mixed", memory_limit=None):
        torch = _import_torch()
        super().__init__(device)
        if precision not in ("mixed", "float64"):
            raise ValueError(f"precision must be 'mixed' or 'float64'; got {precision!r}.")
        self._torch = torch
        self.precision = precision
        self.memory_limit = memory_limit
        self._device = None if device is None else self._resolve_device(device)

    # -- devices ----------------------------------------------------------------
    def _resolve_device(self, device):
        torch = self._torch
        try:
            dev = device if isinstance(device, torch.device) else torch.device(device)
        except (RuntimeError, TypeError, ValueError) as exc:
            raise ValueError(
                f"Unknown torch device {device!r} ({exc}). Use a torch device name "
                "such as 'cpu', 'cuda', 'cuda:1' or 'mps'."
            ) from None
        if dev.type == "cuda":
            if not torch.cuda.is_available():
                raise ValueError(
                    f"Device {device!r} asked for, but CUDA is not available to this "
                    f"torch build ({torch.__version__}). Use device='cpu', or install "
                    "a CUDA build of torch."
                )
            count = torch.cuda.device_count()
            index = torch.cuda.current_device() if dev.index is None else dev.index
            if index >= count:
                raise ValueError(
                    f"Device {device!r} does not exist: torch sees {count} CUDA device(s)."
                )
            return torch.device("cuda", index)
        if dev.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError(f"Device {device!r} asked for, but MPS is not available.")
        if dev.type != "cpu":
            try:
                torch.empty(0, device=dev)
            except (RuntimeError, AssertionError) as exc:
                raise ValueError(f"Torch device {device!r} is not usable: {exc}") from None
        return dev

    @property
    def torch_device(self):
        """The resolved ``torch.device`` (resolving the default if none is set yet)."""
        if self._device is None:
            torch = self._torch
            self._device = self._resolve_device("cuda" if torch.cuda.is_available() else "cpu")
        return self._device

    def _device_for(self, X):
        """Device of a row pass over X; a tensor on another device is an error."""
        torch = self._torch
        if _is_tensor(X, torch):
            dev = X.device
            if dev.type == "cuda" and dev.index is None:  # pragma: no cover
                dev = torch.device("cuda", torch.cuda.current_device())
            if self._device is None:
                self._device = dev
            elif dev != self._device:
                raise ValueError(
                    f"Tensors on mixed devices: X is on {dev}, but this torch backend "
                    f"computes on {self._device}. Move the tensor with "
                    f"X.to({str(self._device)!r}) or configure device={str(dev)!r}."
                )
            if X.layout != torch.strided:
                raise TypeError(
                    f"Sparse torch tensors ({X.layout}) are not supported; pass a dense "
                    "tensor or a scipy.sparse CSR matrix."
                )
        return self.torch_device

    def _free_memory(self, dev):
        """Bytes available on ``dev`` for one pass (None: no known limit)."""
        if self.memory_limit is not None:
            return int(self.memory_limit)
        torch = self._torch
        if dev.type == "cuda":
            free, _ = torch.cuda.mem_get_info(dev)
            return int(free + torch.cuda.memory_reserved(dev) - torch.cuda.memory_allocated(dev))
        return None

    # -- dtypes and chunks ----------------------------------------------------------
    def _compute_dtype(self, X):
        torch = self._torch
        if sp.issparse(X) or self.precision == "float64":
            return torch.float64
        dtype = X.dtype
        if dtype in (np.float32, torch.float32):
            return torch.float32
        return torch.float64

    def _chunk_rows(self, X, dev, dtype, width, resident=0):
        """Rows per chunk: working_memory MiB, capped by the device's free memory.

        ``width`` counts the float64 temporaries per row besides the row itself;
        ``resident`` the bytes of small matrices kept on the device for the pass.
        """
        n, p = X.shape
        itemsize = 8 if dtype == self._torch.float64 else 4
        per_row = itemsize * (p + width) + 8 * width
        rows = int(get_config()["working_memory"] * 2**20 // per_row)
        free = self._free_memory(dev)
        if free is not None:
            room = free - resident
            if room < per_row:
                raise MemoryError(
                    f"The torch device {str(dev)!r} has {max(free, 0) / 2**20:.3g} MiB "
                    f"available, but one chunk of a row pass needs at least "
                    f"{(resident + per_row) / 2**20:.3g} MiB ({p} columns, "
                    f"{resident / 2**20:.3g} MiB of resident p x p matrices). Free "
                    "device memory, use another device, or reduce the number of "
                    "features (e.g. skinfluence.sketch)."
                )
            rows = min(rows, int(0.8 * room // per_row) or 1)
        return max(1, min(n, rows))

    def _to_device(self, Xc, dev, dtype, dense=False):
        """One chunk of rows as a tensor on ``dev`` (sparse CSR unless ``dense``)."""
        torch = self._torch
        if _is_tensor(Xc, torch):
            return Xc.detach().to(dtype=dtype)
        if sp.issparse(Xc):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "CSR support is in beta"
                t = torch.sparse_csr_tensor(
                    torch.from_numpy(np.asarray(Xc.indptr, dtype=np.int64)),
                    torch.from_numpy(np.asarray(Xc.indices, dtype=np.int64)),
                    torch.from_numpy(np.asarray(Xc.data)),
                    size=Xc.shape,
                    check_invariants=False,
                ).to(device=dev, dtype=dtype)
                return t.to_dense() if dense else t
        Xc = np.asarray(Xc)
        if not (Xc.flags.c_contiguous or Xc.flags.f_contiguous):
            Xc = np.ascontiguousarray(Xc)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # read-only arrays: never written
            t = torch.from_numpy(Xc)
        return t.to(device=dev, dtype=dtype)

    def _small(self, A, dev, dtype):
        return self._torch.as_tensor(np.asarray(A, dtype=np.float64), device=dev).to(dtype)

    def _host(self, t):
        return t.to(device="cpu", dtype=self._torch.float64).numpy()

    @contextlib.contextmanager
    def _guard(self, X, dev):
        """Turn a device out-of-memory error into a MemoryError saying what to do."""
        try:
            yield
        except RuntimeError as exc:
            msg = str(exc).lower()
            oom = isinstance(exc, getattr(self._torch, "OutOfMemoryError", ())) or (
                "out of memory" in msg or "can't allocate memory" in msg
            )
            if not oom:
                raise
            wm = get_config()["working_memory"]
            raise MemoryError(
                f"The torch device {str(dev)!r} ran out of memory during a row pass over "
                f"X of shape {tuple(X.shape)} (working_memory={wm} MiB per chunk). "
                "Lower it with skinfluence.set_config(working_memory=...), free device "
                "memory, or use another device."
            ) from exc

    def _passes(self, X, width, dense=False, resident=0):
        """(dev, dtype, iterator of (start, stop, chunk on device))."""
        dev = self._device_for(X)
        dtype = self._compute_dtype(X)
        step = self._chunk_rows(X, dev, dtype, width, resident)
        n = X.shape[0]

        def chunks():
            for start in range(0, n, step):
                stop = min(n, start + step)
                yield start, stop, self._to_device(X[start:stop], dev, dtype, dense)

        return dev, dtype, chunks()

    def _reduce(self, A, B):
        """A' B summed over rows, accumulated in float64 (blockwise for float32)."""
        torch = self._torch
        if A.layout != torch.strided or A.dtype == torch.float64:
            return (A.transpose(0, 1) @ B).to(torch.float64)
        out = None
        for start in range(0, A.shape[0], _REDUCE_BLOCK):
            stop = start + _REDUCE_BLOCK
            part = (A[start:stop].transpose(0, 1) @ B[start:stop]).to(torch.float64)
            out = part if out is None else out + part
        return out

    def _project(self, Xc, M, fit_intercept, dtype):
        """xt_i @ M for the rows of a chunk, float64 (intercept added in float64)."""
        Mx = M[1:] if fit_intercept else M
        Z = (Xc @ Mx.to(dtype)).to(self._torch.float64)
        if fit_intercept:
            Z = Z + M[0]
        return Z

    def _on_host(self, X):
        """X as a NumPy array (no copy) when the pass would run on the CPU anyway:
        a dense CPU tensor or NumPy array, computed at the NumPy backend's
        precision (the same as ``"mixed"``: float32 products per chunk, float64
        sums; float64 data in float64). The NumPy backend's kernels are the
        faster CPU path (BLAS symmetric rank-k updates for the Gram, triangular
        products for the whitening, cache-sized chunks); ``precision="float64"``
        on float32 data and a ``memory_limit`` keep torch's own passes."""
        torch = self._torch
        if sp.issparse(X) or self.memory_limit is not None:
            return None
        if self._device_for(X).type != "cpu":
            return None
        if _is_tensor(X, torch):
            if X.dtype not in (torch.float32, torch.float64):
                return None
            A = X.detach().resolve_conj().numpy()
        else:
            A = np.asarray(X)
        if A.dtype == np.float32 and self.precision == "float64":
            return None
        return A if A.dtype in (np.float32, np.float64) else None

    # -- the Backend interface --------------------------------------------------------
    def design_matmul(self, X, M, fit_intercept):
        A = self._on_host(X)
        if A is not None:
            return _HOST.design_matmul(A, M, fit_intercept)
        M = np.asarray(M, dtype=np.float64)
        squeeze = M.ndim == 1
        if squeeze:
            M = M[:, None]
        out = np.empty((X.shape[0], M.shape[1]))
        dev, dtype, chunks = self._passes(X, M.shape[1], resident=12 * M.size)
        with self._guard(X, dev):
            Mt = self._small(M, dev, self._torch.float64)
            for start, stop, Xc in chunks:
                out[start:stop] = self._host(self._project(Xc, Mt, fit_intercept, dtype))
        return out[:, 0] if squeeze else out

    def design_rmatmul(self, X, V, fit_intercept):
        A = self._on_host(X)
        if A is not None:
            return _HOST.design_rmatmul(A, V, fit_intercept)
        V = np.asarray(V, dtype=np.float64)
        squeeze = V.ndim == 1
        if squeeze:
            V = V[:, None]
        m = V.shape[1]
        dev, dtype, chunks = self._passes(X, m, resident=8 * X.shape[1] * m)
        acc = None
        with self._guard(X, dev):
            for start, stop, Xc in chunks:
                part = self._reduce(Xc, self._small(V[start:stop], dev, dtype))
                acc = part if acc is None else acc + part
            out = self._host(acc)
        if fit_intercept:
            out = np.vstack([V.sum(axis=0, keepdims=True), out])
        return out[:, 0] if squeeze else out

    def weighted_gram(self, X, weights, fit_intercept):
        A = self._on_host(X)
        if A is not None:
            return _HOST.weighted_gram(A, weights, fit_intercept)
        w = np.asarray(weights, dtype=np.float64)
        p = X.shape[1]
        dev, dtype, chunks = self._passes(X, p + 1, dense=True, resident=8 * (p + 1) ** 2)
        G = xw = None
        with self._guard(X, dev):
            for start, stop, Xc in chunks:
                wc = self._small(w[start:stop], dev, dtype)[:, None]
                Gc = self._reduce(Xc, Xc * wc)
                G = Gc if G is None else G + Gc
                if fit_intercept:
                    xc = self._reduce(Xc, wc)[:, 0]
                    xw = xc if xw is None else xw + xc
            G = self._host(G)
            G = 0.5 * (G + G.T)
        if not fit_intercept:
            return G
        out = np.empty((p + 1, p + 1))
        out[0, 0] = w.sum()
        out[0, 1:] = out[1:, 0] = self._host(xw)
        out[1:, 1:] = G
        return out

    def weighted_gram_rmatmul(self, X, weights, V, fit_intercept):
        own = type(self).weighted_gram is TorchBackend.weighted_gram and \
            type(self).design_rmatmul is TorchBackend.design_rmatmul
        A = self._on_host(X) if own else None
        if A is not None:
            return _HOST.weighted_gram_rmatmul(A, weights, V, fit_intercept)
        return super().weighted_gram_rmatmul(X, weights, V, fit_intercept)

    def _stacked_projection(self, X, blocks, fit_intercept, extra_width):
        K = len(blocks)
        Mcat = np.hstack([np.asarray(Mk, dtype=np.float64) for Mk in blocks])
        m = Mcat.shape[1] // K
        dev, dtype, chunks = self._passes(X, 2 * K * m + extra_width, resident=12 * Mcat.size)
        return K, m, Mcat, dev, dtype, chunks

    def row_quadratic(self, X, blocks, fit_intercept):
        A = self._on_host(X)
        if A is not None:
            return _HOST.row_quadratic(A, blocks, fit_intercept)
        K, m, Mcat, dev, dtype, chunks = self._stacked_projection(
            X, blocks, fit_intercept, len(blocks) ** 2
        )
        C = np.empty((X.shape[0], K, K))
        with self._guard(X, dev):
            Mt = self._small(Mcat, dev, self._torch.float64)
            for start, stop, Xc in chunks:
                Z = self._project(Xc, Mt, fit_intercept, dtype).reshape(stop - start, K, m)
                C[start:stop] = self._host(self._torch.einsum("ikm,ilm->ikl", Z, Z))
        return C

    def row_combination(self, X, coefs, blocks, fit_intercept):
        A = self._on_host(X)
        if A is not None:
            return _HOST.row_combination(A, coefs, blocks, fit_intercept)
        coefs = np.asarray(coefs, dtype=np.float64)
        K, m, Mcat, dev, dtype, chunks = self._stacked_projection(X, blocks, fit_intercept, 0)
        out = np.empty((X.shape[0], m))
        with self._guard(X, dev):
            Mt = self._small(Mcat, dev, self._torch.float64)
            for start, stop, Xc in chunks:
                Z = self._project(Xc, Mt, fit_intercept, dtype).reshape(stop - start, K, m)
                c = self._small(coefs[start:stop], dev, self._torch.float64)
                out[start:stop] = self._host(self._torch.einsum("ik,ikm->im", c, Z))
        return out

    def cholesky(self, A):
        torch = self._torch
        At = self._small(A, self.torch_device, torch.float64)
        L, info = torch.linalg.cholesky_ex(At)
        if int(info) != 0 or not bool(torch.isfinite(L).all()):
            raise np.linalg.LinAlgError("Matrix is not positive definite.")
        return self._host(L)

    def solve_triangular(self, L, B, lower=True, trans=False):
        torch = self._torch
        dev = self.torch_device
        Lt = self._small(L, dev, torch.float64)
        B = np.asarray(B, dtype=np.float64)
        Bt = self._small(B[:, None] if B.ndim == 1 else B, dev, torch.float64)
        if trans:
            Lt, lower = Lt.transpose(0, 1), not lower
        x = self._host(torch.linalg.solve_triangular(Lt, Bt, upper=not lower))
        return x[:, 0] if B.ndim == 1 else x

    def __repr__(self):
        return f"TorchBackend(device={self.device!r}, precision={self.precision!r})"
