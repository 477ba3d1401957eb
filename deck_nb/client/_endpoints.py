"""How one resource method, written once, is typed for both shells.

A resource method builds a ``Call`` and hands it to its client: ``Deck`` answers the value,
``AsyncDeck`` an awaitable of it. Python cannot say "the same type, awaited when async" directly, so
each method is wrapped in a small descriptor whose ``__get__`` is overloaded on the resource's client
type: on ``deck.sources`` (a ``Sources[Deck]``) ``retrieve`` is typed ``(...) -> Source``; on
``adeck.sources`` (a ``Sources[AsyncDeck]``) it is ``(...) -> Awaitable[Source]``. At run time the
descriptor just returns the plain bound method (docstring, signature and ``help()`` unchanged).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar, cast, overload

from ._call import Call

if TYPE_CHECKING:
    from ._pagination import AsyncPager, SyncPager

P = ParamSpec("P")
T = TypeVar("T")


class Transport(Protocol):
    """What a resource needs from its client (both shells provide it)."""

    def _request(self, call: Call) -> Any: ...
    def _request_for_api(self, build: Callable[[str], Call]) -> Any: ...
    def _paginate(self, call: Call, cast: Callable[[Any], Any]) -> Any: ...
    def _wait(self, call: Call, until: Any, timeout: Any, poll_interval: Any, what: str) -> Any: ...
    def _watch(self, feed: Any, poll_interval: float, timeout: float | None) -> Any: ...


class SyncShell(Transport):
    """The kind of client whose resource methods answer values: ``Deck`` is one. Named here, below
    the shells, so the overloads (and a run-time check) can tell the kinds apart without importing
    ``_client``."""


class AsyncShell(Transport):
    """The kind of client whose resource methods answer awaitables: ``AsyncDeck`` is one."""


ClientT = TypeVar("ClientT", bound=Transport)
_ClientT_co = TypeVar("_ClientT_co", bound=Transport, covariant=True)


class Resource(Generic[_ClientT_co]):
    """Base of every resource: holds its client (a ``Deck`` or an ``AsyncDeck``). Covariant in the
    client, so ``Sources[Deck]`` is a ``Resource[SyncShell]`` for the overloads below."""

    def __init__(self, client: _ClientT_co) -> None:
        self._client = client


class _Endpoint(Generic[P, T]):
    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn
        functools.update_wrapper(cast(Any, self), fn)  # docstring and name for help()

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        return self._fn if obj is None else self._fn.__get__(obj, owner)


class returns(_Endpoint[P, T]):
    """A method answering one object: ``T`` on Deck, ``Awaitable[T]`` on AsyncDeck."""

    def __init__(self, fn: Callable[Concatenate[Any, P], T]) -> None:
        super().__init__(fn)

    if TYPE_CHECKING:

        @overload
        def __get__(self, obj: Resource[SyncShell], owner: Any = None) -> Callable[P, T]: ...
        @overload
        def __get__(self, obj: Resource[AsyncShell], owner: Any = None) -> Callable[P, Awaitable[T]]: ...
        @overload
        def __get__(self, obj: Any, owner: Any = None) -> Callable[P, T | Awaitable[T]]: ...
        def __get__(self, obj: Any, owner: Any = None) -> Any: ...


class lists(_Endpoint[P, T]):
    """A method answering a listing: ``SyncPager[T]`` on Deck, ``AsyncPager[T]`` on AsyncDeck."""

    def __init__(self, fn: Callable[Concatenate[Any, P], SyncPager[T]]) -> None:
        super().__init__(fn)

    if TYPE_CHECKING:

        @overload
        def __get__(self, obj: Resource[SyncShell], owner: Any = None) -> Callable[P, SyncPager[T]]: ...
        @overload
        def __get__(self, obj: Resource[AsyncShell], owner: Any = None) -> Callable[P, AsyncPager[T]]: ...
        @overload
        def __get__(self, obj: Any, owner: Any = None) -> Callable[P, SyncPager[T] | AsyncPager[T]]: ...
        def __get__(self, obj: Any, owner: Any = None) -> Any: ...


class streams(_Endpoint[P, T]):
    """A method answering a stream: ``Iterator[T]`` on Deck, ``AsyncIterator[T]`` on AsyncDeck."""

    def __init__(self, fn: Callable[Concatenate[Any, P], Iterator[T]]) -> None:
        super().__init__(fn)

    if TYPE_CHECKING:

        @overload
        def __get__(self, obj: Resource[SyncShell], owner: Any = None) -> Callable[P, Iterator[T]]: ...
        @overload
        def __get__(self, obj: Resource[AsyncShell], owner: Any = None) -> Callable[P, AsyncIterator[T]]: ...
        @overload
        def __get__(self, obj: Any, owner: Any = None) -> Callable[P, Iterator[T] | AsyncIterator[T]]: ...
        def __get__(self, obj: Any, owner: Any = None) -> Any: ...
