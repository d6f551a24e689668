"""Results of a run: its metrics and confusion matrix, "try a sample" (the model's
answer on a held-out sample, and where it looks), and the Runs history (every recorded
run, their curves overlaid, restore and delete).

May import: the engine (history, inspect, data), gui.common, gui.run and gui.inside
("try a sample" shows Look inside's view of the sample).
"""
