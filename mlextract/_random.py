"""One way to turn ``random_state`` into a random generator."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["check_rng"]


def check_rng(random_state) -> np.random.Generator:
    """A ``numpy.random.Generator`` from ``random_state``.

    Parameters
    ----------
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        None draws fresh entropy; an int seeds a new generator; a Generator is
        returned as it is (so successive calls advance it); a RandomState seeds a
        new generator from its stream.
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be >= 0; got {random_state}.")
        return np.random.default_rng(int(random_state))
    raise ValueError(
        "random_state must be None, an int, a numpy Generator or RandomState; got "
        f"{random_state!r}."
    )
