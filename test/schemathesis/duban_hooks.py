"""schemathesis hooks for duban: the business rules that JSON Schema cannot state, taught to the
generator for the requests it means to be valid (never for the ones it means to be invalid).

- A due date is in the future: a schema cannot compare with today.
- A case is for a department that exists: which ones exist is data, not schema. Valid cases are
  opened for CG (with JD cooperating at most), so that the stateful phase can carry them on
  through the department's own commands, which run under CG's token (see schemathesis.toml).
- The responsible persons named when a case opens are people of the directory: which ones exist
  is data too, so valid cases name none (naming them is tested in test/people-api.test.ts).
- People are added to a department that exists (CG).
"""
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


@schemathesis.hook
def map_case(context, case):
    operation = _operation_id(case)
    if operation == "addDepartmentPerson" and _meant_valid(case, ParameterLocation.PATH) and case.path_parameters:
        if "code" in case.path_parameters:
            case.path_parameters = {**case.path_parameters, "code": "CG"}
    if not _body_meant_valid(case) or not isinstance(case.body, dict):
        return case
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
