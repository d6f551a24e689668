"""The run machinery, with no view of its own: a training run (or a restore) in a child
process and the thread that drives it, the bundles of progress it sends (records,
throttle), what it measures for Look inside (capture, inside_record), where runs live
(paths), the one run the window shows now (current_run), the edit lock while a run
trains, and getting torch ready ahead of the first run (warmup, preparation).

May import: the engine (train, data, model, history, inspect, project, graph, common)
and gui.common. Not the views: gui.inside, gui.results and gui.training observe it.
"""
