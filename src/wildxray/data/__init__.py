"""wildxray.data: COCO/YOLO datasets, masks, augmentation presets, torch dataset and sampler.

Image reading, the input errors and letterbox live one layer down, in ``wildxray.core``.
Modules (import the one you need; this package imports nothing):
- ``coco``: ``load_coco``, ``CocoDataset``, ``validate_coco``, ``make_coco``, ``save_coco``
- ``masks``: COCO RLE <-> per-item masks (pycocotools)
- ``yolo``: ``yolo_to_coco``, ``coco_to_yolo``
- ``presize``: ``PresizedSource``: large training images shrunk once (kept in RAM or on disk)
- ``augment``: ``build_transforms``, ``PRESETS`` (albumentations)
- ``mosaic``: ``Mosaic``, ``build_mosaic``: four samples tiled 2 x 2 (``augment.mosaic_prob``, off as shipped)
- ``torch_dataset``: ``DetectionDataset``, ``collate`` (torch)
- ``sampler``: ``RepeatFactorSampler``, ``repeat_factors`` (torch)
"""
