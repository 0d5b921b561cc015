"""Contract case for mlp_equation_solving: a seeded 6-4-3 tanh network."""

from mlextract.nn import Network
from mlextract.oracles import Domain, LocalOracle


def make_case(random_state):
    victim = Network.random([6, 4, 3], activation="tanh", random_state=random_state)
    oracle = LocalOracle(victim, output="proba", domain=Domain([-1] * 6, [1] * 6))
    return oracle, {"hidden_layer_sizes": (4,), "n_restarts": 2}, 43
