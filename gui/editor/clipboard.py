"""Copy and paste of blocks: the selection and the wires among them as project JSON.

The clipboard holds the same JSON a project file does, so pasting reuses the project
loader's checks, and blocks copied in one NetLoom window paste into another. A unit
instance carries its definition (and the units that uses) in the document's `units`
section, so it pastes into another project too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from PySide6.QtCore import QMimeData

from engine.graph.graph import Edge, Graph, Node
from engine.project.graph_section import edge_dict
from engine.project.project import FORMAT, VERSION, ProjectError, from_dict
from engine.project.units_section import units_document
from engine.units.units import Library

CLIP_MIME = "application/x-netloom-nodes"


def selection_document(graph: Graph, node_ids: Iterable[str]) -> dict:
    chosen = set(node_ids)
    nodes = [n for n in graph.nodes if n.id in chosen]
    edges = [e for e in graph.edges if e.source in chosen and e.target in chosen]
    return {
        "format": FORMAT,
        "version": VERSION,
        "units": units_document(graph.library, {n.type for n in nodes}),
        "nodes": [
            {"id": n.id, "type": n.type, "params": n.params, "pos": list(n.pos)} for n in nodes
        ],
        "edges": [edge_dict(e) for e in edges],
    }


def to_mime(document: dict) -> QMimeData:
    mime = QMimeData()
    text = json.dumps(document, indent=1)
    mime.setData(CLIP_MIME, text.encode("utf-8"))
    mime.setText(text)
    return mime


def from_mime(mime: QMimeData | None) -> tuple[list[Node], list[Edge], Library | None] | None:
    """Nodes, inner wires and the units they use from the clipboard, or None if it holds
    no NetLoom blocks."""
    if mime is None or not mime.hasFormat(CLIP_MIME):
        return None
    try:
        project = from_dict(json.loads(bytes(mime.data(CLIP_MIME).data()).decode("utf-8")))
    except (ProjectError, ValueError):
        return None
    return project.graph.nodes, project.graph.edges, project.graph.library


def release_clipboard() -> None:
    """Empty the clipboard if it holds NetLoom blocks (call as the application quits).

    The QMimeData `to_mime` makes is created by Python and owned by the clipboard once
    set; destroyed with the application, it crashed the interpreter on exit
    (a segmentation fault after everything else had closed, seen with PySide6 6.11).
    Copied blocks only paste into NetLoom, which is quitting.
    """
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is None:
        return
    clipboard = QGuiApplication.clipboard()
    mime = clipboard.mimeData()
    if mime is not None and mime.hasFormat(CLIP_MIME):
        clipboard.clear()
