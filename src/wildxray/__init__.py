"""wildxray: find wildlife contraband in parcel X-ray scans and photos.

The package is split so that a scanner station needs only numpy, OpenCV and onnxruntime:
``wildxray.runtime`` and ``wildxray.station`` never import torch. Training code lives in
``wildxray.models``, ``wildxray.training`` and ``wildxray.export`` and needs ``wildxray[train]``.
"""

__version__ = "0.1.0"
