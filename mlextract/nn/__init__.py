"""Neural networks in numpy, and the deep-network attacks."""

from ._distillation import (
    TemperatureDistillation,
    downsample,
    feature_mask,
    feature_noise,
    on_fraction,
    select_similar,
)
from ._estimator import NumpyMLPClassifier
from ._functionally_equivalent import FunctionallyEquivalent, answers_to_logits
from ._jacobian import JacobianAugmentation, jacobian_step, reservoir_sample
from ._knockoff import KnockoffNets, bandit_rewards
from ._layers import answer_resolution, distillation_loss, soft_targets
from ._mlp_equation_solving import MLPEquationSolving
from ._network import ACTIVATIONS, OUTPUT_ACTIVATIONS, Network
from ._optimizers import SGD, Adam
from ._semi_supervised import SemiSupervised, pseudo_labels
from ._sign_recovery import LinearSkipNetwork
from ._training import TrainingHistory, train

__all__ = [
    "ACTIVATIONS",
    "OUTPUT_ACTIVATIONS",
    "SGD",
    "Adam",
    "FunctionallyEquivalent",
    "JacobianAugmentation",
    "KnockoffNets",
    "LinearSkipNetwork",
    "MLPEquationSolving",
    "Network",
    "NumpyMLPClassifier",
    "SemiSupervised",
    "TemperatureDistillation",
    "TrainingHistory",
    "answer_resolution",
    "answers_to_logits",
    "bandit_rewards",
    "distillation_loss",
    "downsample",
    "feature_mask",
    "feature_noise",
    "on_fraction",
    "jacobian_step",
    "pseudo_labels",
    "reservoir_sample",
    "select_similar",
    "soft_targets",
    "train",
]
