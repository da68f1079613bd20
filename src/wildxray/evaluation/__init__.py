"""wildxray.evaluation: how good is a model at screening parcels, and at which thresholds to run it.

Modules (import them directly; nothing is re-exported so that the numpy-only ones stay light):

- ``records``        per-parcel ground truth + detections (``ParcelRecord``), from COCO dicts.
- ``calibration``    ``calibrate_operating_point``: per-class thresholds for a target false-alarm rate.
- ``parcel_metrics`` parcel ROC, AUC, detection rate at fixed false-alarm rates, operating point, per scanner.
- ``froc``, ``matching``  box-level FROC and confusion matrix.
- ``bootstrap``      stratified bootstrap percentile intervals (``Estimate``).
- ``inference``      run an ``OnnxDetector`` over a COCO set.
- ``coco_metrics``   COCO mAP via pycocotools (training extras).
- ``evaluate``       the composition root: ``evaluate`` -> ``EvalResult``; ``run_onnx_evaluation``;
                     ``evaluate_from_config`` (what ``wildxray evaluate`` runs).
- ``result``         ``EvalResult``: every figure of one evaluation, ``metrics.json``'s content.
- ``model_calibration``  ``calibrate_model`` and ``write_operating_point``: what ``wildxray calibrate`` runs
                     (ONNX model + COCO set -> thresholds in the model card).
- ``gallery``, ``plots``, ``report``  the self-contained HTML report (matplotlib, training extras).

The numpy-only modules (records, calibration, parcel_metrics, froc, matching, bootstrap, inference)
run on a station install; the parcel decision itself is ``wildxray.runtime.decision``.
"""
