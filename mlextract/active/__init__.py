"""Query strategies for active extraction, and the layer that makes modAL run today.

Importing this package applies :func:`install` (the repairs modAL-python 0.4.2.1
needs on scikit-learn >= 1.8, bound inside modAL's own modules only).
"""

from ._expected_error import expected_error, expected_error_reduction
from ._modal_compat import MODAL_VERSION, check_X_y, install, load_modal_cluster
from ._strategies import (
    COMMITTEE_STRATEGIES,
    STRATEGIES,
    consensus_entropy,
    consensus_entropy_sampling,
    copy_proba,
    density_weighted_sampling,
    entropy,
    entropy_sampling,
    information_density,
    kl_max_disagreement,
    make_strategy,
    margin,
    margin_sampling,
    max_disagreement_sampling,
    random_sampling,
    ranked_batch_sampling,
    select_top,
    uncertainty,
    uncertainty_sampling,
    vote_entropy,
    vote_entropy_sampling,
)

install()

__all__ = [
    "COMMITTEE_STRATEGIES",
    "MODAL_VERSION",
    "STRATEGIES",
    "check_X_y",
    "consensus_entropy",
    "consensus_entropy_sampling",
    "copy_proba",
    "density_weighted_sampling",
    "entropy",
    "entropy_sampling",
    "expected_error",
    "expected_error_reduction",
    "information_density",
    "install",
    "kl_max_disagreement",
    "load_modal_cluster",
    "make_strategy",
    "margin",
    "margin_sampling",
    "max_disagreement_sampling",
    "random_sampling",
    "ranked_batch_sampling",
    "select_top",
    "uncertainty",
    "uncertainty_sampling",
    "vote_entropy",
    "vote_entropy_sampling",
]
