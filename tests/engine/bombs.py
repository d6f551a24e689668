"""Project files that ask for far more work than their size: the bomb families of issue 23.

Each builder returns a project document (a dict) a few KB long. Every unit is a chain
Input → body blocks → Output on a vector of 8 features, so every shape fits and only
the expanded size is wrong.
"""

from __future__ import annotations

from typing import Any

FEATURES = 8


def _chain(blocks: list[tuple[str, str, dict[str, Any]]], first: str = "inp") -> dict[str, Any]:
    """nodes and edges of blocks wired in order: (id, type, params)."""
    nodes = [
        {"id": node_id, "type": kind, "params": params, "pos": [i * 200, 0]}
        for i, (node_id, kind, params) in enumerate(blocks)
    ]
    edges = [
        {"source": a[0], "target": b[0], "target_port": "x"} for a, b in zip(blocks, blocks[1:])
    ]
    return {"nodes": nodes, "edges": edges}


def _unit(inner: list[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    """A unit body: an Input port, the inner blocks in series, an Output port."""
    return _chain(
        [
            ("x", "Input", {"shape": [FEATURES]}),
            *inner,
            ("out", "Output", {"loss": "none"}),
        ]
    )


def project(units: dict[str, Any], top: list[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    """A project: an Input of 8 features, the `top` blocks in series, an MSE Output."""
    body = _chain(
        [
            ("inp", "Input", {"shape": [FEATURES]}),
            *top,
            ("target", "Output", {"loss": "mse"}),
        ]
    )
    return {
        "format": "netloom",
        "version": 2,
        "name": "bomb",
        "units": units,
        **body,
        "training": {"dataset": {"name": "digits"}, "batch_size": 32},
    }


def nested_repeat(levels: int, repeat: int) -> dict[str, Any]:
    """U1 holds a Dense; U{k} holds U{k-1} ×repeat; the top places U{levels} ×repeat."""
    units = {"U1": _unit([("d", "Dense", {"units": FEATURES})])}
    for k in range(2, levels + 1):
        units[f"U{k}"] = _unit([("u", f"U{k - 1}", {"repeat": repeat})])
    return project(units, [("u", f"U{levels}", {"repeat": repeat})])


def nested_fan_out(levels: int, fan_out: int) -> dict[str, Any]:
    """U{k} holds `fan_out` instances of U{k-1} in series; U1 holds a Dense."""
    units = {"U1": _unit([("d", "Dense", {"units": FEATURES})])}
    for k in range(2, levels + 1):
        units[f"U{k}"] = _unit([(f"u{i}", f"U{k - 1}", {}) for i in range(fan_out)])
    return project(units, [("u", f"U{levels}", {})])


def deep_chain(depth: int) -> dict[str, Any]:
    """U{k} holds one U{k-1}, `depth` units deep; U1 holds a Dense."""
    units = {"U1": _unit([("d", "Dense", {"units": FEATURES})])}
    for k in range(2, depth + 1):
        units[f"U{k}"] = _unit([("u", f"U{k - 1}", {})])
    return project(units, [("u", f"U{depth}", {})])


def many_instances(instances: int, blocks: int) -> dict[str, Any]:
    """A unit of `blocks` Dense blocks in series, placed `instances` times at the top."""
    units = {"Big": _unit([(f"d{i}", "Dense", {"units": FEATURES}) for i in range(blocks)])}
    return project(units, [(f"big{i}", "Big", {}) for i in range(instances)])


def flat(blocks: int) -> dict[str, Any]:
    """No units: `blocks` Dense blocks in series at the top."""
    return project({}, [(f"d{i}", "Dense", {"units": FEATURES}) for i in range(blocks)])
