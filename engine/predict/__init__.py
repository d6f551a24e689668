"""Use a trained model on new data: `predict(project, weights, data) -> Predictions`.

A run's model.pt stores its fitted preprocessing as plain data; `predict` reads a new
file of the kind the run trained on (engine.predict.readers: a table's rows, an .npz,
images, a series), prepares it with those stored transforms, runs the model and returns
one row per input: its name, the prediction in the data's own terms (a class name, a
value in the target's units) and, for classification, each class's probability.
`write_predictions` writes them as CSV; `python main.py predict` is engine.predict.command.
Torch is imported only when a prediction runs.
"""

from engine.predict.output import Predictions, write_predictions
from engine.predict.predict import PredictError, predict

__all__ = ["PredictError", "Predictions", "predict", "write_predictions"]
