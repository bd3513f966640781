"""Static files over HTTP: the console's own files and a user's HMI folder (`--www`).

Paths are percent-decoded once and must stay inside the folder after symbolic links are resolved;
dot files, directory listings and methods other than GET/HEAD are refused. File system work runs
in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import mimetypes
import os
import stat
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from ..edge.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

DEFAULT_MAX_FILE_SIZE = 32 * 1024 * 1024
DEFAULT_CACHE_BYTES = 8 * 1024 * 1024
CACHEABLE_FILE_SIZE = 512 * 1024

# Explicit types for what web pages are made of; mimetypes' table depends on the machine.
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/vnd.microsoft.icon",
    ".wasm": "application/wasm",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".pdf": "application/pdf",
}


def content_type(name: str) -> str:
    suffix = os.path.splitext(name)[1].lower()
    known = _TYPES.get(suffix)
    if known is not None:
        return known
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


class NotServed(Exception):
    """The request names nothing this folder serves (answered 404, whatever the reason)."""


def relative_parts(path: str, mount: str) -> list[str]:
    """The path below `mount` as checked segments; raises NotServed for anything that might leave the folder."""
    if not path.startswith(mount):
        raise NotServed(path)
    try:
        decoded = unquote(path[len(mount) :], encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise NotServed(path) from None
    if "\x00" in decoded or "\\" in decoded:
        raise NotServed(path)
    parts = [part for part in decoded.split("/") if part]
    for part in parts:
        # ".." and "." would walk; other dot files (.git, .env) are not meant for visitors.
        if part.startswith("."):
            raise NotServed(path)
    return parts


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    content_type: str
    etag: str
    last_modified: str


class StaticFolder:
    """Serves one folder under a URL prefix (`mount`, ending in "/"); a directory's index.html stands for it."""

    def __init__(
        self,
        root: Path,
        mount: str = "/",
        *,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        cache_bytes: int = 0,
    ) -> None:
        if not mount.endswith("/"):
            raise ValueError("the mount path must end in /")
        self.root = root.resolve(strict=True)
        if not self.root.is_dir():
            raise NotADirectoryError(str(root))
        self.mount = mount
        self.max_file_size = max_file_size
        self.cache_bytes = cache_bytes
        """Files are remembered without looking at the disk again (for files that never change: the console's)."""
        self._cache: OrderedDict[tuple[str, ...], StaticFile] = OrderedDict()
        self._cached_bytes = 0

    async def respond(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return HttpResponse.text("Method Not Allowed\n", 405, [("Allow", "GET, HEAD")])
        try:
            parts = relative_parts(request.path, self.mount)
            if request.path.endswith("/"):
                parts.append("")  # a folder is meant: "" stands for its index.html, a file does not match
            found = await self.load(parts)
        except NotServed:
            return HttpResponse.text("Not Found\n", 404)
        except _TooLarge:
            return HttpResponse.text("the file is too large to be served\n", 500)
        headers = [
            ("Content-Type", found.content_type),
            ("ETag", found.etag),
            ("Last-Modified", found.last_modified),
            # Always revalidate: cheap 304s, and a changed HMI file is seen at once.
            ("Cache-Control", "no-cache"),
        ]
        if _not_modified(request, found):
            return HttpResponse(304, headers)
        # For HEAD too: the edge sends the headers (Content-Length from the body) and leaves the body out.
        return HttpResponse(200, headers, found.body)

    async def load(self, parts: list[str]) -> StaticFile:
        key = tuple(parts)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        found = await asyncio.to_thread(self._read, parts)
        if self.cache_bytes and len(found.body) <= min(CACHEABLE_FILE_SIZE, self.cache_bytes):
            self._cache[key] = found
            self._cached_bytes += len(found.body)
            while self._cached_bytes > self.cache_bytes:
                _, evicted = self._cache.popitem(last=False)
                self._cached_bytes -= len(evicted.body)
        return found

    def _read(self, parts: list[str]) -> StaticFile:
        """In a worker thread: find the file inside the folder (links resolved) and read it."""
        try:
            folder_meant = bool(parts) and parts[-1] == ""
            target = self.root.joinpath(*(part for part in parts if part)).resolve(strict=True)
            if not target.is_relative_to(self.root):
                raise NotServed("/".join(parts))  # a symbolic link out of the folder
            if folder_meant and not target.is_dir():
                raise NotServed("/".join(parts))
            if target.is_dir():
                target = (target / "index.html").resolve(strict=True)
                if not target.is_relative_to(self.root):
                    raise NotServed("/".join(parts))
            with open(target, "rb") as file:
                status = os.fstat(file.fileno())
                if not _is_regular(status.st_mode):
                    raise NotServed("/".join(parts))
                if status.st_size > self.max_file_size:
                    logger.warning("not serving %s: %d bytes is over %d", target, status.st_size, self.max_file_size)
                    raise _TooLarge(str(target))
                body = file.read(self.max_file_size + 1)
        except (OSError, RuntimeError, ValueError):  # missing, unreadable, a link loop, a name the OS refuses
            raise NotServed("/".join(parts)) from None
        if len(body) > self.max_file_size:
            raise _TooLarge(str(target))
        return StaticFile(
            body=body,
            content_type=content_type(target.name),
            etag=f'"{status.st_size:x}-{status.st_mtime_ns:x}"',
            last_modified=email.utils.formatdate(status.st_mtime, usegmt=True),
        )


class _TooLarge(Exception):
    pass


def _is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


def _not_modified(request: HttpRequest, found: StaticFile) -> bool:
    if_none_match = request.header("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or found.etag in tags
    if_modified_since = request.header("if-modified-since")
    if if_modified_since is not None:
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since)
            modified = email.utils.parsedate_to_datetime(found.last_modified)
        except (TypeError, ValueError):
            return False
        return modified <= since
    return False
