"""Pseudonymisation at the door: keyed tokens and Bloom-filter encodings; no plaintext kept.

Direct identifiers (names, date of birth, identity number) are turned, before anything is
stored, into

* keyed HMAC-SHA256 tokens for exact comparison: the birth date and its parts (year,
  year-month, month-day, and the date with day and month swapped), the identity number, the
  normalised names and their phonetic codes (Soundex and NYSIIS, for blocking);
* Bloom-filter encodings (cryptographic long-term keys after Schnell, Bachteler & Reiher 2009:
  the padded bigrams of a normalised name, each hashed ``k`` times into ``l`` bits by keyed
  double hashing) for fuzzy comparison by the Dice coefficient;
* the derived fields analysis and linkage need: the birth year, whether the birth date is
  uncertain (estimated, or a 1 January), and the age at the reference date, from which ingest
  derives the age band. The age itself is not stored: next to the record's date it tells on
  which side of the birthday the date lies, and across the records sharing a birth-date token
  that pins down the day and month of birth.

The store keeps :func:`key_fingerprint` of its key (a keyed hash of a constant) so that tokens
of two keys never meet in one store; :func:`load_key` and :func:`check_key` refuse short,
repetitive or readable-by-others keys.

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
import stat
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import jellyfish
import numpy as np
import pandas as pd

from thbmonitor.errors import KeyMissingError

TEXT = pd.StringDtype("pyarrow")
TOKEN_BYTES = 16  # a token is the first 128 bits of the HMAC, as 32 hex characters
MIN_KEY_BYTES = 32  # 256 bits of a random hex key would need 64; a passphrase needs its length
MIN_KEY_SYMBOLS = 8  # a key of fewer different characters is no secret
FINGERPRINT_CONSTANT = b"thbmonitor key fingerprint/1"

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


def check_key(raw: bytes, where: str = "the pseudonymisation key") -> bytes:
    """``raw`` if it is fit to be a key: at least :data:`MIN_KEY_BYTES` bytes and at least
    :data:`MIN_KEY_SYMBOLS` different ones (so not one repeated character); else
    :class:`KeyMissingError` naming ``where`` the key came from (never the key)."""
    if len(raw) < MIN_KEY_BYTES:
        raise KeyMissingError(
            f"{where} is shorter than {MIN_KEY_BYTES} bytes; make a new one, e.g. "
            "python3 -c 'import secrets; print(secrets.token_hex(32))'"
        )
    if len(set(raw)) < MIN_KEY_SYMBOLS:
        raise KeyMissingError(
            f"{where} has fewer than {MIN_KEY_SYMBOLS} different characters (one repeated "
            "character, say); make a random one, e.g. "
            "python3 -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return raw


def load_key(key_file: str | Path | None, key_env: str | None) -> bytes:
    """The secret key, from a key file or else from the environment variable named ``key_env``.

    Called only by entry points (CLI, pipeline, registry), never by library code below them.
    Raises :class:`KeyMissingError` when neither gives a key, when the key is too short or of
    too few different characters (:func:`check_key`), or when the key file can be read by
    anyone but its owner. Errors name the key file by its resolved path.
    """
    if key_file:
        path = Path(key_file).expanduser().resolve()
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                raise KeyMissingError(f"the key file {path} is not a regular file")
            raw = path.read_bytes().strip()
        except OSError as exc:
            raise KeyMissingError(f"cannot read the key file {path} ({exc.strerror})") from exc
        if info.st_mode & 0o077:
            raise KeyMissingError(
                f"the key file {path} can be read or written by others than its owner "
                f"(mode {stat.S_IMODE(info.st_mode):o}); run: chmod 600 {path}"
            )
        if not raw:
            raise KeyMissingError(f"the key file {path} is empty")
        return check_key(raw, f"the key in {path}")
    if key_env and os.environ.get(key_env, "").strip():
        return check_key(os.environ[key_env].strip().encode(), f"the key in ${key_env}")
    raise KeyMissingError(
        "no pseudonymisation key: set 'key_file' in the settings or the environment "
        f"variable {key_env or 'named by key_env'}; without a key nothing is ingested"
    )


def new_key() -> bytes:
    """A fresh random key (hex text), e.g. a throwaway key for the demo."""
    return os.urandom(32).hex().encode()


def key_fingerprint(key: bytes) -> str:
    """A keyed hash of a constant: the same for the same key, and says nothing of the key.

    The store keeps it to refuse tokens made with another key (see
    :func:`thbmonitor.store.bind_key`)."""
    return hmac.new(key, FINGERPRINT_CONSTANT, hashlib.sha256).hexdigest()[: 2 * TOKEN_BYTES]


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

    def __post_init__(self) -> None:
        check_key(self.key)

    @property
    def fingerprint(self) -> str:
        """:func:`key_fingerprint` of this encoder's key."""
        return key_fingerprint(self.key)

    def token(self, purpose: str, value: str) -> str:
        """HMAC-SHA256 of ``value`` under the key, domain-separated by ``purpose``."""
        message = f"{purpose}\x1f{value}".encode()
        return hmac.digest(self.key, message, "sha256")[:TOKEN_BYTES].hex()  # OpenSSL, one call

    def record_key(self, registration_id: str) -> float:
        """The record key of a registration for the cell-key method: uniform on [0, 1),
        secret (keyed) and the same for the same registration in every round and store made
        with this key (52 bits of the keyed hash, exact in a double)."""
        return int(self.token("record_key", registration_id)[:13], 16) / 16**13

    def bloom(self, name: str) -> bytes:
        """Bloom filter of a normalised name, packed big-endian (bit i is bit 7 - i % 8 of byte
        i // 8), so that DuckDB's ``CAST(blob AS BIT)`` gives bit i at position i."""
        bits = 0
        padded = f"_{name}_"
        for i in range(len(padded) - 1):
            bits |= self._mask(padded[i : i + 2])
        return bits.to_bytes((self.bloom_bits + 7) // 8, "big")

    def _mask(self, gram: str) -> int:
        """The ``bloom_hashes`` bits of one bigram (keyed double hashing) as an integer whose
        big-endian bytes are the filter (bit i of the filter is the integer's bit
        8 * bytes - 1 - i), cached per bigram."""
        cached = self._cache.get(gram)
        if cached is None:
            d1 = hmac.digest(self.key, b"bf1" + gram.encode(), "sha256")
            d2 = hmac.digest(self.key, b"bf2" + gram.encode(), "sha256")
            h1, h2 = int.from_bytes(d1[:8]), int.from_bytes(d2[:8])
            top = 8 * ((self.bloom_bits + 7) // 8) - 1
            cached = 0
            for k in range(self.bloom_hashes):
                cached |= 1 << (top - (h1 + k * h2) % self.bloom_bits)
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
    frame: pd.DataFrame,
    encoder: Encoder,
    reference_dates: pd.Series,
    estimated: pd.Series | None = None,
) -> pd.DataFrame:
    """The pseudonymised columns of a frame holding identifiers as text.

    ``frame`` has the text columns first_names, last_name, date_of_birth (YYYY-MM-DD or empty)
    and identity_number (any may be absent); ``reference_dates`` are the dates ages are taken
    at; ``estimated`` (registrations only) flags birth dates marked as estimates. Returns a new
    frame of tokens, Bloom filters and these derived fields:

    * ``birth_year``: the year of birth (linkage compares years that differ by one);
    * ``dob_uncertain``: the birth date is marked as estimated or is a 1 January (a common
      default), so that agreeing on it is weaker evidence; missing where ``estimated`` is not
      given (for an event the flag alone would say "born on 1 January");
    * ``age``: whole years at the reference date, to derive age bands from. It must not be
      stored: with the dates of several records sharing a birth-date token it reveals the day
      and month of birth.

    Never a name or a birth date, and nothing that equals or encodes a birth date. No token of
    the date with day and month swapped (it equals the date token of whoever was born on the
    swapped date: the two windows of the birth date narrow each other) nor of the year and
    month (shared by everyone born in one month): README "What the store holds".
    """
    n = len(frame)
    empty = pd.Series([""] * n, index=frame.index, dtype=object)
    first = _map_unique(frame.get("first_names", empty).fillna(""), normalise_name).fillna("")
    last = _map_unique(frame.get("last_name", empty).fillna(""), normalise_surname).fillna("")
    dob = frame.get("date_of_birth", empty).astype(TEXT).fillna("").str.strip()
    ident = frame.get("identity_number", empty).astype(TEXT).fillna("").str.upper()
    ident = ident.str.replace(r"[^0-9A-Z]", "", regex=True)  # as normalise_identity
    sources = {
        "first": first,
        "last": last,
        "full": (first + " " + last).str.strip(),
        "dob": dob,
        "ident": ident,
    }
    out: dict[str, pd.Series] = {}  # framed once at the end (cheaper than column by column)
    for column, source, encode in _value_encodings(encoder):
        out[column] = _map_unique(sources[source], encode)
    out["birth_year"] = pd.to_numeric(dob.str[:4].where(dob != ""), errors="coerce").astype("Int32")
    if estimated is None:
        out["dob_uncertain"] = pd.Series(pd.NA, index=frame.index, dtype="boolean")
    else:
        jan1 = dob.str.endswith("-01-01")
        out["dob_uncertain"] = ((jan1 | estimated.fillna(False)) & (dob != "")).astype("boolean")
    out["age"] = ages_at(dob, reference_dates)
    return pd.DataFrame(out, index=frame.index)


def _value_encodings(encoder: Encoder) -> tuple[tuple[str, str, Callable[[str], Any]], ...]:
    """(column, source, encoding of one non-empty source value) of every token and Bloom
    filter: the one definition behind :func:`encode_identifiers` (a frame, once per distinct
    value) and :func:`encode_record` (one record). Sources: the normalised first names, the
    surname's core, both together, the birth date as written and the identity number."""
    tok = encoder.token
    return (
        ("tok_first", "first", lambda v: tok("first", v)),
        ("tok_last", "last", lambda v: tok("last", v)),
        ("tok_first1", "first", lambda v: tok("first1", v.split()[0])),
        ("tok_first_sdx", "first", lambda v: tok("sdx", _phonetic(jellyfish.soundex, v))),
        ("tok_last_sdx", "last", lambda v: tok("sdx", _phonetic(jellyfish.soundex, v))),
        ("tok_first_nysiis", "first", lambda v: tok("nysiis", _phonetic(jellyfish.nysiis, v))),
        ("tok_last_nysiis", "last", lambda v: tok("nysiis", _phonetic(jellyfish.nysiis, v))),
        ("bf_first", "first", encoder.bloom),
        ("bf_last", "last", encoder.bloom),
        ("bf_full", "full", lambda v: encoder.bloom(" ".join(sorted(v.split())))),
        ("tok_dob", "dob", lambda v: tok("dob", v)),
        ("tok_birth_year", "dob", lambda v: tok("by", v[:4])),
        ("tok_birth_md", "dob", lambda v: tok("bmd", v[5:])),
        ("tok_identity", "ident", lambda v: tok("id", v)),
    )


def normalise_surname(text: str) -> str:
    """The core of a surname, normalised, without its particles."""
    return split_surname(normalise_name(text))[1]


_ID_KEPT = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def normalise_identity(text: str) -> str:
    """An identity number's digits and letters, upper case; the rest dropped. Letter by letter
    (a letter whose upper case is two letters, like ß, is dropped, as Arrow's kernel did)."""
    return "".join(u for u in (c.upper() for c in text) if u in _ID_KEPT)


def encode_record(
    values: Mapping[str, str],
    encoder: Encoder,
    reference_date: date | None,
    estimated: bool | None = None,
) -> dict[str, Any]:
    """:func:`encode_identifiers` of one record, without a frame (the registry's path for a
    single submission): the same columns and values, missing as None."""
    first = normalise_name(values.get("first_names", ""))
    last = normalise_surname(values.get("last_name", ""))
    dob = values.get("date_of_birth", "").strip()  # as pandas strips text (Unicode space)
    sources = {
        "first": first,
        "last": last,
        "full": f"{first} {last}".strip(),
        "dob": dob,
        "ident": normalise_identity(values.get("identity_number", "")),
    }
    out: dict[str, Any] = {}
    for column, source, encode in _value_encodings(encoder):
        value = sources[source]
        out[column] = encode(value) if value else None
    out["birth_year"] = int(dob[:4]) if dob[:4].isascii() and dob[:4].isdigit() else None
    if estimated is None:
        out["dob_uncertain"] = None
    else:
        out["dob_uncertain"] = bool(dob) and (dob.endswith("-01-01") or estimated)
    out["age"] = age_at(dob, reference_date)
    return out


def age_at(dob: str, at: date | None) -> int | None:
    """:func:`ages_at` of one birth date (YYYY-MM-DD, or empty for missing) and date."""
    if not dob or at is None:
        return None
    try:
        born = date.fromisoformat(dob)
    except ValueError:
        return None
    return at.year - born.year - ((at.month, at.day) < (born.month, born.day))


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
