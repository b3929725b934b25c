"""Arrow's memory pool for an assessment: jemalloc where this pyarrow build has it.

A million users per side allocate and free gigabytes of Arrow buffers; measured at 1M, jemalloc gives freed memory
back to the system sooner than the default (mimalloc) pool, so the peak resident memory of a whole assessment is
about 0.4 GB lower, and the kernel spends less time faulting fresh pages in. Nothing else changes: every buffer
keeps working whichever pool allocated it.

Freed pages go back to the system after ``DECAY_MS`` instead of Arrow's one second (Arrow's jemalloc settings,
``cpp/src/arrow/memory_pool_jemalloc.cc``: ``dirty_decay_ms:1000``, purged by jemalloc's background thread): the
readers, the engine and the readiness rules free large arrays every few hundred milliseconds, and at 1M users a
second's worth of them is 0.3-0.5 GB of the peak. Measured on the 1M bench tenant, ``hybridx assess`` from export
files, three runs each: peak 5.10-5.62 GB at 1000 ms, 4.82-5.07 GB at 250 ms, wall time within the runs' spread
(25.6-26.6 s against 26.1-26.7 s); 100 ms cost about 1.5 s more system time for little more.
"""

from __future__ import annotations

import os

import pyarrow as pa

DECAY_MS = 250


def use_jemalloc() -> str:
    """Make jemalloc Arrow's default pool (unless ``ARROW_DEFAULT_MEMORY_POOL`` chooses one); returns the pool used."""
    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        try:
            pa.set_memory_pool(pa.jemalloc_memory_pool())
            if not os.environ.get("JE_ARROW_MALLOC_CONF"):  # a jemalloc setting given by hand is kept
                pa.jemalloc_set_decay_ms(DECAY_MS)
        except (NotImplementedError, pa.ArrowNotImplementedError):  # a build without jemalloc keeps its default
            pass
    return pa.default_memory_pool().backend_name
