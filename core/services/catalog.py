"""Every job kind and the function that runs it: what the entry points hand the job runner."""

from __future__ import annotations

import importlib
import os
from types import MappingProxyType

from core.jobs import Catalog, JobFunction
from core.services import (affinity_eval, affinity_table, affinity_training, attribute_training, long_tail,
                           outfit_training, starter_models)

KINDS: dict[str, JobFunction] = {
    affinity_training.KIND: affinity_training.train_affinity,
    attribute_training.KIND: attribute_training.train_attributes,
    long_tail.KIND: long_tail.train_long_tail,
    outfit_training.KIND: outfit_training.train_complementary,
    affinity_table.KIND: affinity_table.score_table_job,
    affinity_eval.KIND: affinity_eval.compare_job,
    starter_models.KIND: starter_models.train_starter_models,
}
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
