"""Importing this package registers every block type in `engine.blocks.spec.REGISTRY`."""

from engine.blocks import (  # noqa: F401
    activation,
    conv,
    dense,
    io,
    merge,
    norm,
    pool,
    recurrent,
    reshape,
)
