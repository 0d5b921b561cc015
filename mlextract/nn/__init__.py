"""Neural networks in numpy, and the deep-network attacks."""

from ._estimator import NumpyMLPClassifier
from ._layers import answer_resolution, distillation_loss, soft_targets
from ._mlp_equation_solving import MLPEquationSolving
from ._network import ACTIVATIONS, OUTPUT_ACTIVATIONS, Network
from ._optimizers import SGD, Adam
from ._training import TrainingHistory, train

__all__ = [
    "ACTIVATIONS",
    "OUTPUT_ACTIVATIONS",
    "SGD",
    "Adam",
    "MLPEquationSolving",
    "Network",
    "NumpyMLPClassifier",
    "TrainingHistory",
    "answer_resolution",
    "distillation_loss",
    "soft_targets",
    "train",
]
