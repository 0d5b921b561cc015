"""Equation solving for multilayer perceptrons (Tramèr et al. 2016, §4.1.2)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from ..attacks import Attack, Run, register
from ._common import affordable, check_positive_int, oracle_classes, touch_budget
from ._estimator import NumpyMLPClassifier
from ._layers import DERIVATIVES, answer_resolution, full_logits
from ._network import ACTIVATIONS, Network

__all__ = ["MLPEquationSolving", "log_ratio_targets", "fit_log_ratios"]


def log_ratio_targets(answers, output, *, floor):
    """What each answer says about the logits: differences to a reference class.

    Returns ``(D, known, ref)``: ``D[i, j] = log p_j − log p_ref`` (or
    ``z_j − z_ref`` for logit answers) for one reference class ``ref`` (the class
    with the largest median log-probability; class 0 for two classes, so that a
    single sigmoid unit's logit is ``D[:, 1]``), and ``known[i, j]`` False where
    ``p_j`` or ``p_ref`` was at or below ``floor`` (a rounded or underflowed 0,
    whose log is unknown): those equations are left out.
    """
    A = np.asarray(answers, dtype=np.float64)
    if A.ndim == 1:
        A = A[:, None]
    if not np.all(np.isfinite(A)):
        raise ValueError("the oracle's answers hold NaN or inf.")
    if output == "logit":
        F = full_logits(A)
        known = np.ones(F.shape, dtype=bool)
    else:
        known = A > floor
        F = np.log(np.clip(A, floor, 1.0))
    ref = 0 if F.shape[1] == 2 else int(np.argmax(np.median(F, axis=0)))
    D = F - F[:, [ref]]
    known = known & known[:, [ref]]
    known[:, ref] = False
    return D, known, ref


def _solve_last_layer(H1, D, known, ref):
    """Least-squares output weights (h+1, k) given hidden features ``H1 = [H, 1]``."""
    k = D.shape[1]
    V = np.zeros((H1.shape[1], k))
    cols = [j for j in range(k) if j != ref]
    full = known[:, cols].all(axis=0)
    dense = [j for j, f in zip(cols, full) if f]
    if dense:
        V[:, dense] = np.linalg.lstsq(H1, D[:, dense], rcond=None)[0]
    for j in (j for j, f in zip(cols, full) if not f):
        rows = known[:, j]
        if rows.sum() >= 1:
            V[:, j] = np.linalg.lstsq(H1[rows], D[rows, j], rcond=None)[0]
    return V


def _hidden_features(net, X):
    acts = [X]
    act = ACTIVATIONS[net.activation]
    for W, b in zip(net.coefs_[:-1], net.intercepts_[:-1]):
        acts.append(act(acts[-1] @ W + b))
    return acts


def _projected_objective(theta, net, X, D, known, ref):
    """Variable projection: the output layer solved exactly, the hidden ones fitted.

    ``½·mean_i Σ_j known_ij·(v_j·[h(x_i), 1] − D_ij)²`` minimised over the output
    weights ``v`` in closed form; by the envelope theorem its gradient in the
    hidden weights is that of the loss at the optimal ``v``.
    """
    _set_hidden(net, theta)
    acts = _hidden_features(net, X)
    H = acts[-1]
    n = X.shape[0]
    H1 = np.hstack([H, np.ones((n, 1))])
    V = _solve_last_layer(H1, D, known, ref)
    R = np.where(known, H1 @ V - D, 0.0)
    loss = 0.5 * float(np.sum(R * R)) / n
    delta = (R @ V[:-1].T) / n
    deriv = DERIVATIVES[net.activation]
    grads_W, grads_b = [], []
    for i in range(len(net.coefs_) - 2, -1, -1):
        deriv(acts[i + 1], delta)
        grads_W.append(acts[i].T @ delta)
        grads_b.append(delta.sum(axis=0))
        if i > 0:
            delta = delta @ net.coefs_[i].T
    grads_W.reverse()
    grads_b.reverse()
    return loss, np.concatenate([g.ravel() for g in grads_W + grads_b])


def _hidden_params(net):
    return np.concatenate([p.ravel() for p in net.coefs_[:-1] + net.intercepts_[:-1]])


def _set_hidden(net, theta):
    pos = 0
    for p in net.coefs_[:-1] + net.intercepts_[:-1]:
        p[...] = theta[pos:pos + p.size].reshape(p.shape)
        pos += p.size


def _set_output_layer(net, X, D, known, ref):
    """Write the exact least-squares output layer into ``net``."""
    H = _hidden_features(net, X)[-1]
    H1 = np.hstack([H, np.ones((X.shape[0], 1))])
    V = _solve_last_layer(H1, D, known, ref)
    if net.n_outputs_ == 1:
        V = V[:, 1:2]
    net.coefs_[-1][...] = V[:-1]
    net.intercepts_[-1][...] = V[-1]


def fit_log_ratios(net, X, D, known, ref, *, max_iter=5000, tol=1e-16):
    """Fit every weight of ``net`` to the observed log-ratios.

    L-BFGS over the hidden layers with the output layer projected out (solved by
    least squares at every step); returns the final loss, ``net`` holds the
    solution.
    """
    res = minimize(
        _projected_objective, _hidden_params(net), args=(net, X, D, known, ref),
        jac=True, method="L-BFGS-B",
        options={"maxiter": int(max_iter), "maxfun": 2 * int(max_iter), "ftol": tol,
                 "gtol": 1e-12, "maxcor": 30},
    )
    _set_hidden(net, res.x)
    _set_output_layer(net, X, D, known, ref)
    return float(res.fun)


@register
class MLPEquationSolving(Attack):
    """Fit every weight of an MLP of known architecture to its returned confidences.

    Tramèr et al. treat the h(d+1) + c(h+1) weights of a one-hidden-layer
    perceptron as unknowns and solve the non-linear system given by the returned
    probabilities by minimising a loss over the queried points. Here each answer
    is turned into its log-ratios ``log p_j − log p_top`` (which equal the logit
    differences exactly), and all weights are fitted to them by L-BFGS with
    random restarts; the best restart is kept. Probabilities at or below the
    floor (rounded or underflowed to 0) only bound their log-ratio from above and
    enter as one-sided residuals.

    Query points are drawn uniformly from the oracle's domain, as in the paper.
    (Choosing the rest of the queries where the restarts disagree most, query by
    committee, was tried and did worse: the first half alone leaves the system
    under-determined and the chosen points pull the fit towards the wrong basin.)
    Restarts stop at the first that fits the answers exactly.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(20,)
        The victim's architecture (known to the attacker, as in the paper).
    activation : str, default="tanh"
    n_queries : int, default=None
        Queries to spend; default: the number of unknowns.
    n_restarts : int, default=4
        Random initialisations tried at most (Glorot-uniform, as scikit-learn).
    max_iter : int, default=5000
        L-BFGS iterations per restart.
    floor : float, default=None
        Probabilities at or below it are treated as bounds, not values.
        Default: half the rounding unit of rounded answers, else 1e-10.
    random_state : int, Generator or None

    Notes
    -----
    Unknowns: ``k = Σ_l (n_l + 1)·n_{l+1}``, e.g. h(d+1) + c(h+1) = 2,225 for
    Adult (d = 105, c = 5) with h = 20; one softmax answer gives c − 1 equations,
    so k/(c − 1) queries already determine the system in general position.
    The fitted loss is ``½·mean_i Σ_j ((z_j − z_ref)(x_i) − (log p_j − log p_ref)(x_i))²``
    with the output layer projected out (variable projection: for fixed hidden
    weights it is a linear least-squares problem, solved exactly at every step),
    which converges where fitting all weights jointly stalls in flat regions.
    Status ``"success"`` when the best restart fits the answers to an RMS residual
    below 1e-4 in log-odds, ``"approximate"`` otherwise.

    References
    ----------
    .. [1] F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart. "Stealing
       Machine Learning Models via Prediction APIs". USENIX Security 2016.

    Examples
    --------
    >>> from mlextract.nn import Network
    >>> from mlextract.oracles import Domain, LocalOracle
    >>> victim = Network.random([4, 3, 3], activation="tanh", random_state=0)
    >>> oracle = LocalOracle(victim, output="proba", domain=Domain([-1] * 4, [1] * 4))
    >>> attack = MLPEquationSolving(hidden_layer_sizes=(3,), n_restarts=2, random_state=0)
    >>> result = attack.extract(oracle)
    >>> result.n_queries, result.status
    (27, 'success')
    """

    name = "mlp_equation_solving"
    outputs = ("proba", "logit")

    def __init__(self, *, hidden_layer_sizes=(20,), activation="tanh", n_queries=None,
                 n_restarts=4, max_iter=5000, floor=None,
                 random_state=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.n_queries = n_queries
        self.n_restarts = n_restarts
        self.max_iter = max_iter
        self.floor = floor
        self.random_state = random_state

    def _validate_params(self):
        hidden = self.hidden_layer_sizes
        if isinstance(hidden, (int, np.integer)):
            hidden = (hidden,)
        if len(tuple(hidden)) == 0 or any(
            isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1
            for h in hidden
        ):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers; got {self.hidden_layer_sizes!r}."
            )
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)}; got {self.activation!r}."
            )
        check_positive_int(self.n_queries, "n_queries", allow_none=True)
        check_positive_int(self.n_restarts, "n_restarts")
        check_positive_int(self.max_iter, "max_iter")
        if self.floor is not None and not (0 < self.floor < 1):
            raise ValueError(f"floor must lie in (0, 1); got {self.floor!r}.")

    def _check_oracle(self, oracle):
        if oracle.domain is None:
            raise ValueError(
                "MLPEquationSolving samples the oracle's domain, and this oracle has none; "
                "build it with domain=Domain(...) or Domain.from_data(X)."
            )

    # ------------------------------------------------------------- the phases
    def _architecture(self, oracle, n_classes):
        hidden = self.hidden_layer_sizes
        hidden = (hidden,) if isinstance(hidden, (int, np.integer)) else tuple(hidden)
        n_out = 1 if n_classes == 2 else n_classes
        return [oracle.domain.n_features, *hidden, n_out]

    def _solve(self, sizes, classes, X, A, output, floor, run):
        """Restarts of the fit; stop at the first exact one. Returns the RMS residual."""
        D, known, ref = log_ratio_targets(A, output, floor=floor)
        out = "sigmoid" if sizes[-1] == 1 else "softmax"
        losses, best = [], np.inf
        n_eq = max(1, int(known.sum()))
        for _ in range(int(self.n_restarts)):
            net = Network.random(sizes, activation=self.activation, output=out,
                                 classes=classes, random_state=run.rng)
            loss = fit_log_ratios(net, X, D, known, ref, max_iter=self.max_iter)
            losses.append(loss)
            if loss < best:
                best = loss
                run.model = NumpyMLPClassifier.from_network(net)
            if np.sqrt(2.0 * loss * X.shape[0] / n_eq) < 1e-6:
                break
        run.info["restart_losses"] = losses
        run.info["n_equations"] = int(known.sum())
        return float(np.sqrt(2.0 * best * X.shape[0] / n_eq))

    def _extract(self, run: Run) -> None:
        oracle, rng = run.oracle, run.rng
        dom = oracle.domain
        probe = None
        if oracle.classes_ is None:
            probe = dom.sample(1, random_state=rng)
            A0 = oracle.query(probe, phase="probe")
            classes = oracle_classes(oracle, A0)
        else:
            classes = np.asarray(oracle.classes_)
        sizes = self._architecture(oracle, len(classes))
        n_unknowns = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
        wanted = n_unknowns if self.n_queries is None else int(self.n_queries)
        n = affordable(run, wanted)
        run.info["n_unknowns"] = n_unknowns
        X = dom.sample(max(n, 1), random_state=rng)
        touch_budget(run, X, "uniform")
        X = X[:n]
        A = oracle.query(X, phase="uniform")
        if probe is not None:
            X, A = np.vstack([probe, X]), np.concatenate([A0, A])
        floor = self.floor
        if floor is None:
            floor = answer_resolution(A) if oracle.output == "proba" else None
            floor = 1e-10 if floor is None or floor < 1e-10 else floor
        rms = self._solve(sizes, classes, X, A, oracle.output, floor, run)
        run.info["rms_log_ratio_residual"] = rms
        run.info["floor"] = floor
        if n < wanted:
            run.status = "budget_exhausted"
            run.message = f"the budget allowed {n} of {wanted} queries; fitted on those."
        elif run.info["n_equations"] <= n_unknowns:
            run.status = "approximate"
            run.message = (
                f"{run.info['n_equations']} equations for {n_unknowns} unknowns: the fit "
                f"(RMS residual {rms:.2g}) need not be the victim; ask more queries (each "
                "answer of c classes gives c - 1 equations)."
            )
        elif rms > 1e-4:
            run.status = "approximate"
            run.message = (
                f"the best of {self.n_restarts} restarts fits the answers to an RMS "
                f"log-odds residual of {rms:.2g}; more queries or restarts may help."
            )
