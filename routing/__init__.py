"""The domain core: tickets, agencies, rules, workflow, deadlines, the
working-day calendar, jobs; owns the SQLAlchemy Base and sessions."""

from . import idempotency, jobs, models  # noqa: F401  (register every table on Base.metadata)
