"""Languages (界面语言): Simplified Chinese by default, English available.

Staff choose their language once (``user_account.locale``) with the switch in
the page header; residents' public pages follow the browser's Accept-Language,
Chinese when it asks for nothing we have. Texts are written in Chinese in the
templates and code; ``admin/translations/en`` holds their English. The
compiled catalogue (``messages.mo``) is committed beside its ``.po``, so a
fresh checkout needs no build step; after editing the ``.po`` run
``pybabel compile -d admin/translations`` (a test checks the two agree).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, abort, redirect, request, url_for
from flask_babel import Babel, get_locale, gettext
from flask_login import current_user, login_required

from collector.context import db_session
from routing.texts import N_

from .auth import current_staff, safe_next

# The languages on offer, each named in itself.
LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT = "zh"
TRANSLATIONS = Path(__file__).parent / "translations"


# Labels that come from the domain (routing.models) in Chinese, translated where
# a page shows them: ``{{ _(ticket.status.label) }}``. Listed so the catalogue has them.
DOMAIN_LABELS = (
    N_("已受理"), N_("待分拣"), N_("待签收"), N_("争议待裁定"), N_("办理中"), N_("待群众补充"), N_("待审核"),
    N_("已答复"), N_("已办结"), N_("已合并"), N_("无效"),
    # The public status page's timeline (station/status.html).
    N_("已派至承办单位"), N_("已转办"), N_("承办单位已签收"), N_("承办单位已答复"), N_("重新确定承办单位"),
    N_("人工分拣中"), N_("承办单位请您补充情况"), N_("延期办理"), N_("已随同一事项答复"), N_("合并办理"),
    N_("您的评价"), N_("不予受理"),
    # Kinds, urgencies, channels and the figures' own words (policies, dashboard, scorecards, reports).
    N_("咨询"), N_("求助"), N_("建议"), N_("投诉举报"), N_("代表建议"),
    N_("一般"), N_("紧急"), N_("水电气热"),
    N_("联络站网页"), N_("微信公众号"), N_("接口"), N_("人大代表"), N_("热线导入"), N_("Open311 接口"), N_("12345 热线"),
    N_("未确定"), N_("签收"), N_("答复"), N_("合计"),
    # Warning levels (escalation.Level), on the badges of the lists.
    N_("临期"), N_("超期"),
    # The deputy's portal: how a matter is raised, ratings, result classes, levels.
    N_("转交群众意见"), N_("满意"), N_("基本满意"), N_("不满意"),
    N_("A 类：所提问题已经解决或基本解决"), N_("B 类：所提问题列入计划逐步解决"),
    N_("C 类：因条件限制或其他原因暂时不能解决，留作参考"),
    N_("省"), N_("市"), N_("区"),
    N_("当面"), N_("电话"), N_("座谈"), N_("视察调研"),
)


bp = Blueprint("i18n", __name__)
babel = Babel()


def select_locale() -> str:
    """Staff: their own choice. Everyone else: what the browser asks for, else Chinese."""
    if current_user and current_user.is_authenticated:
        chosen = getattr(current_user, "locale", None)
        if chosen in LANGUAGES:
            return chosen
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT) if request else DEFAULT


def html_lang() -> str:
    """The page's ``lang`` attribute, so that browsers pick fonts and voices right."""
    return "en" if str(get_locale()) == "en" else "zh-CN"


@bp.post("/locale")
@login_required
def choose():
    """The header's switch: keep the choice on the person's account."""
    wanted = request.form.get("locale", "")
    if wanted not in LANGUAGES:
        abort(400, description="不支持这种语言。")
    user = current_staff()
    user.locale = wanted
    db_session().commit()
    return redirect(safe_next(request.form.get("next")) or url_for("auth.home"))


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale)
    # translate(): a label marked in Python (N_), which may hold a "%" that the
    # templates' own _() would take for a placeholder.
    app.jinja_env.globals.update(
        languages=LANGUAGES, html_lang=html_lang, current_locale=lambda: str(get_locale()), translate=gettext
    )
    app.register_blueprint(bp)
