"""The JSON API is described by OpenAPI, with its auth and error shapes."""

from __future__ import annotations

from tests.helpers.server import Desk, ServerFactory


async def test_openapi_describes_the_license_api(servers: ServerFactory, desk: Desk) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    schema = (await server.client.get("/openapi.json")).json()
    assert set(schema["paths"]) == {
        "/api/v1/licenses",
        "/api/v1/licenses/activation-code",
        "/api/v1/licenses/check-online",
        "/api/v1/clients",
        "/api/v1/agent/enroll",
        "/api/v1/agent/heartbeat",
        "/api/v1/agent/virus-log",
        "/api/v1/agent/manifest",
        "/api/v1/agent/vendor-keys",
        "/api/v1/agent/files/{component}/{sha256}",
        "/api/v1/agent/update-result",
        "/api/v1/agent/cleanup-result",
        "/api/v1/agent/outbreak-policy/applied",
        "/api/v1/agent/tls-renewals",
        "/api/v1/agent/tuf/{name}",
        "/api/v1/agent/tuf/targets/{path}",
    }
    heartbeat = schema["paths"]["/api/v1/agent/heartbeat"]["post"]
    assert heartbeat["security"] == [{"HTTPBearer": []}]
    assert "security" not in schema["paths"]["/api/v1/agent/enroll"]["post"]
    assert "get" in schema["paths"]["/api/v1/licenses"]
    post = schema["paths"]["/api/v1/licenses/activation-code"]["post"]
    assert post["security"] == [{"HTTPBasic": []}]
    assert {"400", "401", "422"} <= set(post["responses"])
    license_schema = schema["components"]["schemas"]["License"]
    assert set(license_schema["properties"]) == {
        "product",
        "product_name",
        "version_type",
        "activation_code",
        "status",
        "stopped",
        "expires_on",
        "seats",
        "seats_used",
    }
    assert license_schema["properties"]["status"]["enum"] == [
        "activated",
        "grace_period",
        "expired",
        "revoked",
        "rejected",
        "unconfirmed",
    ]
