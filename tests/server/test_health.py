"""/healthz: the process is up; /readyz: every backing service is, or which one is not."""

from __future__ import annotations

import httpx

from db.engines import Database
from graph.server.app import create_app
from unityplan.devservices import free_port
from unityplan.settings import Settings


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {
            "database:main": True,
            "database:second": True,
            "nats": True,
            "redis": True,
            "ipfs": True,
        },
    }


async def test_readyz_names_what_is_down(settings: Settings) -> None:
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    broken = settings.model_copy(
        update={
            "database_servers": {**settings.database_servers, "gone": dead},
            "redis_url": f"redis://127.0.0.1:{free_port()}/0",
        }
    )
    db = Database(broken.servers())
    app = create_app(broken, db)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            ready = await c.get("/readyz")
    finally:
        await db.dispose()
        await app.state.redis.aclose()
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database:gone"] is False
    assert body["checks"]["redis"] is False
    assert body["checks"]["database:main"] is True
    assert "postgresql://" not in ready.text, "DSNs stay out of responses"


async def test_nats_down_degrades_without_failing_readiness(settings: Settings) -> None:
    """No request needs NATS: a load balancer must keep the instance while NATS is down."""
    broken = settings.model_copy(update={"nats_url": f"nats://127.0.0.1:{free_port()}"})
    db = Database(broken.servers())
    app = create_app(broken, db)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            ready = await c.get("/readyz")
            metrics = await c.get("/metrics")
    finally:
        await db.dispose()
        await app.state.redis.aclose()
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready"
    assert body["checks"]["nats"] is False
    assert body["degraded"] == ["nats"]
    assert 'dependency_up{dependency="nats"} 0.0' in metrics.text
    assert 'dependency_up{dependency="redis"} 1.0' in metrics.text
