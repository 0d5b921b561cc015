"""Exact query counts of the confidence and leaf-identity attacks (Tramèr et al. 2016)."""

from __future__ import annotations

import math

from scipy.special import gammaln

from ._record import (
    Bound,
    _make,
    check_constant,
    check_eps,
    check_int,
    check_positive,
)

__all__ = [
    "binary_lr_queries",
    "softmax_queries",
    "ovr_queries",
    "mlp_unknowns",
    "mlp_queries",
    "relu_network_queries",
    "lowd_meek_queries",
    "path_finding_queries",
    "path_finding_lower_bound",
]

_TRAMER = (
    "F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart. Stealing Machine Learning "
    "Models via Prediction APIs. USENIX Security 2016"
)
_COUNTING = (
    "counting: fewer answers than unknowns cannot determine them (a continuous map from "
    "R^k to R^m with m < k is not injective); holds for every generic victim when the "
    "queries do not depend discontinuously on earlier answers"
)


def binary_lr_queries(d, *, one_hot_groups=0) -> Bound:
    """Queries that equation solving needs for binary logistic regression: d + 1 − G.

    Parameters
    ----------
    d : int
        Input dimension.
    one_hot_groups : int, default=0
        Number G of one-hot groups among the d columns.

    Returns
    -------
    Bound
        ``kind="exact"``, ``query_model="confidence"``.

    Notes
    -----
    Each confidence answer gives one linear equation ``w·x + b = logit(p1(x))`` in the
    d + 1 unknowns, so d + 1 queries in general position solve it and fewer leave a
    line of solutions. With G one-hot groups (columns that sum to one), valid inputs
    span only d − G affine dimensions: d + 1 − G queries determine the model up to a
    constant shift within each group, which is functionally equivalent on every valid
    input, and no fewer do.

    References
    ----------
    .. [1] Tramèr et al., "Stealing Machine Learning Models via Prediction APIs",
       USENIX Security 2016, §4.1.

    Examples
    --------
    >>> binary_lr_queries(105, one_hot_groups=8).value
    98.0
    """
    d = check_int(d, "d")
    g = check_int(one_hot_groups, "one_hot_groups", low=0)
    if g > d // 2:
        raise ValueError(
            f"{g} one-hot groups need at least {2 * g} columns (two per group); d is {d}."
        )
    return _make(d + 1 - g, "exact", "confidence", name="equation solving, binary LR",
                 formula="d + 1 − G", reference=_TRAMER, assumes=_COUNTING)


def softmax_queries(d, classes, *, target="functional", one_hot_groups=0) -> Bound:
    """Queries that equation solving needs for softmax regression.

    Parameters
    ----------
    d : int
    classes : int
        Number of classes c ≥ 2.
    target : {"functional", "unknowns"}
        ``"functional"``: a functionally equivalent copy, d + 1 − G queries (exact).
        ``"unknowns"``: the paper's budget unit, c(d + 1) queries (an upper bound).
    one_hot_groups : int, default=0

    Returns
    -------
    Bound

    Notes
    -----
    ``log(p_i/p_c) = (w_i − w_c)·x + (b_i − b_c)`` is affine in x, so one answer gives
    c − 1 linear equations, one for each difference, each in d + 1 unknowns: d + 1
    queries in general position determine every ``w_i − w_c`` (all the model's
    identifiable parameters), and fewer do not. Tramèr et al. counted c(d + 1)
    unknowns and spent 0.5× or 1× that, which is more than needed.

    References
    ----------
    .. [1] Tramèr et al. 2016, §4.1.

    Examples
    --------
    >>> softmax_queries(105, 5).value, softmax_queries(105, 5, target="unknowns").value
    (106.0, 530.0)
    """
    d = check_int(d, "d")
    c = check_int(classes, "classes", low=2)
    if target == "functional":
        b = binary_lr_queries(d, one_hot_groups=one_hot_groups)
        return _make(b.value, "exact", "confidence", name="equation solving, softmax",
                     formula="d + 1 − G (log-odds are affine)", reference=_TRAMER,
                     assumes=_COUNTING)
    if target == "unknowns":
        return _make(c * (d + 1), "upper", "confidence", name="softmax unknowns c(d+1)",
                     formula="c(d + 1)", reference=_TRAMER,
                     assumes="the paper's budget unit; d + 1 of these queries already suffice")
    raise ValueError(f"target must be 'functional' or 'unknowns'; got {target!r}.")


def ovr_queries(d, classes) -> Bound:
    """Counting minimum for one-vs-rest logistic regression: ⌈c(d + 1)/(c − 1)⌉.

    Parameters
    ----------
    d : int
    classes : int
        c ≥ 2 (with c = 2 this is 2(d + 1): the normalised pair of sigmoids).

    Returns
    -------
    Bound
        ``kind="lower"``, ``query_model="confidence"``.

    Notes
    -----
    One-vs-rest normalises c independent sigmoids, ``p_i = σ(z_i)/Σ_j σ(z_j)``: the
    c(d + 1) unknowns enter nonlinearly, and an answer carries only c − 1 independent
    values (the probabilities sum to one). Hence at least ⌈c(d + 1)/(c − 1)⌉ queries.

    References
    ----------
    .. [1] Tramèr et al. 2016, §4.1.

    Examples
    --------
    >>> ovr_queries(105, 5).value
    133.0
    """
    d = check_int(d, "d")
    c = check_int(classes, "classes", low=2)
    return _make(c * (d + 1) / (c - 1), "lower", "confidence",
                 name="equation solving, OvR (counting)", formula="⌈c(d + 1)/(c − 1)⌉",
                 reference=_TRAMER, assumes=_COUNTING)


def mlp_unknowns(d, hidden, classes) -> int:
    """Parameters of a one-hidden-layer MLP: h(d + 1) + c(h + 1).

    Examples
    --------
    >>> mlp_unknowns(105, 20, 5)   # Tramèr et al.'s Adult MLP
    2225
    """
    d = check_int(d, "d")
    h = check_int(hidden, "hidden")
    c = check_int(classes, "classes", low=2)
    return h * (d + 1) + c * (h + 1)


def mlp_queries(d, hidden, classes) -> Bound:
    """Counting lower bound for equation solving on a one-hidden-layer MLP.

    Parameters
    ----------
    d, hidden, classes : int

    Returns
    -------
    Bound
        ``kind="lower"``, ``query_model="confidence"``:
        ⌈(h(d + 1) + (c − 1)(h + 1)) / (c − 1)⌉.

    Notes
    -----
    The network has k = h(d + 1) + c(h + 1) unknowns (Tramèr et al.); softmax outputs
    are invariant to a common shift of the output layer, which leaves
    h(d + 1) + (c − 1)(h + 1) identifiable ones (sign flips and permutations of
    hidden units are discrete and do not reduce the dimension). An answer carries
    c − 1 independent values. The paper spent 0.5× to 5× k queries.

    References
    ----------
    .. [1] Tramèr et al. 2016, §4.1 (MLP with h = 20, tanh).

    Examples
    --------
    >>> mlp_queries(105, 20, 5).value
    551.0
    """
    d = check_int(d, "d")
    h = check_int(hidden, "hidden")
    c = check_int(classes, "classes", low=2)
    k = h * (d + 1) + (c - 1) * (h + 1)
    return _make(k / (c - 1), "lower", "confidence", name="equation solving, MLP (counting)",
                 formula="⌈(h(d+1) + (c−1)(h+1))/(c−1)⌉", reference=_TRAMER,
                 assumes=_COUNTING)


def relu_network_queries(d, hidden) -> Bound:
    """Counting lower bound for functionally equivalent extraction of a ReLU network.

    Parameters
    ----------
    d, hidden : int
        Input width and hidden units of a one-hidden-layer ReLU network with one
        logit output.

    Returns
    -------
    Bound
        ``kind="lower"``, ``query_model="confidence"``: h·d + h + 1.

    Notes
    -----
    The network ``f(x) = a·ReLU(Wx + b) + c`` has h(d + 1) + h + 1 parameters. ReLU is
    positively homogeneous, so each hidden unit's row ``(w_i, b_i)`` may be scaled by
    any λ_i > 0 if ``a_i`` is divided by it: h continuous symmetries, which leaves
    h(d + 1) + h + 1 − h = h·d + h + 1 identifiable numbers. A logit answer is one
    number, so a generic network needs at least that many queries to be determined
    (permutations and sign choices are discrete and do not lower the count). The
    attacks of Jagielski et al. and Carlini et al. spend far more: O(h·log(1/ε)) queries
    to find the critical points, then O(d) per unit for its weight row.

    References
    ----------
    .. [1] M. Jagielski, N. Carlini, D. Berthelot, A. Kurakin, N. Papernot. "High
       Accuracy and High Fidelity Extraction of Neural Networks". USENIX Security 2020.
    .. [2] N. Carlini, M. Jagielski, I. Mironov. "Cryptanalytic Extraction of Neural
       Network Models". CRYPTO 2020.

    Examples
    --------
    >>> relu_network_queries(784, 128).value
    100481.0
    """
    d = check_int(d, "d")
    h = check_int(hidden, "hidden")
    return _make(h * d + h + 1, "lower", "confidence",
                 name="functionally equivalent ReLU network (counting)",
                 formula="h·d + h + 1",
                 reference="Jagielski et al. 2020; Carlini, Jagielski, Mironov, CRYPTO 2020",
                 assumes=_COUNTING)


def lowd_meek_queries(d, *, length=1.0, tau=1e-3, w=2) -> Bound:
    """Queries of the Lowd–Meek line search: w + d·⌈log2(L/τ)⌉.

    Parameters
    ----------
    d : int
        Input dimension.
    length : float, default=1.0
        L, the length of each search segment.
    tau : float, default=1e-3
        τ, the tolerance to which each boundary point is located (0 < τ ≤ L).
    w : int, default=2
        Queries spent finding a positive and a negative witness (2 when the first two
        tries have opposite labels: the paper's ``2 + d·⌈log2(L/τ)⌉``).

    Returns
    -------
    Bound
        ``kind="upper"``, ``query_model="synthesis"``.

    Notes
    -----
    After the witnesses, one binary search along each of the d dimensions halves a
    segment of length L until it is shorter than τ, which takes ⌈log2(L/τ)⌉ label
    queries; the weights follow up to scale.

    References
    ----------
    .. [1] D. Lowd, C. Meek. "Adversarial learning". KDD 2005.
    .. [2] Tramèr et al. 2016, §5.

    Examples
    --------
    >>> lowd_meek_queries(10, length=1.0, tau=1e-3).value
    102.0
    """
    d = check_int(d, "d")
    length = check_positive(length, "length")
    tau = check_positive(tau, "tau")
    if tau > length:
        raise ValueError(f"tau must not exceed length; got tau={tau!r}, length={length!r}.")
    w = check_int(w, "w", low=0)
    per_dim = math.ceil(math.log2(length / tau) - 1e-12)
    return _make(w + d * per_dim, "upper", "synthesis", name="Lowd–Meek line search",
                 formula="w + d·⌈log2(L/τ)⌉",
                 reference="Lowd & Meek, Adversarial learning, KDD 2005; Tramèr et al. 2016",
                 assumes="a linear victim; w queries found the two witnesses")


def _check_tree(leaves, depth, d_cat, d_cont, categories, span, eps):
    m = check_int(leaves, "leaves")
    if depth is not None:
        depth = check_int(depth, "depth", low=0)
        if m > 2 ** depth or depth > max(m - 1, 0):
            raise ValueError(
                f"a binary tree of depth {depth} has between depth + 1 and 2^depth leaves; "
                f"got leaves={m}."
            )
    d_cat = check_int(d_cat, "d_cat", low=0)
    d_cont = check_int(d_cont, "d_cont", low=0)
    if d_cat + d_cont < 1:
        raise ValueError("a tree needs at least one feature: d_cat + d_cont ≥ 1.")
    k = check_int(categories, "categories", low=1)
    span = check_positive(span, "span")
    eps = check_eps(eps, "eps", high=span) if span <= 1 else check_positive(eps, "eps")
    if eps >= span:
        raise ValueError(f"eps must be smaller than span; got eps={eps!r}, span={span!r}.")
    return m, depth, d_cat, d_cont, k, span, eps


def path_finding_queries(*, leaves, d_cont, d_cat=0, categories=2, span=1.0, eps=1e-3,
                         depth=None, method="top_down", constant=1.0) -> Bound:
    """Cost of Tramèr et al.'s path-finding attack on a decision tree.

    Parameters
    ----------
    leaves : int
        m, the number of leaves.
    d_cont, d_cat : int
        Numbers of continuous and categorical features.
    categories : int, default=2
        k, the largest number of values of a categorical feature.
    span : float, default=1.0
        b, the length of a continuous feature's range.
    eps : float, default=1e-3
        ε, the precision to which thresholds are found.
    depth : int, default=None
        The tree's depth, checked against ``leaves`` (m ≤ 2^depth, depth ≤ m − 1).
        It does not enter the counts: every internal node is visited once whatever
        its depth (top-down), and a leaf's line searches cover every feature whether
        or not its path tests it (bottom-up).
    method : {"top_down", "bottom_up"}
    constant : float, default=1.0
        The factor hidden in the O(·).

    Returns
    -------
    Bound
        ``kind="upper"``, ``order_only=True``, ``query_model="leaf_identity"``.

    Notes
    -----
    Bottom-up (complete queries; the paper's bound): O(m·(d_cat·k + d_cont·m·log2(b/ε)))
    — from each of the m leaves, a search over each feature, where a line search on a
    continuous feature may cross up to m leaves' intervals at log2(b/ε) queries each.

    Top-down (incomplete queries): each of the m − 1 internal nodes is reached by
    a query that omits the features below it; supplying features one at a time finds
    the node's feature (at most d = d_cat + d_cont queries), then a binary search
    finds its threshold (⌈log2(b/ε)⌉) or the tries of its categories (k):
    1 + (m − 1)·(d + max(⌈log2(b/ε)⌉, k)).

    References
    ----------
    .. [1] Tramèr et al. 2016, §4.2.

    Examples
    --------
    >>> path_finding_queries(leaves=4, d_cont=2, eps=1/8, method="top_down").value
    16.0
    """
    m, depth, d_cat, d_cont, k, span, eps = _check_tree(
        leaves, depth, d_cat, d_cont, categories, span, eps)
    constant = check_constant(constant)
    search = math.log2(span / eps)
    if method == "bottom_up":
        value = m * (d_cat * k + d_cont * m * search)
        formula = "m·(d_cat·k + d_cont·m·log2(b/ε))"
    elif method == "top_down":
        per_node = d_cat + d_cont + max(math.ceil(search - 1e-12) if d_cont else 0,
                                        k if d_cat else 0)
        value = 1 + (m - 1) * per_node
        formula = "1 + (m − 1)·(d + max(⌈log2(b/ε)⌉, k))"
    else:
        raise ValueError(f"method must be 'top_down' or 'bottom_up'; got {method!r}.")
    return _make(constant * value, "upper", "leaf_identity", order_only=True,
                 constant=constant, name=f"path finding, {method.replace('_', '-')}",
                 formula=formula, reference=_TRAMER,
                 assumes="leaf identities tell the leaves apart"
                 + ("; incomplete queries allowed" if method == "top_down" else ""))


def _log2_binom(n, k):
    return float((gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)) / math.log(2))


def path_finding_lower_bound(*, leaves, d_cont, d_cat=0, span=1.0, eps=1e-3,
                             n_ids=None, incomplete=True) -> Bound:
    """Fewest leaf-identity queries that can recover every tree with m leaves.

    Parameters
    ----------
    leaves : int
        m.
    d_cont, d_cat : int
    span, eps : float
        Continuous range b and the precision ε of the recovered thresholds.
    n_ids : int, default=None
        Number of distinct leaf identities (default m).
    incomplete : bool, default=True
        Whether incomplete queries are allowed (internal nodes then answer too).

    Returns
    -------
    Bound
        ``kind="lower"``, ``query_model="leaf_identity"``:
        max(n_ids, ⌈log2 C(⌊b/(2ε)⌋, m − 1) / log2 A⌉), A = 2m − 1 answers with
        incomplete queries, n_ids without.

    Notes
    -----
    Every identity must be seen once to be known (n_ids queries). And the trees with
    m − 1 thresholds on one continuous feature, placed on a grid of spacing 2ε (a
    staircase whose leaves alternate identities), are C(⌊b/(2ε)⌋, m − 1) different
    functions that an ε-precise attacker must tell apart; an answer is one of at most
    A values, so q answers distinguish at most A^q of them (information counting).

    References
    ----------
    .. [1] Tramèr et al. 2016, §4.2 (the attack this bounds).

    Examples
    --------
    >>> path_finding_lower_bound(leaves=2, d_cont=1, eps=1/16).value  # log2 8 / log2 3
    2.0
    """
    m, _, d_cat, d_cont, _, span, eps = _check_tree(leaves, None, d_cat, d_cont, 2, span, eps)
    ids = m if n_ids is None else check_int(n_ids, "n_ids")
    if ids > m:
        raise ValueError(f"n_ids cannot exceed leaves; got n_ids={ids}, leaves={m}.")
    value = float(ids)
    answers = 2 * m - 1 if incomplete else ids
    grid = math.floor(span / (2 * eps))
    if d_cont >= 1 and ids >= 2 and answers >= 2 and grid >= m - 1:
        value = max(value, _log2_binom(grid, m - 1) / math.log2(answers))
    return _make(value, "lower", "leaf_identity", name="path finding (information)",
                 formula="max(n_ids, log2 C(⌊b/2ε⌋, m−1) / log2 A)",
                 reference="information counting; attack of Tramèr et al. 2016",
                 assumes="worst tree of the class; A distinct answers per query")
