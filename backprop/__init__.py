"""A from-scratch NumPy backprop engine whose every step can be recorded and shown.

from backprop import Network, save, load
net = Network("dense256-relu-dense64-relu", input_shape=(784,), n_outputs=10, seed=0)
net = Network([784, 256, 64, 10], activation="gelu")      # the same kind of network by sizes
trace = net.gradients(x, y)        # forward + backward, no update
history = net.fit(x, y, epochs=10, batch_size=64, optimizer="adam", learning_rate=1e-3)
"""

from .activations import ACTIVATIONS, make_activation
from .architecture import LAYER_KINDS, check_spec
from .config import RunConfig
from .files import load, load_with_metadata, save
from .gradcheck import GradCheckResult, check_network, gradcheck, input_gradcheck
from .layers import INITS, AvgPool2D, BatchNorm, Conv2D, Dense, Dropout, Embedding, Flatten, Layer, MaxPool2D
from .losses import LOSSES, get_loss
from .metrics import accuracy, confusion_matrix, precision_recall_f1
from .network import DTYPES, Network
from .optimizers import OPTIMIZERS, SGD, Adam, Momentum, Optimizer, RMSprop, make_optimizer
from .schedules import SCHEDULES, Cosine, EarlyStopping, ReduceOnPlateau, StepDecay, make_schedule
from .tracing import Block, LayerRecord, Trace
from .training import History, Trainer, TrainingDiverged, TrainingEvent

__all__ = [
    "ACTIVATIONS",
    "DTYPES",
    "INITS",
    "LAYER_KINDS",
    "LOSSES",
    "OPTIMIZERS",
    "SCHEDULES",
    "Adam",
    "AvgPool2D",
    "BatchNorm",
    "Block",
    "Conv2D",
    "Cosine",
    "Dense",
    "Dropout",
    "EarlyStopping",
    "Embedding",
    "Flatten",
    "GradCheckResult",
    "History",
    "Layer",
    "LayerRecord",
    "MaxPool2D",
    "Momentum",
    "Network",
    "Optimizer",
    "RMSprop",
    "ReduceOnPlateau",
    "RunConfig",
    "SGD",
    "StepDecay",
    "Trace",
    "Trainer",
    "TrainingDiverged",
    "TrainingEvent",
    "accuracy",
    "check_network",
    "check_spec",
    "confusion_matrix",
    "get_loss",
    "gradcheck",
    "input_gradcheck",
    "load",
    "load_with_metadata",
    "make_activation",
    "make_optimizer",
    "make_schedule",
    "precision_recall_f1",
    "save",
]
