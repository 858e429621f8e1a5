"""Answer setup on the pages: the desk keeps the review rules (in the change
log like other configuration); an agency keeps its answer templates, which
its answer form offers, filling in the text and the regulation cited."""

from __future__ import annotations

from sqlalchemy import select

from routing.store.answering import AnswerTemplate, ReviewRule
from routing.store.configuration import ConfigChange
from routing.store.people import Agency

from ..conftest import post_form
from ..helpers import agency_login, ticket
from .test_flow import submit_on_the_station_page


def test_a_dispatcher_adds_and_deactivates_a_review_rule_on_the_record(client, auth, demo):
    housing = demo.scalar(select(Agency).where(Agency.name == "市住建局"))
    auth.login("dispatcher")
    page = "/desk/review-rules"
    assert page in client.get("/desk/").get_data(as_text=True)
    post_form(client, page, {"kind": "complaint", "agency": str(housing.id), "review": "y"})
    rule = demo.scalar(select(ReviewRule))
    assert (rule.kind.value, rule.agency_id, rule.review, rule.require_signer, rule.active) == (
        "complaint", housing.id, True, False, True)
    post_form(client, f"{page}/{rule.id}/deactivate", {}, page=page)
    demo.expire_all()
    assert demo.get(ReviewRule, rule.id).active is False
    logged = demo.scalars(select(ConfigChange).where(ConfigChange.subject == "review_rule")).all()
    assert [c.action for c in logged] == ["add", "deactivate"]
    assert "市住建局" in client.get(page).get_data(as_text=True)


def test_a_rule_asking_for_nothing_is_refused(client, auth, demo):
    auth.login("dispatcher")
    refused = post_form(client, "/desk/review-rules", {"kind": "", "agency": ""}, follow_redirects=True)
    assert "至少一项" in refused.get_data(as_text=True)
    assert demo.scalar(select(ReviewRule)) is None


def test_an_agency_keeps_templates_and_its_answer_form_uses_them(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo)
    t = ticket(demo, number)
    auth.login(agency_login(demo, t.agency))
    post_form(client, "/agency/templates/", {"title": "垃圾清运", "text": "已安排环卫人员清运。",
                                              "citation": "《城市市容和环境卫生管理条例》"})
    template = demo.scalar(select(AnswerTemplate))
    assert (template.agency_id, template.title, template.active) == (t.agency_id, "垃圾清运", True)
    page = f"/agency/tickets/{number}"
    post_form(client, f"{page}/accept", {}, page=page)
    assert "垃圾清运" in client.get(page).get_data(as_text=True)
    filled = client.get(f"{page}?template={template.id}").get_data(as_text=True)
    assert "已安排环卫人员清运。" in filled and 'value="《城市市容和环境卫生管理条例》"' in filled
    post_form(client, f"/agency/templates/{template.id}/deactivate", {}, page="/agency/templates/")
    demo.expire_all()
    assert demo.get(AnswerTemplate, template.id).active is False
    assert "垃圾清运" not in client.get(page).get_data(as_text=True)


def test_another_agencys_template_is_neither_offered_nor_changed(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo)
    t = ticket(demo, number)
    other = demo.scalar(select(Agency).where(Agency.id != t.agency_id))
    theirs = AnswerTemplate(agency_id=other.id, title="别家的模板", text="别家的答复", active=True)
    demo.add(theirs)
    demo.commit()
    auth.login(agency_login(demo, t.agency))
    page = f"/agency/tickets/{number}"
    assert "别家的答复" not in client.get(f"{page}?template={theirs.id}").get_data(as_text=True)
    refused = post_form(client, f"/agency/templates/{theirs.id}/deactivate", {}, page="/agency/templates/",
                        follow_redirects=True)
    assert "不属于您的单位" in refused.get_data(as_text=True)
    demo.expire_all()
    assert demo.get(AnswerTemplate, theirs.id).active is True
