"""Lifecycle of the classes that own a C handle (``azure.Deriver``,
``azure.SasSigner``, ``keys.Key``): kept in one place so they all behave alike."""

from __future__ import annotations

from ._errors import InvalidInputError, Result


class _KeyedHandle:
    """Lifecycle shared by the classes that own a keyed C handle: close()
    (idempotent), context manager, no copies or pickles."""

    __slots__ = ("_handle",)

    def _live_handle(self) -> object:
        handle = self._handle
        if handle is None:
            raise InvalidInputError(Result.EINVAL, f"{type(self).__name__}: used after close()")
        return handle

    def close(self) -> None:
        """Release the handle and cleanse its key material. Idempotent."""
        # Dropping the last reference to the owning SWIG proxy runs its
        # destructor (the library's free function) at once. A call running in
        # another thread holds its own reference, so the C object is freed
        # only after it returns: closing can never cause a use-after-free.
        self._handle = None

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._handle is None

    def __enter__(self):
        self._live_handle()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__} {'closed' if self._handle is None else 'open'}>"

    def __reduce__(self) -> object:
        # Copies would share one C handle; pickles would carry key material.
        raise TypeError(f"{type(self).__module__}.{type(self).__name__} cannot be copied or pickled")
