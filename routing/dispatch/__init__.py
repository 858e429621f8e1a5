"""Dispatch (分派): which agency a ticket belongs to. The routing rules and
their conditions, the learned agency and when it wins, places and
coordinates, reference data read once per batch, dispatchers' corrections,
and matters (the duplicate index and hot issues).

May import: ``routing.store`` and the shared basics (``routing.clock``,
``routing.texts``).
"""
