"""The architecture zoo: each model one small readable file, each builder registered by name.

Every registered builder is an attribute of this package (``neuralab.models.seq2seq_gru``), and
``MODELS`` holds each with its task and default dataset (see ``neuralab.models.registry``).
Model files append their import here (one line each) so that their builders register.
"""

from neuralab.models.alexnet import AlexNet, alexnet, alexnet_paper, alexnet_small  # noqa: E402
from neuralab.models.autoencoder import ConvAutoencoder, conv_autoencoder  # noqa: E402
from neuralab.models.gan import GAN, digits_gan, mlp_gan  # noqa: E402
from neuralab.models.lenet import LeNet5, lenet5  # noqa: E402
from neuralab.models.mlp import MLP, mlp, mlp_layers  # noqa: E402
from neuralab.models.registry import (
    MODELS,
    TASKS,
    ModelSpec,
    get_model,
    list_models,
    register_model,
)
from neuralab.models.resnet import ResNet, resnet18, resnet34, resnet50, resnet_cifar  # noqa: E402
from neuralab.models.rnn import CharLM, SequenceClassifier, char_lm, sequence_classifier  # noqa: E402
from neuralab.models.segnet import SegNet, segnet, segnet_scenes  # noqa: E402
from neuralab.models.seq2seq import (  # noqa: E402
    EncoderDecoder,
    Seq2Seq,
    exact_match,
    seq2seq_gru,
    seq2seq_gru_attention,
    seq2seq_lstm,
    seq2seq_lstm_attention,
)
from neuralab.models.transformer_seq2seq import TransformerSeq2Seq, transformer_seq2seq  # noqa: E402
from neuralab.models.vit import VisionTransformer, vit_b_16, vit_digits  # noqa: E402

__all__ = [
    "GAN", "MLP", "MODELS", "TASKS", "AlexNet", "CharLM", "ConvAutoencoder", "EncoderDecoder",
    "LeNet5", "ModelSpec", "ResNet", "SegNet", "Seq2Seq", "SequenceClassifier",
    "TransformerSeq2Seq", "VisionTransformer", "alexnet", "alexnet_paper", "alexnet_small",
    "char_lm", "conv_autoencoder", "digits_gan", "exact_match", "get_model", "lenet5",
    "list_models", "mlp", "mlp_gan", "mlp_layers", "register_model", "resnet18", "resnet34",
    "resnet50", "resnet_cifar", "segnet", "segnet_scenes", "seq2seq_gru", "seq2seq_gru_attention",
    "seq2seq_lstm", "seq2seq_lstm_attention", "sequence_classifier", "transformer_seq2seq",
    "vit_b_16", "vit_digits",
]  # fmt: skip
