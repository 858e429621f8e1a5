"""Demo data for the embedded default: Hangzhou's districts and streets,
agencies, liaison stations, routing rules, deadline policies, one login per
role, a trained model and a few tickets — so a newcomer sees it working.

Idempotent: run it again and it adds only what is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from classifier import Classifier, ModelStore, TopicModel, shipped_corpus
from classifier.place import Gazetteer
from collector.deputies import add_deputy
from collector.intake import submit
from routing.clock import now
from routing.flow.deadlines import default_policy
from routing.flow.inbound import Inbound
from routing.store.areas import District, Station, Street
from routing.store.configuration import DeadlinePolicy, RoutingRule
from routing.store.deputies import Deputy, DeputyLevel
from routing.store.people import Agency, Role, User
from routing.store.tickets import Kind, Ticket, Urgency

DEMO_PASSWORD = "tingjian-demo"

# Municipal bodies and the first-level topics they lead on (主办).
MUNICIPAL_AGENCIES: dict[str, tuple[str, ...]] = {
    "市住建局": ("城乡建设",),
    "市城管局": (),
    "市规划和自然资源局": (),
    "市生态环境局": ("环境保护",),
    "市交通运输局": ("交通运输",),
    "市教育局": ("教育文体",),
    "市体育局": (),
    "市人社局": ("劳动和社会保障",),
    "市医保局": (),
    "市住房公积金管理中心": (),
    "市商务局": ("商贸旅游",),
    "市文广旅游局": (),
    "市卫健委": ("卫生计生",),
    "市公安局": ("公安政法",),
    "市市场监管局": (),
    "市民政局": ("民政",),
    "市农业农村局": ("农业农村",),
    "市数据资源局": ("政务服务",),
}

# Second-level topics that belong to another body than their first level's.
# Matched by keyword in the subtopic's name, so the rules follow the corpus.
# The first levels follow the government message boards' taxonomy, where
# market supervision sits under 商贸旅游 and food and medicines under 卫生计生;
# in Hangzhou the market supervision bureau answers for all of them.
SUBTOPIC_AGENCIES: tuple[tuple[str, str], ...] = (
    ("公共交通", "市交通运输局"),
    ("环境卫生", "市城管局"),
    ("市场监管", "市市场监管局"),
    ("产品质量", "市市场监管局"),
    ("食品安全", "市市场监管局"),
    ("药品", "市市场监管局"),
    ("城管", "市城管局"),
    ("违章", "市城管局"),
    ("违建", "市城管局"),
    ("市容", "市城管局"),
    ("规划", "市规划和自然资源局"),
    ("旅游", "市文广旅游局"),
    ("景区", "市文广旅游局"),
    ("文化", "市文广旅游局"),
    ("体育", "市体育局"),
    ("医疗保险", "市医保局"),
    ("医保", "市医保局"),
    ("公积金", "市住房公积金管理中心"),
)

# 督办: who hears when an agency stays overdue. The municipal government office
# supervises the city's bureaus and the district governments; a district
# government supervises its street offices (set in load_agencies).
GENERAL_OFFICE = "市政府办公厅"

# Matters a district government answers for its own ground, before the city.
LOCAL_TOPICS = ("城乡建设", "民政", "农业农村")

# Keyword rules with assisting agencies (协办): (topic, keywords, lead, assisting).
KEYWORD_RULES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    # Noise from bars and night markets: the environment bureau leads, the police help at night.
    ("环境保护", "酒吧、KTV、夜宵、广场舞", "市生态环境局", ("市公安局",)),
)

STATIONS: tuple[tuple[str, str, str, str], ...] = (
    ("文新街道人大代表联络站", "西湖区", "文新街道", "西湖区文新街道办事处一楼"),
    ("湖滨街道人大代表联络站", "上城区", "湖滨街道", "上城区湖滨街道社区服务中心"),
    ("米市巷街道人大代表联络站", "拱墅区", "米市巷街道", "拱墅区米市巷街道党群服务中心"),
    ("长河街道人大代表联络站", "滨江区", "长河街道", "滨江区长河街道办事处"),
    ("良渚街道人大代表联络站", "余杭区", "良渚街道", "余杭区良渚街道市民之家"),
    ("城厢街道人大代表联络站", "萧山区", "城厢街道", "萧山区城厢街道便民服务中心"),
    ("千岛湖镇人大代表联络站", "淳安县", "千岛湖镇", "淳安县千岛湖镇人民政府"),
)

STREET_OFFICES: tuple[tuple[str, str], ...] = (
    ("西湖区", "文新街道"),
    ("上城区", "湖滨街道"),
    ("拱墅区", "米市巷街道"),
)

SAMPLE_MESSAGES: tuple[tuple[str, str | None], ...] = (
    ("西湖区文新街道某小区物业从上个月起擅自把停车费涨到每月三百元，业主都不同意，物业说不交就不让进，请有关部门管一管。", "文新街道人大代表联络站"),
    ("湖滨街道东坡路一家酒吧每天半夜音响开得很大，凌晨两点还在放音乐，周边居民根本睡不着觉。", "湖滨街道人大代表联络站"),
    ("建议在长河街道江南大道和长河路路口增加一个公交站，附近几个小区的老人坐车要走很远。", "长河街道人大代表联络站"),
    ("请问灵活就业人员在杭州交社保，断缴了三个月还能补缴吗？需要带什么材料去办？", None),
    ("孩子今年上小学，户口在拱墅区，房子租在余杭区，请问应该在哪个区报名入学？", "米市巷街道人大代表联络站"),
    ("你好，请问在这里可以反映什么样的问题？多久会有答复？", None),
)


@dataclass
class Report:
    added: dict[str, int] = field(default_factory=dict)

    def count(self, what: str, n: int = 1) -> None:
        self.added[what] = self.added.get(what, 0) + n


def _get_or_add(session: Session, model: type, report: Report, what: str, defaults: dict | None = None, **key):
    row = session.scalar(select(model).filter_by(**key))
    if row is None:
        row = model(**key, **(defaults or {}))
        session.add(row)
        session.flush()
        report.count(what)
    return row


def load_places(session: Session, gazetteer: Gazetteer, report: Report) -> None:
    for district_name in gazetteer.districts():
        district = _get_or_add(session, District, report, "districts", name=district_name)
        for street_name in gazetteer.streets(district_name):
            _get_or_add(session, Street, report, "streets", district_id=district.id, name=street_name)


def load_agencies(session: Session, report: Report) -> None:
    office = _get_or_add(session, Agency, report, "agencies", name=GENERAL_OFFICE)
    for name in MUNICIPAL_AGENCIES:
        bureau = _get_or_add(session, Agency, report, "agencies", name=name)
        bureau.supervisor_id = bureau.supervisor_id or office.id
    for district in session.scalars(select(District).order_by(District.id)):
        suffix = "人民政府"
        government = _get_or_add(
            session, Agency, report, "agencies", defaults={"district_id": district.id}, name=f"{district.name}{suffix}"
        )
        government.supervisor_id = government.supervisor_id or office.id
        session.flush()
        # 兜底: where a dispute leaves responsibility unclear, the district government answers.
        district.fallback_agency_id = district.fallback_agency_id or government.id
    for district_name, street_name in STREET_OFFICES:
        district = session.scalar(select(District).where(District.name == district_name))
        street = _street(session, district, street_name, report)
        street_office = _get_or_add(
            session,
            Agency,
            report,
            "agencies",
            defaults={"district_id": district.id, "street_id": street.id},
            name=f"{district_name}{street_name}办事处",
        )
        government = session.scalar(select(Agency).where(Agency.name == f"{district_name}人民政府"))
        street_office.supervisor_id = street_office.supervisor_id or government.id


def _street(session: Session, district: District, name: str, report: Report) -> Street:
    return _get_or_add(session, Street, report, "streets", district_id=district.id, name=name)


def load_stations(session: Session, report: Report) -> None:
    for name, district_name, street_name, address in STATIONS:
        district = session.scalar(select(District).where(District.name == district_name))
        street = _street(session, district, street_name, report)
        _get_or_add(
            session,
            Station,
            report,
            "stations",
            defaults={"district_id": district.id, "street_id": street.id, "address": address},
            name=name,
        )


def load_rules(session: Session, labels: list[str], report: Report) -> None:
    """Rules from the topics the model knows: the city's lead body per first
    level, named exceptions per second level, and district governments for
    matters answered locally. Topics with no rule (其他) go to the dispatcher."""
    agency = {a.name: a for a in session.scalars(select(Agency))}

    def rule(topic: str | None, subtopic: str | None, district_id: int | None, agency_name: str) -> None:
        _get_or_add(
            session,
            RoutingRule,
            report,
            "routing rules",
            topic=topic,
            subtopic=subtopic,
            district_id=district_id,
            agency_id=agency[agency_name].id,
        )

    for name, topics in MUNICIPAL_AGENCIES.items():
        for topic in topics:
            rule(topic, None, None, name)
    for label in labels:
        topic, _, subtopic = label.partition("/")
        for word, name in SUBTOPIC_AGENCIES:
            if subtopic and word in subtopic:
                rule(topic, subtopic, None, name)
                break
    for district in session.scalars(select(District)):
        for topic in LOCAL_TOPICS:
            rule(topic, None, district.id, f"{district.name}人民政府")
    for topic, keywords, lead, assisting in KEYWORD_RULES:
        found = _get_or_add(
            session, RoutingRule, report, "routing rules", topic=topic, keywords=keywords, agency_id=agency[lead].id
        )
        if not found.assisting:
            found.assisting = [agency[name] for name in assisting]


def load_policies(session: Session, report: Report) -> None:
    for kind in Kind:
        for urgency in Urgency:
            terms = default_policy(kind, urgency)
            _get_or_add(
                session,
                DeadlinePolicy,
                report,
                "deadline policies",
                defaults={
                    "accept_days": terms.accept_days,
                    "answer_days": terms.answer_days,
                    "answer_hours": terms.answer_hours,
                    "answer_months": terms.answer_months,
                },
                kind=kind,
                urgency=urgency,
            )


def load_users(session: Session, report: Report) -> None:
    agency = {a.name: a for a in session.scalars(select(Agency))}
    users = (
        ("admin", "系统管理员", Role.ADMIN, None),
        ("dispatcher", "分拨中心值班员", Role.DISPATCHER, None),
        ("deputy", "王代表", Role.DEPUTY, None),
        ("zhujian", "市住建局承办员", Role.AGENCY, "市住建局"),
        ("huanbao", "市生态环境局承办员", Role.AGENCY, "市生态环境局"),
        ("jiaotong", "市交通运输局承办员", Role.AGENCY, "市交通运输局"),
        ("renshe", "市人社局承办员", Role.AGENCY, "市人社局"),
        ("xihu", "西湖区政府承办员", Role.AGENCY, "西湖区人民政府"),
        ("wenxin", "文新街道办事处承办员", Role.AGENCY, "西湖区文新街道办事处"),
        ("bangongting", "市政府办公厅督查员", Role.AGENCY, GENERAL_OFFICE),
    )
    password_hash = None  # one (deliberately slow) hash serves every demo login
    for username, display_name, role, agency_name in users:
        if session.scalar(select(User).where(User.username == username)) is None:
            if password_hash is None:
                password_hash = generate_password_hash(DEMO_PASSWORD)
            user = User(
                username=username,
                display_name=display_name,
                role=role,
                agency_id=agency[agency_name].id if agency_name else None,
                password_hash=password_hash,
            )
            session.add(user)
            report.count("logins")


# The demo deputy (login ``deputy``) and the stations where they meet constituents.
DEMO_DEPUTY = ("王代表", DeputyLevel.CITY, ("文新街道人大代表联络站", "湖滨街道人大代表联络站"))


def load_deputies(session: Session, report: Report) -> None:
    user = session.scalar(select(User).where(User.username == "deputy"))
    if user is None or session.scalar(select(Deputy.id).where(Deputy.user_id == user.id)) is not None:
        return
    name, level, station_names = DEMO_DEPUTY
    stations = list(session.scalars(select(Station).where(Station.name.in_(station_names))))
    add_deputy(session, user, name, level, stations)
    report.count("deputies")


def ensure_model(store: ModelStore, progress: Callable[[str], None]) -> TopicModel:
    """The active model, trained from the shipped corpus if there is none."""
    version = store.active_version()
    if version is not None:
        return store.load_version(version)
    corpus = shipped_corpus()
    progress(f"训练默认分类模型（{len(corpus)} 条语料）…")
    model = TopicModel.train(corpus.texts, corpus.labels, source="shipped corpus")
    store.save(model, activate=True)
    return model


def load_samples(session: Session, classifier: Classifier, threshold: float, report: Report) -> None:
    if session.scalar(select(Ticket.id).limit(1)) is not None:
        return
    for text, station_name in SAMPLE_MESSAGES:
        station = session.scalar(select(Station).where(Station.name == station_name)) if station_name else None
        submit(session, Inbound(channel="web", text=text, station=station), classifier, now(), threshold=threshold)
        report.count("sample tickets")


def load_demo(
    session: Session, store: ModelStore, *, threshold: float, progress: Callable[[str], None] = lambda _: None
) -> Report:
    report = Report()
    gazetteer = Gazetteer.load()
    progress("区县、街道…")
    load_places(session, gazetteer, report)
    progress("承办单位、联络站…")
    load_agencies(session, report)
    load_stations(session, report)
    load_policies(session, report)
    load_users(session, report)
    session.flush()
    load_deputies(session, report)
    session.commit()
    model = ensure_model(store, progress)
    progress("派单规则…")
    load_rules(session, model.labels, report)
    session.commit()
    progress("示例工单…")
    load_samples(session, Classifier(model, gazetteer, store.active_version()), threshold, report)
    session.commit()
    return report
