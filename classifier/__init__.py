"""Text in, prediction out: topic, agency, place, urgency and kind of a resident's message.

Knows nothing of Flask or the database: callers hand it texts and labels.
"""

from .agency import AgencyModel
from .dataset import Dataset, DatasetError, read_dataset, shipped_corpus
from .estimators import build_pipeline
from .model import TopicModel
from .predict import Classifier, LiveClassifier, Prediction
from .store import ActiveModel, FolderFiles, ModelFiles, ModelStore, UntrustedModel

__all__ = [
    "ActiveModel",
    "AgencyModel",
    "Classifier",
    "LiveClassifier",
    "Dataset",
    "DatasetError",
    "FolderFiles",
    "ModelFiles",
    "ModelStore",
    "Prediction",
    "TopicModel",
    "UntrustedModel",
    "build_pipeline",
    "read_dataset",
    "shipped_corpus",
]
