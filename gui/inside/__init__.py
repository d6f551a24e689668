"""Look inside: what the selected block computes for a sample (feature maps, the time
lens of a recurrent block), and while or after training the gradient flow and the
weight and output histograms per block.

May import: the engine (inspect, project), gui.common and gui.run (the records it draws).
"""
