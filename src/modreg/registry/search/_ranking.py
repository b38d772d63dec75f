"""Text ranking: tokens as SQLite's FTS5 sees them, and FTS5's BM25 in Python.

The cache ranks with FTS5's `bm25()` when the sqlite3 build has FTS5, and with
`bm25_scores` here when it has not; both give the same scores (a test holds them together):

    score = sum over phrases p of  idf(p) * f(p) * (k1 + 1) / (f(p) + k1 * (1 - b + b * D / avgD))

where f(p) sums the column weights of p's hits in the row, D is the row's length in tokens
(all columns), idf(p) = log((N - n(p) + 0.5) / (n(p) + 0.5)), floored at 1e-6 as FTS5 does.
Every search term is three phrases: the word, the word as a prefix, and the word as a prefix
of the name (`"lstm" OR "lstm"* OR name : "lstm"*`). Exact words thus outrank longer words
that begin with them, and a name that begins with the word (LSTMx for "lstm") gets the weight
of a rare term, since few names share a beginning.

BM25 alone ranks what people mean poorly in a registry: words such as "long" or "horizon"
appear in more than half the entries, so their idf is floored and every hit scores alike.
`intent_score` therefore weighs the fields people search by -- the name, the tags and the
capabilities, their words split on `-` and `_` -- above the prose: each search word adds the
weight of the best field it hits (an exact word more than a prefix), a tag or capability whose
words all appear in the search in order (`long-horizon` for "long horizon") adds a phrase
bonus, and BM25 over every column, squashed into [0, 1), only orders entries that tie on it.
"""

from __future__ import annotations

import math
import re
import unicodedata

__all__ = [
    "FIELD_WEIGHTS", "SEARCH_COLUMNS", "WEIGHTS", "IntentScorer", "bm25_scores", "fts_match", "intent_score", "query_terms", "tokens",
]

SEARCH_COLUMNS = ("name", "summary", "description", "tags", "capabilities")
WEIGHTS = (10.0, 3.0, 1.0, 4.0, 2.0)  # per SEARCH_COLUMNS: a name match weighs most
_K1, _B = 1.2, 0.75  # FTS5's constants
# `intent_score`: (exact word, prefix) weight of a search word found in each field.
FIELD_WEIGHTS = {"name": (8.0, 6.0), "tags": (6.0, 3.0), "capabilities": (4.0, 2.0)}
_PHRASE_BONUS = 3.0
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_TOKEN = re.compile(r"[^\W_]+")


def tokens(text: str) -> list[str]:
    """Words as FTS5's unicode61 tokenizer sees them: letters and digits, case and accents folded."""
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _TOKEN.findall(text.lower())


def query_terms(text: str) -> list[str]:
    """The distinct words of a search text, in order."""
    return list(dict.fromkeys(tokens(text)))


def fts_match(terms: list[str]) -> str:
    """The FTS5 MATCH expression for `terms` (the phrases of `_phrases`, any of them)."""
    return " OR ".join(f'"{term}" OR "{term}"* OR name : "{term}"*' for term in terms)


def _phrases(terms: list[str]) -> list[tuple[str, bool, bool]]:
    """(term, as a prefix, in the name only) for each phrase of `fts_match`, in its order."""
    return [phrase for term in terms for phrase in ((term, False, False), (term, True, False), (term, True, True))]


def bm25_scores(terms: list[str], documents: list[list[list[str]]]) -> list[float | None]:
    """The score of each tokenized document (a token list per column); None: no match."""
    phrases = _phrases(terms)
    count = len(documents)
    if not count or not phrases:
        return [None] * count
    lengths = [sum(len(column) for column in columns) for columns in documents]
    average = sum(lengths) / count or 1.0
    frequencies = [[_frequency(phrase, columns) for phrase in phrases] for columns in documents]
    idf = [_idf(count, sum(1 for row in frequencies if row[i] > 0)) for i in range(len(phrases))]
    scores: list[float | None] = []
    for length, row in zip(lengths, frequencies):
        if not any(row):
            scores.append(None)
            continue
        norm = _K1 * (1 - _B + _B * length / average)
        scores.append(sum(idf[i] * (f * (_K1 + 1.0)) / (f + norm) for i, f in enumerate(row) if f))
    return scores


def _frequency(phrase: tuple[str, bool, bool], columns: list[list[str]]) -> float:
    term, prefix, name_only = phrase
    total = 0.0
    for weight, column in zip(WEIGHTS[:1] if name_only else WEIGHTS, columns):
        hits = sum(1 for token in column if token.startswith(term)) if prefix else column.count(term)
        total += weight * hits
    return total


def _idf(count: int, hits: int) -> float:
    value = math.log((count - hits + 0.5) / (hits + 0.5))
    return value if value > 0.0 else 1e-6


def intent_score(terms: list[str], name: str, tags: tuple[str, ...], capabilities: tuple[str, ...], text_score: float) -> float:
    """The rank of an entry for the search words `terms` (see the module docstring).

    `text_score` is the entry's BM25 score over every column (FTS5's or `bm25_scores`').
    """
    return IntentScorer(terms).score(name, tags, capabilities, text_score)


class IntentScorer:
    """`intent_score` for many entries: what a tag or capability is worth for the search words
    is worked out once per distinct value (a registry has a few dozen), not once per entry."""

    def __init__(self, terms: list[str]) -> None:
        self.terms = terms
        self._values: dict[str, dict[str, tuple[tuple[float, ...], float] | None]] = {"tags": {}, "capabilities": {}}

    def score(self, name: str, tags: tuple[str, ...], capabilities: tuple[str, ...], text_score: float) -> float:
        terms = self.terms
        folded = name.casefold()
        words = {*tokens(name), *_camel_words(name)}
        exact, prefix = FIELD_WEIGHTS["name"]
        best = [exact if term in words else prefix if folded.startswith(term) or any(w.startswith(term) for w in words) else 0.0
                for term in terms]
        bonus = 0.0
        for field, values in (("tags", tags), ("capabilities", capabilities)):
            known = self._values[field]
            for value in values:
                worth = known[value] if value in known else self._worth(field, value)
                if worth is not None:  # most values say nothing about the search words
                    best = [a if a >= b else b for a, b in zip(best, worth[0])]
                    bonus += worth[1]
        total = sum(best) + bonus
        if len(terms) > 1 and "".join(terms) == folded:  # "seasonal naive" names SeasonalNaive
            total += FIELD_WEIGHTS["name"][0]
        squashed = text_score / (1.0 + text_score) if text_score > 0 else 0.0
        return total + squashed

    def _worth(self, field: str, value: str) -> tuple[tuple[float, ...], float] | None:
        """(weight per search word, phrase bonus) of one tag or capability; None when both are nil."""
        group = tokens(value)
        exact, prefix = FIELD_WEIGHTS[field]
        weights = tuple(exact if term in group else prefix if any(w.startswith(term) for w in group) else 0.0 for term in self.terms)
        phrase = _PHRASE_BONUS if len(group) > 1 and _contains(self.terms, group) else 0.0
        worth = (weights, phrase) if phrase or any(weights) else None
        self._values[field][value] = worth
        return worth


def _camel_words(name: str) -> list[str]:
    """The words of a CamelCase name, folded: SeasonalNaive -> seasonal, naive; TSMixer -> ts, mixer."""
    return [word.lower() for word in _CAMEL.findall(name)]


def _contains(terms: list[str], group: list[str]) -> bool:
    """Whether the words of `group` appear in `terms` one after the other."""
    width = len(group)
    return any(terms[i:i + width] == group for i in range(len(terms) - width + 1))
