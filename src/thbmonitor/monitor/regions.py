"""Municipality -> region: the monitor's regional breakdown, from the country profile.

The monitor publishes regions (for the Netherlands the twelve provinces), not municipalities:
most municipalities register too few victims to publish. The table is the profile's
``regions.csv``; a municipality not on it, or missing, is counted as the profile's unknown
region. Names are matched case-insensitively, ignoring surrounding spaces.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from thbmonitor.profiles import Profile, default_profile

__all__ = ["municipality_regions", "region_of", "regions_frame"]


def municipality_regions(profile: Profile | None = None) -> Mapping[str, str]:
    """Lower-cased municipality name -> region (default: the default profile's)."""
    return (profile or default_profile()).regions


def region_of(municipality: str | None, profile: Profile | None = None) -> str:
    """The region of a municipality, or the profile's unknown region."""
    return (profile or default_profile()).region_of(municipality)


def regions_frame(profile: Profile | None = None) -> pd.DataFrame:
    """The code list as a frame (``municipality_key``, ``region``) for an SQL join."""
    items = sorted(municipality_regions(profile).items())
    return pd.DataFrame(items, columns=["municipality_key", "region"])
