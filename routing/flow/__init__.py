"""The workflow (办理): opening and routing a ticket, its steps and who may
take them, ratings and deputies' suggestions, deadlines in working days and
the calendar, warnings and escalation, assisting agencies, the sweep and bulk
steps, the quick lane and public lookups.

May import: ``routing.dispatch``, ``routing.store`` and the shared basics.
"""
