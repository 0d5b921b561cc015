"""Neural networks in numpy, and the deep-network attacks."""

from ._network import ACTIVATIONS, OUTPUT_ACTIVATIONS, Network

__all__ = ["ACTIVATIONS", "OUTPUT_ACTIVATIONS", "Network"]
