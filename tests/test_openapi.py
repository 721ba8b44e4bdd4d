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


def test_a_405_names_every_method_of_the_address(client, admin):
    """Starlette named only the first route whose path matched: `Allow: POST` on /v1/providers, which answers
    GET too (issue 18, defect 10)."""
    for method, path, methods in [("OPTIONS", "/v1/providers", {"GET", "POST"}),
                                  ("OPTIONS", "/v1/requests", {"GET", "POST"}),
                                  ("PUT", "/v1/providers/1", {"GET", "PATCH", "DELETE"}),
                                  ("DELETE", "/v1/requests/R2345678/cancel", {"POST"})]:
        res = client.request(method, path, headers=admin)
        assert res.status_code == 405, (method, path)
        assert res.headers["content-type"].startswith("application/problem+json")
        assert set(res.headers["allow"].split(", ")) - {"HEAD"} == methods, (method, path, res.headers["allow"])


def test_the_document_says_what_the_api_refuses(client, operator):
    """What the API refuses, the OpenAPI document says: a schema-valid request is refused only for a rule
    JSON Schema cannot state (schemathesis.toml lists them; issue 18, defect 10)."""
    import jsonschema_rs

    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]

    def valid(schema, value) -> bool:
        return jsonschema_rs.validator_for({**schema, "components": spec["components"]}).is_valid(value)

    def prop(model, name):
        return {**schemas[model]["properties"][name], "components": spec["components"]}

    assert schemas["ConsentIn"]["properties"]["guardian_consent"]["const"] is True
    for model in ("GuardianIn", "ProviderCreate", "ProviderUpdate"):  # a provider's phone of "" was schema-valid
        phone = schemas[model]["properties"]["phone"]
        assert valid(phone, "010-5550-1234") and valid(phone, "+82 10-5550-1234")
        assert not valid(phone, "") and not valid(phone, "12345") and not valid(phone, "031-8008-1234")
    day = next(p for p in spec["paths"]["/v1/requests"]["get"]["parameters"] if p["name"] == "date")["schema"]
    assert valid(day, "2026-11-25") and not valid(day, "1999-12-31") and not valid(day, "0672-11-24")
    birth = schemas["ChildIn"]["properties"]["birth_date"]
    assert valid(birth, "1990-01-01") and not valid(birth, "1989-12-31")
    start = schemas["CareRequestCreate"]["properties"]["start_at"]
    assert valid(start, "2026-11-25T09:00:00+09:00") and not valid(start, "1999-12-31T09:00:00Z")
    for model, name in [("GuardianIn", "name"), ("ChildIn", "first_name"), ("ProviderCreate", "name"),
                        ("ProviderUpdate", "name")]:
        schema = prop(model, name)
        assert valid(schema, "김하늘") and not valid(schema, "\u3164") and not valid(schema, "-")
    for model, name in [("CareRequestCancel", "reason"), ("CareRequestCreate", "notes"), ("LocationIn", "address")]:
        schema = prop(model, name)
        assert valid(schema, "보호자 일정 변경") and not valid(schema, "a\x00") and not valid(schema, "\u202ea")
    assert not valid(prop("LocationIn", "address"), "   ")  # stripped, it is empty
    hours = prop("ProviderCreate", "weekly_hours")
    assert valid(hours, {"mon": [["07:00", "22:00"]]}) and not valid(hours, {"someday": []})
    assert not valid(hours, {"mon": [["7am", "10pm"]]})
    body = {**schemas["CareRequestCreate"], "components": spec["components"]}
    example = body["examples"][0]
    assert valid(body, example)
    assert not valid(body, {**example, "health_notes": "땅콩 알레르기"})  # health notes need their own consent
    assert valid(body, {**example, "health_notes": "땅콩", "consent": {"guardian_consent": True, "health_consent": True}})


def test_the_document_declares_the_headers_it_sends(client, operator):
    spec = client.get("/openapi.json").json()
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            if "401" in op["responses"]:
                assert "WWW-Authenticate" in op["responses"]["401"]["headers"], (method, path)
    created = spec["paths"]["/v1/requests"]["post"]["responses"]
    assert created["201"]["headers"]["Location"]["required"] and created["200"]["headers"]["Location"]["required"]
    res = client.get("/v1/auth/me")
    assert res.status_code == 401 and res.headers["www-authenticate"] == "Bearer"


def test_delete_says_it_deactivates_and_keeps_the_provider(client, admin):
    """DELETE /v1/providers/{id} never deleted: the document says so, and marks it deprecated for PATCH."""
    op = client.get("/openapi.json").json()["paths"]["/v1/providers/{provider_id}"]["delete"]
    assert op["deprecated"] is True
    assert "never deleted" in op["description"] and '"active": false' in op["description"]


def test_the_text_patterns_agree_with_the_rules():
    """The name and text patterns admit exactly what hotline.core.text admits, character by character (for
    every character this Python's Unicode has assigned) and for runs of combining marks."""
    import sys
    import unicodedata

    import jsonschema_rs

    from hotline.core import patterns
    from hotline.core.text import has_control, has_visible_letter, stacked_marks

    name = jsonschema_rs.validator_for({"type": "string", "pattern": patterns.name_pattern()})
    plain = jsonschema_rs.validator_for({"type": "string", "pattern": patterns.text_pattern()})
    filled = jsonschema_rs.validator_for({"type": "string", "pattern": patterns.filled_text_pattern()})
    wrong = []
    for code in range(sys.maxunicode + 1):
        c = chr(code)
        if 0xD800 <= code < 0xE000 or unicodedata.category(c) == "Cn":
            continue
        if name.is_valid(c) != (has_visible_letter(c) and not stacked_marks(c) and not has_control(c)):
            wrong.append(("name", hex(code)))
        if plain.is_valid(c) == has_control(c):
            wrong.append(("text", hex(code)))
        if filled.is_valid(f" {c} ") != (not has_control(c) and not c.isspace()):
            wrong.append(("filled", hex(code)))
    assert wrong == []
    assert name.is_valid("a\u0301\u0301\u0301\u0301") and not name.is_valid("a\u0301\u0301\u0301\u0301\u0301")


def test_webhooks_declare_the_refusals_of_a_body(client, settings):
    """Twilio's forms are read by the webhooks, not declared: a body over the limit is still refused (413) and
    the document now says so, with 400 for a body that cannot be read."""
    spec = client.get("/openapi.json").json()
    for path in ("/v1/webhooks/twilio/sms", "/v1/webhooks/twilio/status"):
        assert {"400", "413"} <= set(spec["paths"][path]["post"]["responses"]), path
        res = client.post(path, content=b"Body=" + b"a" * settings.max_body_bytes,
                          headers={"content-type": "application/x-www-form-urlencoded"})
        assert res.status_code == 413 and res.headers["content-type"].startswith("application/problem+json")
