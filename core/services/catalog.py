"""Every job kind and the function that runs it: what the entry points hand the job runner."""

from __future__ import annotations

import importlib
import os
from types import MappingProxyType
from typing import Any

from core.jobs import Catalog, JobFunction


class LazyJob:
    """A job function named "module:function", imported when a job runs, not when one is queued or listed.

    Queuing the starter training imported torch and scikit-learn (6 s on 2 cores) in `make run`'s first step,
    before the server could start; a Subprocess worker imports what it runs itself. Pickles by its name (Dask).
    """

    def __init__(self, target: str) -> None:
        self.target = target

    def resolve(self) -> JobFunction:
        module, _, name = self.target.partition(":")
        function: JobFunction = getattr(importlib.import_module(module), name)
        return function

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self.resolve()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"LazyJob({self.target!r})"


# Job kind -> its function (tests/infra/test_jobs.py holds each kind equal to its module's KIND).
KINDS: dict[str, JobFunction] = {kind: LazyJob(target) for kind, target in {
    "affinity": "core.services.affinity_training:train_affinity",
    "attributes": "core.services.attribute_training:train_attributes",
    "long_tail": "core.services.long_tail:train_long_tail",
    "complementary": "core.services.outfit_training:train_complementary",
    "affinity_table": "core.services.affinity_table:score_table_job",
    "affinity_compare": "core.services.affinity_eval:compare_job",
    "starter_models": "core.services.starter_models:train_starter_models",
}.items()}
# Tests add kinds through the environment, not a register() call: a submitted job runs in a fresh
# `python -m core jobs run` process that inherits the environment but none of the test process's state.
# ATELIER_JOB_KIND_MODULES names (space-separated) modules whose JOB_KINDS dict joins the catalog.
EXTRA_KIND_MODULES = "ATELIER_JOB_KIND_MODULES"


def job_catalog() -> Catalog:
    """Job kind -> function: KINDS, plus the JOB_KINDS of the modules named in ATELIER_JOB_KIND_MODULES."""
    extra: dict[str, JobFunction] = {}
    for module in os.environ.get(EXTRA_KIND_MODULES, "").split():
        extra.update(importlib.import_module(module).JOB_KINDS)
    return MappingProxyType({**KINDS, **extra})
