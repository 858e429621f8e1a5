"""Storage (存储): the SQLAlchemy Base and sessions, the ORM models split by
aggregate (tickets, people, areas, configuration, oversight, deputies, the
knowledge base), the job queue and its workers, idempotency keys, API
clients, the configuration audit trail, batched writes and the Alembic
migrations.

May import: ``routing.clock`` and ``routing.texts``. Nothing here knows the
workflow, the routing decision or the reports.
"""

# Every table on Base.metadata, for the migrations, the tests and the mapper
# (relationships name classes of other modules).
from routing.store import (  # noqa: F401
    access_log,
    answering,
    api_clients,
    blobs,
    areas,
    callbacks,
    configuration,
    contacts,
    deputies,
    idempotency,
    imports,
    jobs,
    knowledge,
    oversight,
    people,
    retraining,
    tickets,
)
