"""wildxray.data: image I/O, COCO/YOLO datasets, augmentation presets, torch dataset and sampler.

Modules (import the one you need; this package imports nothing so that the torch-free station can
use ``wildxray.data.io`` alone):
- ``io``: ``read_image``, ``write_image``, ``write_dual_energy_tiff``, ``to_model_image`` (torch-free)
- ``image_header``: header-only size reading, the decompression-bomb guard (torch-free)
- ``errors``: ``ImageReadError``, ``DatasetError``, ``Problem``
- ``coco``: ``load_coco``, ``CocoDataset``, ``validate_coco``, ``make_coco``, ``save_coco``
- ``yolo``: ``yolo_to_coco``, ``coco_to_yolo``
- ``augment``: ``build_transforms``, ``PRESETS`` (albumentations)
- ``torch_dataset``: ``DetectionDataset``, ``collate`` (torch)
- ``sampler``: ``RepeatFactorSampler``, ``repeat_factors`` (torch)
"""
