"""Small readers over a synthesized template (plain dicts, no CDK objects)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aws_cdk.assertions import Template

from infra import manifest

Resource = dict[str, Any]


def resources(template: Template, resource_type: str) -> dict[str, Resource]:
    return {
        logical_id: dict(resource) for logical_id, resource in template.find_resources(resource_type).items()
    }


def props(resource: Resource) -> dict[str, Any]:
    value: dict[str, Any] = resource.get("Properties", {})
    return value


def only(template: Template, resource_type: str) -> tuple[str, dict[str, Any]]:
    found = resources(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    [(logical_id, resource)] = found.items()
    return logical_id, props(resource)


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def arn_of(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def function_ids(template: Template) -> dict[str, str]:
    """manifest function name -> logical id of its AWS::Lambda::Function (matched by description)."""
    by_description = {
        props(r)["Description"]: lid for lid, r in resources(template, "AWS::Lambda::Function").items()
    }
    return {spec.name: by_description[spec.description] for spec in manifest.FUNCTIONS}


def api_id(template: Template, protocol: str) -> str:
    [found] = [
        lid
        for lid, r in resources(template, "AWS::ApiGatewayV2::Api").items()
        if props(r)["ProtocolType"] == protocol
    ]
    return found


def routes_of(template: Template, api: str) -> dict[str, dict[str, Any]]:
    """route key -> properties, for the routes of one API (duplicates fail)."""
    routes: dict[str, dict[str, Any]] = {}
    for resource in resources(template, "AWS::ApiGatewayV2::Route").values():
        p = props(resource)
        if p["ApiId"] == ref(api):
            assert p["RouteKey"] not in routes, f"duplicate route {p['RouteKey']}"
            routes[p["RouteKey"]] = p
    return routes


def integration_target(route: dict[str, Any]) -> str:
    """Logical id of the integration a route targets ("integrations/<id>")."""
    prefix, target = route["Target"]["Fn::Join"][1]
    assert prefix == "integrations/"
    return str(target["Ref"])


def iam_statements(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every identity policy in the template: managed, inline and role-inline."""
    for lid, resource in resources(template, "AWS::IAM::ManagedPolicy").items():
        yield from ((lid, s) for s in props(resource)["PolicyDocument"]["Statement"])
    for lid, resource in resources(template, "AWS::IAM::Policy").items():
        yield from ((lid, s) for s in props(resource)["PolicyDocument"]["Statement"])
    for lid, resource in resources(template, "AWS::IAM::Role").items():
        for policy in props(resource).get("Policies", []):
            yield from ((lid, s) for s in policy["PolicyDocument"]["Statement"])


def managed_policy_of_role(template: Template, role_id: str) -> dict[str, Any]:
    attached = [
        props(r)
        for r in resources(template, "AWS::IAM::ManagedPolicy").values()
        if ref(role_id) in props(r).get("Roles", [])
    ]
    assert len(attached) == 1, f"{role_id} should have exactly one managed policy"
    return attached[0]


def allowed_actions(policy: dict[str, Any]) -> set[str]:
    return {
        action
        for statement in policy["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
    }


def denies_insecure_transport(policy_document: dict[str, Any]) -> bool:
    return any(
        s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for s in policy_document["Statement"]
    )
