"""Nodes NetLoom cannot even run: a custom op, or an op ONNX itself does not define.

ONNX Runtime runs the file once before anything maps (from_onnx's probe); a node in a
domain other than ai.onnx (`com.microsoft`, a company's own) or an op_type ONNX does not
define stops that run, and the failure used to surface as "check --input-shape", which
is not the problem. These nodes are found first, each reported with its op, domain,
node name and the nearest op NetLoom maps, and the import stops there.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from typing import Any

STANDARD_DOMAINS = ("", "ai.onnx")

# Ops ONNX Runtime's optimizer or quantizer writes, and the standard ops they stand for.
FUSED = {
    "fusedconv": "Conv followed by its activation",
    "fusedgemm": "Gemm followed by its activation",
    "fusedmatmul": "MatMul",
    "fastgelu": "Gelu",
    "biasgelu": "Add then Gelu",
    "quickgelu": "Sigmoid and Mul (x·sigmoid(1.702x))",
    "skiplayernormalization": "Add then LayerNormalization",
    "simplifiedlayernormalization": "LayerNormalization",
}
QUANTIZED = ("qlinear", "quantize", "dequantize", "integer")


def standard_op(domain: str, op_type: str) -> bool:
    """Whether ONNX itself defines `op_type` in `domain`."""
    import onnx.defs

    return domain in STANDARD_DOMAINS and onnx.defs.has(op_type, "")


def foreign_nodes(model: Any) -> list[tuple[int, Any]]:
    """The nodes (with their index) ONNX Runtime cannot run from the standard op set."""
    return [
        (index, node)
        for index, node in enumerate(model.graph.node)
        if not standard_op(node.domain, node.op_type)
    ]


def foreign_op(node: Any) -> str:
    """The op as the report names it: `MyRelu (domain com.example)`."""
    domain = node.domain or "ai.onnx"
    return f"{node.op_type} (domain {domain})"


def foreign_reason(node: Any, mapped: Collection[str]) -> str:
    """Why a foreign node stops the import, and the nearest op that `mapped` holds."""
    domain = node.domain or "ai.onnx"
    if domain in STANDARD_DOMAINS:
        what = f"ONNX defines no op {node.op_type!r}"
    else:
        what = f"a custom op of domain {domain!r}: NetLoom maps the standard ai.onnx ops only"
    return f"{what}; {nearest(node.op_type, mapped)}"


def nearest(op_type: str, mapped: Collection[str]) -> str:
    """The nearest supported alternative to `op_type`, as advice."""
    key = op_type.lower()
    if key in FUSED:
        return (
            f"it fuses {FUSED[key]}: export without ONNX Runtime's graph optimizations "
            "(the plain torch.onnx.export file) so each step is a standard node"
        )
    if any(key.startswith(q) or q in key for q in QUANTIZED):
        return "a quantized op: import the float model and quantize after"
    by_name = {m.lower(): m for m in mapped}
    if key in by_name:
        return (
            f"the standard ai.onnx {by_name[key]} maps to a block: export it with the "
            "default domain (no custom_opsets)"
        )
    close = difflib.get_close_matches(key, list(by_name), n=1, cutoff=0.6)
    if close:
        return (
            f"the nearest op NetLoom maps is {by_name[close[0]]}: export the model with "
            "standard ops"
        )
    return (
        "no op NetLoom maps is near it: write the layer with standard torch operations "
        "(or replace it by a supported layer) and export again"
    )
