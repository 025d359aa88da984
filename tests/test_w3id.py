"""The w3id.org rules (`carnk-ld w3id`) in a real Apache httpd: one port plays w3id.org with the rules as
carnk/.htaccess, another the host of the release's site (the target), serving the fixture site.

Apache runs from its own configuration in a temporary folder on 127.0.0.1, as an unprivileged user
(``nobody`` when the tests run as root). Without Debian's apache2 the tests are skipped: `.ci/run`
installs it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from servers import free_port
from webfixture import ACCEPTS, ARM, DESCRIBED, SEGMENT, TYPES, body, write_release

APACHE = shutil.which("apache2") or shutil.which("apache2", path="/usr/sbin")
MODULES = Path("/usr/lib/apache2/modules")
pytestmark = pytest.mark.skipif(
    APACHE is None or not (MODULES / "mod_rewrite.so").is_file(),
    reason="Apache httpd with mod_rewrite is not installed (Debian: apt-get install -y apache2; .ci/run does)",
)
NOBODY = 65534


@dataclass(frozen=True)
class Apache:
    w3id: str  # what https://w3id.org is here
    target: str  # the base URL the rules redirect to


def _config(folder: Path, w3id_port: int, target_port: int) -> str:
    modules = ["mpm_event", "authz_core", "rewrite", "headers", "mime", "dir"]
    loads = "\n".join(f"LoadModule {name}_module {MODULES}/mod_{name}.so" for name in modules)
    return f"""ServerRoot "{folder}"
ServerName 127.0.0.1
PidFile {folder}/logs/httpd.pid
DefaultRuntimeDir {folder}/logs
ErrorLog {folder}/logs/error.log
LogLevel warn
{loads}
TypesConfig /dev/null
Timeout 20
Listen 127.0.0.1:{w3id_port}
Listen 127.0.0.1:{target_port}
<VirtualHost 127.0.0.1:{w3id_port}>
DocumentRoot {folder}/w3id
<Directory {folder}/w3id>
AllowOverride All
Options FollowSymLinks
Require all granted
</Directory>
</VirtualHost>
<VirtualHost 127.0.0.1:{target_port}>
DocumentRoot {folder}/release/site
<Directory {folder}/release/site>
AllowOverride None
Require all granted
</Directory>
DirectoryIndex index.html
AddType text/html .html
AddCharset utf-8 .html
AddType text/turtle .ttl
AddType application/ld+json .jsonld
AddType application/n-triples .nt
AddType application/rdf+xml .rdf
</VirtualHost>
"""


@pytest.fixture(scope="module")
def apache(cli_module: object) -> Iterator[Apache]:
    # Not pytest's tmp_path: its folders are private to the user running the tests, and an Apache
    # started by root runs as nobody, who must read the files.
    folder = Path(tempfile.mkdtemp(prefix="carnk-apache-"))
    try:
        folder.chmod(0o755)
        (folder / "release").mkdir()
        write_release(folder / "release")
        w3id_port, target_port = free_port(), free_port()
        target = f"http://127.0.0.1:{target_port}/"
        result = cli_module("w3id", "--target", target)
        assert result.exit_code == 0, result.output
        (folder / "w3id" / "carnk").mkdir(parents=True)
        (folder / "w3id" / "carnk" / ".htaccess").write_text(result.output)
        (folder / "logs").mkdir()
        (folder / "httpd.conf").write_text(_config(folder, w3id_port, target_port))
        for path in folder.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        command = [str(APACHE), "-f", str(folder / "httpd.conf"), "-DFOREGROUND"]
        if os.geteuid() == 0:
            os.chown(folder / "logs", NOBODY, NOBODY)
            command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            _wait_for(f"http://127.0.0.1:{target_port}/", process, folder)
            yield Apache(w3id=f"http://127.0.0.1:{w3id_port}", target=target)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for(url: str, process: subprocess.Popen, folder: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = folder / "logs" / "error.log"
            raise RuntimeError(f"apache2 ended: {process.stdout.read() if process.stdout else ''} "
                               f"{log.read_text() if log.is_file() else ''}")  # fmt: skip
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"apache2 did not answer {url} within 30 s")


@pytest.fixture(scope="module")
def cli_module():
    from click.testing import CliRunner

    from carnk_ld.cli import main

    return lambda *args: CliRunner().invoke(main, list(args), catch_exceptions=False)


def get(url: str, accept: str | None, follow: bool) -> httpx.Response:
    headers = {"Accept": accept} if accept is not None else {}
    return httpx.get(url, headers=headers, follow_redirects=follow, timeout=30)


@pytest.mark.parametrize("kind", ["ontology", "term", "statement", "document"])
@pytest.mark.parametrize(("accept", "ext"), ACCEPTS)
def test_each_accept_type_redirects_to_its_file(apache: Apache, kind: str, accept: str | None, ext: str) -> None:
    path = DESCRIBED[kind]
    answer = get(f"{apache.w3id}/carnk/{path}", accept, follow=False)
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"{apache.target}{path}.{ext}"
    assert "accept" in answer.headers["Vary"].lower()
    followed = get(f"{apache.w3id}/carnk/{path}", accept, follow=True)
    assert followed.status_code == 200
    assert followed.headers["Content-Type"] == TYPES[ext]
    assert followed.content == body(path, ext)


@pytest.mark.parametrize("ext", sorted(TYPES))
def test_a_url_with_an_extension_redirects_to_that_file(apache: Apache, ext: str) -> None:
    path = DESCRIBED["statement"]
    answer = get(f"{apache.w3id}/carnk/{path}.{ext}", "application/rdf+xml", follow=False)
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"{apache.target}{path}.{ext}"
    followed = get(f"{apache.w3id}/carnk/{path}.{ext}", "application/rdf+xml", follow=True)
    assert followed.status_code == 200 and followed.headers["Content-Type"] == TYPES[ext]
    assert followed.content == body(path, ext)


OWNED = [
    (SEGMENT, "kg/doc/d1", "segment-3"),
    (ARM, "kg/study/d1/t1", "arm-high-dose"),
    ("kg/fact/d1/s1/evidence", "kg/fact/d1/s1", "evidence"),
]


@pytest.mark.parametrize(("path", "owner", "fragment"), OWNED)
def test_an_owned_iri_goes_to_its_owners_page_fragment_or_file(
    apache: Apache, path: str, owner: str, fragment: str
) -> None:
    page = get(f"{apache.w3id}/carnk/{path}", "text/html", follow=False)
    assert page.status_code == 303
    assert page.headers["Location"] == f"{apache.target}{owner}.html#{fragment}"
    followed = get(f"{apache.w3id}/carnk/{path}", "text/html", follow=True)
    assert followed.status_code == 200 and followed.content == body(owner, "html")
    turtle = get(f"{apache.w3id}/carnk/{path}", "text/turtle", follow=True)
    assert turtle.status_code == 200 and turtle.headers["Content-Type"] == "text/turtle"
    assert turtle.content == body(owner, "ttl")


def test_a_release_file_goes_to_that_file_under_the_target(apache: Apache) -> None:
    for accept in (None, "text/turtle"):
        answer = get(f"{apache.w3id}/carnk/releases/9.9.9/ontology.owl", accept, follow=False)
        assert answer.status_code == 302
        assert answer.headers["Location"] == f"{apache.target}releases/9.9.9/ontology.owl"


def test_the_namespace_goes_to_the_home_page(apache: Apache) -> None:
    answer = get(f"{apache.w3id}/carnk/", None, follow=False)
    assert answer.status_code == 303 and answer.headers["Location"] == apache.target
    home = get(f"{apache.w3id}/carnk/", None, follow=True)
    assert home.status_code == 200 and b"<title>home</title>" in home.content


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("ftp://example.org/carnk/", "not an http or https URL"),
        ("example.org/carnk/", "not an http or https URL"),
        ("https://example.org/carnk", "does not end in /"),
        ("https://example.org/carnk/?x=1", "characters a redirect rule cannot hold"),
        ("https://example.org/car nk/", "characters a redirect rule cannot hold"),
        ("https://example.org/%24carnk/", "characters a redirect rule cannot hold"),
    ],
)
def test_a_target_the_rules_cannot_redirect_to_is_refused(cli, target: str, message: str) -> None:
    result = cli("w3id", "--target", target)
    assert result.exit_code == 2
    assert result.output.startswith("--target: error:") and message in result.output
    assert "RewriteRule" not in result.output
