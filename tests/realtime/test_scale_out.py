"""Several server processes: two gunicorn gevent servers share one database (PostgreSQL when
reachable, else a SQLite file) and Redis as the Socket.IO message queue, on a channel of
their own per run. A post made through one process reaches the clients of the other; when
Redis restarts, delivery resumes by itself, readers are told to catch up, and what was
posted meanwhile is caught up by sequence number.

The machine's Redis (127.0.0.1:6379) is only ever published to on this run's channel and
never stopped: the restart tests start a redis-server of their own on a free port.
"""
from __future__ import annotations

import secrets

import pytest

from tests.realtime import live

pytestmark = pytest.mark.redis

MACHINE_REDIS_PORT = 6379


@pytest.fixture(scope="module", autouse=True)
def _machine_redis():
    live.require_redis(MACHINE_REDIS_PORT)


@pytest.fixture(scope="module")
def shared_database(live_databases):
    """(database URL, seed): PostgreSQL when reachable, else the SQLite file."""
    return live_databases["postgresql"] or live_databases["sqlite"]


class Cluster:
    def __init__(self, servers, seed, redis_port: int, channel: str):
        self.servers, self.seed, self.redis_port, self.channel = servers, seed, redis_port, channel

    def wait_until_listening(self, timeout: float = 30.0) -> None:
        """Until every process has (re)subscribed to the channel: only then does a publish
        reach all of them. A process subscribes once it has had a first connection."""
        live.wait_for(lambda: live.subscribers(self.redis_port, self.channel) >= len(self.servers), timeout,
                      f"{len(self.servers)} processes to listen on {self.channel}")


def _cluster(name: str, database_url: str, seed, redis_url: str, redis_port: int, log_dir) -> Cluster:
    channel = f"plenary-test-{secrets.token_hex(6)}"
    env = live.server_env(database_url, REDIS_URL=redis_url, SOCKETIO_CHANNEL=channel)
    servers = live.start_servers([(f"{name}-a", env), (f"{name}-b", env)], log_dir)
    return Cluster(servers, seed, redis_port, channel)


@pytest.fixture(scope="module")
def cluster(shared_database, tmp_path_factory):
    """Two processes on the machine's Redis."""
    url, seed = shared_database
    made = _cluster("machine-redis", url, seed, f"redis://127.0.0.1:{MACHINE_REDIS_PORT}/0", MACHINE_REDIS_PORT,
                    tmp_path_factory.mktemp("cluster"))
    try:
        yield made
    finally:
        live.stop_servers(made.servers)
        # Presence is kept under this run's channel name: leave nothing behind.
        client = live.redis_client(MACHINE_REDIS_PORT)
        for key in client.scan_iter(match=f"{made.channel}:*"):
            client.delete(key)


@pytest.fixture(scope="module")
def own_redis_cluster(shared_database, tmp_path_factory):
    """Two processes on a redis-server of the test's own, which tests may stop and start."""
    url, seed = shared_database
    log_dir = tmp_path_factory.mktemp("own-redis")
    redis = live.OwnRedis(log_dir)
    redis.start()
    try:
        made = _cluster("own-redis", url, seed, redis.url, redis.port, log_dir)
        made.redis = redis
        try:
            yield made
        finally:
            live.stop_servers(made.servers)
    finally:
        redis.stop()


def test_a_post_made_through_one_process_reaches_a_client_of_the_other(cluster, readers):
    a, b = cluster.servers
    seed = cluster.seed
    amina = readers(a.url, live.login(a.url, seed.emails["amina"]))
    bruno = readers(b.url, live.login(b.url, seed.emails["bruno"]))
    assert amina.join(seed.stream)["ok"]
    cluster.wait_until_listening()
    joined = bruno.join(seed.stream)
    assert joined["ok"]
    # Presence is shared: each sees the other, whichever process holds them.
    assert {u["name"] for u in joined["presence"]["users"]} == {"Amina", "Bruno"}
    amina.next_message("presence", where=lambda p: p["count"] == 2)

    ack = bruno.call("post", {"stream": seed.stream, "topic_id": seed.topic_id, "body": "Through process B."})

    assert ack["ok"], ack
    event = amina.next_event(where=lambda e: e["post"]["id"] == ack["post"]["id"])
    assert (event["type"], event["seq"]) == ("post.created", ack["post"]["seq"])
    assert "Through process B." in event["post"]["body_html"]

    # A form posted to B, and a post through A to B's client, travel the same way.
    assert live.Browser(b.url).login(seed.emails["chen"]).respond(
        seed.consultation_id, seed.topic_id, "A form sent to B.") == 302
    by_form = amina.next_event(where=lambda e: "A form sent to B." in str(e["post"].get("body_html")))
    assert by_form["seq"] == ack["post"]["seq"] + 1
    back = amina.call("post", {"stream": seed.stream, "topic_id": seed.topic_id, "body": "Through process A."})
    assert bruno.next_event(where=lambda e: e["post"]["id"] == back["post"]["id"])["seq"] == back["post"]["seq"]


def test_a_logout_through_one_process_reaches_a_socket_on_the_other(cluster, readers):
    a, b = cluster.servers
    seed = cluster.seed
    socket = readers(a.url, live.login(a.url, seed.emails["chen"]))
    assert socket.join(seed.members_stream)["ok"]
    cluster.wait_until_listening()

    assert live.Browser(b.url).login(seed.emails["chen"]).logout() == 302

    # Process A closes the socket at B's request (through Redis); until then it acts for nobody.
    live.assert_signed_out(socket, seed.members_stream, seed.members_topic_id)
    # Either way the old cookie no longer signs anyone in, on either process.
    for server in (a, b):
        stale = readers(server.url, socket.cookie)
        assert stale.join(seed.members_stream)["error"]["code"] == 404


def test_after_a_redis_restart_delivery_resumes_and_the_missed_post_is_caught_up(own_redis_cluster, readers):
    cluster = own_redis_cluster
    reader_server, writer_server = cluster.servers
    seed = cluster.seed
    amina = readers(reader_server.url, live.login(reader_server.url, seed.emails["amina"]))
    bruno = readers(writer_server.url, live.login(writer_server.url, seed.emails["bruno"]))
    assert amina.join(seed.stream)["ok"] and bruno.join(seed.stream)["ok"]
    cluster.wait_until_listening()

    def post(body: str) -> dict:
        ack = bruno.call("post", {"stream": seed.stream, "topic_id": seed.topic_id, "body": body})
        assert ack["ok"], ack
        return ack["post"]

    before = post("Before the restart.")
    last_applied = amina.next_event(where=lambda e: e["post"]["id"] == before["id"])["seq"]

    cluster.redis.stop()
    during = post("While Redis was down.")  # stored and numbered; its broadcast is lost
    assert during["seq"] == last_applied + 1
    status, _, page = live.request(reader_server.url, "GET",
                                   f"/consultations/{seed.consultation_id}/posts/{during['id']}")
    assert status == 200 and "While Redis was down." in page
    cluster.redis.start()

    # (a) Each process, once it listens again, tells its readers to catch up: the post made
    # meanwhile would otherwise stay missing until another one shows the gap.
    cluster.wait_until_listening()
    assert amina.next_message("sync", where=lambda notice: notice["stream"] == seed.stream)
    # Delivery resumes by itself: a new post arrives.
    after = post("After the restart.")
    arrived = amina.next_event(where=lambda e: e["post"]["id"] == after["id"])
    assert arrived["seq"] == last_applied + 2

    # (b) The client sees the gap (last applied + 2) and asks for what it missed.
    synced = amina.call("sync", {"stream": seed.stream, "last_seq": last_applied})
    assert synced["ok"] and synced["more"] is False
    assert [(e["seq"], e["post"]["id"]) for e in synced["events"]] == [
        (last_applied + 1, during["id"]), (last_applied + 2, after["id"])]
    assert "While Redis was down." in synced["events"][0]["post"]["body_html"]
    # ...and so does a client that reconnects with its last seq.
    again = readers(reader_server.url)
    joined = again.join(seed.stream, last_seq=last_applied)
    assert [e["post"]["id"] for e in joined["missed"]] == [during["id"], after["id"]]


def test_while_redis_is_down_readers_can_still_join_and_catch_up(own_redis_cluster, readers):
    cluster = own_redis_cluster
    reader_server, writer_server = cluster.servers
    seed = cluster.seed
    writer = readers(writer_server.url, live.login(writer_server.url, seed.emails["bruno"]))
    cookie = live.login(reader_server.url, seed.emails["chen"])
    last_seq = writer.join(seed.stream)["seq"]
    cluster.redis.stop()
    try:
        during = writer.call("post", {"stream": seed.stream, "topic_id": seed.topic_id, "body": "Redis is down."})
        assert during["ok"], during

        visitor = readers(reader_server.url)
        joined = visitor.join(seed.stream, last_seq=last_seq)
        assert joined.get("error") is None and joined["ok"] is True, joined
        assert [e["post"]["id"] for e in joined["missed"]] == [during["post"]["id"]]
        signed_in = readers(reader_server.url, cookie)
        assert signed_in.join(seed.stream)["can_post"] is True
    finally:
        cluster.redis.start()
