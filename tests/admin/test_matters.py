"""The dispatcher sees possible duplicates of a ticket and the hot issues."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select, update

from routing.flow import steps
from routing.store.people import User
from routing.store.tickets import MatterTerm, Ticket

from ..conftest import post_form
from ..helpers import ticket
from .test_flow import submit_on_the_station_page

STREETLIGHT = [
    "拱墅区米市巷街道大关路的路灯坏了一个星期，晚上很黑，老人出门不安全。",
    "米市巷街道大关路上的路灯不亮了，好几天了，请尽快修。",
    "大关路路灯一到晚上就不亮，米市巷街道的居民出行很不方便。",
]


def test_duplicates_and_hot_issues_on_the_desk(client, auth, demo):
    numbers = [
        submit_on_the_station_page(client, demo, text, phone=f"1380000000{i}")[0] for i, text in enumerate(STREETLIGHT)
    ]
    other, _ = submit_on_the_station_page(client, demo, "公司拖欠工资三个月了，老板一直推脱不发。")
    auth.login("dispatcher")

    hot = hot_on_the_desk(client)
    assert "3 人" in hot and all(n in hot for n in numbers) and other not in hot

    page = client.get(f"/desk/tickets/{numbers[0]}").get_data(as_text=True)
    listed = page.split("可能重复", 1)[1].split("</ul>", 1)[0]
    assert numbers[1] in listed and numbers[2] in listed and other not in listed
    assert ticket(demo, numbers[0]).district.name == "拱墅区"

    # Merged, two are left: no longer a hot issue, on the very next look.
    post_form(client, f"/desk/tickets/{numbers[2]}/merge", {"into": numbers[0]}, page=f"/desk/tickets/{numbers[2]}")
    assert ticket(demo, numbers[2]).merged_into_id == ticket(demo, numbers[0]).id
    assert numbers[1] not in hot_on_the_desk(client)


def hot_on_the_desk(client) -> str:
    return client.get("/desk/").get_data(as_text=True).split("热点", 1)[1].split("最近受理", 1)[0]


def test_a_hot_issue_is_one_at_least_three_residents_raised_and_counts_them(client, auth, demo):
    # Three tickets from two residents: the same one twice (by phone), another once.
    numbers = [
        submit_on_the_station_page(client, demo, text, phone=phone)[0]
        for text, phone in zip(STREETLIGHT, ("13800000001", "138-0000-0001", "13800000002"), strict=True)
    ]
    auth.login("dispatcher")
    assert not any(n in hot_on_the_desk(client) for n in numbers)
    assert client.get("/dashboard/data?days=7").get_json()["hot"] == []

    # A third resident: four tickets, three residents — and three is what is shown.
    numbers.append(submit_on_the_station_page(client, demo, "米市巷街道大关路的路灯坏了好几天，晚上很黑。", phone="13800000003")[0])
    hot = hot_on_the_desk(client)
    assert "3 人" in hot and all(n in hot for n in numbers)
    [issue] = client.get("/dashboard/data?days=7").get_json()["hot"]
    assert issue["count"] == 3 and sorted(issue["numbers"]) == sorted(numbers)


def test_an_emergency_is_shown_at_the_top_of_the_desk_with_the_words_that_made_it_one(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo, "米市巷街道某小区3栋楼道里燃气泄漏，味道很大，请马上派人处理！")
    assert ticket(demo, number).urgency.value == "urgent"
    auth.login("dispatcher")
    desk = client.get("/desk/").get_data(as_text=True)
    alert = desk.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert number in alert and "触发词：燃气泄漏" in alert
    page = client.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert "判为紧急，因为出现" in page


def raised_days_ago(session, number: str, days: int) -> None:
    """As if the ticket had been raised ``days`` ago: its row and its fingerprint."""
    raised = ticket(session, number)
    when = raised.created_at - timedelta(days=days)
    session.execute(update(Ticket).where(Ticket.id == raised.id).values(created_at=when))
    session.execute(update(MatterTerm).where(MatterTerm.ticket_id == raised.id).values(raised_at=when))
    session.commit()


def test_a_duplicate_is_found_among_a_year_of_open_tickets_but_not_older_or_closed_ones(client, auth, demo):
    year_old, older, closed = (submit_on_the_station_page(client, demo, text)[0] for text in STREETLIGHT)
    raised_days_ago(demo, year_old, 300)
    raised_days_ago(demo, older, 400)
    auth.login("dispatcher")
    invalid = ticket(demo, closed)
    steps.transition(demo, invalid, "invalidate", demo.scalar(select(User).where(User.username == "dispatcher")),
                        invalid.created_at, reason="测试")
    demo.commit()
    new, _ = submit_on_the_station_page(client, demo, "大关路的路灯还是不亮，米市巷街道这边晚上走路很危险。")

    page = client.get(f"/desk/tickets/{new}").get_data(as_text=True)
    listed = page.split("可能重复", 1)[1].split("</ul>", 1)[0]
    assert year_old in listed and older not in listed and closed not in listed


def test_an_admin_fingerprints_the_tickets_raised_before_the_index(runner, demo):
    demo.execute(delete(MatterTerm))
    demo.commit()
    result = runner.invoke(args=["classifier", "index-matters"])
    assert result.exit_code == 0, result.output
    indexed = demo.scalar(select(func.count(func.distinct(MatterTerm.ticket_id))))
    assert indexed > 0 and f"已为 {indexed} 件未办结工单建立重复件索引" in result.output
    again = runner.invoke(args=["classifier", "index-matters"])
    assert "已为 0 件" in again.output
