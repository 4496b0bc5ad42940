"""Help texts of the scale-out options shared by ``run`` and ``baseline`` (SPEC §19)."""

from ..scale import SCHEDULER_ENV

JOBS_HELP = "independent units run on J Dask worker processes (1: inline, no cluster)"
SCHEDULER_HELP = f"submit to an existing Dask scheduler (default ${SCHEDULER_ENV}); the workspace must be shared"
