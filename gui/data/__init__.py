"""Your own data in the window: File → "Use my data…" (a table, a series, an NPZ or a
folder of images previewed — the first rows with each column's role, the classes and
their counts, a few images per class, the target over time — and the project adapted
to it as one undoable edit) and "Predict…" on a finished run (the model's answers on
new files, saved as CSV).

May import: the engine (data, predict, project), gui.common, gui.canvas (the undo
commands) and gui.training (its settings command). Not the window shell
(gui.main_window, gui.menus): the window passes itself in, and its training room the
current run.
"""
