"""``flask --app admin setup``: a city's first start (首次部署) — the schema,
and the first administrator when there is none. No demo data.

Idempotent: run again, it upgrades a schema that is behind (as ``db
upgrade`` does), leaves an existing administrator alone, and says so.
"""

from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from collector.context import services
from routing.store.accounts import AccountError, administrator_exists, create_first_administrator, password_problem
from routing.store.migrate import current_revisions, upgrade

# For automation (an installer, a container's first start): the password
# without a terminal. Read here only, never echoed or logged.
PASSWORD_VARIABLE = "TINGJIAN_ADMIN_PASSWORD"


def _revision(revisions: frozenset[str]) -> str:
    return "、".join(sorted(revisions)) or "空库"


def _upgrade_schema() -> None:
    database = services().db
    with database.engine.connect() as connection:
        before = current_revisions(connection)
    upgrade(current_app.config["DATABASE_URL"])
    with database.engine.connect() as connection:
        after = current_revisions(connection)
    if before == after:
        click.echo(f"数据库结构已是最新（{_revision(after)}），未作改动。")
    else:
        click.echo(f"数据库结构已从 {_revision(before)} 升级到 {_revision(after)}。")


def strong_enough(password: str) -> str:
    """click's check of a typed password: a weak one is refused and asked again."""
    problem = password_problem(password)
    if problem:
        raise click.BadParameter(problem)
    return password


def _password() -> str:
    given = os.environ.get(PASSWORD_VARIABLE)
    if given is not None:
        return given  # checked with the account, so a weak one fails the command
    return click.prompt("管理员密码", hide_input=True, confirmation_prompt="再输入一次", value_proc=strong_enough)


@click.command("setup")
@with_appcontext
@click.option("--username", default="admin", show_default=True, help="首个管理员的用户名。")
@click.option("--name", "display_name", default="系统管理员", show_default=True, help="首个管理员的姓名。")
def setup(username: str, display_name: str) -> None:
    """Create or upgrade the schema and, when there is no administrator, the first one.

    The password is asked on the terminal, or read from TINGJIAN_ADMIN_PASSWORD.
    """
    _upgrade_schema()
    with services().db.Session() as session:
        # Asked first, so a second run never asks for a password it will not use.
        user = None
        if not administrator_exists(session):
            try:
                user = create_first_administrator(session, username, display_name, _password())
            except AccountError as exc:
                raise click.ClickException(str(exc)) from exc
        if user is None:
            click.echo("已有管理员账号，未作改动。")
            return
        click.echo(f"已创建管理员 {user.username}（{user.display_name}），请用它登录并添加其他账号。")


def init_app(app: Flask) -> None:
    app.cli.add_command(setup)
