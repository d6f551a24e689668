"""Node ids double as Python names (module attributes, state_dict keys, variables).

A valid id is a lowercase-first identifier that is no keyword and clashes with
nothing the built `nn.Module` or the exported code already uses.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Container

# Public attributes of torch.nn.Module (a test checks this list against torch), plus
# the names exported code relies on.
RESERVED = frozenset(
    """
    add_module apply bfloat16 buffers call_super_init children compile cpu cuda double
    dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter
    get_submodule half ipu load_state_dict modules mtia named_buffers named_children
    named_modules named_parameters parameters register_backward_hook register_buffer
    register_forward_hook register_forward_pre_hook register_full_backward_hook
    register_full_backward_pre_hook register_load_state_dict_post_hook
    register_load_state_dict_pre_hook register_module register_parameter
    register_state_dict_post_hook register_state_dict_pre_hook requires_grad_
    set_extra_state set_submodule share_memory state_dict to to_empty train training
    type xpu zero_grad
    self torch nn np math super n t inputs outputs
    """.split()
)

_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")


def id_problem(node_id: object) -> str | None:
    """Why `node_id` cannot be a node id, or None if it can."""
    if not isinstance(node_id, str) or not node_id:
        return "a node id must be a non-empty string"
    if not _ID.fullmatch(node_id):
        return (
            f"node id {node_id!r} must start with a lowercase letter and hold only "
            "lowercase letters, digits and _ (at most 64)"
        )
    if keyword.iskeyword(node_id) or node_id in RESERVED:
        return f"node id {node_id!r} is a reserved name"
    return None


def safe_id(
    raw: str, taken: Container[str] = frozenset(), tried: dict[str, int] | None = None
) -> str:
    """A valid, unused id derived from any text: 'Conv 1"); x' -> 'conv_1_x'.

    `tried` (for a caller whose taken ids only grow) keeps the suffix each name last
    took, so the next search starts there: n ids renamed alike cost n steps, not n²."""
    text = re.sub(r"[^a-z0-9_]+", "_", str(raw).lower()).strip("_")
    text = re.sub(r"_+", "_", text)[:56] or "node"
    if not text[0].isalpha():
        text = "n_" + text
    if keyword.iskeyword(text) or text in RESERVED:
        text += "_"
    i = tried.get(text, 1) if tried is not None else 1
    candidate = text if i == 1 else f"{text}_{i}"
    while candidate in taken or id_problem(candidate):
        i += 1
        candidate = f"{text}_{i}"
    if tried is not None:
        tried[text] = i
    return candidate


def valid_node_ids(raw_nodes: object) -> set[str]:
    """The ids in a file's list of nodes that are safe as they stand: they keep them, so
    an id that must be renamed ("Dense1") avoids them all, also those further down."""
    if not isinstance(raw_nodes, list):
        return set()
    return {
        raw["id"]
        for raw in raw_nodes
        if isinstance(raw, dict)
        and isinstance(raw.get("id"), str)
        and id_problem(raw["id"]) is None
    }
