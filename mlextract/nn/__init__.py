"""Neural networks in numpy, and the deep-network attacks."""

from ._network import ACTIVATIONS, OUTPUT_ACTIVATIONS, Network

__all__ = ["ACTIVATIONS", "OUTPUT_ACTIVATIONS", "Network"]

from ._functionally_equivalent import FunctionallyEquivalent, answers_to_logits  # noqa: E402
from ._sign_recovery import LinearSkipNetwork  # noqa: E402

__all__ += ["FunctionallyEquivalent", "LinearSkipNetwork", "answers_to_logits"]
