"""NetLoom's limits on the work one project may ask for, in one place.

A project file of a few KB can ask for billions of blocks: five units each holding the
next with `repeat: 64`, a unit holding eight of another ten levels deep, a chain of
10,000 units each holding the next, or a thousand instances of a thousand-block unit.
Before anything expands the units (the shape pass's inner walks, the check table,
build, export, Look inside, drawing), `engine.expansion` counts the expanded size from
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
