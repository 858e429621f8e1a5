"""``flask --app admin privacy …``: the retention schedule applied now
(``privacy retention [--dry-run]``, what the nightly job does) and a
resident's data erased on request (``privacy erase NUMBER CODE``). Each
command calls the function that does the work (``routing.flow.retention``,
``routing.flow.erasure``), with a progress bar on stderr.
"""

from __future__ import annotations

from typing import ClassVar

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from collector.context import services
from routing.clock import now
from routing.flow.erasure import erase_personal_data
from routing.flow.retention import ITEMS, apply_retention
from routing.flow.steps import WorkflowError

from .import_cli import StepProgress
from .privacy import retention_schedule

privacy_cli = AppGroup("privacy", help="个人信息 / residents' personal data: retention and erasure.")


class _Progress(StepProgress):
    """One bar per kind of row, its length the count found at the start."""

    LABELS: ClassVar[dict[str, str]] = ITEMS


@privacy_cli.command("retention")
@click.option("--dry-run", is_flag=True, help="只统计将删除的内容，不删除。")
def retention_command(dry_run: bool) -> None:
    """Apply the retention schedule (RETENTION_CONTACT_YEARS,
    RETENTION_MEDIA_YEARS, ACCESS_LOG_DAYS) now: the personal data of tickets
    closed longer ago is removed, the statistics stay. Commits batch by batch,
    so it may be stopped and run again."""
    schedule = retention_schedule(current_app.config)
    click.echo(f"存储期限：联系方式和原始消息 {schedule.contact_years} 年，照片和录音 {schedule.media_years} 年，"
               f"访问日志 {schedule.access_log_days} 天（自工单办结起算）。")
    progress = _Progress()
    with services().db.Session() as session:
        report = apply_retention(session, now(), schedule, dry_run=dry_run, commit=True, progress=progress)
    progress.close()
    click.echo("试运行，未删除（去掉 --dry-run 即删除）：" if dry_run else "已删除：")
    for line in report.lines():
        click.echo(f"  {line}")


@privacy_cli.command("erase")
@click.argument("number")
@click.argument("code")
@click.option("--reason", default="群众申请删除", show_default=True, help="删除依据，例如“群众 2026-12-03 来电申请”。")
def erase_command(number: str, code: str, reason: str) -> None:
    """Erase the personal data of the closed ticket NUMBER whose lookup code
    is CODE, at the resident's request; recorded on its timeline and in the
    access log."""
    with services().db.Session() as session:
        try:
            ticket = erase_personal_data(session, number, code, None, reason, now(), role="cli")
        except WorkflowError as exc:
            session.rollback()
            raise click.ClickException(str(exc)) from exc
        session.commit()
        click.echo(f"工单 {ticket.number} 的个人信息已删除，统计数据保留。")


def init_app(app: Flask) -> None:
    app.cli.add_command(privacy_cli)
