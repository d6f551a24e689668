"""Export: the graph as readable Python, a training script, TorchScript and ONNX.

The source-writing parts (`to_python`, `to_script`) import neither torch nor Qt;
`engine.codegen.compiled` imports torch lazily, when a compiled export runs.
"""

from engine.codegen.problems import ExportError
from engine.codegen.python_file import to_python

__all__ = ["ExportError", "to_python"]
