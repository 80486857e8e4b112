"""Analysts: labelled data out (CSV/Parquet) and in («Инцидент Менеджмент» exports, with validation)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from tsur.cli.output import say
from tsur.cli.state import state

app = typer.Typer(no_args_is_help=True, help="Labelled data: export for training, import ИМ exports.\n\n"
                  "Example: tsur labels export labels.parquet")


@app.command("export")
def export(ctx: typer.Context, path: Path = typer.Argument(..., help="Output file: .csv or .parquet."),
           long: bool = typer.Option(False, "--long", help="One row per label (default: one row per item)."),
           origin: Optional[str] = typer.Option(None, "--origin", help="Only labels of this origin: ops, import."),
           personal_data: bool = typer.Option(False, "--keep-personal-data",
                                              help="Do not redact phones, e-mails, profile links, mentions.")
           ) -> None:
    """Export labels (ops corrections and imports) with texts, one row per item, latest value of each field.

    The columns text, is_complaint and topic_group are what `tsur models train --with-labels` uses.
    Texts are redacted of personal data (152-ФЗ) unless --keep-personal-data.
    Example: tsur labels export var/labels.csv --origin ops
    """
    from tsur import labels_io

    st = state(ctx)
    with st.sessions() as s:
        n = labels_io.export_labels(s, path, long=long, origin=origin, redact=not personal_data)
    say(st, f"wrote {n} row(s) to {path}", {"path": str(path), "rows": n})


@app.command("import")
def import_(ctx: typer.Context, path: Path = typer.Argument(..., help="A .csv, .xlsx or .parquet file."),
            skip_bad: bool = typer.Option(False, "--skip-bad", help="Import the good rows and list the bad ones."),
            ) -> None:
    """Import a labelled file (e.g. an «Инцидент Менеджмент» export: Текст, Группа тем, Тема, Муниципалитет,
    Населённый пункт, Отдел or Исполнитель); values are checked against config; any bad row imports nothing unless
    --skip-bad. CSV in UTF-8 or Windows-1251. Importing a file again adds only labels not imported before.

    Example: tsur labels import im_export.xlsx --skip-bad
    """
    from tsur import labels_io

    st = state(ctx)
    vocab = labels_io.load_vocab(st.settings.config_dir)
    with st.sessions.begin() as s:
        result = labels_io.import_labels(s, path, vocab, actor=st.actor, skip_bad=skip_bad)
    data = {"rows": result.rows, "labels": result.labels, "skipped": result.skipped, "bad": result.bad}
    if st.json:
        say(st, "", data)
    else:
        for problem in result.bad:
            typer.echo(problem, err=True)
        verdict = "nothing imported" if result.bad and not skip_bad else f"imported {result.rows} row(s)"
        again = f" ({result.skipped} already imported)" if result.skipped else ""
        st.console.print(f"{verdict}: {result.labels} label(s){again}, {len(result.bad)} problem(s)",
                         highlight=False)
    if result.bad and not skip_bad:
        raise typer.Exit(2)
