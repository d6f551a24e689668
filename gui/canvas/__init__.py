"""The node canvas: a QGraphicsScene that follows an `engine.graph.graph.Graph` (a block
is a NodeItem, a wire a WireItem), the view onto it, its auto-layout, and the undo
commands that change the model (the canvas follows the model's events).

May import: the engine (common, blocks, graph, units, project) and gui.common.
"""
