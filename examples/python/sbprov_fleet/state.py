"""The output directory's run state: an exclusive lock (one run at a time)
and the state file that records finished devices.

The state file ``OUT/.sbprov-fleet-state.jsonl`` is a journal: one JSON
line appended and fsynced per finished device, so that a run killed at any
moment loses at most the line being written (which is then dropped).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import stat
import threading
from pathlib import Path
from typing import Any, Dict, Optional

STATE_NAME = ".sbprov-fleet-state.jsonl"
LOCK_NAME = ".sbprov-fleet.lock"
STATE_FORMAT = "sbprov-fleet-state 1"


class StateError(Exception):
    """The output directory cannot be used (locked, unreadable state)."""


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` atomically and durably (``mode`` whatever
    the umask)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def private_dir(path: Path) -> None:
    """Create ``path`` (mode 0700) if missing; refuse a symlink or a
    directory of someone else's."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise StateError(f"{path}: exists and is not a directory")
    if st.st_uid != os.geteuid():
        raise StateError(f"{path}: owned by another user")
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)


class RunState:
    """The lock and the record of finished devices of one output directory.

    The state file is a journal of JSON lines, appended to and fsynced once
    per finished device (so a run of n devices writes O(n) bytes): the first
    line names the format, then ``{"device": ID, ...record}`` when a device
    is finished and ``{"forget": ID}`` when its bundle was removed. A line
    torn by a crash is dropped when the file is next opened."""

    def __init__(self, out: Path):
        self.out = out
        self.path = out / STATE_NAME
        self._lock = threading.Lock()
        self._lock_fd: Optional[int] = None
        self._fd: Optional[int] = None
        self.devices: Dict[str, Dict[str, Any]] = {}

    def acquire(self) -> None:
        """Take the directory's lock (never waits) and read the state."""
        fd = os.open(self.out / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise StateError(f"{self.out}: another sbprov-fleet run is using this directory") from None
            raise
        self._lock_fd = fd
        try:
            self._load()
        except BaseException:
            self.release()
            raise

    def _load(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                         0o600)
            self._fd = fd
            self._append({"format": STATE_FORMAT})
            fsync_dir(self.out)
            return
        except OSError as e:
            raise StateError(f"{self.path}: cannot open it: {e.strerror}") from None
        self._fd = fd
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read()
        complete = data[:data.rfind(b"\n") + 1]
        if len(complete) != len(data):
            os.ftruncate(fd, len(complete))  # a line torn by a crash
            os.fsync(fd)
        lines = complete.decode("utf-8", "replace").splitlines()
        if not lines:  # created by a run killed before its first line
            self._append({"format": STATE_FORMAT})
            return
        try:
            head = json.loads(lines[0]) if lines else None
        except ValueError:
            head = None
        if not isinstance(head, dict) or head.get("format") != STATE_FORMAT:
            raise StateError(f"{self.path}: not a state file of this tool; move it away to start over")
        for n, line in enumerate(lines[1:], 2):
            try:
                entry = json.loads(line)
                if "device" in entry:
                    rid = entry.pop("device")
                    self.devices[rid] = entry
                elif "forget" in entry:
                    self.devices.pop(entry["forget"], None)
                else:
                    raise ValueError("neither device nor forget")
            except (ValueError, TypeError, AttributeError) as e:
                raise StateError(f"{self.path}:{n}: malformed ({e}); move the file away to start over") from None

    def _append(self, entry: Dict[str, Any]) -> None:
        line = (json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n").encode()
        view = memoryview(line)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        os.fsync(self._fd)

    def release(self) -> None:
        for attr in ("_fd", "_lock_fd"):
            fd = getattr(self, attr)
            if fd is not None:
                os.close(fd)
                setattr(self, attr, None)

    def get(self, registration_id: str) -> Optional[Dict[str, Any]]:
        with self._lock:
            rec = self.devices.get(registration_id)
            return dict(rec) if rec is not None else None

    def record(self, registration_id: str, record: Dict[str, Any]) -> None:
        """Mark a device finished (durably, before this returns)."""
        with self._lock:
            self._append(dict(record, device=registration_id))
            self.devices[registration_id] = dict(record)

    def forget(self, registration_id: str) -> None:
        with self._lock:
            if registration_id in self.devices:
                self._append({"forget": registration_id})
                del self.devices[registration_id]
