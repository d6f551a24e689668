"""The training room of the window: the Training panel (data, settings, Train / Pause /
Stop, the fit check), the live curves, and the wiring (ui.install_training) that puts
the run views in docks and feeds them the current run — results, Runs and Look inside
included.

May import: the engine (train, data, history, project, graph, blocks), gui.common,
gui.editor (the parameter widgets), gui.run, gui.inside and gui.results. Not the window
shell (gui.main_window, gui.menus): the window passes itself in.
"""
