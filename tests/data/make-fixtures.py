#!/usr/bin/python3
"""Regenerates tests/data/tokenizer/ and tests/data/torch/.

Run with Debian's python3 after `apt-get install python3-torch
python3-sentencepiece python3-protobuf`; the tests themselves need none of
these. wan-tiny-public/ is a copy of shared/golden/wan-tiny-public/ and is
not made here.
"""
import base64
import collections
import json
import os
import struct

import sentencepiece as spm
import torch
from sentencepiece import sentencepiece_model_pb2 as pb

HERE = os.path.dirname(os.path.abspath(__file__))
TOK = os.path.join(HERE, "tokenizer")
TORCH = os.path.join(HERE, "torch")

# The ids SentencePiece gives for these texts are what the C tokenizer must give.
TEXTS = [
    "A red fox runs through the snowy forest at dawn, cinematic lighting.",
    "a cat",
    "Hello world",
    "  leading and   inner   spaces",
    "一只小猫在窗台上看着外面的雨。",
    "Full-width ＡＢＣ１２３ and ﬁne ligatures",
    "unknown: Ω ж ☃ 😀 ok",
    "zzzz qqqq xyzzy",
    "tab\tand\nnewline",
    "café naïve résumé",
    "e\u0301 combining",
    "50% off, $19.99, #1",
    "色调艳丽，过曝，静态",
    "",
    "Numbers 0123456789",
    "¡El café está caliente!",
]


def tokenizer_fixtures():
    # Relative names: the model records them, and they should not depend on the checkout.
    os.chdir(TOK)
    tripled = "corpus3.tmp"
    with open("corpus.txt", encoding="utf-8") as f, open(tripled, "w", encoding="utf-8") as out:
        out.write(f.read() * 3)
    prefix = "spiece"
    spm.SentencePieceTrainer.train(
        input=tripled, model_prefix=prefix, vocab_size=256, model_type="unigram",
        character_coverage=1.0, pad_id=0, eos_id=1, bos_id=2, unk_id=3, hard_vocab_limit=False,
        normalization_rule_name="nmt_nfkc", byte_fallback=False, user_defined_symbols=["<extra_id_0>"])
    os.remove(tripled)
    os.remove(prefix + ".vocab")

    model = pb.ModelProto()
    with open(prefix + ".model", "rb") as f:
        model.ParseFromString(f.read())
    added = [{"id": i, "content": p.piece, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": p.type == 4, "special": p.type != 4}
             for i, p in enumerate(model.pieces) if p.type in (2, 3, 4)]
    charsmap = base64.b64encode(model.normalizer_spec.precompiled_charsmap).decode()
    template = [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}]
    metaspace = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": charsmap},
            {"type": "Strip", "strip_left": False, "strip_right": True},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
        "pre_tokenizer": metaspace,
        "post_processor": {"type": "TemplateProcessing", "single": template,
                           "pair": template + template,
                           "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}},
        "decoder": metaspace,
        "model": {"type": "Unigram", "unk_id": model.trainer_spec.unk_id,
                  "vocab": [[p.piece, p.score] for p in model.pieces], "byte_fallback": False},
    }
    with open(os.path.join(TOK, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False, indent=1)
    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    with open(os.path.join(TOK, "cases.json"), "w", encoding="utf-8") as f:
        json.dump([{"text": t, "ids": sp.encode(t)} for t in TEXTS], f, ensure_ascii=False, indent=1)


def load_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
    out = collections.OrderedDict()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        raw = bytearray(blob[8 + n + start:8 + n + end])
        out[name] = torch.frombuffer(raw, dtype=dtypes[info["dtype"]]).reshape(info["shape"]).clone()
    return out


def torch_fixtures():
    t5 = load_safetensors(os.path.join(HERE, "wan-tiny-public", "t5_f32.safetensors"))
    torch.save(collections.OrderedDict((k, v.to(torch.bfloat16)) for k, v in t5.items()),
               os.path.join(TORCH, "t5_bf16.pth"))
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    mixed = collections.OrderedDict()
    mixed["row"] = base[2]
    mixed["whole"] = base
    mixed["param"] = torch.nn.Parameter(torch.linspace(-1, 1, 5, dtype=torch.float16))
    mixed["bf16"] = torch.tensor([[1.5, -2.25], [3.0, 0.125]], dtype=torch.bfloat16)
    mixed["ints"] = torch.tensor([1, -2, 3], dtype=torch.int64)
    mixed["scalar"] = torch.tensor(7.0)
    torch.save({"state_dict": mixed, "epoch": 3}, os.path.join(TORCH, "mixed.pth"))
    torch.save(collections.OrderedDict(t=base.t()), os.path.join(TORCH, "strided.pth"))
    torch.save(collections.OrderedDict(t=base), os.path.join(TORCH, "legacy.pth"),
               _use_new_zipfile_serialization=False)


if __name__ == "__main__":
    tokenizer_fixtures()
    torch_fixtures()
