"""The profile commands: list, show, copy and check country profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from thbmonitor.cli.common import app, console

profile_app = typer.Typer(
    help="Country profiles: code lists, file layout and the monitor's groups (see README).",
    no_args_is_help=True,
)
app.add_typer(profile_app, name="profile")

ProfileArgument = Annotated[
    str, typer.Option("--profile", "-p", help="A shipped profile (nl, htcds) or a profile folder.")
]


@profile_app.command("list")
def list_command() -> None:
    """The profiles the package ships."""
    from thbmonitor.profiles import load_profile, profile_names

    for name in profile_names():
        typer.echo(f"{name}\t{load_profile(name).title}")


@profile_app.command("show")
def show_command(profile: ProfileArgument = "nl") -> None:
    """A profile's layout, code lists and groups."""
    from thbmonitor.profiles import load_profile
    from thbmonitor.schema import check_profile

    p = check_profile(load_profile(profile))
    lay = p.layout
    typer.echo(f"{p.name}: {p.title}\nfolder: {p.path}\ncountry: {p.country}")
    # what a store records of its profile (store_meta profile_fingerprint): a copy with the
    # same fingerprint goes into the same store
    typer.echo(f"fingerprint: {p.fingerprint()} (code lists and groups)")
    typer.echo(
        f"CSV: delimiter {lay.delimiter!r}, encoding {lay.encoding}, dates "
        f"{' or '.join(lay.date_formats)}, multi-valued fields separated by "
        f"{lay.multi_separator!r}"
    )
    for kind, renames in lay.columns.items():
        for column, name in renames.items():
            typer.echo(f"column {kind}: {column} -> {name}")
    for field, list_name in p.field_lists.items():
        codes = p.code_lists[list_name]
        typer.echo(f"{field} ({list_name}): {', '.join(codes.codes)}")
    typer.echo(f"groups: {', '.join(p.groups)}")
    typer.echo(f"age bands: {', '.join(p.age_bands.codes)}")
    typer.echo(f"nationality groups: {', '.join(p.nationality.groups)}")
    typer.echo(f"regions: {', '.join(p.region_order)} ({len(p.regions)} municipalities)")


@profile_app.command("copy")
def copy_command(
    name: Annotated[str, typer.Argument(help="The profile to copy (nl, htcds or a folder).")],
    folder: Annotated[Path, typer.Argument(help="The new profile's folder (must not exist).")],
) -> None:
    """Copy a profile to a folder of your own, to edit for your country or your files."""
    import shutil

    from thbmonitor.errors import ConfigError
    from thbmonitor.profiles import load_profile
    from thbmonitor.schema import check_profile

    source = load_profile(name)
    if folder.exists():
        raise ConfigError(f"{folder} exists already; give a new folder")
    shutil.copytree(source.path, folder, ignore=shutil.ignore_patterns("__pycache__"))
    toml = folder / "profile.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        text.replace(f'name = "{source.name}"', f'name = "{folder.name}"', 1), encoding="utf-8"
    )
    check_profile(load_profile(folder))  # the copy loads
    console.print(f"copied profile {source.name} to {folder}; edit its files, then use "
                  f"--profile {folder}", highlight=False)  # fmt: skip


@profile_app.command("check")
def check_command(
    files: Annotated[list[Path], typer.Argument(help="Input files (CSV, XLSX or Parquet).")],
    profile: ProfileArgument = "nl",
) -> None:
    """List every value the profile cannot map, by file, column and number of rows.

    Values of coded columns are shown (to add them to the profile's codes.csv, or to correct
    the file); never a value of an identifier, a date or free text. Exit status 1 if any.
    """
    from thbmonitor.profiles import load_profile
    from thbmonitor.profiles.translate import read_in_profile
    from thbmonitor.schema import check_profile

    p = check_profile(load_profile(profile))
    found = 0
    for path in files:
        translated = read_in_profile(path, p)
        for item in translated.unmapped:
            typer.echo(str(item))
        found += len(translated.unmapped)
        if not translated.unmapped:
            console.print(f"{path.name}: {translated.kind}, {len(translated.frame):,} rows; "
                          f"every value maps to profile {p.name}", highlight=False)  # fmt: skip
    if found:
        raise typer.Exit(1)
