"""ArtifactStore: round trip, and every kind of damage is refused before anything is deserialised."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from core.artifacts import MANIFEST, ArtifactStore, arrays_to_torch_state, torch_state_to_arrays
from core.errors import ArtifactError


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "artifacts")


def _arrays(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "item_factors": rng.normal(size=(50, 8)).astype(np.float32),
        "item_ids": np.array(["00123", "NA", "null", "1e5", "é-ü"] * 10, dtype=object),
        "bias": rng.normal(size=50),
    }


class Boom:
    """A pickle payload that would leave a marker file if anything unpickled it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_round_trip_keeps_values_ids_and_meta(store: ArtifactStore) -> None:
    arrays = _arrays()
    version = store.save("affinity", arrays, {"params": {"factors": 8}, "metrics": {"ndcg@10": np.float32(0.25)}})
    artifact = store.load("affinity", version)
    np.testing.assert_array_equal(artifact.arrays["item_factors"], arrays["item_factors"])
    assert artifact.arrays["item_factors"].dtype == np.float32
    assert list(artifact.arrays["item_ids"][:5]) == ["00123", "NA", "null", "1e5", "é-ü"]
    assert artifact.meta == {"params": {"factors": 8}, "metrics": {"ndcg@10": pytest.approx(0.25)}}
    manifest = json.loads((artifact.path / MANIFEST).read_text())
    assert manifest["libraries"]["numpy"] == np.__version__
    assert set(manifest["files"]) == {"item_factors.npy", "item_ids.npy", "bias.npy"}
    assert all(len(entry["sha256"]) == 64 and entry["size"] > 0 for entry in manifest["files"].values())
    assert [info.version for info in store.versions("affinity")] == [version]


def test_versions_are_listed_oldest_first(store: ArtifactStore) -> None:
    first = store.save("k", _arrays(1), {})
    second = store.save("k", _arrays(2), {})
    assert [i.version for i in store.versions("k")] == [first, second] and first != second


def test_bit_flip_is_refused(store: ArtifactStore) -> None:
    version = store.save("k", _arrays(), {})
    path = store.root / "k" / version / "item_factors.npy"
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="sha256"):
        store.load("k", version)


def test_truncation_is_refused(store: ArtifactStore) -> None:
    version = store.save("k", _arrays(), {})
    path = store.root / "k" / version / "bias.npy"
    path.write_bytes(path.read_bytes()[:-16])
    with pytest.raises(ArtifactError, match="truncated"):
        store.load("k", version)


def test_file_swapped_in_from_another_version_is_refused(store: ArtifactStore) -> None:
    v1 = store.save("k", _arrays(1), {})
    v2 = store.save("k", _arrays(2), {})
    shutil.copy(store.root / "k" / v1 / "item_factors.npy", store.root / "k" / v2 / "item_factors.npy")
    with pytest.raises(ArtifactError, match="sha256"):
        store.load("k", v2)
    store.load("k", v1)  # the donor is untouched


def test_edited_manifest_is_refused(store: ArtifactStore) -> None:
    v1 = store.save("k", _arrays(1), {"metrics": {"auc": 0.6}})
    path = store.root / "k" / v1 / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["meta"]["metrics"]["auc"] = 0.99  # someone improves the numbers by hand
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    with pytest.raises(ArtifactError, match="edited"):
        store.load("k", v1)


def test_edited_manifest_covering_a_replaced_file_is_refused(store: ArtifactStore) -> None:
    version = store.save("k", _arrays(1), {})
    vdir = store.root / "k" / version
    np.save(vdir / "bias.npy", np.zeros(50), allow_pickle=False)
    manifest = json.loads((vdir / MANIFEST).read_text())
    import hashlib

    manifest["files"]["bias.npy"]["sha256"] = hashlib.sha256((vdir / "bias.npy").read_bytes()).hexdigest()
    manifest["files"]["bias.npy"]["size"] = (vdir / "bias.npy").stat().st_size
    (vdir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    with pytest.raises(ArtifactError, match="edited"):
        store.load("k", version)


def test_half_written_version_is_refused_and_not_listed(store: ArtifactStore) -> None:
    version = store.save("k", _arrays(), {})
    (store.root / "k" / version / MANIFEST).unlink()  # what a crash before the last write leaves
    with pytest.raises(ArtifactError, match="incomplete"):
        store.load("k", version)
    assert store.versions("k") == []


def test_crash_during_save_leaves_nothing_visible(store: ArtifactStore) -> None:
    def bad_arrays():
        yield "ok", np.zeros(3)
        raise KeyboardInterrupt  # the process is interrupted mid-save

    class Lazy(dict):
        def items(self):
            return bad_arrays()

    with pytest.raises(KeyboardInterrupt):
        store.save("k", Lazy(a=1), {})
    assert store.versions("k") == [] and not any((store.root / "k").iterdir())


def test_pickle_payload_in_npy_is_never_unpickled(store: ArtifactStore, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    version = store.save("k", _arrays(), {})
    path = store.root / "k" / version / "item_ids.npy"
    np.save(path, np.array([Boom(marker)], dtype=object), allow_pickle=True)
    with pytest.raises(ArtifactError):
        store.load("k", version)
    assert not marker.exists()


def test_pickle_payload_with_matching_checksums_is_still_refused(store: ArtifactStore, tmp_path: Path) -> None:
    # Even a payload the manifest agrees with (a malicious store) is not unpickled: np.load(allow_pickle=False).
    marker = tmp_path / "pwned"
    version = store.save("k", _arrays(), {})
    vdir = store.root / "k" / version
    np.save(vdir / "item_ids.npy", np.array([Boom(marker)], dtype=object), allow_pickle=True)
    import core.artifacts as artifacts

    manifest = json.loads((vdir / MANIFEST).read_text())
    manifest["files"]["item_ids.npy"].update(sha256=artifacts.file_sha256(vdir / "item_ids.npy"),
                                             size=(vdir / "item_ids.npy").stat().st_size)
    body = json.dumps(manifest, indent=2, sort_keys=True).encode()
    (vdir / MANIFEST).write_bytes(body)
    forged = f"{version.rsplit('-', 1)[0]}-{artifacts.hashlib.sha256(body).hexdigest()[:artifacts.HASH_CHARS]}"
    os.rename(vdir, store.root / "k" / forged)
    with pytest.raises(ArtifactError, match="without pickle"):
        store.load("k", forged)
    assert not marker.exists()


def test_pickle_pt_file_dropped_into_a_version_is_refused(store: ArtifactStore, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    version = store.save("k", _arrays(), {})
    with open(store.root / "k" / version / "model.pt", "wb") as handle:
        pickle.dump(Boom(marker), handle)
    with pytest.raises(ArtifactError, match="unexpected"):
        store.load("k", version)
    assert not marker.exists()


def test_object_arrays_of_non_strings_are_refused(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactError, match="pickle is not allowed"):
        store.save("k", {"bad": np.array([{"a": 1}], dtype=object)}, {})
    with pytest.raises(ArtifactError, match="not allowed"):
        store.save("k", {"../escape": np.zeros(2)}, {})
    with pytest.raises(ArtifactError, match="not a version id"):
        store.load("k", "../../etc")


@pytest.mark.slow  # imports torch: 10–40 s on the shared cores
def test_torch_state_round_trips_without_pickle(store: ArtifactStore) -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    version = store.save("tiny", torch_state_to_arrays(model.state_dict(), prefix="net."), {})
    clone = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    clone.load_state_dict(arrays_to_torch_state(store.load("tiny", version).arrays, prefix="net."))
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, clone.state_dict()[name]), name
