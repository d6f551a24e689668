"""The block catalogue: importing this package registers every block type in
`engine.blocks.spec.REGISTRY`.

Python runs this file before any module of the package (`engine.blocks.spec` too), so
`get_spec` and `all_specs` always see every block without importing the package back.
A new block type is one `BlockSpec` registered in the module of its category below.
"""

from engine.blocks import (  # noqa: F401
    activation,
    conv,
    dense,
    io,
    merge,
    norm,
    pool,
    recurrent,
    regularize,
    reshape,
    select,
)
