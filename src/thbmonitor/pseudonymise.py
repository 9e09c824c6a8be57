"""Pseudonymisation at the door: keyed tokens and Bloom-filter encodings; no plaintext kept.

Direct identifiers (names, date of birth, identity number) are turned, before anything is
stored, into

* keyed HMAC-SHA256 tokens for exact comparison: the birth date and its parts (year,
  year-month, month-day, and the date with day and month swapped), the identity number, the
  normalised names and their phonetic codes (Soundex and NYSIIS, for blocking);
* Bloom-filter encodings (cryptographic long-term keys after Schnell, Bachteler & Reiher 2009:
  the padded bigrams of a normalised name, each hashed ``k`` times into ``l`` bits by keyed
  double hashing) for fuzzy comparison by the Dice coefficient;
* the derived fields analysis needs: age at the reference date and its band.

Names are normalised first: Unicode decomposition without diacritics, transliteration of
letters that do not decompose (ß, ø, ł, æ, ...), lower case, punctuation to space, and the
surname particles ("van der", "de", "al", ...) split off so that "Van der Berg", "vd Berg" and
"Berg, van der" encode alike. Tokens are computed once per distinct value, so a register of
millions of rows with repeating names is encoded quickly.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jellyfish
import numpy as np
import pandas as pd

from thbmonitor.errors import KeyMissingError

TEXT = pd.StringDtype("pyarrow")
TOKEN_BYTES = 16  # a token is the first 128 bits of the HMAC, as 32 hex characters
MIN_KEY_BYTES = 16

_TRANSLIT = str.maketrans(
    {
        "ß": "ss",
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ı": "i",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "þ": "th",
        "ĳ": "ij",
    }
)
PARTICLES = frozenset(
    [
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "di",
        "da",
        "das",
        "do",
        "dos",
        "du",
        "het",
        "ter",
        "ten",
        "te",
        "la",
        "le",
        "los",
        "el",
        "al",
        "bin",
        "ben",
        "ibn",
        "abu",
        "'t",
        "vd",
        "v",
        "d",
    ]
)
_NON_LETTER = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r"\s+")


# ---- key handling ------------------------------------------------------------------------


def load_key(key_file: str | Path | None, key_env: str | None) -> bytes:
    """The secret key, from a key file or else from the environment variable named ``key_env``.

    Called only by entry points (CLI, pipeline), never by library code below them. Raises
    :class:`KeyMissingError` when neither gives a key of at least 16 bytes.
    """
    raw: bytes | None = None
    if key_file:
        try:
            raw = Path(key_file).read_bytes().strip()
        except OSError as exc:
            raise KeyMissingError(
                f"cannot read the key file named in the settings ({exc.strerror})"
            ) from exc
    elif key_env and os.environ.get(key_env):
        raw = os.environ[key_env].strip().encode()
    if not raw:
        raise KeyMissingError(
            "no pseudonymisation key: set 'key_file' in the settings or the environment "
            f"variable {key_env or 'named by key_env'}; without a key nothing is ingested"
        )
    if len(raw) < MIN_KEY_BYTES:
        raise KeyMissingError(f"the pseudonymisation key is shorter than {MIN_KEY_BYTES} bytes")
    return raw


def new_key() -> bytes:
    """A fresh random key (hex text), e.g. a throwaway key for the demo."""
    return os.urandom(32).hex().encode()


# ---- normalisation -----------------------------------------------------------------------


def normalise_name(text: str) -> str:
    """Lower-case ASCII letters and single spaces: diacritics removed, letters transliterated."""
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = _NON_LETTER.sub(" ", text.replace("'t ", "t "))
    return _SPACES.sub(" ", text).strip()


def split_surname(text: str) -> tuple[str, str]:
    """(particles, core) of a normalised surname; "berg van der" (inverted) is handled too."""
    words = text.split()
    core = [w for w in words if w not in PARTICLES]
    parts = [w for w in words if w in PARTICLES]
    if not core:  # a surname made only of particle-like words: keep it whole
        return "", text
    return " ".join(parts), " ".join(core)


# ---- the encoder -------------------------------------------------------------------------


@dataclass(frozen=True)
class Encoder:
    """Keyed tokens and Bloom filters for one key. One encoder per run; cheap to create."""

    key: bytes
    bloom_bits: int = 1000
    bloom_hashes: int = 20
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def token(self, purpose: str, value: str) -> str:
        """HMAC-SHA256 of ``value`` under the key, domain-separated by ``purpose``."""
        mac = self._keyed.copy()  # the keyed inner/outer state, computed once
        mac.update(f"{purpose}\x1f{value}".encode())
        return mac.hexdigest()[: 2 * TOKEN_BYTES]

    @property
    def _keyed(self) -> hmac.HMAC:
        keyed = self._cache.get("\x00hmac")
        if keyed is None:
            keyed = self._cache["\x00hmac"] = hmac.new(self.key, digestmod=hashlib.sha256)
        return keyed

    def bloom(self, name: str) -> bytes:
        """Bloom filter of a normalised name, packed big-endian (bit i is bit 7 - i % 8 of byte
        i // 8), so that DuckDB's ``CAST(blob AS BIT)`` gives bit i at position i."""
        bits = np.zeros(self.bloom_bits, dtype=np.uint8)
        padded = f"_{name}_"
        grams = [self._positions(padded[i : i + 2]) for i in range(len(padded) - 1)]
        bits[np.concatenate(grams)] = 1
        return np.packbits(bits).tobytes()

    def _positions(self, gram: str) -> np.ndarray:
        """The ``bloom_hashes`` bit positions of one bigram (keyed double hashing), cached."""
        cached = self._cache.get(gram)
        if cached is None:
            d1 = hmac.new(self.key, b"bf1" + gram.encode(), hashlib.sha256).digest()
            d2 = hmac.new(self.key, b"bf2" + gram.encode(), hashlib.sha256).digest()
            h1, h2 = int.from_bytes(d1[:8]), int.from_bytes(d2[:8])
            cached = np.array(
                [(h1 + k * h2) % self.bloom_bits for k in range(self.bloom_hashes)], dtype=np.int64
            )
            self._cache[gram] = cached
        return cached


def _map_unique(values: pd.Series, fn: Callable[[str], Any]) -> pd.Series:
    """Apply ``fn`` once per distinct non-empty value; empty and missing give None."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([fn(u) if u else None for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def _phonetic(fn: Callable[[str], str], text: str) -> str:
    first = text.split()[0] if text else ""
    return fn(first) if first else ""


def encode_identifiers(
    frame: pd.DataFrame, encoder: Encoder, reference_dates: pd.Series
) -> pd.DataFrame:
    """The pseudonymised columns of a frame holding identifiers as text.

    ``frame`` has the text columns first_names, last_name, date_of_birth (YYYY-MM-DD or empty)
    and identity_number (any may be absent); ``reference_dates`` are the dates ages are taken
    at. Returns a new frame with only tokens, Bloom filters and derived ages: never a name or
    a birth date.
    """
    n = len(frame)
    empty = pd.Series([""] * n, index=frame.index, dtype=object)
    first = _map_unique(frame.get("first_names", empty).fillna(""), normalise_name).fillna("")
    last = _map_unique(
        frame.get("last_name", empty).fillna(""), lambda s: split_surname(normalise_name(s))[1]
    ).fillna("")
    dob = frame.get("date_of_birth", empty).astype(TEXT).fillna("")
    ident = frame.get("identity_number", empty).astype(TEXT).fillna("").str.upper()
    ident = ident.str.replace(r"[^0-9A-Z]", "", regex=True)

    tok = encoder.token
    out: dict[str, pd.Series] = {}  # framed once at the end (cheaper than column by column)
    out["tok_first"] = _map_unique(first, lambda v: tok("first", v))
    out["tok_last"] = _map_unique(last, lambda v: tok("last", v))
    out["tok_first1"] = _map_unique(first, lambda v: tok("first1", v.split()[0]))
    out["tok_first_sdx"] = _map_unique(first, lambda v: tok("sdx", _phonetic(jellyfish.soundex, v)))
    out["tok_last_sdx"] = _map_unique(last, lambda v: tok("sdx", _phonetic(jellyfish.soundex, v)))
    out["tok_first_nysiis"] = _map_unique(
        first, lambda v: tok("nysiis", _phonetic(jellyfish.nysiis, v))
    )
    out["tok_last_nysiis"] = _map_unique(
        last, lambda v: tok("nysiis", _phonetic(jellyfish.nysiis, v))
    )
    out["bf_first"] = _map_unique(first, encoder.bloom)
    out["bf_last"] = _map_unique(last, encoder.bloom)
    out["bf_full"] = _map_unique(
        (first + " " + last).str.strip(), lambda v: encoder.bloom(" ".join(sorted(v.split())))
    )
    out["tok_dob"] = _map_unique(dob, lambda v: tok("dob", v))
    out["tok_dob_swap"] = _map_unique(dob, lambda v: tok("dob", f"{v[:4]}-{v[8:10]}-{v[5:7]}"))
    out["tok_birth_year"] = _map_unique(dob, lambda v: tok("by", v[:4]))
    out["tok_birth_ym"] = _map_unique(dob, lambda v: tok("bym", v[:7]))
    out["tok_birth_md"] = _map_unique(dob, lambda v: tok("bmd", v[5:]))
    out["dob_jan1"] = dob.str.endswith("-01-01")
    out["tok_identity"] = _map_unique(ident, lambda v: tok("id", v))
    out["age"] = ages_at(dob, reference_dates)
    return pd.DataFrame(out, index=frame.index)


def ages_at(dob: pd.Series, at: pd.Series) -> pd.Series:
    """Whole years of age at the given dates; missing where the birth date is missing."""
    born = pd.to_datetime(dob.where(dob != ""), format="%Y-%m-%d", errors="coerce")
    when = pd.to_datetime(at, errors="coerce")
    years = when.dt.year - born.dt.year
    before_birthday = (when.dt.month < born.dt.month) | (
        (when.dt.month == born.dt.month) & (when.dt.day < born.dt.day)
    )
    return (years - before_birthday.astype(int)).astype("Int64")


def identifier_columns(fields: Iterable[str]) -> list[str]:
    """Names of the plaintext identifier columns among ``fields`` (to be dropped at the door)."""
    from thbmonitor.schema import IDENTIFYING_FIELDS

    return [f for f in fields if f in IDENTIFYING_FIELDS]
