"""Serving a user's HMI folder: content types, caching, and nothing outside the folder, ever."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.console import header, request

from xentara_ws.console.static import StaticFolder


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "www"
    (root / "js").mkdir(parents=True)
    (root / "index.html").write_text("<h1>HMI</h1>")
    (root / "js" / "app.js").write_text("console.log(1)")
    (root / "style.css").write_text("body{}")
    (root / "client.wasm").write_bytes(b"\0asm")
    (root / "data.json").write_text("{}")
    (root / "logo.svg").write_text("<svg/>")
    (root / "blob.unknownext").write_bytes(b"x")
    (root / "plain").mkdir()
    (root / "plain" / "readme.txt").write_text("hello")
    (root / "dir with space").mkdir()
    (root / "dir with space" / "a b.txt").write_text("spaced")
    (root / ".env").write_text("SECRET=1")
    (tmp_path / "secret.txt").write_text("outside")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "index.html").write_text("outside index")
    return root


async def get(folder: StaticFolder, target: str, **kwargs: object) -> tuple[int, bytes, object]:
    response = await folder.respond(request("GET", target, **kwargs))  # type: ignore[arg-type]
    return response.status, response.body, response


@pytest.mark.parametrize(
    ("target", "expected_type", "body"),
    [
        ("/", "text/html; charset=utf-8", b"<h1>HMI</h1>"),
        ("/index.html", "text/html; charset=utf-8", b"<h1>HMI</h1>"),
        ("/js/app.js", "text/javascript; charset=utf-8", b"console.log(1)"),
        ("/style.css", "text/css; charset=utf-8", b"body{}"),
        ("/client.wasm", "application/wasm", b"\0asm"),
        ("/data.json", "application/json", b"{}"),
        ("/logo.svg", "image/svg+xml", b"<svg/>"),
        ("/blob.unknownext", "application/octet-stream", b"x"),
        ("/dir%20with%20space/a%20b.txt", "text/plain; charset=utf-8", b"spaced"),
        ("/js/app.js?v=3", "text/javascript; charset=utf-8", b"console.log(1)"),
    ],
)
async def test_files_are_served_with_their_content_type(
    site: Path, target: str, expected_type: str, body: bytes
) -> None:
    status, content, response = await get(StaticFolder(site), target.split("?")[0])
    assert status == 200
    assert content == body
    assert header(response, "content-type") == expected_type  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%252e%252e/secret.txt",
        "/%2E%2E/secret.txt",
        "/%2e%2e%2fsecret.txt",
        "/js/%2e%2e/%2e%2e/secret.txt",
        "/js/..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/%2e%2e%5csecret.txt",
        "/index.html%00.txt",
        "/%ff%fe",
        "/.env",
        "/%2eenv",
        "/js/./app.js",
        "/missing.html",
        "/js/app.js/",
    ],
)
async def test_nothing_outside_the_folder_or_hidden_is_served(site: Path, target: str) -> None:
    status, body, _ = await get(StaticFolder(site), target)
    assert status == 404
    assert b"outside" not in body and b"SECRET" not in body


async def test_a_symbolic_link_out_of_the_folder_is_not_followed(site: Path) -> None:
    os.symlink(site.parent / "secret.txt", site / "link.txt")
    os.symlink(site.parent / "outside", site / "linked-dir")
    folder = StaticFolder(site)
    assert (await get(folder, "/link.txt"))[0] == 404
    assert (await get(folder, "/linked-dir/"))[0] == 404
    assert (await get(folder, "/linked-dir/index.html"))[0] == 404


async def test_a_symbolic_link_inside_the_folder_is_followed(site: Path) -> None:
    os.symlink(site / "js" / "app.js", site / "alias.js")
    status, body, _ = await get(StaticFolder(site), "/alias.js")
    assert (status, body) == (200, b"console.log(1)")


async def test_a_folder_whose_index_links_outside_is_not_served(site: Path) -> None:
    (site / "sneaky").mkdir()
    os.symlink(site.parent / "outside" / "index.html", site / "sneaky" / "index.html")
    assert (await get(StaticFolder(site), "/sneaky/"))[0] == 404


async def test_a_folder_without_index_is_not_listed(site: Path) -> None:
    status, body, _ = await get(StaticFolder(site), "/plain/")
    assert status == 404
    assert b"readme" not in body


async def test_the_folder_can_be_mounted_under_a_prefix(site: Path) -> None:
    folder = StaticFolder(site, "/hmi/")
    assert (await get(folder, "/hmi/js/app.js"))[0] == 200
    assert (await get(folder, "/js/app.js"))[0] == 404


async def test_an_unchanged_file_is_answered_304_by_etag_and_by_date(site: Path) -> None:
    folder = StaticFolder(site)
    _, _, first = await get(folder, "/style.css")
    etag = header(first, "etag")  # type: ignore[arg-type]
    modified = header(first, "last-modified")  # type: ignore[arg-type]
    assert etag and modified
    assert header(first, "cache-control") == "no-cache"  # type: ignore[arg-type]
    status, body, _ = await get(folder, "/style.css", headers={"if-none-match": etag})
    assert (status, body) == (304, b"")
    status, _, _ = await get(folder, "/style.css", headers={"if-none-match": f'"other", W/{etag}'})
    assert status == 304
    status, _, _ = await get(folder, "/style.css", headers={"if-modified-since": modified})
    assert status == 304


async def test_a_changed_file_gets_a_new_etag_and_is_sent_again(site: Path) -> None:
    folder = StaticFolder(site)
    _, _, first = await get(folder, "/style.css")
    etag = header(first, "etag")  # type: ignore[arg-type]
    (site / "style.css").write_text("body{color:red}")
    os.utime(site / "style.css", ns=(1, 2_000_000_000_000_000_000))
    status, body, second = await get(folder, "/style.css", headers={"if-none-match": etag or ""})
    assert (status, body) == (200, b"body{color:red}")
    assert header(second, "etag") != etag  # type: ignore[arg-type]


async def test_head_answers_headers_only_and_other_methods_are_refused(site: Path) -> None:
    folder = StaticFolder(site)
    head = await folder.respond(request("HEAD", "/style.css"))
    assert head.status == 200 and header(head, "etag")  # the edge leaves the body of a HEAD answer out
    post = await folder.respond(request("POST", "/style.css"))
    assert post.status == 405 and header(post, "allow") == "GET, HEAD"


async def test_files_over_the_size_limit_are_refused(site: Path) -> None:
    (site / "big.bin").write_bytes(b"x" * 2000)
    status, body, _ = await get(StaticFolder(site, max_file_size=1000), "/big.bin")
    assert status == 500 and b"too large" in body


async def test_the_cache_is_bounded_and_serves_remembered_files(site: Path) -> None:
    folder = StaticFolder(site, cache_bytes=20)
    assert (await get(folder, "/js/app.js"))[1] == b"console.log(1)"
    (site / "js" / "app.js").write_text("changed on disk")
    assert (await get(folder, "/js/app.js"))[1] == b"console.log(1)"  # remembered
    await get(folder, "/style.css")  # 14 + 6 bytes fit; one more pushes the oldest out
    await get(folder, "/data.json")
    assert (await get(folder, "/js/app.js"))[1] == b"changed on disk"


def test_a_missing_folder_is_an_error_at_start(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        StaticFolder(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        StaticFolder(tmp_path / "file")
