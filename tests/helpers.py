"""Raw-HTTP helpers for the simulator's tests (no deck_nb client on this side)."""

from __future__ import annotations

import httpx


class Api:
    """Raw HTTP to the simulator (no deck_nb client), as the simulator's tests require."""

    def __init__(self, sim) -> None:
        self.sim = sim
        self.http = httpx.Client(
            base_url=sim.base_url + "/", headers={"Authorization": f"Bearer {sim.api_key}"}, timeout=30
        )

    def get(self, path: str, **params) -> httpx.Response:
        return self.http.get(path.lstrip("/"), params=params)

    def post(self, path: str, json=None, **kwargs) -> httpx.Response:
        return self.http.post(path.lstrip("/"), json=json, **kwargs)

    def ok(self, response: httpx.Response, status: int = 200) -> dict:
        assert response.status_code == status, response.text
        return response.json()

    def advance(self, seconds: float) -> None:
        self.sim.advance(seconds)

    # flows ---------------------------------------------------------------------------------

    def open(self, source_id: str, username: str = "ada", password: str = "pass_good", **extra) -> dict:
        body = {
            "source_id": source_id,
            "auth_method": "username_password",
            "auth_credentials": {"username": username, "password": password},
            **extra,
        }
        return self.ok(self.post("connections", body), 201)

    def connection(self, conn_id: str) -> dict:
        return self.ok(self.get(f"connections/{conn_id}"))

    def run(self, run_id: str) -> dict:
        return self.ok(self.get(f"task-runs/{run_id}"))

    def answer_connection(self, conn_id: str, **inputs) -> httpx.Response:
        return self.post(f"connections/{conn_id}/interaction", {"inputs": inputs})

    def answer_run(self, run_id: str, **inputs) -> httpx.Response:
        return self.post(f"task-runs/{run_id}/interaction", {"inputs": inputs})

    def connected(self, source_id: str, username: str = "ada") -> dict:
        """A connection driven to `connected` with the right answers."""
        conn = self.open(source_id, username)
        self.advance(2)
        answers = {"mfa": {"code": "123456"}, "security_question": {"answer": "rex"}}
        while (current := self.connection(conn["id"]))["status"] == "interaction_required":
            self.ok(self.answer_connection(conn["id"], **answers[current["interaction"]["type"]]))
            self.advance(2)
        assert current["status"] == "connected", current
        return current

    def start_run(self, task_id: str, conn_id: str, input=None) -> dict:
        body = {"connection_id": conn_id}
        if input is not None:
            body["input"] = input
        return self.ok(self.post(f"tasks/{task_id}/run", body), 201)

    def events(self, **params) -> list[dict]:
        out, cursor = [], None
        while True:
            page = self.ok(self.get("events", limit=100, **({"cursor": cursor} if cursor else {}), **params))
            out.extend(page["data"])
            if not page["has_more"]:
                return out
            cursor = page["next_cursor"]


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert body["request_id"].startswith("req_")
    assert len(body["errors"]) == 1, body
    return body["errors"][0]


LOGIN_ANSWERS = {"mfa": {"code": "123456"}, "security_question": {"answer": "rex"}}


class CurrentApi(Api):
    """Raw HTTP for Deck's current API: credentials are stored, runs log in inside sessions."""

    def store(self, source_id: str, username: str = "ada", password: str = "pass_good", **extra) -> dict:
        body = {
            "source_id": source_id,
            "auth_method": "username_password",
            "auth_credentials": {"username": username, "password": password},
            **extra,
        }
        return self.ok(self.post("credentials", body), 201)

    def patch(self, cred_id: str, body: dict) -> httpx.Response:
        return self.http.patch(f"credentials/{cred_id}", json=body)

    def request_delete(self, cred_id: str) -> httpx.Response:
        return self.http.delete(f"credentials/{cred_id}")

    def credential(self, cred_id: str) -> dict:
        return self.ok(self.get(f"credentials/{cred_id}"))

    def session(self, sess_id: str) -> dict:
        return self.ok(self.get(f"sessions/{sess_id}"))

    def start(self, task_id: str, input=None, **ways) -> dict:
        body = {**ways, **({"input": input} if input is not None else {})}
        return self.ok(self.post(f"tasks/{task_id}/run", body), 201)

    def answer(self, run_id: str, **inputs) -> httpx.Response:
        return self.post(f"task-runs/{run_id}/interaction", {"input": inputs})

    def log_in(self, run_id: str) -> dict:
        """Drive a run in a new session through its source's login (right answers); answer the run."""
        self.advance(3)
        while (current := self.run(run_id))["status"] == "interaction_required":
            kind = current["interaction"]["type"]
            if kind not in LOGIN_ANSWERS:
                return current
            self.ok(self.answer(run_id, **LOGIN_ANSWERS[kind]))
            self.advance(2)
        return current

    def event_types(self, **params) -> list[str]:
        return [e["type"] for e in self.events(**params)]
