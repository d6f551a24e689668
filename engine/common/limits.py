"""NetLoom's limits on the work one project may ask for, in one place.

A project file of a few KB can ask for billions of blocks: five units each holding the
next with `repeat: 64`, a unit holding eight of another ten levels deep, a chain of
10,000 units each holding the next, or a thousand instances of a thousand-block unit.
Before anything expands the units (the shape pass's inner walks, the check table,
build, export, Look inside, drawing), `engine.graph.expansion` counts the expanded size from
the unit definitions, multiplying per definition without expanding, and the project is
refused in one line naming the path that explodes when a count is over its limit here:

    units expand to 1.1×10⁹ blocks, limit 100,000: node u (U5 ×64) → u (U4 ×64) → …

Every entry point reads these same constants: loading a project file (`check`, `train`,
`export`, `inspect`, the window, autosave, and the importers, whose result is loaded as
a project file) and the shape pass itself (an edit in the window, a graph an importer
builds), so no command can skip them. Real projects stay far below: the largest
template expands to under 100 blocks and nests units 2 deep.

Pure Python: imports nothing of NetLoom, torch or Qt.
"""

from __future__ import annotations

# Blocks after every unit is expanded (each instance's body, `repeat` times). The
# engine's passes are linear in it; at this size `check` takes a few seconds.
MAX_EXPANDED_BLOCKS = 100_000
# Wires after expansion, counted as blocks are; a block has few input ports, so this
# only binds for bodies of merges.
MAX_EXPANDED_WIRES = 400_000
# Units inside units: the shape pass, build and export walk one level per call, so
# depth costs stack frames. A ResNet needs 2.
MAX_UNIT_DEPTH = 16
# Samples a generated dataset may make (its `samples` param): generating and holding
# more would take minutes and gigabytes before the first step.
MAX_GENERATED_SAMPLES = 500_000
# An ONNX file to import (protobuf cannot parse more than 2 GB in any case).
MAX_ONNX_FILE_BYTES = 2 * 1024**3
# Elements of one tensor an imported ONNX file declares or would make its probe compute
# (an initializer, external data, the input at the probe batch, any intermediate value
# shape inference can size): 2²⁸ float32 is 1 GB. Refused before anything is allocated.
MAX_IMPORT_TENSOR_ELEMENTS = 2**28
# Bytes of all the values the ONNX import's probe holds at once (every node output is
# exposed so each mapping knows its shape), summed over the sizes shape inference knows.
MAX_IMPORT_PROBE_BYTES = 2 * 1024**3
# A checkpoint (`--weights W.pt`): its size on disk, and the tensors it stores (torch
# reads each stored tensor as a member of a zip archive; 100,000 take minutes).
MAX_CHECKPOINT_BYTES = 4 * 1024**3
MAX_CHECKPOINT_TENSORS = 10_000

SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


class LimitError(Exception):
    """A project or setting that asks for more than a limit here; the message is one line."""


def count_text(count: int) -> str:
    """100000 -> '100,000'; 68719476736 -> '6.9×10¹⁰' (any size of int, no float overflow)."""
    if count < 10**7:
        return f"{count:,}"
    digits = count.bit_length() * 0.30102999566398  # about log10, without str() of a huge int
    exponent = int(digits)
    while 10 ** (exponent + 1) <= count:
        exponent += 1
    while 10**exponent > count:
        exponent -= 1
    mantissa = count // 10 ** max(0, exponent - 2) / 10 ** min(exponent, 2)
    return f"{mantissa:.2g}×10{str(exponent).translate(SUPERSCRIPTS)}"
