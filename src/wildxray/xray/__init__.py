"""Dual-energy X-ray physics, material tables, the derivation of the colour bands, operator screen
styles, parcel-scan synthesis and threat image projection. The raw -> RGB encoding the station uses
is one layer down, ``wildxray.core.colour`` (numpy-only); the simulator modules (``physics``,
``synth``, ``stream``, ``tip_dataset``) need ``wildxray[train]``.
"""
