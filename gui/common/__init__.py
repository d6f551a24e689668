"""What every room of the window shares, knowing nothing of a project or a run: the
theme and plot style, window actions, dock tabs, file dialogs and recent files, cheap
live series and their axis ranges, and the event-loop helpers (work in steps, the
garbage collector kept on the GUI thread, the GUI thread served promptly).

May import: Qt, pyqtgraph, numpy and the engine's lowest layer (engine.common). Nothing
else of gui/ (it is the bottom room).
"""
