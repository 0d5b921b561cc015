"""Passive (PAC) sample complexity: what retraining on random queries needs."""

from __future__ import annotations

import math
from collections.abc import Callable

from ._record import Bound, _make, check_delta, check_eps, check_int, check_positive

__all__ = [
    "pac_upper_bound",
    "pac_lower_bound",
    "pac_finite_class",
    "pac_growth_bound",
    "agnostic_upper_bound",
    "agnostic_lower_bound",
    "agnostic_finite_class",
]

_BLUMER = (
    "A. Blumer, A. Ehrenfeucht, D. Haussler, M. K. Warmuth. Learnability and the "
    "Vapnik-Chervonenkis dimension. J. ACM 36(4), 1989"
)
_EHKV = (
    "A. Ehrenfeucht, D. Haussler, M. Kearns, L. Valiant. A general lower bound on the "
    "number of examples needed for learning. Information and Computation 82, 1989"
)
_AB = "M. Anthony, P. L. Bartlett. Neural Network Learning: Theoretical Foundations. 1999"


def pac_upper_bound(d, eps, delta) -> Bound:
    """Blumer et al.'s sample size for a consistent learner of VC dimension d.

    Parameters
    ----------
    d : int
        VC dimension of the copy's class (d + 1 for affine halfspaces in R^d).
    eps, delta : float in (0, 1)
        Error and failure probability.

    Returns
    -------
    Bound
        ``kind="upper"``, ``query_model="passive"``.

    Notes
    -----
    Any hypothesis consistent with m ≥ max(4/ε·log2(2/δ), 8d/ε·log2(13/ε)) i.i.d.
    labelled examples has error at most ε with probability at least 1 − δ.

    References
    ----------
    .. [1] Blumer, Ehrenfeucht, Haussler, Warmuth, J. ACM 1989, Theorem 2.1.

    Examples
    --------
    >>> pac_upper_bound(1, 0.5, 0.5).value   # max(8·2, 16·log2 26) = 75.2
    76.0
    """
    d = check_int(d, "d")
    eps, delta = check_eps(eps), check_delta(delta)
    value = max(4 / eps * math.log2(2 / delta), 8 * d / eps * math.log2(13 / eps))
    return _make(value, "upper", "passive", name="PAC upper (Blumer et al.)",
                 formula="max(4/ε·log2(2/δ), 8d/ε·log2(13/ε))", reference=_BLUMER,
                 assumes="realizable; the copy is consistent with its training labels")


def pac_lower_bound(d, eps, delta) -> Bound:
    """Ehrenfeucht et al.'s lower bound on the passive sample size.

    Parameters
    ----------
    d : int
        VC dimension.
    eps : float in (0, 1/8]
    delta : float in (0, 1/100]

    Returns
    -------
    Bound
        ``kind="lower"``, ``query_model="passive"``:
        max((1 − ε)/ε·ln(1/δ), (d − 1)/(32ε)).

    Notes
    -----
    For some distribution and target, no learner with fewer random examples reaches
    error ε with probability 1 − δ. Proved for ε ≤ 1/8, δ ≤ 1/100; outside that range
    the function refuses rather than extrapolate.

    References
    ----------
    .. [1] Ehrenfeucht, Haussler, Kearns, Valiant, Inf. Comput. 1989.

    Examples
    --------
    >>> pac_lower_bound(33, 0.125, 0.01).value   # max(7·ln 100, 32/4)
    33.0
    """
    d = check_int(d, "d")
    eps, delta = check_eps(eps), check_delta(delta)
    if eps > 1 / 8 or delta > 1 / 100:
        raise ValueError(
            f"the Ehrenfeucht et al. bound is proved for eps ≤ 1/8 and delta ≤ 1/100; got "
            f"eps={eps!r}, delta={delta!r}. Use a smaller eps or delta."
        )
    value = max((1 - eps) / eps * math.log(1 / delta), (d - 1) / (32 * eps))
    return _make(value, "lower", "passive", name="PAC lower (Ehrenfeucht et al.)",
                 formula="max((1−ε)/ε·ln(1/δ), (d−1)/(32ε))", reference=_EHKV,
                 assumes="worst distribution and target; eps ≤ 1/8, delta ≤ 1/100")


def pac_finite_class(n_hypotheses, eps, delta) -> Bound:
    """Sample size for a consistent learner over a finite class: (ln|H| + ln(1/δ))/ε.

    Notes
    -----
    A fixed hypothesis of error > ε is consistent with m random examples with
    probability < (1 − ε)^m ≤ e^{−εm}; the union bound over |H| gives the formula.

    References
    ----------
    .. [1] D. Haussler. Quantifying inductive bias. Artificial Intelligence 36, 1988.

    Examples
    --------
    >>> pac_finite_class(100, 0.1, 0.01).value   # 10·(ln 100 + ln 100) = 92.1
    93.0
    """
    n = check_positive(n_hypotheses, "n_hypotheses")
    if n < 1:
        raise ValueError(f"n_hypotheses must be ≥ 1; got {n_hypotheses!r}.")
    eps, delta = check_eps(eps), check_delta(delta)
    return _make((math.log(n) + math.log(1 / delta)) / eps, "upper", "passive",
                 name="PAC upper, finite class", formula="(ln|H| + ln(1/δ))/ε",
                 reference="Haussler 1988", assumes="realizable; consistent learner")


def pac_growth_bound(log2_growth: Callable[[int], float], eps, delta) -> Bound:
    """Passive sample size from a growth function: the double-sample bound.

    Parameters
    ----------
    log2_growth : callable
        ``n -> log2 Π_H(n)``, the log of the number of labelings the class makes on n
        points (non-decreasing in n). Works for multiclass classes: the argmax of c
        affine scores is fixed by the signs of c(c − 1)/2 halfspaces, so
        Π(n) ≤ Φ_{d+1}(n)^{c(c−1)/2}.
    eps, delta : float in (0, 1)

    Returns
    -------
    Bound
        The smallest m ≥ 8/ε with ε·m/2 ≥ log2 Π(2m) + log2(2/δ); ``kind="upper"``.

    Notes
    -----
    For m ≥ 8/ε, P(some consistent h has error > ε) ≤ 2·Π(2m)·2^{−εm/2}.

    References
    ----------
    .. [1] Blumer et al., J. ACM 1989 (Theorem A2.1); V. Vapnik, A. Chervonenkis 1971.

    Examples
    --------
    >>> pac_growth_bound(lambda n: 0.0, 0.5, 0.5).value   # one hypothesis: m ≥ 16
    16.0
    """
    eps, delta = check_eps(eps), check_delta(delta)

    def ok(m):
        return eps * m / 2 >= log2_growth(2 * m) + math.log2(2 / delta)

    lo = math.ceil(8 / eps - 1e-9)
    if ok(lo):
        m = lo
    else:
        hi = lo
        while not ok(hi):
            hi *= 2
            if hi > 1e15:
                raise ValueError("the growth function grows too fast: no finite bound.")
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if ok(mid) else (mid, hi)
        m = hi
    return _make(m, "upper", "passive", name="PAC upper (growth function)",
                 formula="min m ≥ 8/ε: εm/2 ≥ log2 Π(2m) + log2(2/δ)", reference=_BLUMER,
                 assumes="realizable; consistent learner")


def agnostic_upper_bound(d, eps, delta) -> Bound:
    """Sample size for empirical risk minimisation to get within ε of the best in class.

    Returns
    -------
    Bound
        m ≥ 64/ε²·(2d·ln(12/ε) + ln(4/δ)); ``kind="upper"``, ``query_model="passive"``.

    References
    ----------
    .. [1] Anthony & Bartlett, Neural Network Learning, 1999, Theorem 4.8.

    Examples
    --------
    >>> agnostic_upper_bound(1, 0.5, 0.5).value   # 256·(2 ln 24 + ln 8) = 2159.5
    2160.0
    """
    d = check_int(d, "d")
    eps, delta = check_eps(eps), check_delta(delta)
    value = 64 / eps**2 * (2 * d * math.log(12 / eps) + math.log(4 / delta))
    return _make(value, "upper", "passive", name="agnostic upper (ERM)",
                 formula="64/ε²·(2d·ln(12/ε) + ln(4/δ))", reference=_AB,
                 assumes="agnostic: error within ε of the best copy in the class")


def agnostic_lower_bound(d, eps, delta) -> Bound:
    """Lower bound on the agnostic passive sample size: d/(320ε²).

    Parameters
    ----------
    d : int
        VC dimension (≥ 2 for the theorem).
    eps : float in (0, 1/64)
    delta : float in (0, 1/64)

    Returns
    -------
    Bound
        ``kind="lower"``, ``query_model="passive"``.

    Notes
    -----
    Anthony & Bartlett (Theorem 5.3): any learner needs m ≥ d/(320ε²) examples for
    0 < ε, δ < 1/64 and d ≥ 2 (the class's worst distribution has noise). Outside
    that range the function refuses rather than extrapolate.

    References
    ----------
    .. [1] Anthony & Bartlett 1999, Theorem 5.3.

    Examples
    --------
    >>> agnostic_lower_bound(320, 1 / 80, 0.01).value   # 320·6400/320
    6400.0
    """
    d = check_int(d, "d")
    eps, delta = check_eps(eps), check_delta(delta)
    if eps >= 1 / 64 or delta >= 1 / 64:
        raise ValueError(
            f"the agnostic lower bound is proved for eps < 1/64 and delta < 1/64; got "
            f"eps={eps!r}, delta={delta!r}."
        )
    return _make(d / (320 * eps**2), "lower", "passive", name="agnostic lower (passive)",
                 formula="d/(320ε²)", reference=_AB,
                 assumes="worst distribution with label noise; eps, delta < 1/64")


def agnostic_finite_class(n_hypotheses, eps, delta) -> Bound:
    """Agnostic sample size over a finite class: 2·ln(2|H|/δ)/ε².

    Notes
    -----
    Hoeffding: an empirical error is within ε/2 of the true one except with
    probability 2·exp(−mε²/2); the union bound over |H| then makes the empirical
    minimiser ε-optimal with probability 1 − δ.

    Examples
    --------
    >>> agnostic_finite_class(1, 0.5, 0.5).value   # 8·ln 4 = 11.09
    12.0
    """
    n = check_positive(n_hypotheses, "n_hypotheses")
    if n < 1:
        raise ValueError(f"n_hypotheses must be ≥ 1; got {n_hypotheses!r}.")
    eps, delta = check_eps(eps), check_delta(delta)
    return _make(2 * math.log(2 * n / delta) / eps**2, "upper", "passive",
                 name="agnostic upper, finite class", formula="2·ln(2|H|/δ)/ε²",
                 reference="Hoeffding 1963 with the union bound",
                 assumes="agnostic; empirical risk minimiser")
