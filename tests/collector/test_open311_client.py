"""A client written by someone else reads Tingjian's Open311 endpoint: the
``georeport`` package from PyPI against a running server, in JSON and XML —
services, a service's definition, requests by filter and one by id."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from georeport import GeoReport
from werkzeug.serving import make_server

from .test_open311 import PROPERTY, key, post_request  # noqa: F401 - the fixture

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture
def server(app) -> Iterator[str]:
    served = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{served.server_port}/open311/v2"
    served.shutdown()
    thread.join()
    served.server_close()


@pytest.fixture
def posted(client, demo, key) -> str:  # noqa: F811 - the fixture imported above
    answer = post_request(client, key)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()[0]["service_request_id"]


@pytest.mark.parametrize("output", ["json", "xml"])
def test_the_georeport_client_reads_services_and_requests(server, posted, output):
    city = GeoReport(server, output_format=output)
    services = city.get_service_list()
    assert PROPERTY in {service["service_code"] for service in services}
    definition = city.get_service_definition(PROPERTY)
    assert definition["service_code"] == PROPERTY
    found = city.get_service_requests(service_code=PROPERTY, status="open")
    # Read in XML, the client gives a list of one as a single dict (xmltodict's way).
    found = [found] if isinstance(found, dict) else found
    assert posted in {request["service_request_id"] for request in found}
    one = city.get_service_request(posted)
    one = one[0] if isinstance(one, list) else one
    assert one["service_request_id"] == posted and one["status"] == "open"
    assert one["service_code"] == PROPERTY
