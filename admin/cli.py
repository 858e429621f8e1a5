"""Command groups on the app: ``flask --app admin demo | db … | jobs … |
calendar … | agency … | deputy … | api-key …``, and the classifier's
(``admin.classifier_cli``).

Each command parses its options and calls a function that does the work.
"""

from __future__ import annotations

from datetime import date

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from collector.context import services
from collector.deputies import login_exists
from collector.deputies import register as register_deputy
from routing.clock import now
from routing.flow.deadlines import (
    calendar_entries,
    day_range,
    package_knows,
    remove_calendar_day,
    set_calendar_days,
)
from routing.flow.escalation import SupervisionError, set_supervisor
from routing.store.api_clients import ApiClientError, issue_key, list_clients, revoke
from routing.store.jobs import ensure_periodic
from routing.store.migrate import upgrade
from routing.store.workers import Worker, run_pending

from .classifier_cli import classifier_cli, model_store, progress_line

db_cli = AppGroup("db", help="数据库结构 / database schema.")
jobs_cli = AppGroup("jobs", help="后台任务 / background jobs.")
deputy_cli = AppGroup("deputy", help="人大代表账号 / deputies' accounts.")
calendar_cli = AppGroup("calendar", help="工作日历 / holidays and make-up working days.")
agency_cli = AppGroup("agency", help="承办单位 / agencies.")
api_key_cli = AppGroup("api-key", help="接口调用方的密钥 / keys of the JSON API's clients.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Bring the schema to the newest migration."""
    upgrade(current_app.config["DATABASE_URL"])
    click.echo("数据库结构已是最新。")


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Schema, demo data and a trained model (idempotent)."""
    from .demo import DEMO_PASSWORD, load_demo

    progress_line("数据库结构…")
    upgrade(current_app.config["DATABASE_URL"])
    app_services = services()
    session = app_services.db.Session()
    try:
        report = load_demo(session, model_store(), threshold=app_services.threshold, progress=progress_line)
    finally:
        session.close()
    added = "，".join(f"{what} {n}" for what, n in report.added.items()) or "没有缺少的数据"
    click.echo(f"演示数据已就绪（新增：{added}）。")
    click.echo(f"演示账号（密码均为 {DEMO_PASSWORD}）：admin、dispatcher、deputy、zhujian（市住建局）、"
               "huanbao（市生态环境局）、jiaotong（市交通运输局）、renshe（市人社局）、xihu（西湖区人民政府）")


@jobs_cli.command("work")
@click.option("--poll", default=1.0, show_default=True, help="秒：没有任务时多久查看一次。")
def jobs_work(poll: float) -> None:
    """Run background jobs until stopped (a worker process in production)."""
    app_services = services()
    ensure_periodic(app_services.db, app_services.jobs, now())
    worker = Worker(app_services.db, app_services.jobs, now, poll=poll, lease=current_app.config["JOB_LEASE"])
    click.echo(f"后台任务进程已启动（{len(app_services.jobs.handlers)} 类任务），Ctrl-C 停止。")
    worker.start()
    try:
        while worker.is_alive():
            worker.join(1.0)
    except KeyboardInterrupt:
        worker.stop()
        worker.join()


@jobs_cli.command("run")
def jobs_run() -> None:
    """Run every job that is due now, then stop."""
    app_services = services()
    ensure_periodic(app_services.db, app_services.jobs, now())
    ran = run_pending(app_services.db, app_services.jobs, now, lease=current_app.config["JOB_LEASE"])
    click.echo(f"已运行 {ran} 个任务。")


def _days(first: str, last: str | None) -> list[date]:
    try:
        start = date.fromisoformat(first)
        end = date.fromisoformat(last) if last else start
    except ValueError as exc:
        raise click.BadParameter("日期写作 2027-02-06 这样的格式") from exc
    try:
        return day_range(start, end)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@calendar_cli.command("holiday")
@click.argument("first")
@click.argument("last", required=False)
@click.option("--note", default="", help="如：春节。")
def calendar_holiday(first: str, last: str | None, note: str) -> None:
    """Mark FIRST (to LAST) as holidays, e.g. 2027-02-06 2027-02-13 --note 春节."""
    _enter_days(_days(first, last), is_workday=False, note=note)


@calendar_cli.command("workday")
@click.argument("first")
@click.argument("last", required=False)
@click.option("--note", default="", help="如：春节调休。")
def calendar_workday(first: str, last: str | None, note: str) -> None:
    """Mark FIRST (to LAST) as make-up working days (调休上班)."""
    _enter_days(_days(first, last), is_workday=True, note=note)


def _enter_days(days: list[date], *, is_workday: bool, note: str) -> None:
    with services().db.Session() as session:
        n = set_calendar_days(session, days, is_workday=is_workday, note=note, now=now())
        session.commit()
    click.echo(f"已录入 {n} 天{'调休上班' if is_workday else '放假'}。已设定的期限不变，新工单按新日历计算。")


@calendar_cli.command("remove")
@click.argument("first")
@click.argument("last", required=False)
def calendar_remove(first: str, last: str | None) -> None:
    """Take back entered days FIRST (to LAST): they count as before again."""
    with services().db.Session() as session:
        n = sum(remove_calendar_day(session, day, now=now()) for day in _days(first, last))
        session.commit()
    click.echo(f"已删除 {n} 天的录入。")


@calendar_cli.command("show")
@click.argument("year", type=int)
def calendar_show(year: int) -> None:
    """List a year's entered days and say where its working days come from."""
    with services().db.Session() as session:
        entries = calendar_entries(session, year)
        known = package_knows(year)
    for entry in entries:
        click.echo(f"{entry.day.isoformat()}  {'上班' if entry.is_workday else '放假'}  {entry.note}")
    if known:
        corrected = f"，录入的 {len(entries)} 天优先" if entries else ""
        click.echo(f"{year} 年：按国务院公布的放假安排（chinesecalendar）{corrected}。")
    elif entries:
        click.echo(f"{year} 年：按录入的 {len(entries)} 天，其余周一至周五上班。")
    else:
        click.echo(f"{year} 年：没有放假安排，暂按周一至周五计算。请用 calendar holiday / workday 录入。")


@agency_cli.command("supervisor")
@click.argument("agency")
@click.argument("supervisor", required=False)
def agency_supervisor(agency: str, supervisor: str | None) -> None:
    """Set who receives notices (通报) when AGENCY stays overdue, e.g.
    西湖区文新街道办事处 西湖区人民政府; without SUPERVISOR: the dispatcher centre."""
    with services().db.Session() as session:
        try:
            set_supervisor(session, agency, supervisor)
        except SupervisionError as exc:
            raise click.UsageError(str(exc)) from exc
        session.commit()
    click.echo(f"{agency}超期的通报今后送{supervisor or '分拨中心'}。")


@deputy_cli.command("add")
@click.argument("username")
@click.option("--name", required=True, help="代表姓名")
@click.option("--level", required=True, type=click.Choice(["省", "市", "区"]), help="代表层级")
@click.option("--station", "stations", multiple=True, help="所在联络站（可多次给出）")
@click.option("--password", default=None, help="新账号的密码；不给则提示输入（已有账号不变）")
def deputy_add(username: str, name: str, level: str, stations: tuple[str, ...], password: str | None) -> None:
    """Add a deputy's login, or update an existing deputy's level and stations."""
    session = services().db.Session()
    try:
        if password is None and not login_exists(session, username):
            password = click.prompt("密码", hide_input=True, confirmation_prompt=True)
        deputy = register_deputy(session, username, name, level, list(stations), password)
        click.echo(f"{deputy.name}（{level}人大代表）：{'、'.join(s.name for s in deputy.stations) or '未绑定联络站'}")
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        session.close()


@api_key_cli.command("create")
@click.argument("name")
def api_key_create(name: str) -> None:
    """Issue a key for the client NAME (a new key replaces its old one). The key is shown only now."""
    with services().db.Session() as session:
        try:
            client, key = issue_key(session, name, now())
        except ApiClientError as exc:
            raise click.UsageError(str(exc)) from exc
        session.commit()
        click.echo(f"{client.name} 的密钥（只显示这一次，请妥善保存）：")
        click.echo(key)


@api_key_cli.command("revoke")
@click.argument("name")
def api_key_revoke(name: str) -> None:
    """Stop the key of the client NAME from working."""
    with services().db.Session() as session:
        try:
            revoke(session, name)
        except ApiClientError as exc:
            raise click.UsageError(str(exc)) from exc
        session.commit()
    click.echo(f"{name} 的密钥已停用。")


@api_key_cli.command("list")
def api_key_list() -> None:
    """The clients, and whether their key works."""
    with services().db.Session() as session:
        for client in list_clients(session):
            click.echo(f"{client.name}\t{'有效' if client.active else '已停用'}\t{client.created_at:%Y-%m-%d}")


def init_app(app: Flask) -> None:
    app.cli.add_command(api_key_cli)
    app.cli.add_command(agency_cli)
    app.cli.add_command(deputy_cli)
    app.cli.add_command(calendar_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(db_cli)
    app.cli.add_command(classifier_cli)
    app.cli.add_command(demo)
