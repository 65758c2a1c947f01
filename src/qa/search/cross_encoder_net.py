"""The reranker's network in torch: the bundled encoder's first layers with low-rank adapters and a scoring head
(for training, and for merging into one graph to export)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

# the linear layers of each encoder layer that get an adapter (Hugging Face names)
TARGETS = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
           "intermediate.dense", "output.dense")


@dataclass(frozen=True)
class NetShape:
    """What the adapter file fits: the encoder layers kept, the adapters' rank and scale, the pair length."""

    layers: int = 4
    rank: int = 16
    alpha: float = 32.0
    max_length: int = 160  # tokens of question + passage; the passage is cut, never the question

    @classmethod
    def from_json(cls, data: dict) -> "NetShape":
        return cls(**{k: data[k] for k in asdict(cls())})


def pair_tokenizer(folder: Path, max_length: int):
    """The bundled tokenizer (tokenizers library) for <s> question </s></s> passage </s>, the passage cut to fit."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length, strategy="only_second")
    return tokenizer


def encode_pairs(tokenizer, question: str, passages: Sequence[str], pad_id: int = 1) -> dict[str, np.ndarray]:
    """input_ids and attention_mask (int64) of one question with each passage, padded to the longest."""
    encoded = tokenizer.encode_batch([(question, p) for p in passages])
    width = max(len(e.ids) for e in encoded)
    ids = np.full((len(encoded), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(encoded), width), dtype=np.int64)
    for i, e in enumerate(encoded):
        ids[i, : len(e.ids)] = e.ids
        mask[i, : len(e.ids)] = 1
    return {"input_ids": ids, "attention_mask": mask}


def build(folder: Path, shape: NetShape):
    """(torch, the cross-encoder module) on the converted bundled weights, adapters initialised (B = 0, so the
    untrained adapters change nothing)."""
    import torch
    import transformers
    from torch import nn
    from transformers import XLMRobertaModel

    transformers.logging.set_verbosity_error()  # its load report and loss notice are not the user's business

    class Adapted(nn.Module):
        def __init__(self, base: nn.Linear) -> None:
            super().__init__()
            self.base = base
            self.a = nn.Parameter(torch.empty(shape.rank, base.in_features))
            self.b = nn.Parameter(torch.zeros(base.out_features, shape.rank))
            nn.init.kaiming_uniform_(self.a, a=math.sqrt(5))
            self.scale = shape.alpha / shape.rank

        def forward(self, x):
            return self.base(x) + (x @ self.a.T @ self.b.T) * self.scale

        def merged(self) -> nn.Linear:
            out = nn.Linear(self.base.in_features, self.base.out_features)
            with torch.no_grad():
                out.weight.copy_(self.base.weight + self.scale * self.b @ self.a)
                out.bias.copy_(self.base.bias)
            return out

    class CrossEncoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            encoder = XLMRobertaModel.from_pretrained(str(folder), add_pooling_layer=False, local_files_only=True)
            encoder.encoder.layer = encoder.encoder.layer[: shape.layers]
            encoder.config.num_hidden_layers = shape.layers
            self.encoder = encoder
            self.head = nn.Linear(encoder.config.hidden_size, 1)
            nn.init.normal_(self.head.weight, std=0.02)
            nn.init.zeros_(self.head.bias)
            for layer in encoder.encoder.layer:
                for target in TARGETS:
                    parent, name = _parent(layer, target)
                    setattr(parent, name, Adapted(getattr(parent, name)))

        def forward(self, input_ids, attention_mask):
            states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * weights).sum(1) / weights.sum(1).clamp(min=1.0)  # mean pooling, as e5 was trained
            return self.head(pooled).squeeze(-1)

        def trained(self) -> dict:
            """The parameters training changes (adapters, layer norms, head): all the adapter file holds."""
            return {n: p for n, p in self.named_parameters() if _trained(n)}

        def merge(self) -> None:
            """Fold every adapter into its linear layer: one plain encoder to export."""
            for layer in self.encoder.encoder.layer:
                for target in TARGETS:
                    parent, name = _parent(layer, target)
                    setattr(parent, name, getattr(parent, name).merged())

    model = CrossEncoder()
    for name, param in model.named_parameters():
        param.requires_grad = _trained(name)
    return torch, model


def _trained(name: str) -> bool:
    return name.endswith((".a", ".b")) or "LayerNorm" in name or name.startswith("head.")


def _parent(layer, dotted: str):
    *path, name = dotted.split(".")
    parent = layer
    for part in path:
        parent = getattr(parent, part)
    return parent, name


def load_trained(model, weights: dict[str, np.ndarray]) -> None:
    """Put the adapter file's tensors into a freshly built module (names must match exactly)."""
    import torch

    params = dict(model.named_parameters())
    wanted = {n for n in params if _trained(n)}
    if set(weights) != wanted:
        missing, extra = sorted(wanted - set(weights))[:3], sorted(set(weights) - wanted)[:3]
        raise ValueError(f"adapter does not fit the network: missing {missing}, unexpected {extra}")
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(torch.from_numpy(np.asarray(value, np.float32)))

