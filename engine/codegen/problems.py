"""Why a project cannot be exported, found before anything is written."""

from __future__ import annotations

from engine.graph.graph import Graph
from engine.graph.names import id_problem
from engine.graph.shapes import Analysis


class ExportError(Exception):
    """The project cannot be exported; `problems` lists each reason, naming its node."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def model_problems(graph: Graph, analysis: Analysis) -> list[str]:
    """Everything that stops the graph from becoming Python source, each naming its node."""
    problems = [p.message for p in analysis.problems]
    for node in graph.nodes:
        # Ids become attribute and variable names. A project loaded from a file has
        # been renamed already; a graph built in code is checked here all the same.
        if problem := id_problem(node.id):
            problems.append(f"{node.id!r}: {problem}")
            continue
        op = analysis.nodes[node.id].op
        if op is not None and op.kind in ("module", "recurrent") and not op.target.isidentifier():
            problems.append(f"{node.id}: {node.type} names no torch.nn class ({op.target!r})")
    return problems


def require_exportable(graph: Graph, analysis: Analysis) -> None:
    if problems := model_problems(graph, analysis):
        raise ExportError(problems)
