"""One registry of every attack, the deep-network ones included."""

from __future__ import annotations

import importlib

__all__ = ["register", "available", "get", "extract"]

_REGISTRY: dict[str, type] = {}

# Packages whose import registers attacks; loaded lazily so that
# ``available()`` sees them all without import cycles.
_PROVIDERS = ("mlextract.attacks", "mlextract.nn")


def register(cls):
    """Class decorator: add an Attack subclass to the registry under ``cls.name``."""
    name = getattr(cls, "name", "")
    if not name:
        raise ValueError(f"{cls.__name__} needs a non-empty class attribute 'name'.")
    other = _REGISTRY.get(name)
    if other is not None and other.__qualname__ != cls.__qualname__:
        raise ValueError(f"attack name {name!r} is taken by {other.__name__}.")
    _REGISTRY[name] = cls
    return cls


def _load_providers():
    for mod in _PROVIDERS:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise


def available() -> list[str]:
    """Names of every registered attack, sorted."""
    _load_providers()
    return sorted(_REGISTRY)


def get(name: str) -> type:
    """The Attack class registered under ``name``."""
    _load_providers()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown attack {name!r}; available: {', '.join(sorted(_REGISTRY))}."
        ) from None


def extract(oracle, *, method: str, budget=None, **settings):
    """Run the attack registered as ``method`` against ``oracle``.

    Parameters
    ----------
    oracle : Oracle
    method : str
        A name from :func:`available`.
    budget : int, default=None
        Cap on this run's queries.
    **settings
        The attack's constructor settings.

    Returns
    -------
    ExtractionResult

    Examples
    --------
    >>> import mlextract
    >>> "retraining" in mlextract.attacks.available()
    True
    """
    return get(method)(**settings).extract(oracle, budget=budget)
