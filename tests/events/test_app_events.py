"""The API process runs the events machinery: `unityplan serve`'s app starts the relay and the
fan-out in its lifespan and stops them on shutdown; /readyz reports NATS without depending on it."""

from __future__ import annotations

import httpx

from db.engines import Database
from graph.server.app import create_app
from tests.events.conftest import Emitter, NatsServer, wait_for_ids
from tests.live import serve
from unityplan.devservices import free_port
from unityplan.settings import Settings


async def test_the_served_app_relays_the_outbox(
    settings: Settings, db: Database, nats_server: NatsServer, emitter: Emitter
) -> None:
    own = settings.model_copy(
        update={"nats_url": nats_server.url, "events_sweep_interval_seconds": 0.5}
    )
    app = create_app(own)
    with serve(app) as url:
        assert app.state.events.relay is not None
        expected = await emitter.ids("dk", 3)
        assert set(await wait_for_ids(nats_server.url, expected)) == expected
        async with httpx.AsyncClient(base_url=url) as c:
            checks = (await c.get("/readyz")).json()["checks"]
        assert checks["nats"] is True


async def test_events_relay_false_leaves_relaying_to_relay_processes(settings: Settings) -> None:
    own = settings.model_copy(update={"events_relay": False})
    app = create_app(own)
    with serve(app):
        assert app.state.events.relay is None
        assert app.state.events.fanout is not None


async def test_readyz_reports_nats_down_but_stays_ready(settings: Settings) -> None:
    own = settings.model_copy(update={"nats_url": f"nats://127.0.0.1:{free_port()}"})
    with serve(create_app(own)) as url:
        async with httpx.AsyncClient(base_url=url) as c:
            ready = await c.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["nats"] is False
    assert ready.json()["status"] == "ready"
