"""Import files or a public data set into a workspace: validate everything first, then write all tables at once."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa

from core import auth
from core.columns import SUPPRESSION_FLAGS
from core.artifacts import file_sha256
from core.config import REPO_ROOT, get_settings
from core.data.public import DEFAULT_FOLDERS, read_public
from core.data.readers import Source, check_file_size, read_table, validate_frame
from core.data.schemas import KINDS, SCHEMAS, TEXT
from core.data.tables import LIVE, STAGING_PREFIX, TABLES_DIR, TableStore, publishing, step
from core.files import staged_folder
from core.data.workspace import (Workspace, check_workspace_name, is_workspace, list_workspaces, table_file,
                                 write_manifest, write_table_files)
from core.db.audit import record
from core.db.models import ImportRun
from core.db.session import read_session, transaction
from core.errors import AtelierError, Problem, ValidationError, WorkspaceError



PENDING = "pending_import"  # manifest key of a new workspace until its first import is recorded


@dataclass
class ImportFile:
    """One file of an import: which table it fills, its content, and how its columns map to ours."""

    kind: str
    source: Source
    filename: str | None = None
    mapping: dict[str, str | None] | None = None
    default_event: str | None = None  # interactions without an event column: this event on every row

    @property
    def label(self) -> str:
        if self.filename:
            return self.filename
        if isinstance(self.source, (str, Path)):
            return str(self.source)
        return getattr(self.source, "name", None) or f"{self.kind} upload"


@dataclass
class ImportResult:
    """What an import wrote: rows per table, the runs recorded and notes worth showing (e.g. unknown items)."""

    workspace: str
    path: Path
    created: bool
    rows: dict[str, int]
    run_ids: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"workspace": self.workspace, "path": str(self.path), "created": self.created,
                "rows": self.rows, "run_ids": self.run_ids, "notes": self.notes}


# ---------------------------------------------------------------------------------------------- validation
def validate_files(files: list[ImportFile]) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Validate every file; returns ({kind: table}, {kind: sha256}) or raises one ValidationError listing all
    problems."""
    problems: list[Problem] = []
    tables: dict[str, pd.DataFrame] = {}
    digests: dict[str, str] = {}
    seen: set[str] = set()
    for item in files:
        if item.kind not in KINDS:
            raise AtelierError(f"unknown table kind {item.kind!r}: use one of {', '.join(KINDS)}")
        if item.kind in seen:
            problems.append(Problem(item.label, None, None,
                                    f"a second {item.kind} file in one import: give one per table"))
            continue
        seen.add(item.kind)
        try:
            check_file_size(item.source, _name(item))  # a 50 GB server file is refused before it is read
            data = _bytes(item.source)
            digests[item.kind] = hashlib.sha256(data).hexdigest()
            tables[item.kind] = read_table(data, item.kind, item.mapping, filename=_name(item),
                                           default_event=item.default_event)
        except ValidationError as error:
            problems.extend(error.problems)
    if problems:
        raise ValidationError(problems)
    return tables, digests


def _name(item: ImportFile) -> str:
    return Path(item.label).name if isinstance(item.source, (str, Path)) and not item.filename else item.label


def _bytes(source: Source) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ValidationError([Problem(str(path), None, None, "file not found: check the path")])
        return path.read_bytes()
    getvalue = getattr(source, "getvalue", None)
    return bytes(getvalue() if callable(getvalue) else source.read())


# ---------------------------------------------------------------------------------------------- cross-table steps
def _link(tables: dict[str, pd.DataFrame], existing: Workspace | None) -> list[str]:
    """Fill interactions' missing brand_id from the catalogue; note ids that the catalogue does not know."""
    notes: list[str] = []
    catalogue = tables.get("catalogue")
    if catalogue is None and existing is not None and existing.has("catalogue"):
        catalogue = existing.catalogue()
    interactions = tables.get("interactions")
    if interactions is not None and catalogue is not None and len(catalogue):
        brand_of = pd.Series(catalogue["brand"].to_numpy(), index=catalogue["item_id"].to_numpy())
        missing = interactions["brand_id"].isna() & interactions["item_id"].notna()
        if missing.any():
            filled = interactions.loc[missing, "item_id"].map(brand_of)
            interactions = interactions.copy()
            interactions.loc[missing, "brand_id"] = filled.astype(TEXT)
            tables["interactions"] = interactions
            notes.append(f"brand_id filled from the catalogue for {int(filled.notna().sum()):,} interaction(s)")
        unknown = interactions["item_id"].notna() & ~interactions["item_id"].isin(catalogue["item_id"])
        if unknown.any():
            notes.append(f"{int(unknown.sum()):,} interaction(s) name items that are not in the catalogue")
    if interactions is not None:
        no_brand = int(tables["interactions"]["brand_id"].isna().sum())
        if no_brand:
            notes.append(f"{no_brand:,} interaction(s) have no brand_id (import a catalogue to fill them)")
    outfits = tables.get("outfits")
    if outfits is not None and catalogue is not None:
        unknown = ~outfits["item_id"].isin(catalogue["item_id"])
        if unknown.any():
            notes.append(f"{int(unknown.sum()):,} outfit row(s) name items that are not in the catalogue")
    return notes


# ---------------------------------------------------------------------------------------------- writing
def import_files(workspace: str | Path, files: list[ImportFile], by: str = "local",
                 description: str = "") -> ImportResult:
    """Validate all files, then write their tables into `workspace` (created when absent) in one step.

    `workspace` is a name (a str, checked: the web app's forms) or a folder (a Path: the CLI's --workspace).
    A rejected import raises ValidationError and writes nothing: no table, no manifest, no database row.
    """
    auth.require_action(by, "data.import")
    if not files:
        raise AtelierError("nothing to import: give at least one file (interactions, catalogue, outfits or customers)")
    tables, digests = validate_files(files)
    sources = {item.kind: {"source": item.label, "sha256": digests[item.kind], "mapping": item.mapping or {}}
               for item in files}
    return write_tables(workspace, tables, sources, by=by, description=description)


def import_public(name: str, folder: str | Path | None, workspace_name: str | Path, by: str = "local",
                  any_folder: bool = False) -> ImportResult:
    """Make a public data set (fashion_product_images, hm, myntra, mango, polyvore, tmall) a workspace.

    `folder` must lie inside an import root (`import_roots`) unless `any_folder` (the CLI: its user owns the shell).
    """
    auth.require_action(by, "data.import")
    if folder is None:
        folder = default_public_folder(name)
    elif not any_folder:
        folder = server_folder(folder)
    tables = read_public(name, folder)
    generic: dict[str, pd.DataFrame] = {}
    extra: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for kind, frame in tables.items():
        if kind in SCHEMAS:
            try:
                generic[kind] = validate_frame(frame, kind, f"{name}:{kind}")
            except ValidationError as error:
                problems.extend(error.problems)
        else:
            extra[kind] = frame
    if problems:
        raise ValidationError(problems)
    sources = {kind: {"source": f"public:{name}:{folder}", "sha256": None, "mapping": {}} for kind in generic}
    return write_tables(workspace_name, generic, sources, by=by, extra=extra,
                        description=f"public data set {name} from {folder}")


def default_public_folder(name: str) -> Path:
    """../shared/data/<folder> (or $ATELIER_SHARED_DATA/<folder>) for a public data set's short name."""
    root = Path(os.environ.get("ATELIER_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
    key = name.strip().lower().replace("-", "_")
    if key not in DEFAULT_FOLDERS:
        raise WorkspaceError(f"unknown public data set {name!r}: use one of {', '.join(DEFAULT_FOLDERS)}")
    folder = root / DEFAULT_FOLDERS[key]
    if not folder.is_dir():
        raise WorkspaceError(f"no folder {folder}: pass --folder with the {key} files")
    return folder


def write_tables(workspace: str | Path, tables: dict[str, pd.DataFrame], sources: dict[str, dict[str, Any]],
                 by: str = "local", extra: dict[str, pd.DataFrame] | None = None,
                 description: str = "") -> ImportResult:
    """Write validated tables atomically: a new workspace appears whole (one rename); an existing one gets its
    tables swapped in after all are staged, with the ImportRun and audit rows in the same transaction."""
    extra = extra or {}
    existing = _existing(workspace)
    notes = _link(tables, existing)
    rows = {kind: int(len(frame)) for kind, frame in tables.items()}
    if existing is None:
        target = _new_path(workspace)
        # "pending" until the database records the import: recover() removes a workspace a crash left
        # without its record, and clears the mark of one whose record committed.
        manifest = {"name": target.name, "description": description or f"imported by {by}",
                    "created_at": _now(), "source": {k: v["source"] for k, v in sources.items()}, PENDING: True}
        try:
            with staged_folder(target) as staging:
                write_table_files(staging, {**tables, **extra})
                write_manifest(staging, manifest)
        except OSError as error:
            if target.exists():  # another import created the same name between our check and the rename
                raise AtelierError(f"workspace {target.name!r} was created meanwhile: import again to replace its "
                                   "tables") from error
            raise
        ws = Workspace.open(target)
        step("workspace_published")
        try:
            run_ids = _record(ws, tables, sources, rows, notes, by, created=True)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)  # nobody could use it yet: undo the whole workspace
            raise
        step("workspace_recorded")
        manifest.pop(PENDING)
        write_manifest(ws.path, manifest)
        return ImportResult(ws.name, ws.path, True, rows, run_ids, notes)
    ws = existing
    with publishing(ws.path):
        run_ids = _publish(ws, tables, extra, sources, rows, notes, by)
    return ImportResult(ws.name, ws.path, False, rows, run_ids, notes)


def _publish(ws: Workspace, tables: dict[str, pd.DataFrame], extra: dict[str, pd.DataFrame],
             sources: dict[str, dict[str, Any]], rows: dict[str, int], notes: list[str], by: str) -> list[int]:
    """Seal a new generation, record it, then switch `live` (core.data.tables); the caller holds the lock."""
    _recover(ws)  # finish or undo an import a crash interrupted before starting another
    store = TableStore(ws.path)
    store.ensure_layout(_table_files(ws))
    staging = store.stage()
    step("staging_created")
    try:
        names = write_table_files(staging, {**tables, **extra})
        step("tables_written")
        store.carry_over(staging, [f for f in _table_files(ws) if f not in names])
        step("unchanged_linked")
        generation = store.seal(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    step("generation_sealed")
    # The commit decides: rows naming the generation, then the switch. A crash between the two is finished by
    # recover() (the rows say which generation is live); a crash before the commit leaves the old one serving.
    try:
        with transaction(ws) as session:
            run_ids = _record_in(session, ws, tables, sources, rows, notes, by, created=False, generation=generation)
    except BaseException:
        store.remove_unused(keep=set(_committed_generations(ws)[-2:]))
        raise
    step("recorded")
    store.switch(generation, names)
    step("live_switched")
    manifest = ws.manifest
    manifest.setdefault("imports", []).append({"at": _now(), "by": by, "rows": rows, "generation": generation})
    write_manifest(ws.path, manifest)
    step("manifest_written")
    store.remove_unused(keep=set(_committed_generations(ws)[-2:]))  # the previous set stays for a rollback
    step("old_removed")
    return run_ids


def recover(ws: Workspace) -> str | None:
    """Finish or undo a publish a crash interrupted: serve the newest generation the database committed, drop
    staging folders and generations nothing committed. Returns what was done (None when nothing was needed)."""
    with publishing(ws.path):
        return _recover(ws)


def _recover(ws: Workspace) -> str | None:
    if ws.manifest.get(PENDING):  # a new workspace whose first import a crash interrupted
        if not _committed_runs(ws):
            shutil.rmtree(ws.path, ignore_errors=True)
            return f"removed workspace {ws.name!r}: its first import never committed (import it again)"
        write_manifest(ws.path, {k: v for k, v in ws.manifest.items() if k != PENDING})
    store = TableStore(ws.path)
    committed = _committed_generations(ws)
    done = None
    if committed and committed[-1] in store.generations() and store.live_generation() != committed[-1]:
        if store.live_generation() is None:
            store.ensure_layout(_table_files(ws))
        latest = committed[-1]
        store.switch(latest, [p.name for p in (store.tables / latest).iterdir() if p.suffix == ".parquet"])
        done = f"finished the import of generation {latest} (its database record had committed)"
    kept = set(committed[-2:]) | {store.live_generation()}
    leftovers = [p for p in (store.tables.iterdir() if store.tables.is_dir() else [])
                 if p.name.startswith(STAGING_PREFIX)
                 or (p.is_dir() and not p.name.startswith(".") and p.name not in kept)]
    for old in ws.path.glob(".staging-*"):  # the flat layout's staging folders (before generations)
        shutil.rmtree(old, ignore_errors=True)
        leftovers.append(old)
    if leftovers:
        store.remove_unused(keep=set(committed[-2:]))
        done = done or f"removed {len(leftovers)} unfinished import folder(s)"
    return done


def _committed_runs(ws: Workspace) -> int:
    with read_session(ws) as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(ImportRun).where(
            ImportRun.workspace == ws.name, ImportRun.status == "committed")))


def _committed_generations(ws: Workspace) -> list[str]:
    """Generations named by committed import runs of this workspace, oldest first (each once)."""
    with read_session(ws) as session:
        rows = session.execute(sa.select(ImportRun.details).where(
            ImportRun.workspace == ws.name, ImportRun.status == "committed").order_by(ImportRun.id)).scalars().all()
    seen: list[str] = []
    for details in rows:
        generation = (details or {}).get("generation")
        if generation and generation not in seen:
            seen.append(generation)
    return seen


def _table_files(ws: Workspace) -> list[str]:
    """File names of every table the workspace holds now (the four generic ones and public data sets' extras)."""
    names = {table_file(t) for t in KINDS} | {p.name for p in ws.path.glob("*.parquet")}
    return sorted(n for n in names if (ws.path / n).is_file())


def _existing(workspace: str | Path) -> Workspace | None:
    path = Path(workspace) if isinstance(workspace, Path) else None
    if path is not None:
        return Workspace.open(path) if is_workspace(path) else None
    check_workspace_name(str(workspace))
    candidate = get_settings().workspace_dir(str(workspace))
    return Workspace.open(candidate) if is_workspace(candidate) else None


def _new_path(workspace: str | Path) -> Path:
    if isinstance(workspace, Path):
        path = Path(workspace).resolve()
        check_workspace_name(path.name)
        if path.exists() and any(path.iterdir()):
            raise AtelierError(f"{path} exists and is not a workspace: choose an empty or new folder")
        if path.exists():
            path.rmdir()
        path.parent.mkdir(parents=True, exist_ok=True)
        return path
    root = get_settings().workspaces_dir
    root.mkdir(parents=True, exist_ok=True)
    return root / check_workspace_name(str(workspace))


def _record(ws: Workspace, tables: dict[str, pd.DataFrame], sources: dict[str, dict[str, Any]],
            rows: dict[str, int], notes: list[str], by: str, created: bool) -> list[int]:
    with transaction(ws) as session:
        return _record_in(session, ws, tables, sources, rows, notes, by, created)


def _record_in(session: Any, ws: Workspace, tables: dict[str, pd.DataFrame], sources: dict[str, dict[str, Any]],
               rows: dict[str, int], notes: list[str], by: str, created: bool,
               generation: str | None = None) -> list[int]:
    now = datetime.now(timezone.utc)
    runs = []
    for kind in tables:
        info = sources.get(kind, {})
        run = ImportRun(workspace=ws.name, kind=kind, source=str(info.get("source", "")), sha256=info.get("sha256"),
                        status="committed", rows=rows[kind], problems=0, message="; ".join(notes),
                        details={"mapping": info.get("mapping") or {}, "created": created,
                                 "generation": generation},
                        started_by=by, finished_at=now)
        session.add(run)
        runs.append(run)
    session.flush()
    record(session, by, "import", ws.name, target=",".join(tables),
           details={"rows": rows, "created": created, "runs": [r.id for r in runs],
                    "sources": {k: v.get("source") for k, v in sources.items()}})
    return [int(r.id) for r in runs]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------- listing
def workspace_summary(ws: Workspace) -> dict[str, Any]:
    """Rows per table and when it was created, for `workspace list` and the Data page."""
    summary: dict[str, Any] = {"name": ws.name, "path": str(ws.path)}
    try:
        manifest = ws.manifest
    except (OSError, ValueError):
        manifest = {}
    summary["created_at"] = manifest.get("created_at")
    summary["description"] = manifest.get("description", "")
    for kind in KINDS:
        path = ws.table_path(kind)
        summary[kind] = _parquet_rows(path) if path.is_file() else None
    return summary


def table_details(ws: Workspace) -> dict[str, int]:
    """What the row counts alone hide: distinct outfits (a table row is one outfit item) and customers per
    suppression flag (they are never exported). Reads only the columns it needs."""
    details: dict[str, int] = {}
    outfits, customers = ws.table_path("outfits"), ws.table_path("customers")
    try:
        if outfits.is_file():
            ids = pq.read_table(outfits, columns=["outfit_id"]).column("outfit_id")
            details["outfits"] = int(pc.count_distinct(ids).as_py())
        if customers.is_file():
            present = [f for f in SUPPRESSION_FLAGS if f in pq.ParquetFile(customers).schema_arrow.names]
            table = pq.read_table(customers, columns=present)
            for flag in present:
                details[flag] = int(pc.sum(table.column(flag).cast("int64")).as_py() or 0)
    except (OSError, ValueError) as error:
        raise WorkspaceError(f"workspace '{ws.name}': a table could not be read ({error}); import it again") from error
    return details


def _parquet_rows(path: Path) -> int | None:
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except (OSError, ValueError):
        return None


def table_preview(ws: Workspace, kind: str, rows: int = 20) -> pd.DataFrame | None:
    """The first rows of one stored table, read without loading the whole file (None if the table is absent)."""
    path = ws.table_path(kind)
    if not path.is_file():
        return None
    batch = next(pq.ParquetFile(path).iter_batches(batch_size=rows), None)
    return batch.to_pandas() if batch is not None else pd.DataFrame()


def list_workspace_summaries() -> list[dict[str, Any]]:
    return [workspace_summary(ws) for ws in list_workspaces()]


def table_checksums(ws_path: Path) -> dict[str, str]:
    """sha256 of every file a reader of the workspace sees (tests: a rejected import changes nothing). The stored
    generations behind the table paths (tables/, live) are how they are kept, not what is served."""
    out: dict[str, str] = {}
    for path in sorted(Path(ws_path).rglob("*")):
        inside = path.relative_to(ws_path).parts[0]
        # SQLite's -shm file is a shared-memory index that every reader touches; it holds no data.
        if path.is_file() and not path.name.endswith("-shm") and inside not in (TABLES_DIR, LIVE):
            out[str(path.relative_to(ws_path))] = file_sha256(path)
    return out



def recent_imports(ws: Workspace, limit: int = 20) -> pd.DataFrame:
    """The workspace's latest import runs (at, by, kind, source, rows, status), newest first."""
    with read_session(ws) as session:
        runs = session.scalars(sa.select(ImportRun).where(ImportRun.workspace == ws.name)
                               .order_by(ImportRun.id.desc()).limit(limit)).all()
    return pd.DataFrame([{"at": r.created_at, "by": r.started_by, "kind": r.kind, "source": r.source,
                          "rows": r.rows, "status": r.status} for r in runs],
                        columns=["at", "by", "kind", "source", "rows", "status"])


SERVER_SUFFIXES = (".csv", ".parquet", ".pq", ".txt", ".csv.gz")


def import_roots() -> list[Path]:
    """Folders the Data page may read server files from: ATELIER_HOME, the shared data, and ATELIER_IMPORT_DIRS."""
    roots = [get_settings().home, Path(os.environ.get("ATELIER_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))]
    roots += [Path(p) for p in os.environ.get("ATELIER_IMPORT_DIRS", "").split(os.pathsep) if p.strip()]
    return [r.expanduser().resolve() for r in roots]


def _inside_roots(path: str | Path) -> Path:
    if "\0" in str(path):
        raise AtelierError(f"{str(path)!r} holds a NUL character: give a plain path")
    resolved = Path(path).expanduser().resolve()
    roots = import_roots()
    if not any(resolved.is_relative_to(root) for root in roots):
        raise AtelierError(f"{path} is outside the folders files can be imported from ({', '.join(map(str, roots))}): "
                           "copy it there or add its folder to ATELIER_IMPORT_DIRS")
    return resolved


def server_folder(path: str | Path) -> Path:
    """A folder on the server inside an import root (a public data set's files); anything else raises AtelierError."""
    resolved = _inside_roots(path)
    if not resolved.is_dir():
        raise AtelierError(f"no folder at {path}: check the path")
    return resolved


def server_file(path: str | Path) -> Path:
    """A CSV/Parquet file on the server inside an import root; anything else raises AtelierError.

    The page is a browser form: without this any readable file (keys, /etc) could be previewed through it.
    """
    resolved = _inside_roots(path)
    if not resolved.name.lower().endswith(SERVER_SUFFIXES):
        raise AtelierError(f"{resolved.name} is not a CSV or Parquet file")
    if not resolved.is_file():
        raise AtelierError(f"no file at {path}: check the path")
    return resolved
