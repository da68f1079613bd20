"""wildxray.core: the bottom layer, the torch-free primitives every other part stands on.

It imports nothing of wildxray outside itself (a test parses every module here to hold that) and
nothing beyond numpy, OpenCV and the standard library at import time (tifffile and pydicom load when
a TIFF or DICOM is read), so ``data``, ``xray``, ``runtime``, ``station``, ``evaluation`` and
``export`` can all use it without importing each other. Modules (import the one you need):

- ``image_io``: ``read_image``, ``write_image``, ``write_dual_energy_tiff``, ``to_model_image``
- ``image_header``: header-only size reading, the decompression-bomb guard
- ``errors``: ``ImageReadError`` (a file that cannot be read), ``DatasetError`` and ``Problem``
  (a dataset record that fails validation)
- ``letterbox``: ``letterbox``, ``letterbox_shape`` and the box mappings, the one implementation
  (DESIGN.md, "The ONNX model")
- ``colour``: ``encode_dual_energy``, raw dual energy -> the model's 3-channel 8-bit input, and the
  colour bands it reads (``colour_bands.json``, derived by ``wildxray.xray.colour_bands``)
- ``atomic_write``: ``atomic_write_bytes``, a file no reader ever sees half of
"""
