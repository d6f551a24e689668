"""Where the shipped templates live, and reading them: for `templates` and the window's gallery."""

from __future__ import annotations

from pathlib import Path

from engine.project.project import Project, load

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"


def list_templates(folder: Path = TEMPLATES_DIR) -> list[tuple[Path, Project]]:
    """Every project file in `folder`, by file name, loaded."""
    return [(path, load(path)) for path in sorted(folder.glob("*.json"))]
