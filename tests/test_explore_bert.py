"""The NumPy BERT of the explorer: the tiny random model always, the real all-MiniLM-L6-v2
when its package is installed (``realmodel``), and torch/sentence-transformers agreement when
those are installed too."""

import os

import numpy as np
import pytest

from apsq_rae.explore.bert import (Bert, BertConfig, WordTokenizer, cosine, float_linear, gelu,
                              layer_norm, minilm_available, tiny_bert)
from apsq_rae.explore.sentences import CALIBRATION, EVALUATION, SIMILARITY


def test_gelu_matches_erf_definition():
    import math
    xs = np.linspace(-6, 6, 241)
    want = np.array([0.5 * x * (1 + math.erf(x / math.sqrt(2))) for x in xs])
    assert np.max(np.abs(gelu(xs) - want)) < 1e-6
    assert gelu(np.array([0.0]))[0] == 0.0


def test_layer_norm_normalises():
    x = np.array([[1.0, 2.0, 3.0, 6.0]], dtype=np.float32)
    y = layer_norm(x, np.ones(4), np.zeros(4), 1e-12)
    assert abs(float(y.mean())) < 1e-6
    assert abs(float(y.std()) - 1.0) < 1e-5


def test_word_tokenizer_is_deterministic_and_framed():
    tok = WordTokenizer(128)
    a = tok.encode("Hello, world!", 64)
    assert a[0] == WordTokenizer.CLS and a[-1] == WordTokenizer.SEP
    assert len(a) == 2 + 4                      # hello , world !
    assert a == tok.encode("hello ,  WORLD!", 64)
    assert all(3 <= i < 128 for i in a[1:-1])
    assert len(tok.encode("a " * 100, 10)) == 10


def test_tiny_model_shapes_and_normalised_embeddings():
    model = tiny_bert(0)
    assert len(model.linear_names) == 12
    assert model.linear_shape("encoder.layer.0.intermediate.dense") == (128, 32)
    emb = model.encode(EVALUATION[:5])
    assert emb.shape == (5, 32)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    # Deterministic, and the seed matters.
    assert np.array_equal(emb, tiny_bert(0).encode(EVALUATION[:5]))
    assert not np.allclose(emb, tiny_bert(1).encode(EVALUATION[:5]))


def test_padding_does_not_change_a_sentence():
    model = tiny_bert(0)
    alone = model.encode([EVALUATION[0]])
    batched = model.encode([EVALUATION[0], CALIBRATION[1]])   # the second is longer: padding
    assert np.allclose(alone[0], batched[0], atol=1e-5)


def test_linear_hook_sees_every_layer_once_on_valid_tokens():
    model = tiny_bert(0)
    seen = []

    def hook(name, x, w, b):
        seen.append((name, x.shape))
        return float_linear(name, x, w, b)
    ids, mask = model.tokenize(EVALUATION[:3])
    model.forward(ids, mask, hook)
    assert [n for n, _ in seen] == model.linear_names
    assert all(shape[0] == mask.sum() for _, shape in seen)


def test_config_refuses_bad_values():
    with pytest.raises(ValueError, match="num_heads"):
        BertConfig(vocab_size=10, hidden_size=30, num_layers=1, num_heads=4,
                   intermediate_size=8, max_position=8)
    with pytest.raises(ValueError, match="hidden_size = 0"):
        BertConfig(vocab_size=10, hidden_size=0, num_layers=1, num_heads=1,
                   intermediate_size=8, max_position=8)
    with pytest.raises(ValueError, match="missing"):
        Bert(BertConfig(vocab_size=10, hidden_size=4, num_layers=1, num_heads=1,
                        intermediate_size=8, max_position=8), {}, WordTokenizer(10))


needs_minilm = pytest.mark.skipif(not minilm_available(),
                                  reason="needs pip install -e '.[explore]'")


@pytest.mark.realmodel
@needs_minilm
def test_minilm_similar_sentences_score_higher():
    from apsq_rae.explore.bert import load_minilm
    model = load_minilm()
    assert model.config.num_layers == 6 and model.config.hidden_size == 384
    for anchor, similar, unrelated in SIMILARITY:
        a, s, u = model.encode([anchor, similar, unrelated])
        assert float(a @ s) > float(a @ u) + 0.2, (anchor, float(a @ s), float(a @ u))


@pytest.mark.realmodel
@needs_minilm
def test_minilm_matches_sentence_transformers():
    pytest.importorskip("torch")
    pytest.importorskip("sentence_transformers")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from apsq_rae.explore.bert import load_minilm, minilm_path
    sentences = EVALUATION[:8] + CALIBRATION[:4]
    ours = load_minilm().encode(sentences)
    ref = SentenceTransformer(str(minilm_path()), device="cpu").encode(sentences)
    assert np.max(np.abs(ours - ref)) < 1e-4
    assert np.all(cosine(ours, ref) > 0.99999)
