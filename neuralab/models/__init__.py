"""The architecture zoo: each model one small readable file, each builder registered by name.

Model files append their import here (one line each) so that their builders register.
"""

from neuralab.models.registry import get_model, list_models, register_model

__all__ = ["get_model", "list_models", "register_model"]
from neuralab.models.alexnet import AlexNet, alexnet, alexnet_paper, alexnet_small  # noqa: E402
from neuralab.models.autoencoder import ConvAutoencoder, conv_autoencoder  # noqa: E402
from neuralab.models.gan import GAN, digits_gan, mlp_gan  # noqa: E402
from neuralab.models.lenet import LeNet5, lenet5  # noqa: E402
from neuralab.models.mlp import MLP, mlp  # noqa: E402
from neuralab.models.resnet import ResNet, resnet18, resnet34, resnet50, resnet_cifar  # noqa: E402
from neuralab.models.rnn import CharLM, SequenceClassifier, char_lm, sequence_classifier  # noqa: E402
from neuralab.models.segnet import SegNet, segnet, segnet_scenes  # noqa: E402
from neuralab.models.seq2seq import EncoderDecoder, Seq2Seq, exact_match  # noqa: E402
from neuralab.models.transformer_seq2seq import TransformerSeq2Seq, transformer_seq2seq  # noqa: E402
from neuralab.models.vit import VisionTransformer, vit_b_16, vit_digits  # noqa: E402
