"""What a batch is asked to do: the items of ``run_many`` (a connect, a run on a login, or both in
one pull). Plain data, so the batch, its frame and its dashboard all read them without a circle."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Connect:
    """A batch item: open a connection to ``source_id`` (what ``dn.connect`` does, one of many)."""

    source_id: str
    username: str
    password: str = field(repr=False)
    external_id: str | None = None
    respond: Any = field(default=None, repr=False)


@dataclass
class RunTask:
    """A batch item: run ``task_id`` on an existing connection (an id, a Connection or a ConnectJob)."""

    task_id: str
    connection: Any  # a connection id, Connection or ConnectJob
    input: dict[str, Any] | None = None
    respond: Any = field(default=None, repr=False)


@dataclass
class Pull:
    """Connect, then run a task on that connection (what most analysts batch)."""

    source_id: str
    username: str
    password: str = field(repr=False)
    task_id: str = ""  # required: checked below, with a message that says what to pass
    input: dict[str, Any] | None = None
    external_id: str | None = None
    respond: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.task_id, str) or not self.task_id:
            raise TypeError(
                f"Pull({self.source_id!r}, ...) needs task_id=: the task to run once connected, "
                "e.g. dn.Pull(source_id, username, password, task_id='task_...') (see deck.tasks.list())"
            )


Spec = Connect | RunTask | Pull


def as_spec(item: Any) -> Spec:
    if isinstance(item, Connect | RunTask | Pull):
        return item
    if not isinstance(item, Mapping):
        raise TypeError(f"batch items are Connect/RunTask/Pull or dicts, not {type(item).__name__}")
    data = dict(item)
    try:
        if "connection" in data or "connection_id" in data:
            data["connection"] = data.pop("connection_id", data.get("connection"))
            return RunTask(**data)
        if "task_id" in data:
            return Pull(**data)
        return Connect(**data)
    except TypeError as exc:
        raise ValueError(f"batch item {sorted(data)} is not a connect, run or pull: {exc}") from None
