"""The node canvas: a QGraphicsScene that follows an `engine.graph.graph.Graph`."""
