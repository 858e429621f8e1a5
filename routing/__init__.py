"""The domain core, in four rooms, each importing only the rooms before it:

- ``routing.store`` — storage: the Base and sessions, the ORM models, the
  job queue and its workers, migrations;
- ``routing.dispatch`` — which agency: rules, the learned agency, places,
  reference data, corrections, matters;
- ``routing.flow`` — the workflow: opening and routing tickets, the steps,
  deadlines and the calendar, escalation, assisting, the sweep;
- ``routing.reports`` — the read side: queues, lists, statistics,
  scorecards, the monthly report.

``routing.clock`` (the city's time) and ``routing.texts`` (translatable
domain errors) are shared by every room and import nothing of routing.
``tests/test_layers.py`` fails when an import runs the other way.
"""

from routing import store  # noqa: F401  (registers every table on Base.metadata)
