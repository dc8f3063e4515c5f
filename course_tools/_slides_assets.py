"""Local copies of the JavaScript the decks need, fetched once from the package registries.

A deck must work with no network at view time, so reveal.js, require.js, jQuery, MathJax and the
widget renderer are copied next to the decks. They come from pinned registry packages (checked
against a SHA-256), are unpacked into a cache folder (``build/slide-assets/`` by default) and
copied from there on every later build, which is then fast and offline.

============================  ==========================================  =========
what                          where it comes from                         registry
============================  ==========================================  =========
reveal.js 5.2 (+ notes)       ``sphinx-revealjs`` wheel                   PyPI
require.js 2.3, jQuery 3.7    ``nbclassic`` wheel (``static/components``) PyPI
MathJax 2.7.9 (STIX-Web)      ``jupyter-server-mathjax`` wheel            PyPI
widget renderer               ``@jupyter-widgets/html-manager`` tarball   npm
============================  ==========================================  =========

The widget renderer (``embed-amd.js``) is on no PyPI package, so it is the one asset that needs
``npm`` (``npm pack``; Node.js is not needed for anything else). PyPI wheels are fetched with
``python -m pip download``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath


class AssetError(RuntimeError):
    """An asset could not be fetched or unpacked; the message says what to do."""


@dataclass(frozen=True)
class Asset:
    name: str  #: folder under the cache and under ``<out>/_assets``
    registry: str  #: ``"pypi"`` or ``"npm"``
    package: str
    version: str
    sha256: str  #: of the wheel / tarball as the registry serves it
    members: tuple[tuple[str, str], ...]  #: (path or folder/ inside the archive, destination)
    exclude: tuple[str, ...] = field(default=())  #: glob patterns (destination paths) to skip

    @property
    def spec(self) -> str:
        return f"{self.package}=={self.version}" if self.registry == "pypi" else f"{self.package}@{self.version}"

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"


ASSETS: tuple[Asset, ...] = (
    Asset(
        name="reveal.js",
        registry="pypi",
        package="sphinx-revealjs",
        version="3.2.1",
        sha256="805bed3ca459346e0f01967d5ed1c40d6b7b917de1541e1e4566c8341fe7017b",
        members=(
            ("sphinx_revealjs/_static/revealjs/LICENSE", "LICENSE"),
            ("sphinx_revealjs/_static/revealjs/dist/", "dist/"),
            ("sphinx_revealjs/_static/revealjs/plugin/notes/", "plugin/notes/"),
        ),
        exclude=("*.map", "dist/reveal.esm.js", "plugin/notes/notes.esm.js"),
    ),
    Asset(
        name="components",
        registry="pypi",
        package="nbclassic",
        version="1.3.3",
        sha256="dcee5149aa6aa01846c7458d6394b29b325213b5e118ee14c80d689122e0e4f2",
        members=(
            ("nbclassic/static/components/requirejs/require.js", "require.js"),
            ("nbclassic/static/components/jquery/jquery.min.js", "jquery.min.js"),
        ),
    ),
    Asset(
        name="mathjax",
        registry="pypi",
        package="jupyter-server-mathjax",
        version="0.2.6",
        sha256="416389dde2010df46d5fbbb7adb087a5607111070af65a1445391040f2babb5e",
        members=(("jupyter_server_mathjax/static/", ""),),
        exclude=("jax/output/SVG/*",),  # the bundled config renders with HTML-CSS + STIX-Web
    ),
    Asset(
        name="html-manager",
        registry="npm",
        package="@jupyter-widgets/html-manager",
        version="1.0.15",
        sha256="2b9d65cb7913e1c7d671757a10008b32c9c2448d4429513371e55c07d6107638",
        members=(("package/LICENSE", "LICENSE"), ("package/dist/", "")),
        exclude=("*.map", "embed.js", "libembed-amd.js", "*.LICENSE.txt"),
    ),
)

#: URLs (relative to a deck) handed to nbconvert; ``_assets`` is copied next to the decks.
ASSETS_DIRNAME = "_assets"
URLS = {
    "reveal_url_prefix": f"{ASSETS_DIRNAME}/reveal.js",
    "require_js_url": f"{ASSETS_DIRNAME}/components/require.js",
    "jquery_url": f"{ASSETS_DIRNAME}/components/jquery.min.js",
    "mathjax_url": f"{ASSETS_DIRNAME}/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe",
    "widget_renderer_url": f"{ASSETS_DIRNAME}/html-manager/embed-amd.js",
}

_MARKER = ".complete.json"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _run(cmd: list[str], cwd: Path, what: str, hint: str) -> None:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    except FileNotFoundError as exc:
        raise AssetError(f"{what}: {cmd[0]!r} not found. {hint}") from exc
    except subprocess.TimeoutExpired as exc:
        raise AssetError(f"{what}: timed out after 600 s ({' '.join(cmd)}). {hint}") from exc
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise AssetError(f"{what} failed ({' '.join(cmd)}):\n{tail}\n{hint}")


def _download(asset: Asset, dest: Path) -> Path:
    """Fetch the asset's archive into ``dest`` with the registry's own client; return its path."""
    if asset.registry == "pypi":
        _run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
              "--disable-pip-version-check", "--quiet", "--dest", str(dest), asset.spec],
             cwd=dest, what=f"pip download {asset.spec}",
             hint="The first slides build needs PyPI; later builds use the cache.")
        found = sorted(dest.glob("*.whl"))
    elif asset.registry == "npm":
        npm = shutil.which("npm")
        if npm is None:
            raise AssetError(
                f"{asset.spec} (the widget renderer) is only on the npm registry and `npm` is not "
                "installed. Install Node.js with npm (Debian/Ubuntu: `apt-get install npm`; "
                "or https://nodejs.org), or build on a machine that has it and copy "
                "build/slide-assets/ here.")
        _run([npm, "pack", "--silent", asset.spec], cwd=dest, what=f"npm pack {asset.spec}",
             hint="The first slides build needs the npm registry; later builds use the cache.")
        found = sorted(dest.glob("*.tgz"))
    else:  # pragma: no cover - a programming error in ASSETS
        raise AssetError(f"unknown registry {asset.registry!r}")
    if len(found) != 1:
        raise AssetError(f"{asset.spec}: expected one archive in {dest}, found {[p.name for p in found]}")
    digest = _sha256(found[0])
    if digest != asset.sha256:
        raise AssetError(f"{found[0].name}: SHA-256 {digest} does not match the pinned {asset.sha256}")
    return found[0]


def _archive_entries(archive: Path):
    """Yield (posix name, read()) for every regular file of a wheel or an npm tarball."""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    yield info.filename, (lambda info=info: zf.read(info))
    else:
        with tarfile.open(archive, "r:gz") as tf:
            for member in tf.getmembers():
                if member.isfile():
                    yield member.name, (lambda member=member: tf.extractfile(member).read())


def _destination(asset: Asset, name: str) -> str | None:
    for src, dst in asset.members:
        if src.endswith("/"):
            if name.startswith(src):
                rel = dst + name[len(src):]
                break
        elif name == src:
            rel = dst
            break
    else:
        return None
    if any(fnmatch.fnmatch(rel, pat) for pat in asset.exclude):
        return None
    parts = PurePosixPath(rel).parts
    if not rel or rel.startswith("/") or ".." in parts:
        raise AssetError(f"{asset.spec}: refusing unsafe path {name!r} in the archive")
    return rel


def _unpack(asset: Asset, archive: Path, target: Path) -> int:
    count = 0
    for name, read in _archive_entries(archive):
        rel = _destination(asset, name)
        if rel is None:
            continue
        out = target.joinpath(*PurePosixPath(rel).parts)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(read())
        count += 1
    if count == 0:
        raise AssetError(f"{asset.spec}: none of {[m for m, _ in asset.members]} found in {archive.name}")
    return count


def cached(asset: Asset, cache_dir: Path) -> Path | None:
    """The asset's unpacked folder in the cache, or None if it is not (completely) there."""
    folder = cache_dir / asset.key
    marker = folder / _MARKER
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return folder if info.get("sha256") == asset.sha256 else None


def ensure_assets(cache_dir: Path, log=print) -> dict[str, Path]:
    """Make sure every asset is unpacked under ``cache_dir``; return {name: folder}."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    folders: dict[str, Path] = {}
    for asset in ASSETS:
        folder = cached(asset, cache_dir)
        if folder is None:
            log(f"  fetching {asset.spec} from {'PyPI' if asset.registry == 'pypi' else 'npm'} ...")
            folder = cache_dir / asset.key
            with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".download-") as tmp:
                archive = _download(asset, Path(tmp))
                staging = Path(tmp) / "unpacked"
                n = _unpack(asset, archive, staging)
                info = {"package": asset.package, "version": asset.version,
                        "registry": asset.registry, "sha256": asset.sha256, "files": n}
                (staging / _MARKER).write_text(json.dumps(info, indent=1), encoding="utf-8")
                if folder.exists() and cached(asset, cache_dir) is None:
                    shutil.rmtree(folder)  # a broken earlier attempt
                try:
                    os.replace(staging, folder)
                except OSError:
                    if cached(asset, cache_dir) is None:  # not a concurrent build that won
                        raise
        folders[asset.name] = folder
    return folders


def _same_file(a: Path, b: Path) -> bool:
    try:
        sa, sb = a.stat(), b.stat()
    except OSError:
        return False
    return sa.st_size == sb.st_size and int(sa.st_mtime) == int(sb.st_mtime)


def sync_tree(src: Path, dst: Path) -> int:
    """Copy ``src`` into ``dst`` (files whose size and mtime differ; none deleted); return #copied."""
    copied = 0
    for path in src.rglob("*"):
        if path.is_dir() or path.name == _MARKER:
            continue
        out = dst / path.relative_to(src)
        if _same_file(path, out):
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, out)
        copied += 1
    return copied


def korean_font_files() -> list[Path]:
    """The Hangul font shipped inside lstmlib (NanumGothic-based, SIL OFL) and its licence files.

    Decks use a locally installed NanumGothic first and fall back to this copy, so Hangul renders
    on a machine with no Korean font.
    """
    import importlib.util

    spec = importlib.util.find_spec("lstmlib")
    if spec is None or not spec.submodule_search_locations:
        return []
    fonts = Path(list(spec.submodule_search_locations)[0]) / "fonts"
    ttf = sorted(fonts.glob("*.ttf"))[:1]
    extra = [p for p in (fonts / "OFL.txt", fonts / "README.md") if p.is_file()]
    return ttf + extra if ttf else []


def install_assets(cache_dir: Path, out_dir: Path, log=print) -> tuple[Path, str | None]:
    """Fetch (if needed) and copy every asset into ``out_dir/_assets``.

    Returns that folder and the deck-relative URL of the Hangul fallback font (None if lstmlib
    ships none).
    """
    folders = ensure_assets(cache_dir, log=log)
    target = out_dir / ASSETS_DIRNAME
    for name, folder in folders.items():
        sync_tree(folder, target / name)
    fonts = target / "fonts"
    font_url = None
    for font in korean_font_files():
        if not _same_file(font, fonts / font.name):
            fonts.mkdir(parents=True, exist_ok=True)
            shutil.copy2(font, fonts / font.name)
        if font.suffix == ".ttf":
            font_url = f"{ASSETS_DIRNAME}/fonts/{font.name}"
    return target, font_url
