"""Staff pages with query parameters no form would send: far-future dates,
numbers beyond the database's range, digits of other scripts. Each gets the
page (with its form error) or a 400 saying what is wrong, never a 500, and the
pages keep working."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from admin.params import whole_number

HUGE = "99999999999999999999"
ODD_DIGITS = ["١٢", "１２", "²", "٣", "-1", "1e3", " 7 "]

ROUTES = [
    "/tickets/?until=9999-12-31",
    "/tickets/?since=0001-01-01&until=9999-12-31",
    f"/tickets/?page={HUGE}",
    "/tickets/?page=²",
    "/tickets/export.csv?until=9999-12-31",
    "/tickets/export.xlsx?since=9999-12-31",
    "/reports/monthly?month=9999-12",
    "/reports/monthly?month=0001-01",
    f"/reports/monthly?agency={HUGE}",
    "/reports/monthly?agency=²",
    "/dashboard/data?days=٣٠",
    f"/dashboard/data?days={HUGE}",
    "/scorecards?period=custom&start=9999-12-01&end=9999-12-31",
    f"/scorecards?agency={HUGE}",
    "/scorecards?agency=²",
    f"/desk/calendar?year={HUGE}",
    "/desk/calendar?year=²",
    f"/desk/rules/?agency={HUGE}",
]


@pytest.mark.parametrize("url", ROUTES)
def test_odd_parameters_get_an_answer_not_a_server_error(client, auth, demo, url):
    auth.login("dispatcher")
    response = client.get(url)
    assert response.status_code < 500, url
    assert client.get("/tickets/").status_code == 200


@pytest.mark.parametrize("raw", ODD_DIGITS + [HUGE, str(2**31)])
def test_only_ascii_digits_within_an_integer_column_are_a_whole_number(raw):
    with pytest.raises(ValueError):
        whole_number(raw) if raw.strip() != "7" else whole_number("x")


def test_a_whole_number_is_read_from_ascii_digits():
    assert whole_number("12") == 12 and whole_number(" 7 ") == 7 and whole_number(str(2**31 - 1)) == 2**31 - 1


VALUES = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.sampled_from(ODD_DIGITS + ["9999-12-31", "0001-01-01", "9999-12", "2026-13", "2026-02-30", HUGE]),
)
PARAMS = st.dictionaries(
    st.sampled_from(["since", "until", "page", "agency", "district", "status", "month", "days", "year",
                     "period", "start", "end", "sort", "dir", "topic", "channel"]),
    VALUES, max_size=4,
)
PAGES = ["/tickets/", "/tickets/export.csv", "/reports/monthly", "/dashboard/", "/dashboard/data", "/scorecards", "/desk/"]


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.sampled_from(PAGES), PARAMS)
def test_no_query_gets_a_server_error(client, auth, demo, page, params):
    if client.get("/desk/").status_code != 200:
        auth.login("dispatcher")
    assert client.get(page, query_string=params).status_code < 500


@pytest.mark.parametrize("path", [f"/desk/rules/{HUGE}", f"/desk/transcriptions/{HUGE}",
                                  f"/desk/transcriptions/audio/{HUGE}", f"/deputy/stations/{HUGE}"])
def test_an_id_in_a_path_beyond_any_row_is_not_found(client, auth, demo, path):
    auth.login("admin")
    assert client.get(path).status_code == 404
