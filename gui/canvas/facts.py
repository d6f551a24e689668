"""What an analysis says per block, for the views that show it: each block's problem
messages, and which blocks' facts or problems differ from the previous analysis (so the
canvas and the panels redo only those after an edit)."""

from __future__ import annotations

from engine.graph.shapes import Analysis


def errors_by_node(analysis: Analysis) -> dict[str, list[str]]:
    """Problem messages grouped by node, built once per analysis (not once per node)."""
    grouped: dict[str, list[str]] = {}
    for problem in analysis.problems:
        if problem.node is not None:
            grouped.setdefault(problem.node, []).append(problem.message)
    return grouped


def changed_nodes(
    analysis: Analysis,
    previous: Analysis,
    errors: dict[str, list[str]],
    previous_errors: dict[str, list[str]],
) -> set[str]:
    """Ids of the nodes whose facts or problems differ between two passes over the same
    nodes. An incremental pass hands unchanged nodes their previous facts, so most
    comparisons stop at identity."""
    changed = set()
    old = previous.nodes
    for node_id, info in analysis.nodes.items():
        before = old.get(node_id)
        if info is not before and info != before:
            changed.add(node_id)
    for node_id in errors.keys() | previous_errors.keys():
        if errors.get(node_id) != previous_errors.get(node_id):
            changed.add(node_id)
    return changed
