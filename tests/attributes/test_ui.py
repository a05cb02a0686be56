"""Review-card helpers: which image a card can show."""

from __future__ import annotations

from pathlib import Path

from ui.attributes import image_source


def test_image_source_takes_urls_and_existing_files_only(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.jpg").write_bytes(b"\xff\xd8")
    assert image_source("https://cdn.example/a.jpg") == "https://cdn.example/a.jpg"
    assert image_source("images/a.jpg", tmp_path) == str(tmp_path / "images" / "a.jpg")  # relative to the workspace
    assert image_source(str(tmp_path / "images" / "a.jpg")) == str(tmp_path / "images" / "a.jpg")
    assert image_source("images/missing.jpg", tmp_path) is None  # a broken path shows no picture, not an error
    assert image_source("", tmp_path) is None and image_source(None) is None and image_source(float("nan")) is None
