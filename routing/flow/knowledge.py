"""The knowledge base (知识库): consultations (咨询) answered from articles.

An answered consultation becomes an article (``article_from_answer``) — by the
agency that answered it or by a dispatcher. Agencies keep their own articles
current (``edit_article``, ``renew``, ``retire``); dispatchers and admins keep
all of them. A dispatcher with a consultation in triage finds the articles
that answer it (``search_articles``: by the fingerprints the duplicate search
uses, and by words) and answers from one (``answer_from_article``): the ticket
is answered at once, without going to an agency, and its resident is told as
for any answer. An article past its valid-until day is flagged 已过期 and
answers nothing until it is renewed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import case, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from routing.dispatch.matters import Fingerprint, fingerprints_of
from routing.flow.answers import deliver_answer
from routing.flow.steps import (
    DISPATCH,
    STEPS,
    PermissionDenied,
    WorkflowError,
    check_step,
    record,
    required_text,
    transition,
)
from routing.store.knowledge import Article, ArticleTerm
from routing.store.people import Role, User
from routing.store.tickets import Kind, Status, Ticket
from routing.texts import N_

# An answer stands on these: the ticket's own answer, not one a merge brought.
ANSWERED = (Status.ANSWERED, Status.CLOSED)
# Words beyond these are not searched: a question is a sentence, not a list.
MAX_WORDS = 8


def may_edit(actor: User, article: Article) -> bool:
    """Agency staff keep their own agency's articles; dispatchers and admins all."""
    if actor.role in DISPATCH:
        return True
    return actor.role is Role.AGENCY and actor.agency_id is not None and actor.agency_id == article.agency_id


def _check_edit(actor: User, article: Article) -> None:
    if not may_edit(actor, article):
        raise PermissionDenied(N_("只有文章所属单位和分拨中心可以维护这篇知识库文章。"))


def _valid_until(valid_until: date | None, today: date) -> date | None:
    if valid_until is not None and valid_until < today:
        raise WorkflowError(N_("有效期须是今天或以后的日期。"))
    return valid_until


def index_article(session: Session, article: Article, fingerprint: Fingerprint) -> None:
    """Store the article's fingerprint, replacing the one it had."""
    session.flush()
    session.execute(delete(ArticleTerm).where(ArticleTerm.article_id == article.id))
    rows = [{"article_id": article.id, "term": term, "weight": weight} for term, weight in fingerprint]
    if rows:
        session.execute(insert(ArticleTerm), rows)


def article_from_answer(
    session: Session,
    ticket: Ticket,
    actor: User,
    now: datetime,
    *,
    title: str,
    text: str | None = None,
    citation: str | None = None,
    valid_until: date | None = None,
    fingerprint: Fingerprint | None = None,
) -> Article:
    """存为知识库文章: an answered consultation becomes an article of the agency
    that answered it. ``text`` defaults to the answer; ``fingerprint`` to the
    ticket's own (the question's terms are what later questions share)."""
    if ticket.kind is not Kind.CONSULTATION:
        raise WorkflowError(N_("只有咨询类工单的答复可以存为知识库文章。"))
    if ticket.status not in ANSWERED or not ticket.answer:
        raise WorkflowError(N_("工单答复后才能存为知识库文章。"))
    agency = ticket.agency
    if agency is None:
        raise WorkflowError(N_("这张工单没有承办单位，不能存为知识库文章。"))
    if not (actor.role in DISPATCH or (actor.role is Role.AGENCY and actor.agency_id == agency.id)):
        raise PermissionDenied(N_("只有答复这张工单的单位和分拨中心可以把它存为知识库文章。"))
    article = Article(
        agency=agency,
        agency_id=agency.id,
        topic=ticket.topic,
        title=required_text(title, N_("文章标题")),
        text=required_text(text or ticket.answer, N_("文章内容")),
        citation=(citation or "").strip() or None,
        valid_until=_valid_until(valid_until, now.date()),
        active=True,
        source_ticket_id=ticket.id,
        created_by_id=actor.id,
        created_at=now,
        updated_by_id=actor.id,
        updated_at=now,
    )
    session.add(article)
    session.flush()
    if fingerprint is None:
        fingerprint = fingerprints_of(session, [ticket.id]).get(ticket.id, [])
    index_article(session, article, fingerprint)
    record(session, ticket, "save_article", actor, now, detail={"article": article.id, "title": article.title})
    return article


def edit_article(
    session: Session,
    article: Article,
    actor: User,
    now: datetime,
    *,
    title: str,
    text: str,
    citation: str | None,
    valid_until: date | None,
    fingerprint: Fingerprint | None = None,
) -> None:
    """修改: the article's words, its regulation and its date."""
    _check_edit(actor, article)
    article.title = required_text(title, N_("文章标题"))
    article.text = required_text(text, N_("文章内容"))
    article.citation = (citation or "").strip() or None
    if valid_until != article.valid_until:
        article.valid_until = _valid_until(valid_until, now.date())
    article.updated_by_id, article.updated_at = actor.id, now
    if fingerprint is not None:
        index_article(session, article, fingerprint)


def renew(session: Session, article: Article, actor: User, now: datetime, *, valid_until: date | None) -> None:
    """续期: the article still holds, until ``valid_until``; a retired one is in use again."""
    _check_edit(actor, article)
    if valid_until is None:
        raise WorkflowError(N_("请填写新的有效期。"))
    article.valid_until = _valid_until(valid_until, now.date())
    article.active = True
    article.updated_by_id, article.updated_at = actor.id, now


def retire(session: Session, article: Article, actor: User, now: datetime) -> None:
    """停用: the article no longer holds; it is kept, since tickets name it."""
    _check_edit(actor, article)
    if not article.active:
        raise WorkflowError(N_("这篇文章已停用。"))
    article.active = False
    article.updated_by_id, article.updated_at = actor.id, now


def search_articles(
    session: Session,
    *,
    fingerprint: Fingerprint | None = None,
    ticket: Ticket | None = None,
    words: str | None = None,
    agency_id: int | None = None,
    in_use: bool = False,
    today: date | None = None,
    limit: int = 10,
) -> list[tuple[Article, float]]:
    """Articles that may answer a question: (article, score), best first.

    The score is the cosine of the fingerprints (the question's: given, or the
    ticket's stored one) plus, for each searched word in the title, text or
    regulation, a share of one. Without a fingerprint or words: every article,
    newest first. ``in_use``: only active ones not past ``today``.
    """
    if fingerprint is None and ticket is not None and ticket.id is not None:
        fingerprint = fingerprints_of(session, [ticket.id]).get(ticket.id, [])
    scores: dict[int, float] = {}
    weights = dict(fingerprint or ())
    if weights:
        score = func.sum(ArticleTerm.weight * case(weights, value=ArticleTerm.term))
        query = (
            select(ArticleTerm.article_id, score)
            .where(ArticleTerm.term.in_(list(weights)))
            .group_by(ArticleTerm.article_id)
            .order_by(score.desc())
            .limit(limit * 5)
        )
        scores.update((article_id, float(value)) for article_id, value in session.execute(query))
    terms = search_words(words)
    for term in terms:
        pattern = f"%{_escape(term)}%"
        matches = select(Article.id).where(
            or_(*(column.like(pattern, escape="\\") for column in (Article.title, Article.text, Article.citation)))
        )
        for article_id in session.scalars(matches.limit(limit * 5)):
            scores[article_id] = scores.get(article_id, 0.0) + 1 / len(terms)
    query = select(Article)
    if weights or terms:
        query = query.where(Article.id.in_(list(scores) or [0]))
    if agency_id is not None:
        query = query.where(Article.agency_id == agency_id)
    if in_use:
        today = today or date.today()
        query = query.where(Article.active.is_(True), or_(Article.valid_until.is_(None), Article.valid_until >= today))
    articles = list(session.scalars(query.order_by(Article.id.desc()).limit(None if scores else limit)))
    ranked = sorted(articles, key=lambda a: (-scores.get(a.id, 0.0), -a.id))
    return [(article, scores.get(article.id, 0.0)) for article in ranked[:limit]]


def search_words(words: str | None) -> Sequence[str]:
    """The words searched for: as typed, apart at spaces, each once."""
    seen = dict.fromkeys(part for part in (words or "").split() if part)
    return list(seen)[:MAX_WORDS]


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def answer_from_article(
    session: Session, ticket: Ticket, article: Article, actor: User, now: datetime, *, expected_version: int | None
) -> None:
    """按知识库答复: a dispatcher answers a consultation in triage from an article,
    without assigning it; the resident is told as for an agency's answer.
    ``expected_version`` is the ticket's version the dispatcher saw."""
    check_step(STEPS["answer_from_article"], ticket, actor)
    if expected_version is not None and expected_version != ticket.version:
        raise WorkflowError(N_("这张工单刚刚被其他人处理过，请查看最新状态后再操作。"))
    if ticket.kind is not Kind.CONSULTATION:
        raise WorkflowError(N_("只有咨询类工单可以按知识库答复。"))
    if not article.active:
        raise WorkflowError(N_("这篇知识库文章已停用，不能用来答复。"))
    if article.expired(now.date()):
        raise WorkflowError(
            N_("这篇知识库文章已过期（有效期至 %(date)s），请由所属单位续期后再用。"),
            date=f"{article.valid_until:%Y-%m-%d}",
        )
    text = article.text if not article.citation else f"{article.text}\n（政策依据：{article.citation}）"
    transition(
        session,
        ticket,
        "answer_from_article",
        actor,
        now,
        detail={"article": article.id, "title": article.title, "article_agency": article.agency.name, "answer": text},
    )
    deliver_answer(session, ticket, actor, now, text)
