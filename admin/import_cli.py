"""``flask --app admin import …``: a hotline's export as tickets (``import
tickets``), the organisation from a spreadsheet (``import org``). Each command
parses its options and calls the function that does the work
(``collector.hotline``, ``routing.store.org_import``), with a progress bar on stderr.
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
from routing.store.org_import import OrgImportError, import_org

import_cli = AppGroup("import", help="导入 / import a hotline's tickets or the organisation.")


class StepProgress:
    """One bar per step: checking (its length unknown until the end) and importing;
    a subclass names other steps in ``LABELS``."""

    LABELS: ClassVar[dict[str, str]] = {"check": "检查文件", "import": "导入工单", "store": "写入组织架构"}

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
    progress = StepProgress()
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


@import_cli.command("org")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--check", "check_only", is_flag=True, help="只检查，列出将要新建和更新的内容，不导入。")
def import_org_command(path: str, check_only: bool) -> None:
    """Import the organisation (组织架构) from an XLSX with the sheets 街道, 单位,
    账号 and 联络站, or a CSV named after one of them. Nothing is imported when
    anything is wrong; a second run of the same file adds nothing. New accounts'
    temporary passwords are printed once, here, and nowhere else."""
    progress = StepProgress()
    with services().db.Session() as session:
        try:
            report = import_org(session, path, None, now(), check_only=check_only, progress=progress)
        except OrgImportError as exc:
            progress.close()
            for line in exc.errors:
                click.echo(f"  {line}", err=True)
            raise click.ClickException(str(exc)) from exc
    progress.close()
    click.echo("检查无误，未导入（去掉 --check 即导入）：" if check_only else "已导入：")
    for line in report.lines():
        click.echo(f"  {line}")
    if report.passwords:
        click.echo("新账号的临时密码（只显示这一次，首次登录须修改）：")
        for username, display_name, password in report.passwords:
            click.echo(f"  {username}（{display_name}）：{password}")


def init_app(app: Flask) -> None:
    app.cli.add_command(import_cli)
