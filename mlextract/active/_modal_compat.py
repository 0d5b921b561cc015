"""Make modAL-python 0.4.2.1 work on today's scikit-learn and numpy, inside modAL only.

modAL-python 0.4.2.1 (the last release, 2023) breaks on current releases in three
places. This layer repairs each one without touching numpy or scikit-learn: every
change is a name bound inside one of modAL's own modules.

1. ``modAL.models.learners`` calls ``sklearn.utils.check_X_y(...,
   force_all_finite=...)``. scikit-learn renamed the keyword ``ensure_all_finite``
   in 1.6 and removed the old name in 1.8, so ``ActiveLearner.fit``/``teach`` and
   ``Committee.fit``/``teach`` raise ``TypeError``. :func:`install` rebinds the name
   ``check_X_y`` *inside modAL.models.learners* to :func:`check_X_y`, which
   translates the keyword and calls scikit-learn's function.
2. ``modAL.expected_error`` annotates an argument with ``np.float`` (removed in
   numpy 1.24), so the module does not import. We do not import it: its expected
   error reduction also scores every candidate after the first with a stale refit
   and refits pool × classes models per query. Use
   :func:`mlextract.active.expected_error_reduction` instead.
3. ``modAL.cluster`` imports ``sklearn.cluster.hierarchical`` (renamed
   ``sklearn.cluster._agglomerative`` in 0.22, old path removed in 0.24). Nothing
   in modAL uses it (its class is a ``NotImplemented`` stub) and ``import modAL``
   does not load it; :func:`load_modal_cluster` loads it with the old module path
   resolved to ``sklearn.cluster`` for that one module's imports.

The layer targets :data:`MODAL_VERSION`; :func:`install` warns when another version
is installed, and the tests (``tests/active/test_modal_compat.py``) check each
breakage still occurs without the layer, so an upstream fix is noticed.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import inspect
import sys
import warnings
from importlib import metadata

import sklearn.utils

__all__ = ["MODAL_VERSION", "check_X_y", "install", "load_modal_cluster"]

#: The modAL-python release this layer was written and tested against.
MODAL_VERSION = "0.4.2.1"

#: Module paths that modAL imports and scikit-learn has moved: old -> new.
_MOVED_MODULES = {"sklearn.cluster.hierarchical": "sklearn.cluster"}

_sklearn_check_X_y = sklearn.utils.check_X_y


def _sklearn_accepts(keyword: str) -> bool:
    return keyword in inspect.signature(_sklearn_check_X_y).parameters


def check_X_y(X, y, *args, force_all_finite=None, **kwargs):
    """scikit-learn's ``check_X_y``, accepting modAL's old ``force_all_finite``.

    ``force_all_finite`` is passed on as ``ensure_all_finite`` when this
    scikit-learn no longer knows the old name, and unchanged otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> X, y = check_X_y(np.eye(2), [0, 1], force_all_finite=True)
    >>> X.shape
    (2, 2)
    """
    if force_all_finite is not None:
        if "ensure_all_finite" in kwargs:
            raise TypeError("pass force_all_finite or ensure_all_finite, not both.")
        name = "force_all_finite" if _sklearn_accepts("force_all_finite") else (
            "ensure_all_finite"
        )
        kwargs[name] = force_all_finite
    return _sklearn_check_X_y(X, y, *args, **kwargs)


_INSTALLED: dict[str, str] = {}


def install() -> dict[str, str]:
    """Apply the repairs this machine's scikit-learn needs to modAL; idempotent.

    Returns
    -------
    dict
        ``{"<module>.<name>": reason}`` for every name rebound inside modAL (empty
        when this scikit-learn still accepts modAL's calls).

    Warns
    -----
    UserWarning
        When the installed modAL is not :data:`MODAL_VERSION`: the repairs were
        written for that release and may be unnecessary or incomplete.
    """
    try:
        version = metadata.version("modAL-python")
    except metadata.PackageNotFoundError as exc:
        raise ImportError(
            "mlextract.active needs modAL-python "
            f"{MODAL_VERSION}: pip install modAL-python=={MODAL_VERSION}."
        ) from exc
    if version != MODAL_VERSION and "version" not in _INSTALLED:
        warnings.warn(
            f"mlextract's modAL compatibility layer targets modAL-python {MODAL_VERSION}; "
            f"{version} is installed. Run tests/active/test_modal_compat.py to see "
            "which repairs it still needs.",
            UserWarning,
            stacklevel=2,
        )
        _INSTALLED["version"] = version
    learners = importlib.import_module("modAL.models.learners")
    bound = getattr(learners, "check_X_y", None)
    if bound is _sklearn_check_X_y and not _sklearn_accepts("force_all_finite"):
        learners.check_X_y = check_X_y
        _INSTALLED["modAL.models.learners.check_X_y"] = (
            "scikit-learn >= 1.8 removed check_X_y(force_all_finite=); translated to "
            "ensure_all_finite"
        )
    return {k: v for k, v in _INSTALLED.items() if k != "version"}


def load_modal_cluster():
    """Import ``modAL.cluster``, resolving its old scikit-learn import for it alone.

    The module is executed with an ``__import__`` of its own that maps
    ``sklearn.cluster.hierarchical`` to ``sklearn.cluster``; no entry is added to
    ``sys.modules`` for the old path, so the rest of the process still sees
    scikit-learn as it is.

    Returns
    -------
    module
        ``modAL.cluster`` (registered in ``sys.modules``).
    """
    name = "modAL.cluster"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"{name} is not part of the installed modAL.")
    module = importlib.util.module_from_spec(spec)
    real_import = builtins.__import__

    def scoped_import(mod, globals=None, locals=None, fromlist=(), level=0):
        if level == 0:
            mod = _MOVED_MODULES.get(mod, mod)
        return real_import(mod, globals, locals, fromlist, level)

    module.__builtins__ = {**vars(builtins), "__import__": scoped_import}
    spec.loader.exec_module(module)
    sys.modules[name] = module
    importlib.import_module("modAL").cluster = module
    return module
