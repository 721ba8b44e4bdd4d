"""The API describes itself: every JSON body in the OpenAPI document carries an example."""


def resolve(spec, schema):
    while "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def test_every_json_body_has_an_example(client):
    spec = client.get("/openapi.json").json()
    missing = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                schema = resolve(spec, content["application/json"]["schema"])
                if not (schema.get("examples") or schema.get("example") or content["application/json"].get("examples")):
                    missing.append(f"{method.upper()} {path}")
    assert missing == []
    assert any(p.startswith("/v1/requests") for p in spec["paths"])


def test_place_search_for_operators(client, operator):
    res = client.get("/v1/places", params={"q": "평택시 비전"}, headers=operator).json()
    assert "pyeongtaek.bijeon-dong" in [p["code"] for p in res]
