"""torch.nn.modules.rnn: the recurrent layers and cells (defined in neuralab.nn.layers.rnn)."""

from neuralab.nn.layers.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase"]
