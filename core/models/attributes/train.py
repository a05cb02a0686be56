"""Fitting the attribute network: class weights, the masked loss, the mini-batch schedule, the training loop."""

from __future__ import annotations

import time
import warnings
from typing import Any, Callable

import numpy as np
import pandas as pd

from core.errors import Problem, ValidationError
from core.models.attributes.features import Encoder, LabelSpace, attribute_names, check_catalogue
from core.models.attributes.network import build_network, tensors
from core.models.attributes.params import AttributeParams

Progress = Callable[[float, dict[str, float]], None]

# torch is imported inside the functions, as in network.py.


def class_weights(labels: np.ndarray, n_classes: int, power: float) -> np.ndarray:
    """float32 (n_classes,): (n / (k · count))^power over the labels present (labels ≥ 0), mean 1 over the samples."""
    present = labels[labels >= 0]
    counts = np.bincount(present, minlength=n_classes).astype(float)
    if power == 0 or present.size == 0:
        return np.ones(n_classes, dtype=np.float32)
    weights = np.where(counts > 0, (present.size / (n_classes * np.maximum(counts, 1))) ** power, 0.0)
    weights /= max((weights[present]).mean(), 1e-12)
    return weights.astype(np.float32)


def masked_loss(logits: list, labels, weights: list):  # noqa: ANN001, ANN201 — torch tensors
    """Σ over attributes of the class-weighted mean cross-entropy over the rows whose label is present.

    labels: int64 (b, A), -1 = missing. Missing cells are dropped by indexing before the loss is computed,
    so their content is never read (a -1 given to cross_entropy would raise).
    """
    import torch  # noqa: PLC0415 — torch loads only where a model trains (seconds)
    import torch.nn.functional as F  # noqa: PLC0415

    total = logits[0].new_zeros(())
    for j, z in enumerate(logits):
        rows = torch.nonzero(labels[:, j] >= 0, as_tuple=True)[0]
        if rows.numel() == 0:
            continue
        target = labels.index_select(0, rows)[:, j]
        total = total + F.cross_entropy(z.index_select(0, rows), target, weight=weights[j])
    return total


def fit(catalogue: pd.DataFrame, attributes: list[str] | None, params: AttributeParams, image: np.ndarray | None = None,
        progress: Progress | None = None) -> tuple[Encoder, LabelSpace, Any, list[dict[str, float]]]:
    """Fit on the labelled cells of `catalogue` (generic schema; attr_<name> columns are the targets).

    image: optional float32 (n, D) aligned to the rows. progress(fraction, metrics) is called once per epoch.
    Returns (encoder, label space, torch network in eval mode, one record per epoch).
    """
    import torch  # noqa: PLC0415

    check_catalogue(catalogue)
    names = attribute_names(catalogue, attributes)
    if not names:
        raise ValidationError([Problem("catalogue", None, None, "no attr_<name> column with at least two values: "
                                       "add attribute columns to the catalogue to train the attribute model")])
    torch.set_num_threads(params.threads)
    torch.manual_seed(params.seed)
    rng = np.random.default_rng(params.seed)
    space = LabelSpace.fit(catalogue, names, params)
    labels = space.encode(catalogue)
    encoder = Encoder.fit(catalogue, params, 0 if image is None else image.shape[1])
    inputs = encoder.encode(catalogue, image)
    net = build_network(encoder, space, params)
    weights = [torch.from_numpy(class_weights(labels[:, j], len(space.classes[a]), params.class_weight_power))
               for j, a in enumerate(names)]
    # The text tables get sparse gradients (only the rows a batch touches) and Adagrad; a dense Adam over
    # the whole table cost 4x more per step on the shared 2 cores.
    warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")
    sparse = ("text.", "words.")
    text_opt = torch.optim.Adagrad([p for n, p in net.named_parameters() if n.startswith(sparse)], lr=params.text_lr)
    dense_opt = torch.optim.AdamW([p for n, p in net.named_parameters() if not n.startswith(sparse)],
                                  lr=params.lr, weight_decay=params.weight_decay, foreach=True)
    label_tensor = torch.from_numpy(labels)
    history: list[dict[str, float]] = []
    steps = _schedule(labels, params, rng)
    total_steps = sum(len(s) for s in steps)
    done = 0
    for epoch, epoch_steps in enumerate(steps):
        net.train()
        started, running, count = time.perf_counter(), 0.0, 0
        for task, rows in epoch_steps:
            logits = net(*tensors(inputs.rows(rows)))
            batch_labels = label_tensor[torch.from_numpy(rows)]
            if task >= 0:  # ASOS: only this attribute's head (its dataset holds only rows labelled for it)
                batch_labels = _only(batch_labels, task)
            loss = masked_loss(logits, batch_labels, weights)
            text_opt.zero_grad()
            dense_opt.zero_grad()
            loss.backward()
            text_opt.step()
            dense_opt.step()
            running, count = running + float(loss.detach()), count + 1
        done += len(epoch_steps)
        record = {"epoch": epoch + 1, "loss": running / max(count, 1),
                  "items_per_s": sum(len(r) for _, r in epoch_steps) / max(time.perf_counter() - started, 1e-9)}
        history.append(record)
        if progress is not None:
            progress(done / max(total_steps, 1), record)
    net.eval()
    return encoder, space, net, history


def _only(labels, task: int):  # noqa: ANN001, ANN202
    import torch  # noqa: PLC0415

    masked = torch.full_like(labels, -1)
    masked[:, task] = labels[:, task]
    return masked


def _schedule(labels: np.ndarray, params: AttributeParams,
              rng: np.random.Generator) -> list[list[tuple[int, np.ndarray]]]:
    """Per epoch, the (task, row indices) mini-batches. masked: task -1 over items with ≥ 1 label;
    tasks: each attribute's labelled rows in its own batches, the tasks' batches interleaved in random order."""
    epochs = []
    bs = params.batch_size
    for _ in range(params.epochs):
        if params.mode == "masked":
            rows = rng.permutation(np.flatnonzero((labels >= 0).any(axis=1)))
            epochs.append([(-1, rows[s:s + bs]) for s in range(0, len(rows), bs)])
        else:
            batches = []
            for j in range(labels.shape[1]):
                rows = rng.permutation(np.flatnonzero(labels[:, j] >= 0))
                batches += [(j, rows[s:s + bs]) for s in range(0, len(rows), bs)]
            order = rng.permutation(len(batches))
            epochs.append([batches[k] for k in order])
    return epochs


