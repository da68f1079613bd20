"""wildxray.models: backbone, PAN neck, decoupled head, detector and exportable post-processing.

Build one from a config with ``hydra.utils.instantiate(cfg.model.detector, num_classes=C)`` or
directly with :func:`wildxray.models.build.build_detector`.
"""

from wildxray.models.build import build_detector
from wildxray.models.detector import Detector
from wildxray.models.postprocess import decode_and_nms

__all__ = ["Detector", "build_detector", "decode_and_nms"]
