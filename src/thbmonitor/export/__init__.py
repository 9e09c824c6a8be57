"""The yearly deliveries: Eurostat's THB collection, SDMX-CSV and UNODC's GLOTIP layout.

``thbmonitor export --store PATH --year Y --format eurostat|unodc|sdmx --out DIR`` builds the
year's delivery tables from the store (:mod:`.tables`), with the codes of the country
profile's ``deliveries.toml`` (:mod:`.codes`), protects them in one release with the store's
report and audits both jointly (:mod:`.release`), and writes the format's files
(:mod:`.eurostat`). Entry point: :func:`run_export`.
"""

from thbmonitor.export.run import EXPORT_STEPS, FORMATS, file_names, prepare_export, run_export

__all__ = ["EXPORT_STEPS", "FORMATS", "file_names", "prepare_export", "run_export"]
