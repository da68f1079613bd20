"""Parcel content: shape builder, parcels, benign clutter, look-alike decoys and contraband.

Every generator is ``fn(rng, ppc) -> Item`` with ``ppc`` pixels per cm; sizes are drawn in cm from
the literature or catalogues so they scale with the scanner's pixel pitch.
"""
