"""The knowledge base on the pages (知识库): the desk's search and list, each
agency's own articles, the article page with edit, renew and retire, the box of
matching articles on a consultation in triage, and "save as article" on an
answered consultation. The domain is ``routing.flow.knowledge``."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from classifier.similar import fingerprint
from collector.context import db_session
from routing.clock import now
from routing.flow import knowledge
from routing.flow.steps import UNROUTED, is_lead
from routing.store.knowledge import Article
from routing.store.people import Role, User
from routing.store.tickets import Kind, Ticket
from routing.texts import N_

from .auth import current_staff, roles_required
from .views import carry_out, flash_errors, ticket_for

bp = Blueprint("knowledge", __name__)

DISPATCH = (Role.DISPATCHER, Role.ADMIN)
STAFF = (Role.AGENCY, *DISPATCH)


class ArticleForm(FlaskForm):
    title = StringField(_l("文章标题"), validators=[DataRequired(_l("请填写文章标题。")), Length(max=200)])
    text = TextAreaField(_l("文章内容"), validators=[Optional(), Length(max=5000)])
    citation = StringField(_l("政策依据"), validators=[Optional(), Length(max=500)])
    valid_until = DateField(_l("有效期至"), validators=[Optional()])


class RenewForm(FlaskForm):
    valid_until = DateField(_l("有效期至"), validators=[DataRequired(_l("请填写新的有效期。"))])


class AnswerForm(FlaskForm):
    article = IntegerField(validators=[DataRequired()])
    version = HiddenField()


def article_print(title: str, question: str | None, text: str):
    """What later questions share with an article: its title and the question it answered."""
    return fingerprint(f"{title} {question or text}")


def _article(user: User, article_id: int) -> Article:
    article = db_session().get(Article, article_id)
    if article is None or (user.role is Role.AGENCY and article.agency_id != user.agency_id):
        abort(404, description=gettext("没有找到这篇知识库文章。"))
    return article


def article_url(user: User, article: Article) -> str:
    endpoint = "knowledge.agency_article" if user.role is Role.AGENCY else "knowledge.desk_article"
    return url_for(endpoint, article_id=article.id)


def desk_box(ticket: Ticket) -> dict:
    """The desk's ticket page: for a consultation in triage, the articles that
    may answer it; for an answered one, the form that saves it as an article."""
    if ticket.kind is not Kind.CONSULTATION:
        return {}
    if ticket.status in UNROUTED:
        matches = knowledge.search_articles(db_session(), ticket=ticket, in_use=True, today=now().date(), limit=5)
        return {"knowledge_matches": [(a, s) for a, s in matches if s > 0], "answer_article_form": AnswerForm()}
    return save_box(ticket)


def save_box(ticket: Ticket) -> dict:
    if ticket.kind is not Kind.CONSULTATION or ticket.status not in knowledge.ANSWERED or ticket.agency is None:
        return {}
    return {"article_form": ArticleForm(title=ticket.text[:40])}


def agency_box(user: User, ticket: Ticket) -> dict:
    return save_box(ticket) if is_lead(user, ticket) else {}


def _list(agency_id: int | None):
    words = request.args.get("q", "").strip()
    found = knowledge.search_articles(db_session(), words=words or None, agency_id=agency_id, limit=100)
    user = current_staff()
    return render_template(
        "knowledge/list.html",
        articles=[a for a, _ in found],
        words=words,
        today=now().date(),
        link=lambda a: article_url(user, a),
        own=agency_id is not None,
    )


@bp.get("/desk/knowledge")
@roles_required(*DISPATCH)
def desk_list():
    """知识库: every agency's articles, searched by words."""
    return _list(None)


@bp.get("/agency/knowledge")
@roles_required(Role.AGENCY)
def agency_list():
    """本单位知识库: the agency's own articles, to keep current."""
    return _list(current_staff().agency_id)


@bp.get("/desk/knowledge/<int:article_id>", endpoint="desk_article")
@roles_required(*DISPATCH)
def desk_article(article_id: int):
    return _page(article_id)


@bp.get("/agency/knowledge/<int:article_id>", endpoint="agency_article")
@roles_required(Role.AGENCY)
def agency_article(article_id: int):
    return _page(article_id)


def _page(article_id: int):
    user = current_staff()
    article = _article(user, article_id)
    return render_template(
        "knowledge/article.html",
        article=article,
        today=now().date(),
        may_edit=knowledge.may_edit(user, article),
        edit_form=ArticleForm(obj=article),
        renew_form=RenewForm(),
        empty_form=FlaskForm(),
        back=url_for("knowledge.agency_list" if user.role is Role.AGENCY else "knowledge.desk_list"),
    )


@bp.post("/knowledge/<int:article_id>/<any(edit, renew, retire):step>")
@roles_required(*STAFF)
def change(article_id: int, step: str):
    user = current_staff()
    article = _article(user, article_id)
    if step == "retire":
        form = FlaskForm()
        if form.validate_on_submit():
            carry_out(knowledge.retire, article, user, done=N_("文章已停用。"))
    elif step == "renew":
        form = RenewForm()
        if form.validate_on_submit():
            carry_out(knowledge.renew, article, user, valid_until=form.valid_until.data, done=N_("文章已续期。"))
    else:
        form = ArticleForm()
        if form.validate_on_submit():
            question = article.source_ticket.text if article.source_ticket else None
            carry_out(
                knowledge.edit_article,
                article,
                user,
                title=form.title.data,
                text=form.text.data or "",
                citation=form.citation.data,
                valid_until=form.valid_until.data,
                fingerprint=article_print(form.title.data, question, form.text.data or ""),
                done=N_("文章已保存。"),
            )
    if form.errors:
        flash_errors(form)
    return redirect(article_url(user, article))


@bp.post("/<any(desk, agency):side>/tickets/<number>/save_article")
@roles_required(*STAFF)
def save(side: str, number: str):
    """存为知识库文章, from the desk's or the agency's page of an answered consultation."""
    user = current_staff()
    ticket = ticket_for(user, number)
    back = url_for("agency.ticket" if user.role is Role.AGENCY else "desk.ticket", number=number)
    form = ArticleForm()
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(back)
    carry_out(
        knowledge.article_from_answer,
        ticket,
        user,
        title=form.title.data,
        text=form.text.data or None,
        citation=form.citation.data,
        valid_until=form.valid_until.data,
        fingerprint=article_print(form.title.data, ticket.text, ticket.answer or ""),
        done=N_("已存为知识库文章。"),
    )
    return redirect(back)


@bp.post("/desk/tickets/<number>/answer_from_article")
@roles_required(*DISPATCH)
def answer(number: str):
    """按知识库答复: a consultation in triage answered from an article at once."""
    user = current_staff()
    ticket = ticket_for(user, number)
    form = AnswerForm()
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(url_for("desk.ticket", number=number))
    article = _article(user, form.article.data)
    version = int(form.version.data) if (form.version.data or "").isdigit() else None
    carry_out(
        knowledge.answer_from_article,
        ticket,
        article,
        user,
        expected_version=version,
        done=N_("已按知识库文章答复，群众会收到通知。"),
    )
    return redirect(url_for("desk.ticket", number=number))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
