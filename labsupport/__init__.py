"""labsupport: what every lab of Systems Design Fundamentals calls.

    from labsupport import services, plot, measure, record, check
    r = services.redis()                 # a real server on 127.0.0.1, reaped at exit
    record("hit_rate", 0.42)             # a measured value the book quotes and the tests assert
    check("caching.hit-rate", answer)    # an auto-checked exercise

Modules: services (start real servers, fault proxy), apps (the server programs: FastAPI, gRPC, DNS),
drivers (the clients a lab runs against them: users, fleets, receipts, replays, raw sockets),
workload (seeded key popularity and answer lengths), sim (seeded simpy models), encoding, hashing,
plot, measure, widgets, check, results. For the distributed chapters: clusters (several real nodes
and one faultable network between them) and history (what clients saw, checked: stale reads, session
guarantees, linearizability). For chapter 7: engines (embedded RocksDB, graph, vectors), datagen,
sql_workloads. For chapter 11: resilience (limiters, breaker, retries, idempotency, queueing model).
``python -m labsupport doctor`` checks the machine.
"""

__version__ = "0.1.0"

import os as _os

# gRPC's fork support can hang or abort a child forked while gRPC threads are busy; labs fork servers
# often. It must be set before grpc is first imported, which is why it lives here.
_os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

from .check import check, reveal  # noqa: E402
from .results import record  # noqa: E402

__all__ = ["check", "record", "reveal", "__version__"]
