"""A BERT WordPiece tokenizer in pure Python: basic tokenization, then greedy longest match.

It reproduces Hugging Face's `BertTokenizer` for uncased vocabularies (`do_lower_case=True`,
`tokenize_chinese_chars=True`, `strip_accents=None`, which strips accents when lowercasing):

1. clean the text (drop NUL, U+FFFD and control characters; every whitespace becomes a space),
   NFC-normalise it and put spaces around CJK ideographs;
2. split on whitespace, lowercase and strip accents (NFD, drop combining marks), split off every
   punctuation character (ASCII symbols count as punctuation, as in BERT);
3. split each word into the longest vocabulary pieces from the left, continuation pieces
   prefixed with `##`; a word of more than 100 characters, or one that cannot be split, becomes
   `[UNK]`.

`encode` adds `[CLS]` ... `[SEP]` like the tokenizer's single-sequence template. Checked
against the `tokenizers` package's output in tests/runtime/models/fixtures/minilm_reference.json.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

__all__ = ["WordPiece", "basic_tokenize"]

_MAX_WORD_CHARS = 100
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]")
_ASCII_WORDS = re.compile(r"[^ \t\n\r!-/:-@\[-`{-~]+|[!-/:-@\[-`{-~]")  # runs of word characters, or one symbol
_CJK_RANGES = (
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
)


# ----- Character classes (BERT's definitions) -----
def _is_whitespace(char: str) -> bool:
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def _is_control(char: str) -> bool:
    if char in "\t\n\r":
        return False
    return unicodedata.category(char).startswith("C")


def _is_punctuation(char: str) -> bool:
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(char: str) -> bool:
    cp = ord(char)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


# ----- Basic tokenization -----
def _clean(text: str) -> str:
    out = []
    for char in unicodedata.normalize("NFC", text):
        if ord(char) in (0, 0xFFFD) or _is_control(char):
            continue
        if _is_whitespace(char):
            out.append(" ")
        elif _is_cjk(char):
            out.append(f" {char} ")
        else:
            out.append(char)
    return "".join(out)


def _strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def _split_punctuation(word: str) -> list[str]:
    pieces: list[str] = []
    current = ""
    for char in word:
        if _is_punctuation(char):
            if current:
                pieces.append(current)
            pieces.append(char)
            current = ""
        else:
            current += char
    return pieces + [current] if current else pieces


def basic_tokenize(text: str) -> list[str]:
    """Lowercased, accent-free words and single punctuation characters of `text`."""
    if text.isascii():  # the same result, without per-character Unicode lookups
        return _ASCII_WORDS.findall(_ASCII_CONTROL.sub("", text).lower())
    words: list[str] = []
    for word in _clean(text).split():
        words.extend(_split_punctuation(_strip_accents(word.lower())))
    return words


# ----- WordPiece -----
class WordPiece:
    """Greedy longest-match-first WordPiece over a BERT vocabulary (one token a line, id = line).

    Args:
        vocab: the tokens in id order (the lines of vocab.txt).
    """

    def __init__(self, vocab: Iterable[str]) -> None:
        self.ids = {token: i for i, token in enumerate(vocab)}
        self._words: dict[str, list[int]] = {}
        self.unk_id, self.cls_id = self.ids["[UNK]"], self.ids["[CLS]"]
        self.sep_id, self.pad_id = self.ids["[SEP]"], self.ids["[PAD]"]

    @classmethod
    def from_text(cls, text: str) -> WordPiece:
        """From the content of a vocab.txt file (split on newlines only: tokens may hold other breaks)."""
        lines = text.split("\n")
        return cls(lines[:-1] if lines[-1] == "" else lines)

    def word_ids(self, word: str) -> list[int]:
        """The ids of one basic token's pieces ([UNK] alone when it cannot be split)."""
        if word not in self._words:
            self._words[word] = self._split(word)
        return self._words[word]

    def _split(self, word: str) -> list[int]:
        if len(word) > _MAX_WORD_CHARS:
            return [self.unk_id]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.ids:
                    pieces.append(self.ids[piece])
                    break
                end -= 1
            if end == start:
                return [self.unk_id]
            start = end
        return pieces

    def tokenize(self, text: str) -> list[int]:
        """The ids of `text`'s pieces, without special tokens."""
        return [i for word in basic_tokenize(text) for i in self.word_ids(word)]

    def encode(self, text: str) -> list[int]:
        """[CLS] + pieces + [SEP], the single-sentence template."""
        return [self.cls_id, *self.tokenize(text), self.sep_id]

    def encode_batch(self, texts: Sequence[str]) -> tuple[list[list[int]], int]:
        """Every text encoded, and the longest length (for padding with `pad_id`)."""
        encoded = [self.encode(t) for t in texts]
        return encoded, max((len(e) for e in encoded), default=0)
