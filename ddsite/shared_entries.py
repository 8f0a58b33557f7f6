"""Decoded file-store entries kept in this process while their file is unchanged.

Every agent's ticket page reads three look-up lists, each with its generation: six files opened,
read and unpickled for lists that change every few minutes. The file store writes by renaming a
new file into place, so an entry's file that still has the same inode, modification time and
size still holds the same bytes; a stat says so for a fraction of what a read costs, and a change
made by any worker is seen on the very next read. (On a network file system a stat may be
answered from the client's attribute cache for some seconds; machines that share sessions share
a Redis store, DDSITE_REDIS_URL, which this does not apply to.)

What is kept here is handed, as the same object, to every thread and page that asks: it is only
for readers that never change what they are given (the look-up caches).
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from typing import Any, NamedTuple

# Bounds per process. Look-up keys are few (per instance: three lists and their variants), but a
# contact's own lists and an agent's queue counts grow with the users: the least recently read
# are dropped first. An entry bigger than MAX_ENTRY_BYTES on disk is never kept.
MAX_ENTRIES = 512
MAX_BYTES = 4 * 1024 * 1024
MAX_ENTRY_BYTES = 512 * 1024
# A file modified less than this long ago is read each time, not kept. An inode freed by a rewrite
# can be given to the next file at once; were that file written within the same tick of the file
# system's clock (a few milliseconds) with the same size, its stat would match the old one's. A
# file kept only once its time is well in the past cannot be matched by a later write, whose time
# is later. ("Racy" stats, as git calls them.)
TRUSTED_AFTER_SECONDS = 1.0

Stamp = tuple[int, int, int]


def stamp(status: os.stat_result) -> Stamp:
    """What changes whenever the store writes an entry's file: (inode, mtime in ns, size)."""
    return (status.st_ino, status.st_mtime_ns, status.st_size)


class SharedEntry(NamedTuple):
    """One decoded entry and the version of its file it was decoded from."""

    stamp: Stamp
    expires: int  # cachelib's expiry header: 0 for never, else seconds since the epoch
    value: Any

    def live(self, now: float) -> bool:
        """Whether the entry has not expired by `now`, as the store's own read decides."""
        return self.expires == 0 or self.expires >= now


class SharedEntries:
    """A bounded, thread-safe map of store key → SharedEntry, least recently read dropped first."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES,
                 max_entry_bytes: int = MAX_ENTRY_BYTES,
                 trusted_after_seconds: float = TRUSTED_AFTER_SECONDS) -> None:
        self._entries: OrderedDict[str, SharedEntry] = OrderedDict()
        self._bytes = 0  # sum of the kept files' sizes
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._max_entry_bytes = max_entry_bytes
        self._trusted_after_seconds = trusted_after_seconds
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """Bytes on disk of the entries kept."""
        return self._bytes

    def recall(self, key: str) -> SharedEntry | None:
        """The entry kept for `key` (the caller checks it against its file), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def keep(self, key: str, status: os.stat_result, expires: int, value: Any) -> None:
        """Keep `value`, decoded from the file whose fstat is `status`, when it may be trusted."""
        size = status.st_size
        trusted = status.st_mtime < time.time() - self._trusted_after_seconds
        with self._lock:
            self._drop(key)
            if not trusted or size > self._max_entry_bytes:
                return
            self._entries[key] = SharedEntry(stamp(status), expires, value)
            self._bytes += size
            while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
                self._drop(next(iter(self._entries)))

    def forget(self, key: str) -> None:
        """Drop what is kept for `key` (its file is gone, expired or unreadable)."""
        if key not in self._entries:  # the usual case (a list never changed has no generation)
            return
        with self._lock:
            self._drop(key)

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry.stamp[2]  # its size
