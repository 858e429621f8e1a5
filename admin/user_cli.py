"""``flask --app admin user password | deactivate | activate LOGIN``: staff
accounts for automation and for an operator without a browser. Each calls
the function the console's pages call (``routing.store.accounts``), so the
change log keeps these changes too, made by 系统."""

from __future__ import annotations

from collections.abc import Callable

import click
from flask import Flask
from flask.cli import AppGroup

from collector.context import services
from routing.clock import now
from routing.store import accounts
from routing.store.accounts import AccountError

from .setup import strong_enough

user_cli = AppGroup("user", help="工作人员账号 / staff accounts.")


def _change(username: str, step: Callable[..., object], *args: object) -> str:
    """Run ``step`` on the account ``username`` and commit; its display name."""
    with services().db.Session() as session:
        try:
            user = accounts.account_by_login(session, username)
            step(session, user, *args, None, now())
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
        return user.display_name


@user_cli.command("password")
@click.argument("username")
def user_password(username: str) -> None:
    """Set a new password for USERNAME (asked twice, not shown); ends its sessions."""
    password = click.prompt("新密码", hide_input=True, confirmation_prompt="再输入一次", value_proc=strong_enough)
    name = _change(username, accounts.set_password, password)
    click.echo(f"已为 {username}（{name}）设定新密码，原有的登录已全部失效。")


@user_cli.command("deactivate")
@click.argument("username")
def user_deactivate(username: str) -> None:
    """Stop USERNAME from logging in; its open sessions end at once. Nothing is deleted."""
    name = _change(username, accounts.deactivate)
    click.echo(f"已停用 {username}（{name}）。")


@user_cli.command("activate")
@click.argument("username")
def user_activate(username: str) -> None:
    """Let USERNAME log in again, with the password it had."""
    name = _change(username, accounts.activate)
    click.echo(f"已启用 {username}（{name}）。")


def init_app(app: Flask) -> None:
    app.cli.add_command(user_cli)
