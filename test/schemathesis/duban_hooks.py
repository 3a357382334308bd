"""schemathesis hooks for duban: the business rules that JSON Schema cannot state, taught to the
generator for the requests it means to be valid (never for the ones it means to be invalid).

- A due date is in the future: a schema cannot compare with today.
- A case is for a department that exists: which ones exist is data, not schema. Valid cases are
  opened for CG (with JD cooperating at most), so that the stateful phase can carry them on
  through the department's own commands, which run under CG's token (see schemathesis.toml).
- The responsible persons named when a case opens are people of the directory: which ones exist
  is data too, so valid cases name none (naming them is tested in test/people-api.test.ts).
- People are added to a department that exists (CG).
- A bulletin's period runs forwards (from ≤ to) within 2000–2100: a schema cannot compare two fields.
- Assessment rules take effect from today or later: a schema cannot compare with today.
- The stateful phase infers links between operations by field names, and may carry a value of one
  kind (a complaint's tracking code) into an id of another (a webhook's `wh_…`) while calling the
  request valid: such a value is replaced by a well-formed id of the right kind (unknown: 404).
- A scorecard's range ends after it starts and spans at most two years and 104 periods: a schema
  cannot compare two fields. Valid queries keep their first day and cover the 60 days from it.
"""
import datetime
import re

import schemathesis
from schemathesis.core.parameters import ParameterLocation

def _operation_id(case):
    return case.operation.definition.raw.get("operationId")


def _meant_valid(case, location):
    """Whether the generator meant the case, and its part at `location`, to be valid."""
    meta = case.meta
    if meta is None:
        # Nothing says what the generator meant: leave the case as it is.
        return False
    component = meta.components.get(location)
    return meta.generation.mode.is_positive and (component is None or component.mode.is_positive)


def _body_meant_valid(case):
    """Whether the generator meant the body to be valid (the case as a whole, and its body)."""
    return _meant_valid(case, ParameterLocation.BODY)


# Path ids by operation: the parameter, its pattern, and a well-formed id that names nothing.
_PATH_IDS = {
    "deactivateWebhook": ("id", re.compile(r"^wh_[A-Za-z0-9_-]{8}$"), "wh_00000000"),
    "retryDelivery": ("id", re.compile(r"^dl_[A-Za-z0-9_-]{16}$"), "dl_0000000000000000"),
}


@schemathesis.hook
def map_case(context, case):
    operation = _operation_id(case)
    if operation in _PATH_IDS and _meant_valid(case, ParameterLocation.PATH) and case.path_parameters:
        name, pattern, placeholder = _PATH_IDS[operation]
        value = case.path_parameters.get(name)
        if isinstance(value, str) and not pattern.match(value):
            case.path_parameters = {**case.path_parameters, name: placeholder}
    if operation == "addDepartmentPerson" and _meant_valid(case, ParameterLocation.PATH) and case.path_parameters:
        if "code" in case.path_parameters:
            case.path_parameters = {**case.path_parameters, "code": "CG"}
    if operation in ("getScorecards", "exportScorecardsCsv", "exportScorecardsXlsx") and _meant_valid(case, ParameterLocation.QUERY):
        query = dict(case.query or {})
        try:
            start = datetime.date.fromisoformat(str(query.get("from")))
        except ValueError:
            start = datetime.date(2026, 1, 1)
        if not 2000 <= start.year <= 2100:
            start = datetime.date(2026, 1, 1)
        query["from"] = start.isoformat()
        query["to"] = (start + datetime.timedelta(days=60)).isoformat()
        case.query = query
        return case
    if not _body_meant_valid(case) or not isinstance(case.body, dict):
        return case
    if operation == "draftBulletin" and isinstance(case.body.get("from"), str):
        start = case.body["from"] if "2000-01-01" <= case.body["from"] <= "2100-12-31" else "2026-06-01"
        case.body = {**case.body, "from": start, "to": start}
    if operation == "addAssessmentRules":
        case.body = {**case.body, "effectiveFrom": "2099-12-31"}
    if operation in ("openCase", "convertComplaint"):
        body = dict(case.body)
        if "dueDate" in body:
            body["dueDate"] = "2099-12-31"
        body["leadDepartment"] = "CG"
        if "cooperatingDepartments" in body:
            body["cooperatingDepartments"] = ["JD"] if body["cooperatingDepartments"] else []
        body.pop("responsiblePersons", None)
        case.body = body
    return case
