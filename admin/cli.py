"""Command groups on the app: ``flask --app admin demo | db … | classifier …``.

Each command parses its options and calls a function that does the work.
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from classifier import Dataset, DatasetError, ModelStore, TopicModel, UntrustedModel, read_dataset, shipped_corpus
from classifier.evaluate import evaluate
from classifier.learning import retrain
from collector.context import services
from collector.deputies import login_exists, register as register_deputy
from collector.history import HistoryImportError, import_history
from collector.intake import index_unindexed
from routing.store.api_clients import ApiClientError, issue_key, list_clients, revoke
from routing.clock import now
from routing.dispatch.corrections import agency_examples, topic_examples
from routing.flow.deadlines import calendar_entries, day_range, load_calendar, remove_calendar_day, set_calendar_days
from routing.flow.escalation import SupervisionError, set_supervisor
from routing.store.workers import Worker, run_pending
from routing.store.jobs import ensure_periodic
from routing.store.migrate import upgrade

db_cli = AppGroup("db", help="数据库结构 / database schema.")
jobs_cli = AppGroup("jobs", help="后台任务 / background jobs.")
classifier_cli = AppGroup("classifier", help="分类模型 / the topic and agency classifier.")
deputy_cli = AppGroup("deputy", help="人大代表账号 / deputies' accounts.")
calendar_cli = AppGroup("calendar", help="工作日历 / holidays and make-up working days.")
agency_cli = AppGroup("agency", help="承办单位 / agencies.")
api_key_cli = AppGroup("api-key", help="接口调用方的密钥 / keys of the JSON API's clients.")


def _store() -> ModelStore:
    return ModelStore(current_app.config["MODEL_DIR"])


def _progress(message: str) -> None:
    click.echo(message, err=True)


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

    _progress("数据库结构…")
    upgrade(current_app.config["DATABASE_URL"])
    app_services = services()
    session = app_services.db.Session()
    try:
        report = load_demo(session, _store(), threshold=app_services.threshold, progress=_progress)
    finally:
        session.close()
    added = "，".join(f"{what} {n}" for what, n in report.added.items()) or "没有缺少的数据"
    click.echo(f"演示数据已就绪（新增：{added}）。")
    click.echo(f"演示账号（密码均为 {DEMO_PASSWORD}）：admin、dispatcher、deputy、zhujian（市住建局）、"
               "huanbao（市生态环境局）、jiaotong（市交通运输局）、renshe（市人社局）、xihu（西湖区人民政府）")


@classifier_cli.command("train")
@click.option("--data", "data_path", type=click.Path(dir_okay=False), help="CSV 或 XLSX，含 text,label 列；缺省用内置语料和调度员的纠错。")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="模型文件路径；缺省存入模型库。")
def train(data_path: str | None, out_path: str | None) -> None:
    """Train a model on a file's label column, or on the shipped corpus and the
    dispatchers' corrections (then it is activated only if it is not worse)."""
    if data_path is None and out_path is None:
        _retrain_from_corrections()
        return
    try:
        data = read_dataset(data_path) if data_path else shipped_corpus()
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from exc
    labels = sorted(set(data.labels))
    _progress(f"训练：{len(data)} 条，{len(labels)} 个类别…")
    try:
        model = TopicModel.train(data.texts, data.labels, source=data_path or "shipped corpus")
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    store = _store()
    if out_path:
        store.save(model, path=Path(out_path))
        click.echo(f"模型已保存到 {out_path}")
    else:
        version = store.save(model, activate=True)
        click.echo(f"模型版本 {version} 已保存并启用。")


def _retrain_from_corrections() -> None:
    with services().db.Session() as session:
        examples = topic_examples(session)
        agencies = agency_examples(session)
    corrections = Dataset([text for text, _ in examples], [label for _, label in examples])
    _progress(
        f"承办单位样本 {len(agencies.pairs)} 条：已办结工单 {agencies.closed}，"
        f"历史工单 {agencies.history}，调度员纠错 {agencies.corrections}"
    )
    outcome = retrain(
        _store(), shipped_corpus(), corrections,
        agencies=Dataset(agencies.texts, agencies.agencies), progress=_progress,
    )
    state = "已启用" if outcome.activated else "未启用（仍用 " + str(outcome.active_before) + "）"
    click.echo(f"模型版本 {outcome.version} {state}：{outcome.reason}。")


class _ProgressBars:
    """One progress bar per step of a long command, on stderr."""

    LABELS = {"read": "读取文件", "check": "检查数据", "store": "写入数据库"}

    def __init__(self) -> None:
        self.step: str | None = None
        self.bar = None
        self.done = 0

    def __call__(self, step: str, done: int, total: int) -> None:
        if step != self.step:
            self.close()
            self.step, self.done = step, 0
            self.bar = click.progressbar(length=total, label=self.LABELS.get(step, step), file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@classifier_cli.command("import-history")
@click.option("--data", "data_path", required=True, type=click.Path(dir_okay=False),
              help="CSV 或 XLSX：必需 text、agency 列，可选 topic、created、number。")
@click.option("--skip-unknown", is_flag=True, help="跳过承办单位不在系统中的行，只导入其余的。")
def import_history_command(data_path: str, skip_unknown: bool) -> None:
    """Import historical tickets (text and the agency that handled them) for the
    agency model; the same row imported again is stored once."""
    bars = _ProgressBars()
    with services().db.Session() as session:
        try:
            report = import_history(session, data_path, now(), skip_unknown=skip_unknown, progress=bars)
        except HistoryImportError as exc:
            bars.close()
            for line in exc.errors:
                click.echo(f"  {line}", err=True)
            raise click.ClickException(str(exc)) from exc
        finally:
            bars.close()
    skipped = sum(len(rows) for rows in report.unknown.values())
    click.echo(
        f"读取 {report.read} 行：新导入 {report.added} 条，已有 {report.already_stored} 条"
        + (f"，跳过未知承办单位 {skipped} 行（{'、'.join(sorted(report.unknown))}）" if skipped else "")
        + "。运行 flask --app admin classifier train 让承办单位模型学习它们。"
    )


@classifier_cli.command("index-matters")
@click.option("--days", default=365, show_default=True, type=click.IntRange(min=1),
              help="只处理这么多天内提出的未办结工单。")
def index_matters_command(days: int) -> None:
    """Fingerprint open tickets that have none, for the duplicate search and
    hot issues (tickets raised before the index existed); safe to run again."""
    with services().db.Session() as session, click.progressbar(
        length=1, label="建立重复件索引", file=sys.stderr
    ) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        done = index_unindexed(session, now() - timedelta(days=days), progress)
    click.echo(f"已为 {done} 件未办结工单建立重复件索引。")


@classifier_cli.command("versions")
def versions() -> None:
    """List the stored model versions, the active one marked."""
    manifest = _store().manifest()
    if not manifest["versions"]:
        raise click.ClickException("模型库是空的：先运行 flask --app admin classifier train")
    for version, entry in sorted(manifest["versions"].items()):
        meta = entry.get("metadata", {})
        evaluation = meta.get("evaluation") or {}
        accuracy = evaluation.get("topic_accuracy")
        judged = f"，留出纠错 {evaluation['held_out_corrections']} 条准确率 {accuracy:.1%}" if accuracy is not None else ""
        mark = "*" if version == manifest["active"] else " "
        click.echo(
            f"{mark} {version}  {meta.get('n_samples', '?')} 条（{meta.get('source', '')}）{judged}"
            f"{_agency_summary(entry.get('agency'))}"
        )


def _agency_summary(agency: dict | None) -> str:
    if not agency:
        return "；无承办单位模型"
    evaluation = agency.get("evaluation") or {}
    accuracy = evaluation.get("accuracy")
    judged = f"，留出 {evaluation['held_out_examples']} 条准确率 {accuracy:.1%}" if accuracy is not None else ""
    return f"；承办单位模型 {len(agency.get('agencies', []))} 个单位 {agency.get('n_samples', '?')} 条{judged}"


@classifier_cli.command("activate")
@click.argument("version")
def activate(version: str) -> None:
    """Make VERSION the active model (e.g. to roll back); running processes pick it up."""
    try:
        _store().activate(version)
    except KeyError as exc:
        raise click.ClickException(f"没有模型版本 {version}：用 flask --app admin classifier versions 查看") from exc
    click.echo(f"已启用模型版本 {version}，运行中的进程将在几秒内改用它。")


@classifier_cli.command("evaluate")
@click.option("--data", "data_path", required=True, type=click.Path(dir_okay=False), help="CSV 或 XLSX，含 text,label 列。")
@click.option("--model", "model_path", type=click.Path(dir_okay=False), help="由 train --out 保存的模型；缺省用当前启用的模型。")
@click.option(
    "--labels-from-data", is_flag=True,
    help="准确率、F1 和混淆矩阵只在数据中出现的类别之间预测；coverage_accuracy 仍按模型本身的置信度计算，与受理时的分拣阈值相同。",
)
def evaluate_command(data_path: str, model_path: str | None, labels_from_data: bool) -> None:
    """Print one JSON object: accuracy, macro-F1, per class, confusion matrix."""
    store = _store()
    try:
        data = read_dataset(data_path)
        if model_path:
            model = store.load_file(model_path)
        else:
            version = store.active_version()
            if version is None:
                raise click.ClickException("还没有启用的模型：先运行 flask --app admin classifier train")
            model = store.load_version(version)
        result = evaluate(model, data, labels_from_data=labels_from_data)
    except (DatasetError, UntrustedModel, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    json.dump(result, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


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
        known = load_calendar(session).is_known_year(year)
    for entry in entries:
        click.echo(f"{entry.day.isoformat()}  {'上班' if entry.is_workday else '放假'}  {entry.note}")
    if entries:
        click.echo(f"{year} 年：按录入的 {len(entries)} 天，其余周一至周五上班。")
    elif known:
        click.echo(f"{year} 年：按国务院公布的放假安排（chinesecalendar）。")
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
