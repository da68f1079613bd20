"""Dual-energy X-ray physics, material tables, colour maps, parcel-scan synthesis and threat image
projection. Imports nothing heavy: ``wildxray.xray.colour`` (numpy-only) is what the station uses;
the simulator modules (``physics``, ``synth``, ``stream``, ``tip_dataset``) need ``wildxray[train]``.
"""
