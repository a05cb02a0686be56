"""ArtifactStore: one folder per trained version, arrays as .npy (no pickle), a checksummed manifest written last."""

# Layout: <root>/<kind>/<version>/{<array>.npy ..., manifest.json}. The version id ends with the first
# 16 hex digits of the manifest's sha256, so an edited manifest no longer matches its folder name, and
# the manifest holds each file's sha256 and size, so every array is verified before it is deserialised.

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from core.files import atomic_write_bytes, publish_folder, staging_folder
from core.errors import ArtifactError
from core.jsonable import to_plain

MANIFEST = "manifest.json"
FORMAT = 1
HASH_CHARS = 16
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,150}$")
_VERSION = re.compile(r"^\d{8}T\d{6}\d{6}Z-[0-9a-f]{%d}$" % HASH_CHARS)
_LIBRARIES = ("numpy", "scipy", "pandas", "scikit-learn", "torch", "implicit", "lightfm-next", "faiss-cpu",
              "umap-learn", "safetensors")


@dataclass(frozen=True)
class ArtifactInfo:
    """What the manifest says about a version (read without verifying or loading the arrays)."""

    kind: str
    version: str
    path: Path
    created_at: str
    meta: dict[str, Any]
    size_bytes: int


@dataclass(frozen=True)
class Artifact:
    """A verified, loaded version: `arrays` maps names to numpy arrays (numeric or unicode `<U`)."""

    kind: str
    version: str
    path: Path
    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]
    manifest: dict[str, Any] = field(default_factory=dict, repr=False)
    warning: str | None = None  # set by load_active when it fell back to an older version


class ArtifactStore:
    """Saves and loads model versions under `root` (a workspace's `artifacts_path`)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def save(self, kind: str, arrays: Mapping[str, np.ndarray], meta: dict[str, Any]) -> str:
        """Write a new version atomically and return its id; `meta` (params, metrics ...) must be JSON-able."""
        _check_name(kind, "kind")
        if not arrays:
            raise ArtifactError("an artifact needs at least one array")
        kind_dir = self.root / kind
        tmp = staging_folder(kind_dir, ".tmp-")
        try:
            files = {}
            for name, array in arrays.items():
                _check_name(name, "array name")
                file_name = f"{name}.npy"
                path = tmp / file_name
                with open(path, "wb") as handle:
                    np.save(handle, _storable(name, array), allow_pickle=False)
                files[file_name] = {"array": name, "sha256": file_sha256(path), "size": path.stat().st_size}
            created = datetime.now(timezone.utc)
            manifest = {
                "format": FORMAT,
                "kind": kind,
                "created_at": created.isoformat(),
                "meta": to_plain(meta, strict=True),
                "libraries": _library_versions(),
                "files": files,
            }
            body = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
            atomic_write_bytes(tmp / MANIFEST, body)  # last: a folder without it is incomplete by construction
            version = f"{created.strftime('%Y%m%dT%H%M%S%fZ')}-{hashlib.sha256(body).hexdigest()[:HASH_CHARS]}"
            publish_folder(tmp, kind_dir / version)  # readers see all of the version or none
            return version
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def verify(self, kind: str, version: str) -> dict[str, Any]:
        """Check the manifest and every file's size and sha256 without deserialising; return the manifest."""
        path = self._version_dir(kind, version)
        manifest_path = path / MANIFEST
        if not manifest_path.is_file():
            raise ArtifactError(f"{kind} version {version} is incomplete (no {MANIFEST}): it was never finished; "
                                "train it again")
        body = manifest_path.read_bytes()
        if hashlib.sha256(body).hexdigest()[:HASH_CHARS] != version.rsplit("-", 1)[-1]:
            raise ArtifactError(f"{kind} version {version}: {MANIFEST} was edited after it was written; "
                                "the version is refused, train it again")
        try:
            manifest = json.loads(body)
            files = manifest["files"]
        except (ValueError, KeyError, TypeError) as error:
            raise ArtifactError(f"{kind} version {version}: unreadable {MANIFEST} ({error})") from error
        present = {p.name for p in path.iterdir()} - {MANIFEST}
        if present != set(files):
            extra, missing = sorted(present - set(files)), sorted(set(files) - present)
            raise ArtifactError(f"{kind} version {version}: files do not match the manifest "
                                f"(unexpected {extra}, missing {missing}); the version is refused")
        for file_name, entry in files.items():
            file_path = path / file_name
            size = file_path.stat().st_size
            if size != entry["size"]:
                raise ArtifactError(f"{kind} version {version}: {file_name} is {size} bytes, the manifest says "
                                    f"{entry['size']} (truncated or replaced); the version is refused")
            if file_sha256(file_path) != entry["sha256"]:
                raise ArtifactError(f"{kind} version {version}: {file_name} fails its sha256 check (corrupted "
                                    "or replaced); the version is refused")
        return manifest

    def load(self, kind: str, version: str) -> Artifact:
        """Verify every checksum, then load the arrays (np.load with allow_pickle=False)."""
        manifest = self.verify(kind, version)
        path = self._version_dir(kind, version)
        arrays = {}
        for file_name, entry in manifest["files"].items():
            try:
                arrays[entry["array"]] = np.load(path / file_name, allow_pickle=False)
            except (ValueError, OSError) as error:
                raise ArtifactError(f"{kind} version {version}: {file_name} cannot be loaded without pickle "
                                    f"({error}); the version is refused") from error
        return Artifact(kind, version, path, arrays, manifest.get("meta", {}), manifest)

    def versions(self, kind: str) -> list[ArtifactInfo]:
        """Finished versions of `kind`, oldest first (manifests are read, not verified)."""
        _check_name(kind, "kind")
        kind_dir = self.root / kind
        if not kind_dir.is_dir():
            return []
        infos = []
        for path in sorted(kind_dir.iterdir()):
            if path.name.startswith(".") or not (path / MANIFEST).is_file():
                continue
            try:
                manifest = json.loads((path / MANIFEST).read_bytes())
                size = sum(entry["size"] for entry in manifest["files"].values())
                infos.append(ArtifactInfo(kind, path.name, path, manifest["created_at"],
                                          manifest.get("meta", {}), size))
            except (ValueError, KeyError, TypeError):
                continue  # unreadable manifests are reported by verify()/load(), not listed
        return sorted(infos, key=lambda info: (info.created_at, info.version))

    def _version_dir(self, kind: str, version: str) -> Path:
        _check_name(kind, "kind")
        if not _VERSION.match(version or ""):
            raise ArtifactError(f"'{version}' is not a version id of this store (expected e.g. "
                                f"20260101T120000000000Z-<{HASH_CHARS} hex>)")
        path = self.root / kind / version
        if not path.is_dir():
            raise ArtifactError(f"{kind} version {version} does not exist under {self.root}: train it first")
        return path


def torch_state_to_arrays(state_dict: Mapping[str, Any], prefix: str = "") -> dict[str, np.ndarray]:
    """A torch state_dict as numpy arrays (CPU copies; bfloat16 widened to float32) for ArtifactStore.save."""
    import torch  # noqa: PLC0415 — torch loads only where a model's weights are saved or loaded (seconds)

    arrays = {}
    for name, tensor in state_dict.items():
        tensor = tensor.detach().cpu()
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.to(torch.float32)  # numpy has no bfloat16
        arrays[f"{prefix}{name}"] = tensor.numpy().copy()
    return arrays


def arrays_to_torch_state(arrays: Mapping[str, np.ndarray], prefix: str = "") -> dict[str, Any]:
    """The inverse of torch_state_to_arrays: tensors for `module.load_state_dict` (keys with `prefix` only)."""
    import torch  # noqa: PLC0415

    return {name[len(prefix):]: torch.from_numpy(np.array(array, copy=True))
            for name, array in arrays.items() if name.startswith(prefix)}


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name) or name == "manifest":
        raise ArtifactError(f"{what} {name!r} is not allowed: use letters, digits, '_', '.', '-' (no leading dot)")


def _storable(name: str, array: Any) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype == object:
        # Id arrays often arrive as object dtype; store them as unicode, never as pickled objects.
        if not all(isinstance(v, str) for v in array.ravel()):
            raise ArtifactError(f"array '{name}' holds Python objects that are not strings: convert it to a "
                                "numeric or string array (pickle is not allowed)")
        array = array.astype(str) if array.size else np.array([], dtype="<U1").reshape(array.shape)
    if array.dtype.hasobject or array.dtype.kind == "V":
        raise ArtifactError(f"array '{name}' has dtype {array.dtype}, which cannot be saved without pickle")
    return array


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks (model arrays and tables can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _library_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for name in _LIBRARIES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return versions
