"""Export: the graph as readable Python, a training script, TorchScript and ONNX.

`to_python` and `to_script` write source and import neither torch nor Qt;
`engine.codegen.compiled` (TorchScript, ONNX) imports torch when an export runs.
"""

from engine.codegen.problems import ExportError
from engine.codegen.python_file import to_python
from engine.codegen.script import to_script

__all__ = ["ExportError", "to_python", "to_script"]
