"""Active learning bounds: query synthesis, pool-based, agnostic, and noisy answers."""

from __future__ import annotations

import math

from ._record import (
    Bound,
    Log,
    _make,
    check_constant,
    check_delta,
    check_eps,
    check_int,
    check_positive,
)
from ._vc import cover_count_log2, sauer_shelah_log2

__all__ = [
    "halfspace_packing_log2",
    "query_synthesis_lower_bound",
    "packing_lower_bound",
    "centroid_cut_queries",
    "halving_queries",
    "generalized_binary_search",
    "pool_halfspace_lower_bound",
    "halfspace_disagreement_coefficient",
    "cal_queries",
    "margin_based_queries",
    "a2_queries",
    "dhm_queries",
    "iwal_queries",
    "agnostic_active_lower_bound",
    "noisy_repetition_queries",
    "noisy_query_synthesis_lower_bound",
]

_KMT = (
    "S. R. Kulkarni, S. K. Mitter, J. N. Tsitsiklis. Active learning using arbitrary "
    "binary valued queries. Machine Learning 11, 1993"
)
_HANNEKE = (
    "S. Hanneke. A bound on the label complexity of agnostic active learning. ICML 2007; "
    "Theory of Disagreement-Based Active Learning, 2014"
)
_ANY_MODEL = ("synthesis", "pool", "passive")


def _model(query_model, allowed=_ANY_MODEL):
    if query_model not in allowed:
        raise ValueError(f"query_model must be one of {allowed}; got {query_model!r}.")
    return query_model


# ------------------------------------------------------------------ query synthesis
def halfspace_packing_log2(d, radius) -> float:
    """log2 of a lower bound on the packing number M(r) of homogeneous halfspaces.

    Parameters
    ----------
    d : int
        Dimension (normals live on the sphere S^{d−1}).
    radius : float in (0, 1)
        r, in the disagreement metric under the uniform distribution on the sphere,
        where two halfspaces disagree on angle(u, v)/π of the mass.

    Returns
    -------
    float
        log2 M(r) ≥ 1 + (d − 1)·log2(1/sin(πr)) for r ≤ 1/2; 1 for 1/2 < r < 1.

    Notes
    -----
    A maximal r-packing is an r-covering, so M(r) ≥ 1/σ(C(πr)), where σ(C(θ)) is the
    normalised area of a spherical cap of angular radius θ; and σ(C(θ)) ≤ ½·sin^{d−1}θ
    for θ ≤ π/2 (equality at θ = π/2, and the difference is unimodal from 0).

    Examples
    --------
    >>> round(halfspace_packing_log2(3, 1 / 6), 9)   # 1 + 2·log2(1/sin 30°) = 3
    3.0
    """
    d = check_int(d, "d")
    r = check_eps(radius, "radius")
    if r > 0.5:
        return 1.0
    return float(1 + (d - 1) * -math.log2(math.sin(math.pi * r)))


def packing_lower_bound(log2_packing, *, query_model="synthesis") -> Bound:
    """Kulkarni–Mitter–Tsitsiklis: ⌈log2 M(2ε)⌉ binary queries for ε-accuracy.

    Parameters
    ----------
    log2_packing : float
        log2 of (a lower bound on) the 2ε-packing number of the class under the
        distribution D.
    query_model : str, default="synthesis"
        Holds for every model with binary answers ("synthesis", "pool", "passive").

    Notes
    -----
    Any algorithm asking q yes/no questions ends in at most 2^q states; learning each
    of M(2ε) pairwise 2ε-separated targets to within ε needs distinct outputs, so
    2^q ≥ M(2ε). Label queries anywhere are a special case of arbitrary binary
    queries, and pool or random queries a special case of synthesis.

    References
    ----------
    .. [1] Kulkarni, Mitter, Tsitsiklis, Machine Learning 1993.

    Examples
    --------
    >>> packing_lower_bound(9.2).value
    10.0
    """
    v = check_positive(log2_packing, "log2_packing", allow_zero=True)
    return _make(v, "lower", _model(query_model), name="packing lower (KMT 1993)",
                 formula="⌈log2 M(2ε)⌉", reference=_KMT,
                 assumes="binary answers; worst target of the class under D")


def query_synthesis_lower_bound(d, eps, *, query_model="synthesis") -> Bound:
    """Packing lower bound for halfspaces in R^d: ⌈1 + (d − 1)·log2(1/sin(2πε))⌉.

    Parameters
    ----------
    d : int
        Dimension. Affine halfspaces in R^d contain the homogeneous ones, so the
        bound holds for them too.
    eps : float in (0, 1)
        Target disagreement under the uniform distribution on the sphere (or any
        rotation-invariant distribution), i.e. angle/π between the normals.
    query_model : str, default="synthesis"

    Returns
    -------
    Bound
        ``kind="lower"``; Θ(d·log(1/ε)) like the upper bounds of version-space cuts.

    References
    ----------
    .. [1] Kulkarni, Mitter, Tsitsiklis 1993.
    .. [2] Chandrasekaran et al. Exploring connections between active learning and
       model extraction. USENIX Security 2020.

    Examples
    --------
    >>> query_synthesis_lower_bound(3, 1 / 12).value   # 2ε = 1/6: 3 bits
    3.0
    """
    d = check_int(d, "d")
    eps = check_eps(eps)
    # For ε ≥ 1/2 a constant guess is ε-accurate: no query is needed.
    log2_m = halfspace_packing_log2(d, 2 * eps) if eps < 0.5 else 0.0
    b = packing_lower_bound(log2_m, query_model=query_model)
    return _make(b.value, "lower", b.query_model, name="halfspace packing lower (KMT)",
                 formula="⌈1 + (d−1)·log2(1/sin 2πε)⌉", reference=_KMT,
                 assumes="worst halfspace; rotation-invariant D; binary answers")


def centroid_cut_queries(d, eps) -> Bound:
    """Centre-of-gravity cuts: ⌈d·log2(1/ε)/log2(e/(e − 1))⌉ ≈ 1.51·d·log2(1/ε) queries.

    Parameters
    ----------
    d : int
        Number of parameters of the version space (d + 1 for affine halfspaces).
    eps : float in (0, 1)

    Returns
    -------
    Bound
        ``kind="upper"``, ``query_model="synthesis"``.

    Notes
    -----
    Grünbaum: every halfspace through the centroid of a convex body leaves at least
    1/e of its volume on each side, so a label query whose boundary passes through
    the version space's centroid removes at least 1/e of it whatever the answer.
    After T queries the volume is at most (1 − 1/e)^T of the start, which is ≤ ε^d
    once T ≥ d·ln(1/ε)/ln(e/(e − 1)). (Turning a small volume into a small angle
    also needs the version space to stay round, which holds up to constants.)

    References
    ----------
    .. [1] B. Grünbaum. Partitions of mass-distributions and of convex bodies by
       hyperplanes. Pacific J. Math. 10, 1960.
    .. [2] Chandrasekaran et al., USENIX Security 2020.

    Examples
    --------
    >>> centroid_cut_queries(1, 0.5).value   # 1/log2(e/(e−1)) = 1.51
    2.0
    """
    d = check_int(d, "d")
    eps = check_eps(eps)
    value = d * math.log2(1 / eps) / math.log2(math.e / (math.e - 1))
    return _make(value, "upper", "synthesis", name="centre-of-gravity cuts (Grünbaum)",
                 formula="d·log2(1/ε)/log2(e/(e−1))",
                 reference="Grünbaum 1960; Chandrasekaran et al. 2020",
                 assumes="exact centroids; volume shrinks to ε^d")


def halving_queries(n_hypotheses, *, query_model="synthesis") -> Bound:
    """⌈log2 N⌉: identifying one of N hypotheses with yes/no answers.

    Notes
    -----
    A lower bound for every algorithm (q answers reach at most 2^q outcomes); also
    what the halving algorithm spends when a query splitting the version space in
    half exists at every step.

    References
    ----------
    .. [1] S. Dasgupta. Analysis of a greedy active learning strategy. NIPS 2004.

    Examples
    --------
    >>> halving_queries(1000).value
    10.0
    """
    n = check_positive(n_hypotheses, "n_hypotheses")
    if n < 1:
        raise ValueError(f"n_hypotheses must be ≥ 1; got {n_hypotheses!r}.")
    return _make(math.log2(n), "lower", _model(query_model), name="halving (information)",
                 formula="⌈log2 N⌉", reference="Dasgupta, NIPS 2004",
                 assumes="binary answers; exact identification")


def generalized_binary_search(n_pool, vc_dim, *, opt=None) -> Bound:
    """Generalized binary search on a pool of n points (Dasgupta 2004, Sauer–Shelah).

    Parameters
    ----------
    n_pool : int
        Points in the pool; the class makes at most Φ_d(n) = Σ_{i≤d} C(n, i) labelings
        of them (Sauer–Shelah), which is the effective hypothesis count.
    vc_dim : int
    opt : float, default=None
        The optimal strategy's expected cost, if known.

    Returns
    -------
    Bound
        ``kind="upper"``, ``query_model="pool"``. Without ``opt``: ⌈log2 Φ_d(n)⌉ ≤
        d·log2(en/d), what GBS spends when balanced splits exist. With ``opt``:
        4·ln Φ_d(n)·opt, Dasgupta's guarantee for the greedy strategy (expected cost,
        uniform prior over the labelings).

    References
    ----------
    .. [1] Dasgupta, NIPS 2004, Theorem 3.

    Examples
    --------
    >>> generalized_binary_search(4, 1).value   # Φ_1(4) = 5 labelings
    3.0
    """
    n = check_int(n_pool, "n_pool")
    d = check_int(vc_dim, "vc_dim")
    log2_phi = sauer_shelah_log2(n, d)
    if opt is None:
        return _make(log2_phi, "upper", "pool", name="generalized binary search",
                     formula="⌈log2 Φ_d(n)⌉ ≤ d·log2(en/d)",
                     reference="Dasgupta, NIPS 2004; Sauer 1972; Shelah 1972",
                     assumes="a query halving the version space exists at every step")
    opt = check_positive(opt, "opt")
    return _make(4 * log2_phi * math.log(2) * opt, "upper", "pool",
                 name="greedy GBS (Dasgupta)", formula="4·ln Φ_d(n)·OPT",
                 reference="Dasgupta, NIPS 2004",
                 assumes="expected cost, uniform prior over the pool's labelings")


def pool_halfspace_lower_bound(n_pool, d, *, homogeneous=False) -> Bound:
    """⌈log2 C(n, d′)⌉ label queries to learn a halfspace's labels on a whole pool.

    Cover's count C(n, d′) of linear dichotomies of n points in general position
    (d′ = d, or d + 1 for affine halfspaces) is exact, so this is the information
    lower bound for labelling the pool exactly (ε below 1/n under the pool's
    empirical distribution).

    References
    ----------
    .. [1] Cover 1965. .. [2] Dasgupta, NIPS 2004.

    Examples
    --------
    >>> pool_halfspace_lower_bound(4, 1).value   # C(4, 2) = 8 dichotomies
    3.0
    """
    n = check_int(n_pool, "n_pool")
    d = check_int(d, "d")
    dd = d if homogeneous else d + 1
    return _make(cover_count_log2(n, dd), "lower", "pool", name="pool labelling (Cover)",
                 formula="⌈log2 C(n, d+1)⌉", reference="Cover 1965",
                 assumes="pool in general position; exact labels of the pool")


# ------------------------------------------------------------------ disagreement-based
def halfspace_disagreement_coefficient(d) -> float:
    """Hanneke's bound θ ≤ π·√d for homogeneous halfspaces, uniform on the sphere.

    References
    ----------
    .. [1] Hanneke, ICML 2007, §4 (after Dasgupta, Kalai, Monteleoni 2005).

    Examples
    --------
    >>> round(halfspace_disagreement_coefficient(4), 4)
    6.2832
    """
    return math.pi * math.sqrt(check_int(d, "d"))


def _theta(theta):
    theta = check_positive(theta, "theta")
    if theta < 1:
        raise ValueError(f"theta (the disagreement coefficient) is ≥ 1; got {theta!r}.")
    return theta


def cal_queries(d, eps, delta, theta, *, constant=1.0) -> Bound:
    """CAL's label complexity: θ·(d·Log θ + Log(Log(1/ε)/δ))·Log(1/ε).

    Parameters
    ----------
    d : int
        VC dimension.
    eps, delta : float in (0, 1)
    theta : float ≥ 1
        The disagreement coefficient θ(ε) (π√d for halfspaces under the uniform
        distribution; estimate it with :func:`disagreement_coefficient`).
    constant : float, default=1.0

    Returns
    -------
    Bound
        ``kind="upper"``, ``order_only=True``, ``query_model="pool"``.
        Log(x) = max(ln x, 1).

    References
    ----------
    .. [1] D. Cohn, L. Atlas, R. Ladner. Improving generalization with active
       learning. Machine Learning 15, 1994.
    .. [2] Hanneke, Theory of Disagreement-Based Active Learning, 2014, Theorem 5.1.

    Examples
    --------
    >>> cal_queries(1, 0.5, 0.5, 1.0).value   # 1·(1 + 1)·1
    2.0
    """
    d = check_int(d, "d")
    eps, delta = check_eps(eps), check_delta(delta)
    theta, c = _theta(theta), check_constant(constant)
    value = theta * (d * Log(theta) + Log(Log(1 / eps) / delta)) * Log(1 / eps)
    return _make(c * value, "upper", "pool", order_only=True, constant=c, name="CAL",
                 formula="θ·(d·Log θ + Log(Log(1/ε)/δ))·Log(1/ε)", reference=_HANNEKE,
                 assumes="realizable; disagreement coefficient θ")


def margin_based_queries(d, eps, delta, *, constant=1.0) -> Bound:
    """Margin-based active learning of halfspaces: (d + Log(1/δ) + Log Log(1/ε))·Log(1/ε).

    Returns
    -------
    Bound
        ``kind="upper"``, ``order_only=True``, ``query_model="pool"``.

    References
    ----------
    .. [1] M.-F. Balcan, A. Broder, T. Zhang. Margin based active learning. COLT 2007.
    .. [2] M.-F. Balcan, P. Long. Active and passive learning of linear separators
       under log-concave distributions. COLT 2013.

    Examples
    --------
    >>> margin_based_queries(1, 0.5, 0.5).value   # (1 + 1 + 1)·1
    3.0
    """
    d = check_int(d, "d")
    eps, delta = check_eps(eps), check_delta(delta)
    c = check_constant(constant)
    value = (d + Log(1 / delta) + Log(Log(1 / eps))) * Log(1 / eps)
    return _make(c * value, "upper", "pool", order_only=True, constant=c,
                 name="margin-based (Balcan–Long)",
                 formula="(d + Log(1/δ) + Log Log(1/ε))·Log(1/ε)",
                 reference="Balcan, Broder, Zhang 2007; Balcan & Long 2013",
                 assumes="homogeneous halfspaces; isotropic log-concave D; realizable")


def _nu(nu):
    nu = check_positive(nu, "nu", allow_zero=True)
    if nu >= 0.5:
        raise ValueError(f"nu (the best error in the class) must be below 1/2; got {nu!r}.")
    return nu


def a2_queries(d, eps, delta, theta, *, nu=0.0, constant=1.0) -> Bound:
    """A² (agnostic): θ²·(1 + ν²/ε²)·(d·Log(1/ε) + Log(1/δ))·Log(1/ε).

    Returns
    -------
    Bound
        ``kind="upper"``, ``order_only=True``, ``query_model="pool"``.

    References
    ----------
    .. [1] M.-F. Balcan, A. Beygelzimer, J. Langford. Agnostic active learning.
       ICML 2006.
    .. [2] Hanneke, ICML 2007 (the bound).

    Examples
    --------
    >>> a2_queries(1, 0.5, 0.5, 2.0).value   # 4·1·(1 + 1)·1
    8.0
    """
    d = check_int(d, "d")
    eps, delta = check_eps(eps), check_delta(delta)
    theta, nu, c = _theta(theta), _nu(nu), check_constant(constant)
    value = theta**2 * (1 + nu**2 / eps**2) * (d * Log(1 / eps) + Log(1 / delta)) * Log(1 / eps)
    return _make(c * value, "upper", "pool", order_only=True, constant=c, name="A² (agnostic)",
                 formula="θ²·(1 + ν²/ε²)·(d·Log(1/ε) + Log(1/δ))·Log(1/ε)",
                 reference="Balcan, Beygelzimer, Langford 2006; Hanneke 2007",
                 assumes="agnostic; best error ν in class; error ≤ ν + ε")


def dhm_queries(d, eps, delta, theta, *, nu=0.0, constant=1.0) -> Bound:
    """DHM (and IWAL): θ·(1 + ν²/ε²)·(d·Log(1/ε) + Log(1/δ))·Log(1/ε).

    A factor θ better than A²'s bound.

    Returns
    -------
    Bound
        ``kind="upper"``, ``order_only=True``, ``query_model="pool"``.

    References
    ----------
    .. [1] S. Dasgupta, D. Hsu, C. Monteleoni. A general agnostic active learning
       algorithm. NIPS 2007.
    .. [2] A. Beygelzimer, S. Dasgupta, J. Langford. Importance weighted active
       learning. ICML 2009.

    Examples
    --------
    >>> dhm_queries(1, 0.5, 0.5, 2.0).value   # 2·1·(1 + 1)·1
    4.0
    """
    d = check_int(d, "d")
    eps, delta = check_eps(eps), check_delta(delta)
    theta, nu, c = _theta(theta), _nu(nu), check_constant(constant)
    value = theta * (1 + nu**2 / eps**2) * (d * Log(1 / eps) + Log(1 / delta)) * Log(1 / eps)
    return _make(c * value, "upper", "pool", order_only=True, constant=c,
                 name="DHM / IWAL (agnostic)",
                 formula="θ·(1 + ν²/ε²)·(d·Log(1/ε) + Log(1/δ))·Log(1/ε)",
                 reference="Dasgupta, Hsu, Monteleoni 2007; Beygelzimer et al. 2009",
                 assumes="agnostic; best error ν in class; error ≤ ν + ε")


#: IWAL's label complexity has DHM's form (Beygelzimer, Dasgupta, Langford 2009).
iwal_queries = dhm_queries


def agnostic_active_lower_bound(d, eps, nu, *, constant=1.0) -> Bound:
    """Ω(d·ν²/ε²): no active learner beats this when the best error is ν.

    Returns
    -------
    Bound
        ``kind="lower"``, ``order_only=True``, ``query_model="pool"``.

    Notes
    -----
    Telling apart labels that are wrong with probability ν ± ε costs ν/ε² answers
    per direction whatever point is asked, so active learning saves at most the
    log factors in the agnostic case when ν is not small against ε.

    References
    ----------
    .. [1] M. Kääriäinen. Active learning in the non-realizable case. ALT 2006.
    .. [2] Beygelzimer, Dasgupta, Langford, ICML 2009.

    Examples
    --------
    >>> agnostic_active_lower_bound(10, 0.1, 0.2).value   # 10·0.04/0.01
    40.0
    """
    d = check_int(d, "d")
    eps = check_eps(eps)
    nu, c = _nu(nu), check_constant(constant)
    return _make(c * d * nu**2 / eps**2, "lower", "pool", order_only=True, constant=c,
                 name="agnostic active lower", formula="d·ν²/ε²",
                 reference="Kääriäinen 2006; Beygelzimer et al. 2009",
                 assumes="agnostic; best error ν in class")


def noisy_repetition_queries(n_queries, eta, delta, *, query_model="synthesis") -> Bound:
    """Queries to survive answers flipped with probability η: ask each one k times.

    Parameters
    ----------
    n_queries : int
        q, the queries the noiseless attack asks.
    eta : float in [0, 1/2)
        Probability that an answer is wrong, drawn afresh at each asking.
    delta : float in (0, 1)
        Allowed probability that any majority vote is wrong.

    Returns
    -------
    Bound
        q·k with k = ⌈ln(q/δ)/(2(1/2 − η)²)⌉ made odd; ``kind="upper"``.

    Notes
    -----
    Hoeffding: a majority of k answers is wrong with probability at most
    exp(−2k(1/2 − η)²); the union bound over q queries gives k. Noise that is the
    same each time a point is asked (a cache, a keyed hash) defeats repetition:
    then only noise-tolerant learners (A², DHM) help.

    References
    ----------
    .. [1] W. Hoeffding 1963. .. [2] Chandrasekaran et al. 2020, §7 (noisy defenses).

    Examples
    --------
    >>> noisy_repetition_queries(10, 0.0, 0.01).value   # k = ⌈ln(1000)/0.5⌉ = 14 → 15
    150.0
    """
    q = check_int(n_queries, "n_queries")
    eta = check_positive(eta, "eta", allow_zero=True)
    if eta >= 0.5:
        raise ValueError(f"eta must be below 1/2 (else the answers carry no signal); got {eta!r}.")
    delta = check_delta(delta)
    k = math.ceil(math.log(q / delta) / (2 * (0.5 - eta) ** 2) - 1e-12)
    k = max(k, 1)
    k += (k + 1) % 2  # odd, so the vote has no ties
    return _make(q * k, "upper", _model(query_model, ("synthesis", "pool", "confidence",
                                                      "leaf_identity", "passive")),
                 name="repeat and vote", formula="q·⌈ln(q/δ)/(2(½−η)²)⌉",
                 reference="Hoeffding 1963", assumes="independent fresh noise per asking")


def _binary_entropy(p):
    return 0.0 if p in (0.0, 1.0) else -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def noisy_query_synthesis_lower_bound(d, eps, eta, delta, *, query_model="synthesis"):
    """Packing lower bound when each label answer is flipped with probability η.

    Parameters
    ----------
    d : int
    eps : float in (0, 1)
        Target disagreement (angle/π, rotation-invariant distribution).
    eta : float in [0, 1/2)
        Probability that an answer is wrong, independently at each asking.
    delta : float in (0, 1)
        Allowed failure probability.

    Returns
    -------
    Bound
        ⌈((1 − δ)·log2 M(2ε) − 1) / (1 − H2(η))⌉ with the halfspace packing number
        M; ``kind="lower"``.

    Notes
    -----
    Fano's inequality: identifying one of M targets with error probability δ needs
    I(target; answers) ≥ (1 − δ)·log2 M − 1 bits, and a noisy label answer carries at
    most 1 − H2(η) bits (the capacity of the binary symmetric channel; adaptive
    choice of queries does not raise it). Noise multiplies the attacker's cost by
    1/(1 − H2(η)) at least: a randomised-answer defense raises the cost but cannot
    stop extraction, at a utility cost to honest users.

    References
    ----------
    .. [1] Kulkarni, Mitter, Tsitsiklis 1993. .. [2] T. Cover, J. Thomas, Elements of
       Information Theory (Fano's inequality; capacity with feedback).
    .. [3] Chandrasekaran et al. 2020 (noisy answers as a defense).

    Examples
    --------
    >>> noisy_query_synthesis_lower_bound(3, 1 / 12, 0.11, 0.0001).value  # 1 − H2(0.11) ≈ 1/2
    4.0
    """
    d = check_int(d, "d")
    eps, delta = check_eps(eps), check_delta(delta)
    eta = check_positive(eta, "eta", allow_zero=True)
    if eta >= 0.5:
        raise ValueError(f"eta must be below 1/2 (else the answers carry no signal); got {eta!r}.")
    log2_m = halfspace_packing_log2(d, 2 * eps) if eps < 0.5 else 0.0
    bits = (1 - delta) * log2_m - 1
    value = max(bits, 0.0) / (1 - _binary_entropy(eta))
    return _make(value, "lower", _model(query_model), name="noisy packing lower (Fano)",
                 formula="((1−δ)·log2 M(2ε) − 1)/(1 − H2(η))",
                 reference="Kulkarni et al. 1993 with Fano's inequality",
                 assumes="answers flipped independently with probability η; worst target")
