"""Contract case for ``functionally_equivalent``: a seeded 6-4-1 ReLU network, logits."""

import numpy as np

from mlextract.nn import Network
from mlextract.oracles import LocalOracle


def make_case(random_state):
    rng = np.random.default_rng(random_state)
    victim = Network([rng.normal(size=(6, 4)) / np.sqrt(6), rng.normal(size=(4, 1)) / 2],
                     [rng.normal(size=4) * 0.1, np.zeros(1)], output="identity")
    return LocalOracle(victim, output="logit", n_features=6), {}, 5000
