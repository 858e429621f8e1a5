"""``flask --app admin classifier …``: train, evaluate, version and activate the
model, import a city's history, index open tickets for the duplicate search.

Each command parses its options and calls a function that does the work.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from classifier import DatasetError, ModelStore, TopicModel, UntrustedModel, read_dataset, shipped_corpus
from classifier.evaluate import evaluate
from collector.context import services
from collector.history import HistoryImportError, import_history
from collector.intake import index_unindexed
from routing.clock import now
from routing.store.retraining import ACTIVATED, FAILED, MANUAL

from .learning import LearningError, activate_version, retrain_from_city

classifier_cli = AppGroup("classifier", help="分类模型 / the topic and agency classifier.")


def model_store() -> ModelStore:
    """The application's model store: MODEL_DIR's folder, or the shared one."""
    return current_app.extensions["tingjian.models"]


def progress_line(message: str) -> None:
    click.echo(message, err=True)


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
    progress_line(f"训练：{len(data)} 条，{len(labels)} 个类别…")
    try:
        model = TopicModel.train(data.texts, data.labels, source=data_path or "shipped corpus")
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    store = model_store()
    if out_path:
        store.save(model, path=Path(out_path))
        click.echo(f"模型已保存到 {out_path}")
    else:
        version = store.save(model, activate=True)
        click.echo(f"模型版本 {version} 已保存并启用。")


def _retrain_from_corrections() -> None:
    """The learning job's own retraining, run here and now, and recorded like it."""
    with services().db.Session() as session:
        record = retrain_from_city(session, current_app.extensions["tingjian.learning"], now(), MANUAL,
                                   progress=progress_line)
        session.commit()
    if record.outcome == FAILED:
        raise click.ClickException(f"训练失败：{record.note}")
    state = "已启用" if record.outcome == ACTIVATED else "未启用（仍用 " + str(record.version_before) + "）"
    click.echo(f"模型版本 {record.version_after} {state}：{record.note}。")


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
    manifest = model_store().manifest()
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


@classifier_cli.command("import-models")
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
def import_models(folder: str) -> None:
    """Copy the models of FOLDER (a former MODEL_DIR) into this installation's store."""
    source = ModelStore(folder)
    if not source.manifest()["versions"]:
        raise click.ClickException(f"{folder} 里没有模型：应是原来的 MODEL_DIR，含 manifest.json")
    try:
        copied = model_store().import_from(source)
    except UntrustedModel as exc:
        raise click.ClickException(str(exc)) from exc
    active = model_store().active_version()
    click.echo(f"已导入 {len(copied)} 个模型版本，启用中的版本：{active or '无'}。")


@classifier_cli.command("activate")
@click.argument("version")
def activate(version: str) -> None:
    """Make VERSION the active model (e.g. to roll back); running processes pick it up."""
    with services().db.Session() as session:
        try:
            activate_version(session, model_store(), version, None, now(), summary="命令行 classifier activate")
            session.commit()
        except LearningError as exc:
            raise click.ClickException(f"{exc}用 flask --app admin classifier versions 查看") from exc
    click.echo(f"已启用模型版本 {version}，运行中的进程将在几秒内改用它。")


@classifier_cli.command("evaluate")
@click.option("--data", "data_path", required=True, type=click.Path(dir_okay=False), help="CSV 或 XLSX，含 text,label 列。")
@click.option("--model", "model_path", type=click.Path(dir_okay=False), help="由 train --out 保存的模型；缺省用当前启用的模型。")
@click.option(
    "--labels-from-data", is_flag=True,
    help="准确率、F1 和混淆矩阵只在数据中出现的类别之间预测；coverage_accuracy 仍按模型本身的置信度计算，与受理时的分拣阈值相同。",
)
@click.option(
    "--precision", "routing_precision", type=click.FloatRange(0, 1, min_open=True), default=None,
    help="production_path 按此目标准确率计算自动分派的覆盖率和准确率；缺省用 ROUTING_PRECISION。",
)
def evaluate_command(
    data_path: str, model_path: str | None, labels_from_data: bool, routing_precision: float | None
) -> None:
    """Print one JSON object: accuracy, macro-F1, per class, confusion matrix, and the production path's
    coverage and precision at the routing precision."""
    store = model_store()
    try:
        data = read_dataset(data_path)
        if model_path:
            model = store.load_file(model_path)
        else:
            version = store.active_version()
            if version is None:
                raise click.ClickException("还没有启用的模型：先运行 flask --app admin classifier train")
            model = store.load_version(version)
        result = evaluate(
            model,
            data,
            labels_from_data=labels_from_data,
            routing_precision=routing_precision or current_app.config["ROUTING_PRECISION"],
            fallback_threshold=current_app.config["CLASSIFIER_THRESHOLD"],
        )
    except (DatasetError, UntrustedModel, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    json.dump(result, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
