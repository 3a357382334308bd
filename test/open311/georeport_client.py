"""Reads duban's Open311 GeoReport v2 API through the georeport client library (PyPI), in both
formats, and prints what the client made of it as JSON for the test to compare."""
import json
import sys

from georeport import GeoReport


def as_list(value):
    """xmltodict gives a lone element as a dict and several as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def main(base, case_id, tracking_code):
    out = {}
    for fmt in ("json", "xml"):
        client = GeoReport(f"{base}/open311/v2", output_format=fmt)
        services = as_list(client.get_service_list())
        definition = client.get_service_definition("noise")
        listed = as_list(client.get_service_requests())
        by_service = as_list(client.get_service_requests(service_code="sanitation", status="open"))
        one = client.get_service_request(case_id)
        mine = client.get_service_request(tracking_code)
        try:
            client.get_service_request("DB-2026-999999")
            missing = None
        except Exception as error:  # the client raises requests' HTTPError on a 404
            missing = getattr(getattr(error, "response", None), "status_code", str(error))
        out[fmt] = {
            "services": [s["service_code"] for s in services],
            "definition": definition["service_code"],
            "listed": [r["service_request_id"] for r in listed],
            "by_service": [r["service_request_id"] for r in by_service],
            "one": {k: one[k] for k in ("service_request_id", "status", "description", "agency_responsible", "requested_datetime", "lat", "long")},
            "mine": {k: mine[k] for k in ("service_request_id", "description", "media_url")},
            "missing": missing,
        }
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:4])
