"""Parcel content: shape builder, parcels, benign clutter, look-alike decoys and contraband.

Every item generator (contraband, clutter, decoy) is ``fn(rng, ppc) -> ItemBuilder`` with ``ppc``
pixels per cm; ``wildxray.xray.xray_catalogue`` builds it into an ``Item`` with its kind, role and
label. Containers come from ``parcels.make_parcel``, which returns the ``Item`` and its interior.
Sizes are drawn in cm from the literature or catalogues so they scale with the scanner's pixel pitch.
"""
