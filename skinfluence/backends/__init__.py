"""Backend registry.

NumPy/SciPy is built in. Other backends are plugins: a package registers a
:class:`Backend` subclass under the ``skinfluence.backends`` entry-point group,
for example in its ``pyproject.toml``::

    [project.entry-points."skinfluence.backends"]
    mybackend = "mypackage.backend:MyBackend"

Plugins are loaded lazily, the first time their name is asked for, so importing
skinfluence never imports torch or any other optional dependency.
"""

from importlib.metadata import entry_points

import numpy as np
import scipy.sparse as sp

from .._config import get_config
from ._base import Backend
from ._numpy import NumpyBackend

_REGISTRY = {"numpy": NumpyBackend}
_INSTALL_HINTS = {"torch": 'pip install "skinfluence[torch]"'}


def register_backend(name, backend_cls):
    """Register a backend class under ``name`` (overrides an entry point).

    Parameters
    ----------
    name : str
        Name used in ``set_config(backend=name)``.
    backend_cls : type
        A subclass of :class:`skinfluence.backends.Backend`.

    Examples
    --------
    >>> from skinfluence.backends import NumpyBackend, register_backend, get_backend
    >>> class Mine(NumpyBackend):
    ...     name = "mine"
    >>> register_backend("mine", Mine)
    >>> get_backend("mine").name
    'mine'
    """
    if not (isinstance(backend_cls, type) and issubclass(backend_cls, Backend)):
        raise TypeError("backend_cls must be a subclass of skinfluence.backends.Backend.")
    _REGISTRY[name] = backend_cls


def _entry_point_backends():
    try:
        return {ep.name: ep for ep in entry_points(group="skinfluence.backends")}
    except Exception:  # pragma: no cover - broken metadata must not break import
        return {}


def available_backends():
    """Names of the built-in, registered and installed (entry-point) backends.

    Examples
    --------
    >>> from skinfluence.backends import available_backends
    >>> "numpy" in available_backends()
    True
    """
    return sorted(set(_REGISTRY) | set(_entry_point_backends()))


def backend_for(X):
    """The backend owning X's array type, or None for NumPy/SciPy arrays and unknown types.

    Registered backends are asked first; then an installed plugin whose
    entry-point name is the top-level module of ``type(X)`` (``torch``,
    ``dask``, ...) is loaded and asked. Nothing is imported for NumPy input.

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence.backends import backend_for
    >>> backend_for(np.ones((2, 2))) is None
    True
    """
    if isinstance(X, np.ndarray) or sp.issparse(X):
        return None
    for name, cls in list(_REGISTRY.items()):
        if name != "numpy" and cls.owns(X):
            return get_backend(name)
    top = type(X).__module__.split(".")[0]
    if top not in _REGISTRY and top in _entry_point_backends():
        try:
            backend = get_backend(top)
        except ImportError:
            return None
        if backend.owns(X):
            return backend
    return None


def get_backend(name=None, device=None):
    """Instantiate a backend by name (default: the configured one).

    Parameters
    ----------
    name : str, default=None
        Backend name; ``None`` uses ``get_config()["backend"]``.
    device : str, default=None
        Device for the backend; ``None`` uses ``get_config()["device"]``.

    Returns
    -------
    backend : Backend

    Examples
    --------
    >>> from skinfluence.backends import get_backend
    >>> get_backend("numpy")
    NumpyBackend(device=None)
    """
    if isinstance(name, Backend):
        return name
    config = get_config()
    name = config["backend"] if name is None else name
    device = config["device"] if device is None else device
    if name not in _REGISTRY:
        eps = _entry_point_backends()
        if name in eps:
            try:
                _REGISTRY[name] = eps[name].load()
            except ImportError as exc:
                hint = _INSTALL_HINTS.get(name, "install the package providing it")
                raise ImportError(
                    f"The {name!r} backend could not be loaded ({exc}); {hint}."
                ) from exc
        else:
            hint = _INSTALL_HINTS.get(name)
            msg = f"Unknown backend {name!r}; available: {available_backends()}."
            if hint:
                msg += f" To use it: {hint}."
            raise ValueError(msg)
    return _REGISTRY[name](device=device)


__all__ = [
    "Backend",
    "NumpyBackend",
    "available_backends",
    "backend_for",
    "get_backend",
    "register_backend",
]
