"""The editor around the canvas: the block palette and finders, the inspector and its
parameter widgets, the summary, the problem count, clipboard and editing operations,
and units (make, ungroup, open with a breadcrumb, repeat).

May import: the engine (common, blocks, graph, units, project, inspect's size estimates),
gui.common and gui.canvas.
"""
