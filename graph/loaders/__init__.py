"""Per-request dataloaders: specs declared once per area (``<area>.py``), the request's registry
(``request.py``) and the declaration types (``spec.py``). Area modules import db/ and domain/ only.
"""
