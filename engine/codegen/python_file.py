"""`export --to python`: one standalone `.py` holding the model class."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.codegen.model import ModelCode, Port, model_code
from engine.codegen.text import INDENT, bracketed, comment_lines, model_class_name
from engine.project.project import Project

if TYPE_CHECKING:
    from engine.graph.shapes import Analysis

# The batch size of example inputs in generated demos and in export checks.
EXAMPLE_BATCH = 2


def example_tensor(port: Port, batch: int = EXAMPLE_BATCH) -> str:
    """Source for a tensor fit for `port`: random floats, or token ids for an int64 input."""
    sizes = ", ".join(str(d) for d in (batch, *port.shape.dims))
    if port.dtype == "int64":
        return f"torch.zeros({sizes}, dtype=torch.long)"
    return f"torch.randn({sizes})"


def describe_ports(ports: list[Port]) -> str:
    return ", ".join(f"{p.name} {p.shape}" for p in ports)


def header(project: Project, code: ModelCode, usage: str) -> list[str]:
    """The opening comment: the project's name and description, then how to use the file."""
    lines = comment_lines(project.name.strip() or "Untitled")
    if project.description.strip():
        lines += ["#", *comment_lines(project.description.strip())]
    return [
        *lines,
        "#",
        "# Exported from NetLoom.",
        *comment_lines(f"Inputs: {describe_ports(code.inputs)}."),
        *comment_lines(f"Outputs: {describe_ports(code.outputs)}."),
        *comment_lines(usage),
    ]


def project_model(project: Project, analysis: Analysis | None = None) -> ModelCode:
    """The project's model class; `analysis` is its graph's shape pass if the caller has it."""
    return model_code(project.graph, model_class_name(project.name), analysis)


def to_python(project: Project, analysis: Analysis | None = None) -> str:
    """The project's network as a readable, standalone Python module."""
    return python_source(project, project_model(project, analysis))


def python_source(project: Project, code: ModelCode) -> str:
    """The module `to_python` writes, around model code already generated."""
    usage = (
        f"Weights saved by NetLoom (a state_dict) load with "
        f"{code.class_name}().load_state_dict(state_dict)."
    )
    examples = [example_tensor(p) for p in code.inputs]
    if len(code.outputs) == 1:
        shown = "print(tuple(outputs.shape))"
    else:
        shown = "print([tuple(output.shape) for output in outputs])"
    lines = [
        *header(project, code, usage),
        "",
        "import torch",
        "from torch import nn",
        "",
        "",
        *code.lines,
        "",
        "",
        'if __name__ == "__main__":',
        f"{INDENT}# A quick check on random inputs of the shapes the network was built for.",
        *bracketed("inputs = [", examples, "]", INDENT),
        f"{INDENT}outputs = {code.class_name}().eval()(*inputs)",
        f"{INDENT}{shown}",
    ]
    return "\n".join(lines) + "\n"
