"""Batch stylisation: many photos, one rules file (or one beside each photo), resumable after any crash.

``find_inputs`` (files, folders, glob patterns) -> ``plan_batch`` (per-image rules, output names,
up-front refusals) -> ``run_batch`` (one shared :class:`~regionstyle.session.Session`, so encoders,
segmenters, exemplars and style targets are built once; per image: fingerprint, skip when up to date,
else stylise, write the image, then its manifest). Outcomes and progress go to callbacks; nothing here
prints (the ``regionstyle batch`` command draws the bars).

Crash safety: an output's manifest (``OUT.json``) is first replaced by a ``"started"`` marker, then the
image is written atomically, then the manifest with status ``"complete"``, the fingerprint and the image's
hash. A complete manifest thus implies a complete, matching image, and a run killed at any moment (SIGKILL
included) loses only the image in flight.

``ray_cluster.run_on_ray`` does the same per-image work on the workers of a Ray cluster (the ``ray`` extra;
never imported by this package).
"""

from regionstyle.batch.inputs import Found, find_inputs
from regionstyle.batch.plan import BatchItem, BatchOptions, plan_batch
from regionstyle.batch.run import BatchEvent, BatchInterrupted, BatchSummary, run_batch

__all__ = ["BatchEvent", "BatchInterrupted", "BatchItem", "BatchOptions", "BatchSummary", "Found",
           "find_inputs", "plan_batch", "run_batch"]
