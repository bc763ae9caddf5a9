"""A from-scratch NumPy backprop engine whose every step can be recorded and shown.

from backprop import Network, save, load
net = Network([784, 256, 64, 10], activation="gelu", loss="cross_entropy", seed=0)
trace = net.gradients(x, y)        # forward + backward, no update
history = net.fit(x, y, epochs=10, batch_size=64, optimizer="adam", learning_rate=1e-3)
"""

from .activations import ACTIVATIONS, get_activation
from .config import RunConfig
from .gradcheck import GradCheckResult, check_network, gradcheck
from .io import load, load_with_metadata, save
from .layers import INITS, Dense, Embedding
from .losses import LOSSES, get_loss
from .metrics import accuracy, confusion_matrix, precision_recall_f1
from .network import DTYPES, Network
from .optimizers import OPTIMIZERS, SGD, Adam, Momentum, Optimizer, make_optimizer
from .schedules import SCHEDULES, Cosine, EarlyStopping, ReduceOnPlateau, StepDecay, make_schedule
from .trace import EmbeddingTrace, LayerTrace, Trace
from .training import History, Trainer, TrainingDiverged, TrainingEvent

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "OPTIMIZERS",
    "SCHEDULES",
    "INITS",
    "DTYPES",
    "Network",
    "Dense",
    "Embedding",
    "Trace",
    "LayerTrace",
    "EmbeddingTrace",
    "Optimizer",
    "SGD",
    "Momentum",
    "Adam",
    "make_optimizer",
    "StepDecay",
    "Cosine",
    "ReduceOnPlateau",
    "EarlyStopping",
    "make_schedule",
    "Trainer",
    "History",
    "TrainingEvent",
    "TrainingDiverged",
    "gradcheck",
    "check_network",
    "GradCheckResult",
    "accuracy",
    "confusion_matrix",
    "precision_recall_f1",
    "get_activation",
    "get_loss",
    "save",
    "load",
    "load_with_metadata",
    "RunConfig",
]
