"""Defenses: answer perturbations, query-stream detectors and watermarks."""

from ..oracles import LabelOnly, Rounded, TopK
from ._detector import Detector
from ._keyed import keyed_normals, keyed_uniforms
from ._ood import OODDetector
from ._perturbations import MAD, Defense, GaussianNoise, RandomFlips, ReverseSigmoid, utility_cost
from ._prada import PRADA, prada_statistic
from ._tree_monitor import TreeMonitor
from ._watermark import Watermark, verify_watermark

#: Answer perturbations that can be built from (oracle, **numbers): the server's
#: ``--defense NAME:k=v`` looks names up here.
DEFENSES = {
    "rounded": Rounded,
    "top_k": TopK,
    "label_only": LabelOnly,
    "gaussian_noise": GaussianNoise,
    "reverse_sigmoid": ReverseSigmoid,
    "random_flips": RandomFlips,
    "watermark": Watermark,
}

#: Detectors that can be built from numbers alone (the server's ``--detector``).
DETECTORS = {"prada": PRADA}

__all__ = [
    "DEFENSES",
    "DETECTORS",
    "MAD",
    "PRADA",
    "Defense",
    "Detector",
    "GaussianNoise",
    "LabelOnly",
    "OODDetector",
    "RandomFlips",
    "ReverseSigmoid",
    "Rounded",
    "TopK",
    "TreeMonitor",
    "Watermark",
    "keyed_normals",
    "keyed_uniforms",
    "prada_statistic",
    "utility_cost",
    "verify_watermark",
]
