#!/usr/bin/python3
"""Regenerates the golden fixtures of tests/vision from references that share
no code with tagsmith's C++:

  * tokenizer: OpenAI CLIP's simple_tokenizer.py algorithm (re-typed here) run
    on the real vocabulary in ../shared/models/clip-tokenizer, cross-checked
    against the ids in that folder's tokenizer.json (Hugging Face form);
  * preprocessing: PIL's Image.resize(BICUBIC) and Hugging Face
    CLIPImageProcessor's arithmetic (shortest side, centre crop, mean/std);
  * model: Hugging Face CLIPModel's forward pass re-written with torch
    functional ops in float64, on a tiny random CLIP written as
    model.safetensors (the format written by hand below).

Not run by CI: run it by hand with Debian's interpreter, which has torch, PIL
and regex (apt-get install python3-torch python3-pil python3-regex):

    /usr/bin/python3 tests/vision/make_fixtures.py

Cleaning differs from OpenAI's in one documented way, the same as Hugging
Face's CLIPTokenizerFast: no ftfy and no HTML unescaping; NFC, whitespace runs
to one space, strip, lower-case.
"""
import gzip
import hashlib
import json
import math
import os
import struct
import sys
import unicodedata
from pathlib import Path

import numpy as np
import regex
import torch
from PIL import Image

HERE = Path(__file__).resolve().parent
FIX = HERE / "fixtures"
SHARED_TOK = HERE.parent.parent.parent / "shared" / "models" / "clip-tokenizer"


# ----------------------------------------------------------------- tokenizer
def bytes_to_unicode():
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) +
          list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def get_pairs(word):
    return set(zip(word[:-1], word[1:]))


PAT = regex.compile(
    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
    regex.IGNORECASE)


def clean(text):
    text = unicodedata.normalize("NFC", text)
    text = regex.sub(r"\s+", " ", text).strip()
    return text.lower()


class RefTokenizer:
    """simple_tokenizer.SimpleTokenizer, with `encoder` given explicitly so
    a trimmed vocabulary keeps the real ids."""

    def __init__(self, merges, encoder):
        self.byte_encoder = bytes_to_unicode()
        self.encoder = encoder
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.used_merges = set()  # every merge that was a candidate
        self.sot = encoder["<|startoftext|>"]
        self.eot = encoder["<|endoftext|>"]

    @staticmethod
    def openai_encoder(merges):
        vocab = list(bytes_to_unicode().values())
        vocab = vocab + [v + "</w>" for v in vocab]
        for m in merges:
            vocab.append("".join(m))
        vocab.extend(["<|startoftext|>", "<|endoftext|>"])
        return dict(zip(vocab, range(len(vocab))))

    def bpe(self, token):
        if token in ("<|startoftext|>", "<|endoftext|>"):
            return token
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        pairs = get_pairs(word)
        if not pairs:
            return token + "</w>"
        while True:
            for p in pairs:
                if p in self.bpe_ranks:
                    self.used_merges.add(p)
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                    new_word.extend(word[i:j])
                    i = j
                except ValueError:
                    new_word.extend(word[i:])
                    break
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        return " ".join(word)

    def encode(self, text):
        out = []
        for token in regex.findall(PAT, clean(text)):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            out.extend(self.encoder[t] for t in self.bpe(token).split(" "))
        return out

    def tokenize(self, text, context_length=77, pad=True):
        """clip.tokenize(truncate=True): sot + ids + eot, cut to the context
        length with eot kept last, zero-padded."""
        ids = [self.sot] + self.encode(text) + [self.eot]
        if len(ids) > context_length:
            ids = ids[:context_length]
            ids[-1] = self.eot
        return ids + [0] * (context_length - len(ids)) if pad else ids


def load_openai_merges(path):
    lines = gzip.open(path).read().decode("utf-8").split("\n")
    lines = lines[1:49152 - 256 - 2 + 1]
    return [tuple(m.split()) for m in lines]


TRICKY = [
    "a photo of a cat",
    "A Product Photo of a WHITE dress",
    "  leading and trailing spaces  ",
    "tabs\tand\nnewlines\r\nand   runs   of spaces",
    "café crème brûlée",
    "naïve façade résumé",
    "Ångström Øresund ÆGIR",
    "straße STRASSE groß",
    "İstanbul ΟΔΥΣΣΕΥΣ",
    "cafe\u0301 (decomposed e + combining acute)",
    "黑色羊毛大衣",
    "白色连衣裙 white dress",
    "日本語のテキストとカタカナ",
    "한국어 원피스",
    "Привет, мир! ЧЁРНОЕ ПАЛЬТО",
    "مرحبا بالعالم",
    "שלום עולם",
    "हिन्दी पाठ",
    "ไทยภาษา",
    "emoji 👗👠💄 dress",
    "family 👨‍👩‍👧‍👦 and flags 🇫🇷🇯🇵",
    "skin tone 👍🏽 thumbs",
    "❤️ red heart with VS16",
    "!!!???...",
    "wow!!! really?!? ... ok.",
    "--- *** ### @@@ $$$ %%% ^^^ &&&",
    "(parentheses) [brackets] {braces} <angles>",
    "price: $19.99 (was $29.99) -33%",
    "email me at someone@example.com or http://example.com/path?q=1&x=2",
    "c++ c# f# .net node.js",
    "don't can't won't it's I'm you're we've they'll he'd",
    "DON'T CAN'T IT'S I'M YOU'RE",
    "the dog's bone and the cats' toys",
    "rock 'n' roll ''quoted'' 's 't",
    "‘curly’ “double” quotes — dashes – and … ellipsis",
    "1234567890",
    "size 42 EU / 9.5 US / 27cm",
    "2024-01-15T10:30:00Z",
    "3.14159 2.71828 1e-10 0x1F",
    "½ ¾ ² ³ ① ② Ⅻ",
    "٣٤٥ arabic-indic digits",
    "100% cotton, 0% polyester",
    "<|startoftext|>",
    "<|endoftext|>",
    "text with <|endoftext|> in the middle",
    "<|startoftext|>hello<|endoftext|>",
    "<|endoftext",
    "ﬁne ligature ﬃ",
    "ＦＵＬＬＷＩＤＴＨ ｌｅｔｔｅｒｓ １２３",
    "non\u00a0breaking\u2003em\u3000ideographic spaces",
    "zero\u200bwidth\u200djoiner",
    "controls \x07 bell and \x7f del",
    "mixed中文and english混合text",
    "supercalifragilisticexpialidocious",
    "pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "a a a a a",
    "x",
    "",
    "   ",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙 letters",
    "Ⅷ roman numeral and ℃ and ™ ®",
    ("a very long product description that goes on and on describing a "
     "navy blue wool blend double breasted overcoat with notch lapels, "
     "flap pockets, a back vent, satin lining and horn buttons, suitable "
     "for winter, machine washable at thirty degrees, imported, model is "
     "wearing size medium and is one hundred eighty five centimetres tall"),
    " ".join(["tok%d" % i for i in range(120)]),
]


def make_tokenizer_fixtures():
    gz = SHARED_TOK / "bpe_simple_vocab_16e6.txt.gz"
    merges = load_openai_merges(gz)
    encoder = RefTokenizer.openai_encoder(merges)
    tj = json.load(open(SHARED_TOK / "tokenizer.json", encoding="utf-8"))
    assert tj["model"]["vocab"] == encoder, "OpenAI vocabulary differs from tokenizer.json"
    assert [tuple(m.split()) if isinstance(m, str) else tuple(m)
            for m in tj["model"]["merges"]] == merges, "merges differ from tokenizer.json"
    tok = RefTokenizer(merges, encoder)
    cases = [{"text": t, "ids": tok.tokenize(t)} for t in TRICKY]

    # A trimmed vocabulary with the real ids: every merge that was ever a
    # candidate (kept in rank order) reproduces the same merge sequence.
    kept = [m for m in merges if m in tok.used_merges]
    trimmed_encoder = {}
    for v in bytes_to_unicode().values():
        trimmed_encoder[v] = encoder[v]
        trimmed_encoder[v + "</w>"] = encoder[v + "</w>"]
    for m in kept:
        trimmed_encoder["".join(m)] = encoder["".join(m)]
    for s in ("<|startoftext|>", "<|endoftext|>"):
        trimmed_encoder[s] = encoder[s]
    check = RefTokenizer(kept, trimmed_encoder)
    for c in cases:
        assert check.tokenize(c["text"]) == c["ids"], c["text"]

    out = FIX / "tokenizer"
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "vocab.json", "w", encoding="utf-8") as f:
        json.dump(trimmed_encoder, f, ensure_ascii=False, separators=(",", ":"))
    with open(out / "merges.txt", "w", encoding="utf-8") as f:
        f.write("#version: 0.2 - trimmed by tests/vision/make_fixtures.py\n")
        f.write("".join(f"{a} {b}\n" for a, b in kept))
    with open(out / "cases.json", "w", encoding="utf-8") as f:
        json.dump({"context_length": 77, "cases": [
            {"text": c["text"], "ids": tok.tokenize(c["text"], pad=False)} for c in cases]},
            f, ensure_ascii=False, indent=0)
    print(f"tokenizer: {len(cases)} cases, {len(kept)} merges kept")
    return merges


# ------------------------------------------------------------- preprocessing
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def synth_image(w, h, seed, mode):
    """Deterministic RGB test image; tests/vision/vision_test.cpp has the
    same integer formula."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.uint64)
    out = np.zeros((h, w, 3), dtype=np.uint8)
    M = np.uint64(0xFFFFFFFF)
    for c in range(3):
        hsh = ((xs * np.uint64(73856093)) ^ (ys * np.uint64(19349663)) ^
               np.uint64((c * 83492791 + seed * 2654435761) & 0xFFFFFFFF)) & M
        hsh ^= hsh >> np.uint64(13)
        hsh = (hsh * np.uint64(0x5BD1E995)) & M
        hsh ^= hsh >> np.uint64(15)
        if mode == 0:
            v = hsh & np.uint64(255)
        else:
            v = ((xs * np.uint64(200)) // np.uint64(max(w - 1, 1)) +
                 (ys * np.uint64(55)) // np.uint64(max(h - 1, 1)) +
                 np.uint64(c * 40) + (hsh & np.uint64(15))) & np.uint64(255)
        out[:, :, c] = v.astype(np.uint8)
    return out


def hf_resize_crop(rgb, size):
    """CLIPImageProcessor: shortest edge to `size` (long edge truncated as in
    get_resize_output_image_size), PIL bicubic on uint8, centre crop with
    floor offsets (image_transforms.center_crop)."""
    h, w = rgb.shape[:2]
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    nw, nh = (new_short, new_long) if w <= h else (new_long, new_short)
    img = Image.fromarray(rgb).resize((nw, nh), Image.BICUBIC)
    a = np.asarray(img)
    top, left = (nh - size) // 2, (nw - size) // 2
    return np.ascontiguousarray(a[top:top + size, left:left + size])


def pixel_values(crop):
    x = (crop.astype(np.float64) * (1 / 255)).astype(np.float32)
    x = (x - MEAN) / STD
    return x.transpose(2, 0, 1)  # CHW


PREPROC_CASES = [(640, 480, 1, 0), (480, 640, 2, 1), (1001, 703, 3, 0), (50, 80, 4, 1),
                 (224, 224, 5, 0), (300, 225, 6, 1), (7, 9, 7, 0), (2000, 150, 8, 1)]


def make_preprocess_fixtures():
    cases = []
    for w, h, seed, mode in PREPROC_CASES:
        rgb = synth_image(w, h, seed, mode)
        for size in (224, 32):
            crop = hf_resize_crop(rgb, size)
            cases.append({"width": w, "height": h, "seed": seed, "mode": mode, "size": size,
                          "crop_sha256": hashlib.sha256(crop.tobytes()).hexdigest(),
                          "crop_sum": int(crop.astype(np.int64).sum())})
    with open(FIX / "preprocess.json", "w") as f:
        json.dump({"cases": cases}, f, indent=1)
    print(f"preprocess: {len(cases)} cases")


# --------------------------------------------------------------------- model
def write_safetensors(path, tensors, dtype):
    st = {"F32": torch.float32, "F16": torch.float16}
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        if t.dtype == torch.int64:
            data, dt = t.numpy().astype("<i8").tobytes(), "I64"
        else:
            data, dt = t.to(st[dtype]).numpy().tobytes(), dtype
        header[name] = {"dtype": dt, "shape": list(t.shape),
                        "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def random_clip(cfg, seed):
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape, std=0.05):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * std

    def ln(prefix, n, t):
        t[prefix + ".weight"] = 1 + rnd(n, std=0.1)
        t[prefix + ".bias"] = rnd(n, std=0.1)

    def layers(prefix, c, t):
        H, I = c["hidden_size"], c["intermediate_size"]
        for i in range(c["num_hidden_layers"]):
            p = f"{prefix}.encoder.layers.{i}."
            for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
                t[p + f"self_attn.{proj}.weight"] = rnd(H, H, std=H**-0.5)
                t[p + f"self_attn.{proj}.bias"] = rnd(H, std=0.02)
            ln(p + "layer_norm1", H, t)
            ln(p + "layer_norm2", H, t)
            t[p + "mlp.fc1.weight"] = rnd(I, H, std=H**-0.5)
            t[p + "mlp.fc1.bias"] = rnd(I, std=0.02)
            t[p + "mlp.fc2.weight"] = rnd(H, I, std=I**-0.5)
            t[p + "mlp.fc2.bias"] = rnd(H, std=0.02)

    t = {}
    v, x, P = cfg["vision_config"], cfg["text_config"], cfg["projection_dim"]
    Hv, Ht = v["hidden_size"], x["hidden_size"]
    npos = (v["image_size"] // v["patch_size"])**2 + 1
    t["logit_scale"] = torch.tensor(math.log(1 / 0.07), dtype=torch.float64)
    t["text_model.embeddings.token_embedding.weight"] = rnd(x["vocab_size"], Ht, std=0.5)
    t["text_model.embeddings.position_embedding.weight"] = rnd(x["max_position_embeddings"], Ht,
                                                               std=0.2)
    t["text_model.embeddings.position_ids"] = torch.arange(x["max_position_embeddings"]).unsqueeze(0)
    layers("text_model", x, t)
    ln("text_model.final_layer_norm", Ht, t)
    t["vision_model.embeddings.class_embedding"] = rnd(Hv, std=0.5)
    t["vision_model.embeddings.patch_embedding.weight"] = rnd(Hv, 3, v["patch_size"],
                                                              v["patch_size"], std=0.1)
    t["vision_model.embeddings.position_embedding.weight"] = rnd(npos, Hv, std=0.2)
    ln("vision_model.pre_layrnorm", Hv, t)
    layers("vision_model", v, t)
    ln("vision_model.post_layernorm", Hv, t)
    t["visual_projection.weight"] = rnd(P, Hv, std=Hv**-0.5)
    t["text_projection.weight"] = rnd(P, Ht, std=Ht**-0.5)
    return t


def act(name, x):
    if name == "quick_gelu":
        return x * torch.sigmoid(1.702 * x)
    if name == "gelu":
        return torch.nn.functional.gelu(x)
    raise ValueError(name)


def encoder(t, prefix, c, h, causal):
    H, nh = c["hidden_size"], c["num_attention_heads"]
    hd = H // nh
    eps = c.get("layer_norm_eps", 1e-5)
    B, T, _ = h.shape
    F = torch.nn.functional
    for i in range(c["num_hidden_layers"]):
        p = f"{prefix}.encoder.layers.{i}."
        W = lambda n: t[p + n]
        r = h
        x = F.layer_norm(h, (H,), W("layer_norm1.weight"), W("layer_norm1.bias"), eps)
        q = F.linear(x, W("self_attn.q_proj.weight"), W("self_attn.q_proj.bias")) * hd**-0.5
        k = F.linear(x, W("self_attn.k_proj.weight"), W("self_attn.k_proj.bias"))
        vv = F.linear(x, W("self_attn.v_proj.weight"), W("self_attn.v_proj.bias"))
        q, k, vv = (z.view(B, T, nh, hd).transpose(1, 2) for z in (q, k, vv))
        s = q @ k.transpose(-1, -2)
        if causal:
            s = s + torch.full((T, T), float("-inf"), dtype=s.dtype).triu(1)
        a = (s.softmax(-1) @ vv).transpose(1, 2).reshape(B, T, H)
        h = r + F.linear(a, W("self_attn.out_proj.weight"), W("self_attn.out_proj.bias"))
        r = h
        x = F.layer_norm(h, (H,), W("layer_norm2.weight"), W("layer_norm2.bias"), eps)
        x = act(c["hidden_act"], F.linear(x, W("mlp.fc1.weight"), W("mlp.fc1.bias")))
        h = r + F.linear(x, W("mlp.fc2.weight"), W("mlp.fc2.bias"))
    return h


def image_features(t, cfg, pix):
    F = torch.nn.functional
    v = cfg["vision_config"]
    eps = v.get("layer_norm_eps", 1e-5)
    H = v["hidden_size"]
    x = F.conv2d(pix, t["vision_model.embeddings.patch_embedding.weight"], stride=v["patch_size"])
    x = x.flatten(2).transpose(1, 2)
    cls = t["vision_model.embeddings.class_embedding"].expand(x.shape[0], 1, -1)
    x = torch.cat([cls, x], 1) + t["vision_model.embeddings.position_embedding.weight"]
    x = F.layer_norm(x, (H,), t["vision_model.pre_layrnorm.weight"],
                     t["vision_model.pre_layrnorm.bias"], eps)
    x = encoder(t, "vision_model", v, x, False)
    pooled = F.layer_norm(x[:, 0], (H,), t["vision_model.post_layernorm.weight"],
                          t["vision_model.post_layernorm.bias"], eps)
    e = pooled @ t["visual_projection.weight"].T
    return e / e.norm(dim=-1, keepdim=True)


def text_features(t, cfg, ids):
    F = torch.nn.functional
    c = cfg["text_config"]
    H = c["hidden_size"]
    ids = torch.tensor(ids)
    T = ids.shape[1]
    x = (t["text_model.embeddings.token_embedding.weight"][ids] +
         t["text_model.embeddings.position_embedding.weight"][:T])
    x = encoder(t, "text_model", c, x, True)
    x = F.layer_norm(x, (H,), t["text_model.final_layer_norm.weight"],
                     t["text_model.final_layer_norm.bias"], c.get("layer_norm_eps", 1e-5))
    eos = c.get("eos_token_id", 2)
    pos = ids.argmax(-1) if eos == 2 else (ids == eos).int().argmax(-1)
    e = x[torch.arange(x.shape[0]), pos] @ t["text_projection.weight"].T
    return e / e.norm(dim=-1, keepdim=True)


MODEL_TEXTS = ["a photo of a cat", "a product photo of a red dress", "黑色羊毛大衣",
               "don't stop!!", " ".join(["word"] * 100)]
MODEL_IMAGES = [(40, 30, 11, 0), (30, 64, 12, 1), (32, 32, 13, 0), (200, 120, 14, 1)]


def make_model(name, cfg, dtype, seed, all_merges):
    out = FIX / name
    out.mkdir(parents=True, exist_ok=True)
    n_merges = cfg["text_config"]["vocab_size"] - 512 - 2
    merges = all_merges[:n_merges]
    encoder_ = RefTokenizer.openai_encoder(merges)
    tok = RefTokenizer(merges, encoder_)
    with open(out / "vocab.json", "w", encoding="utf-8") as f:
        json.dump(encoder_, f, ensure_ascii=False, separators=(",", ":"))
    with open(out / "merges.txt", "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    with open(out / "config.json", "w") as f:
        json.dump(cfg, f, indent=2)

    t = random_clip(cfg, seed)
    write_safetensors(out / "model.safetensors", t, dtype)
    # The reference computes with the weights as stored (fp16 rounded).
    if dtype == "F16":
        t = {k: (v.half().double() if v.is_floating_point() else v) for k, v in t.items()}

    size = cfg["vision_config"]["image_size"]
    pix = np.stack([pixel_values(hf_resize_crop(synth_image(w, h, s, m), size))
                    for w, h, s, m in MODEL_IMAGES])
    img = image_features(t, cfg, torch.from_numpy(pix).double())
    ids = [tok.tokenize(s, cfg["text_config"]["max_position_embeddings"]) for s in MODEL_TEXTS]
    txt = text_features(t, cfg, ids)
    with open(out / "expected.json", "w") as f:
        json.dump({
            "logit_scale": math.exp(float(t["logit_scale"])),
            "images": [{"width": w, "height": h, "seed": s, "mode": m,
                        "embedding": [round(float(z), 8) for z in e]}
                       for (w, h, s, m), e in zip(MODEL_IMAGES, img)],
            "texts": [{"text": s, "ids": tok.tokenize(s, pad=False),
                       "embedding": [round(float(z), 8) for z in e]}
                      for s, ii, e in zip(MODEL_TEXTS, ids, txt)],
        }, f, ensure_ascii=False, indent=1)
    print(f"{name}: {sum(v.numel() for v in t.values())} parameters, "
          f"{(out / 'model.safetensors').stat().st_size} bytes")


def main():
    if not SHARED_TOK.exists():
        sys.exit(f"needs the real CLIP vocabulary in {SHARED_TOK}")
    FIX.mkdir(exist_ok=True)
    merges = make_tokenizer_fixtures()
    make_preprocess_fixtures()
    base = {"architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 24,
            "logit_scale_init_value": 2.6592}
    tiny = dict(base, text_config={
        "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
        "num_attention_heads": 4, "max_position_embeddings": 77, "vocab_size": 764,
        "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "bos_token_id": 762,
        "eos_token_id": 763, "projection_dim": 24},
        vision_config={
        "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "image_size": 32, "patch_size": 8, "num_channels": 3,
        "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "projection_dim": 24})
    make_model("tiny-clip", tiny, "F32", 1234, merges)
    # fp16 weights, exact gelu and the legacy eos_token_id=2 (argmax pooling).
    half = dict(base, projection_dim=16, text_config=dict(
        tiny["text_config"], hidden_act="gelu", eos_token_id=2, bos_token_id=0,
        projection_dim=16),
        vision_config=dict(tiny["vision_config"], hidden_size=32, intermediate_size=64,
                           hidden_act="gelu", projection_dim=16))
    make_model("tiny-clip-fp16", half, "F16", 4321, merges)


if __name__ == "__main__":
    main()
