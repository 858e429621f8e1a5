"""``flask --app admin import …``: a hotline's export as tickets (``import
tickets``). The command parses its options and calls the function that does
the work (``collector.hotline``), with a progress bar on stderr.
"""

from __future__ import annotations

import sys
from typing import ClassVar

import click
from flask import Flask
from flask.cli import AppGroup

from collector.context import services
from collector.hotline import HotlineImportError, check_export, import_export
from routing.clock import now

import_cli = AppGroup("import", help="导入 / import a hotline's tickets.")


class _Progress:
    """One bar per step: checking (its length unknown until the end) and importing."""

    LABELS: ClassVar[dict[str, str]] = {"check": "检查文件", "import": "导入工单"}

    def __init__(self) -> None:
        self.step: str | None = None
        self.bar = None
        self.done = 0

    def __call__(self, step: str, done: int, total: int) -> None:
        if step != self.step:
            self.close()
            self.step, self.done = step, 0
            self.bar = click.progressbar(length=total or None, label=self.LABELS[step], file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@import_cli.command("tickets")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--check", "check_only", is_flag=True, help="只检查文件，不导入。")
def import_tickets_command(path: str, check_only: bool) -> None:
    """Import a 12345 hotline export (XLSX or CSV) as tickets of channel
    hotline: 工单号 and 诉求内容 required; 诉求人, 联系电话, 诉求地址, 受理时间,
    诉求类型 and 承办单位 read where given. Rows imported before are skipped."""
    progress = _Progress()
    current = services()
    try:
        if check_only:
            rows = check_export(path, progress)
            progress.close()
            click.echo(f"文件无误：{rows} 行，可以导入。")
            return
        with current.db.Session() as session:
            figures = import_export(
                session, path, current.classifier.current(), now, threshold=current.threshold,
                agency_threshold=current.agency_threshold, progress=progress,
            )
    except HotlineImportError as exc:
        progress.close()
        for line in exc.errors:
            click.echo(f"  {line}", err=True)
        raise click.ClickException(str(exc)) from exc
    progress.close()
    click.echo(figures.line())


def init_app(app: Flask) -> None:
    app.cli.add_command(import_cli)
