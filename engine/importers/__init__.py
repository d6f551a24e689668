"""Importers: PyTorch code and ONNX files → a NetLoom project, its weights and a report.

`engine.importers.run.import_source("net.py:Net" | "model.onnx", dims, …)` returns an
`ImportResult`: the project and its state_dict when every operation became a block,
and always the report listing what could not be mapped, each with its place. Importing Python runs
the file; opening a project never does.

The modules here import torch (and onnx) when imported; `engine.importers.command`
does not, so registering the `import` subcommand keeps `check` quick.
"""
