"""Dutch municipalities -> province: the monitor's regional breakdown.

The monitor publishes regions (the twelve provinces), not municipalities: most municipalities
register too few victims to publish. The list covers the municipalities with the most
registrations (the G40 cities, provincial capitals and border municipalities); a municipality
not on it, or missing, is counted as ``unknown``. Names are matched case-insensitively,
ignoring surrounding spaces; common alternative spellings are listed.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

__all__ = ["PROVINCES", "UNKNOWN_REGION", "municipality_regions", "region_of"]

UNKNOWN_REGION = "unknown"

PROVINCES: tuple[str, ...] = (
    "Groningen",
    "Friesland",
    "Drenthe",
    "Overijssel",
    "Flevoland",
    "Gelderland",
    "Utrecht",
    "Noord-Holland",
    "Zuid-Holland",
    "Zeeland",
    "Noord-Brabant",
    "Limburg",
)

_BY_PROVINCE: dict[str, tuple[str, ...]] = {
    "Groningen": ("Groningen", "Midden-Groningen", "Eemsdelta", "Oldambt", "Veendam"),
    "Friesland": ("Leeuwarden", "Súdwest-Fryslân", "Sudwest-Fryslan", "Smallingerland",
                  "Heerenveen"),
    "Drenthe": ("Assen", "Emmen", "Hoogeveen", "Meppel", "Coevorden"),
    "Overijssel": ("Zwolle", "Enschede", "Deventer", "Hengelo", "Almelo", "Kampen",
                   "Hardenberg", "Oldenzaal"),
    "Flevoland": ("Almere", "Lelystad", "Dronten", "Noordoostpolder"),
    "Gelderland": ("Nijmegen", "Apeldoorn", "Arnhem", "Ede", "Harderwijk", "Tiel",
                   "Winterswijk", "Doetinchem", "Zutphen", "Wageningen", "Barneveld"),
    "Utrecht": ("Utrecht", "Amersfoort", "Veenendaal", "Nieuwegein", "Zeist",
                "Utrechtse Heuvelrug"),
    "Noord-Holland": ("Amsterdam", "Haarlem", "Haarlemmermeer", "Zaanstad", "Alkmaar",
                      "Amstelveen", "Hilversum", "Den Helder", "Hoorn", "Purmerend",
                      "Velsen", "Diemen", "Beverwijk"),
    "Zuid-Holland": ("Rotterdam", "'s-Gravenhage", "Den Haag", "The Hague", "Zoetermeer",
                     "Leiden", "Dordrecht", "Alphen aan den Rijn", "Westland", "Delft",
                     "Schiedam", "Vlaardingen", "Gouda", "Spijkenisse", "Nissewaard",
                     "Capelle aan den IJssel", "Leidschendam-Voorburg", "Rijswijk"),
    "Zeeland": ("Vlissingen", "Middelburg", "Terneuzen", "Goes", "Hulst", "Schouwen-Duiveland"),
    "Noord-Brabant": ("Eindhoven", "Tilburg", "Breda", "'s-Hertogenbosch", "Den Bosch", "Helmond",
                      "Oss", "Roosendaal", "Bergen op Zoom", "Oosterhout", "Waalwijk",
                      "Veldhoven", "Meierijstad"),
    "Limburg": ("Maastricht", "Venlo", "Sittard-Geleen", "Heerlen", "Kerkrade", "Vaals",
                "Roermond", "Weert", "Venray", "Landgraaf", "Brunssum"),
}  # fmt: skip


def municipality_regions() -> Mapping[str, str]:
    """Lower-cased municipality name -> province."""
    return {m.strip().lower(): province for province, ms in _BY_PROVINCE.items() for m in ms}


def region_of(municipality: str | None) -> str:
    """The province of a municipality, or ``unknown``."""
    if municipality is None:
        return UNKNOWN_REGION
    return municipality_regions().get(municipality.strip().lower(), UNKNOWN_REGION)


def regions_frame() -> pd.DataFrame:
    """The code list as a frame (``municipality_key``, ``region``) for an SQL join."""
    items = sorted(municipality_regions().items())
    return pd.DataFrame(items, columns=["municipality_key", "region"])
