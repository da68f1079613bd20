"""The inspector viewer: a torch-free web page over a results folder, with verdicts in SQLite.

``app.ViewerApp`` (WSGI) serves the page and API; ``server`` runs it with the standard library;
``index`` reads the results folder; ``auth`` holds inspectors and sessions; ``verdicts`` records
box and parcel verdicts with an append-only audit log (``db``); ``feedback`` exports them as COCO.
"""
