"""Procedural photos of seized wildlife goods and look-alikes (the photo modality's test-bed).

numpy + OpenCV only; nothing here imports torch. The photos are synthetic: good for tests, demos
and a first model, not a substitute for real, labelled listing or parcel photos.
"""

from wildxray.photo.dataset import iter_photos, write_photo_dataset
from wildxray.photo.generator import PhotoSynthesizer, SynthPhoto

__all__ = ["PhotoSynthesizer", "SynthPhoto", "iter_photos", "write_photo_dataset"]
