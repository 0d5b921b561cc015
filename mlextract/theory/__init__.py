"""Query-complexity bounds for model extraction, each tagged with its query model.

Pure functions returning a :class:`Bound` (value, upper/lower/exact, query model,
exact constants or order only, reference): Tramèr et al.'s exact counts for equation
solving and path finding, Lowd–Meek, passive PAC sample complexity, active learning
(query synthesis, pool-based, agnostic, noisy answers), VC dimensions, a Monte Carlo
estimate of the disagreement coefficient, side-by-side tables, and the check that the
attacks of this package spend query counts within the bounds of their query model.
"""

from ._active import (
    a2_queries,
    agnostic_active_lower_bound,
    cal_queries,
    centroid_cut_queries,
    dhm_queries,
    generalized_binary_search,
    halfspace_disagreement_coefficient,
    halfspace_packing_log2,
    halving_queries,
    iwal_queries,
    margin_based_queries,
    noisy_query_synthesis_lower_bound,
    noisy_repetition_queries,
    packing_lower_bound,
    pool_halfspace_lower_bound,
    query_synthesis_lower_bound,
)
from ._attack_bounds import (
    ATTACK_BOUNDS,
    AttackBounds,
    AttackComparison,
    Check,
    Measured,
    Setup,
    compare_attack,
)
from ._compare import FAMILIES, BoundTable, compare_bounds, plot_bounds
from ._disagreement import (
    DisagreementEstimate,
    disagreement_coefficient,
    halfspace_disagreement_sample,
)
from ._exact import (
    binary_lr_queries,
    lowd_meek_queries,
    mlp_queries,
    mlp_unknowns,
    ovr_queries,
    path_finding_lower_bound,
    path_finding_queries,
    relu_network_queries,
    softmax_queries,
)
from ._passive import (
    agnostic_finite_class,
    agnostic_lower_bound,
    agnostic_upper_bound,
    pac_finite_class,
    pac_growth_bound,
    pac_lower_bound,
    pac_upper_bound,
)
from ._record import KINDS, QUERY_MODELS, Bound
from ._vc import cover_count_log2, sauer_shelah_log2, vc_halfspaces, vc_tree_bounds

__all__ = [
    "ATTACK_BOUNDS",
    "FAMILIES",
    "KINDS",
    "QUERY_MODELS",
    "AttackBounds",
    "AttackComparison",
    "Bound",
    "BoundTable",
    "Check",
    "DisagreementEstimate",
    "Measured",
    "Setup",
    "a2_queries",
    "agnostic_active_lower_bound",
    "agnostic_finite_class",
    "agnostic_lower_bound",
    "agnostic_upper_bound",
    "binary_lr_queries",
    "cal_queries",
    "centroid_cut_queries",
    "compare_attack",
    "compare_bounds",
    "cover_count_log2",
    "dhm_queries",
    "disagreement_coefficient",
    "generalized_binary_search",
    "halfspace_disagreement_coefficient",
    "halfspace_disagreement_sample",
    "halfspace_packing_log2",
    "halving_queries",
    "iwal_queries",
    "lowd_meek_queries",
    "margin_based_queries",
    "mlp_queries",
    "mlp_unknowns",
    "relu_network_queries",
    "noisy_query_synthesis_lower_bound",
    "noisy_repetition_queries",
    "ovr_queries",
    "pac_finite_class",
    "pac_growth_bound",
    "pac_lower_bound",
    "pac_upper_bound",
    "packing_lower_bound",
    "path_finding_lower_bound",
    "path_finding_queries",
    "plot_bounds",
    "pool_halfspace_lower_bound",
    "query_synthesis_lower_bound",
    "sauer_shelah_log2",
    "softmax_queries",
    "vc_halfspaces",
    "vc_tree_bounds",
]
