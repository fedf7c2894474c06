"""Global configuration (backend, device, chunk size), in the style of sklearn's."""

import math
import numbers
import threading
from contextlib import contextmanager

_global_config = {
    "backend": "numpy",
    "device": None,
    "working_memory": 256,  # MiB per chunk of a row pass
}
_threadlocal = threading.local()


def _get_threadlocal_config():
    if not hasattr(_threadlocal, "config"):
        _threadlocal.config = _global_config.copy()
    return _threadlocal.config


def get_config():
    """Return the current skinfluence configuration.

    Returns
    -------
    config : dict
        Keys: ``backend`` (name of the linear-algebra backend), ``device``
        (backend device, e.g. ``"cuda"`` for torch; ``None`` means the backend's
        default) and ``working_memory`` (MiB a chunk of a row pass may use).

    Examples
    --------
    >>> import skinfluence
    >>> skinfluence.get_config()["backend"]
    'numpy'
    """
    return _get_threadlocal_config().copy()


def set_config(backend=None, device=None, working_memory=None):
    """Set skinfluence's global configuration.

    Parameters
    ----------
    backend : str, default=None
        Name of a registered backend (``"numpy"`` is built in; plugins register
        themselves under the ``skinfluence.backends`` entry-point group).
    device : str, default=None
        Device passed to the backend.
    working_memory : int, default=None
        Upper bound, in MiB, on the temporary arrays of one chunk of a row pass.

    Examples
    --------
    >>> import skinfluence
    >>> skinfluence.set_config(working_memory=128)
    >>> skinfluence.get_config()["working_memory"]
    128
    >>> skinfluence.set_config(working_memory=256)
    """
    config = _get_threadlocal_config()
    if working_memory is not None:
        if (
            isinstance(working_memory, bool)
            or not isinstance(working_memory, numbers.Real)
            or not math.isfinite(working_memory)
            or working_memory <= 0
        ):
            raise ValueError(
                f"working_memory must be a positive, finite number of MiB; got "
                f"{working_memory!r}."
            )
    if backend is not None:
        # a name, or a Backend instance (duck-typed: backends import this module)
        if not (isinstance(backend, str) or hasattr(backend, "weighted_gram")):
            raise ValueError(
                f"backend must be a backend name or a Backend instance; got {backend!r}."
            )
        config["backend"] = backend
    if device is not None:
        config["device"] = device
    if working_memory is not None:
        config["working_memory"] = working_memory


@contextmanager
def config_context(**new_config):
    """Temporarily change the configuration inside a ``with`` block.

    Parameters
    ----------
    **new_config
        Any argument of :func:`set_config`.

    Examples
    --------
    >>> import skinfluence
    >>> with skinfluence.config_context(working_memory=64):
    ...     skinfluence.get_config()["working_memory"]
    64
    """
    old_config = get_config()
    set_config(**new_config)
    try:
        yield
    finally:
        _get_threadlocal_config().clear()
        _get_threadlocal_config().update(old_config)
