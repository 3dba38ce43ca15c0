"""Builds the Lambda deployment artifact: build/lambda/ and build/bankbot-lambda.zip.

The runtime dependencies come from the lock file, installed with pip for the
Lambda runtime's platform (CPython 3.12 on arm64, manylinux wheels only), so the
artifact never depends on what this machine happens to run. Then the project's
own packages are copied from `src/`: the domain, the adapters (with their locale
catalogues) and the entrypoints, but not the sandbox bank, the bot definition
tools, the tests or any development dependency.

The zip is deterministic: entries sorted, one fixed timestamp and one mode for
every file, so the same inputs give the same bytes and the same code hash.

boto3 and botocore go in, pinned by the lock: the runtime's own copy changes
without notice, and the handlers were tested against the locked one.

Run it as `make package`; it needs the package index, so `make test` never does.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path, PurePosixPath

from attrs import frozen

ROOT = Path(__file__).resolve().parent.parent

# What the Lambda functions run, and what they never need.
PACKAGES = ("banking_domain", "adapters", "entrypoints")
LEFT_OUT = (PurePosixPath("adapters", "sandbox"),)
JUNK_DIRS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
JUNK_SUFFIXES = frozenset({".pyc", ".pyo"})
# pip writes console scripts there, with a shebang naming this machine's python.
JUNK_TOP_LEVEL = ("bin",)
BINARY_SUFFIXES = frozenset({".so", ".pyd"})

LAMBDA_PYTHON = "3.12"
LAMBDA_PLATFORM = "manylinux2014_aarch64"

# The earliest time a zip entry can hold; every entry gets it.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
UNIX = 3

# Lambda's limits: a zip uploaded directly, and a function unpacked.
ZIP_LIMIT = 50 * 2**20
UNZIPPED_LIMIT = 250 * 2**20

Installer = Callable[[Path, Path], None]


class PackagingError(Exception):
    """The artifact cannot be built as asked."""


@frozen
class Artifact:
    directory: Path
    zip_path: Path
    unzipped_bytes: int
    zipped_bytes: int
    binary_extensions: tuple[PurePosixPath, ...]
    largest: tuple[tuple[str, int], ...]


# ------------------------------------------------------------------ selection


def select_sources(src: Path) -> list[tuple[Path, PurePosixPath]]:
    """The project files that go into the artifact, with their archive paths."""
    selection = []
    for package in PACKAGES:
        if not (src / package / "__init__.py").is_file():
            raise PackagingError(f"{package} is not a package under src")
        for path in sorted((src / package).rglob("*")):
            relative = PurePosixPath(path.relative_to(src).as_posix())
            if path.is_file() and _wanted(relative):
                selection.append((path, relative))
    return selection


def _wanted(relative: PurePosixPath) -> bool:
    if any(part in JUNK_DIRS for part in relative.parts):
        return False
    if relative.suffix in JUNK_SUFFIXES:
        return False
    return not any(relative.is_relative_to(left) for left in LEFT_OUT)


def module_names(selection: Iterable[tuple[Path, PurePosixPath]]) -> list[str]:
    """The dotted names of the Python modules in a selection."""
    names = []
    for _, relative in selection:
        if relative.suffix == ".py":
            parts = relative.with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(names)


def copy_sources(selection: Iterable[tuple[Path, PurePosixPath]], target: Path) -> None:
    for source, relative in selection:
        destination = target.joinpath(*relative.parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)


# ------------------------------------------------------------------ dependencies


def pip_command(
    lock: Path,
    target: Path,
    *,
    python_version: str = LAMBDA_PYTHON,
    platform: str = LAMBDA_PLATFORM,
) -> list[str]:
    """pip installing the locked dependencies for the Lambda runtime's platform.

    No `--no-deps`: pip still resolves, so a lock missing a dependency for this
    platform or Python version fails instead of shipping an incomplete package.
    """
    abi = "cp" + python_version.replace(".", "")
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--require-hashes",
        "--only-binary=:all:",
        "--platform",
        platform,
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--abi",
        abi,
        "--no-compile",
        "--no-input",
        "--quiet",
        "--target",
        str(target),
        "--requirement",
        str(lock),
    ]


def pip_installer(
    python_version: str = LAMBDA_PYTHON, platform: str = LAMBDA_PLATFORM
) -> Installer:
    def install(lock: Path, target: Path) -> None:
        command = pip_command(
            lock, target, python_version=python_version, platform=platform
        )
        subprocess.run(command, check=True)  # noqa: S603 - our own arguments

    return install


def prune(root: Path) -> None:
    """Removes caches, bytecode and console scripts from an installed tree."""
    for name in JUNK_TOP_LEVEL:
        shutil.rmtree(root / name, ignore_errors=True)
    for path in sorted(root.rglob("*"), reverse=True):
        if path.is_dir() and path.name in JUNK_DIRS:
            shutil.rmtree(path)
        elif path.is_file() and path.suffix in JUNK_SUFFIXES:
            path.unlink()


def binary_extensions(root: Path) -> tuple[PurePosixPath, ...]:
    """Compiled modules in a tree: if any, it only runs on the target platform."""
    return tuple(
        PurePosixPath(path.relative_to(root).as_posix())
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.suffix in BINARY_SUFFIXES
    )


# ------------------------------------------------------------------ the zip


def archive_entries(root: Path) -> list[PurePosixPath]:
    """Every file under `root`, as sorted archive paths; directories are implied."""
    entries = []
    for path in root.rglob("*"):
        if path.is_symlink():
            raise PackagingError(f"{path.relative_to(root)} is a symbolic link")
        if path.is_file():
            entries.append(PurePosixPath(path.relative_to(root).as_posix()))
    return sorted(entries)


def write_zip(root: Path, zip_path: Path) -> None:
    """Zips `root` so that the same files always give the same bytes."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w") as archive:
        for entry in archive_entries(root):
            info = zipfile.ZipInfo(str(entry), date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = UNIX
            info.external_attr = (0o100000 | FILE_MODE) << 16
            data = root.joinpath(*entry.parts).read_bytes()
            archive.writestr(info, data, compresslevel=9)


# ------------------------------------------------------------------ sizes


def tree_size(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def largest_entries(root: Path, count: int = 5) -> tuple[tuple[str, int], ...]:
    """The biggest top-level packages of a tree, metadata folded into nothing."""
    sizes = []
    for path in root.iterdir():
        if path.name.endswith(".dist-info"):
            continue
        size = tree_size(path) if path.is_dir() else path.stat().st_size
        sizes.append((path.name, size))
    sizes.sort(key=lambda item: (-item[1], item[0]))
    return tuple(sizes[:count])


def format_size(size: int) -> str:
    if size < 2**20:
        return f"{size / 2**10:.1f} KiB"
    return f"{size / 2**20:.1f} MiB"


def size_report(artifact: Artifact, base: Path) -> str:
    """What was built and how big it is, against Lambda's limits."""
    zipped = format_size(artifact.zipped_bytes)
    unzipped = format_size(artifact.unzipped_bytes)
    lines = [
        f"{_shown(artifact.zip_path, base)}: {zipped} zipped "
        f"(Lambda: at most {format_size(ZIP_LIMIT)} uploaded directly)",
        f"{_shown(artifact.directory, base)}: {unzipped} unzipped "
        f"(Lambda: at most {format_size(UNZIPPED_LIMIT)})",
        "largest: "
        + ", ".join(f"{name} {format_size(size)}" for name, size in artifact.largest),
    ]
    if artifact.binary_extensions:
        lines.append(f"compiled modules: {len(artifact.binary_extensions)}")
    else:
        lines.append("compiled modules: none (every wheel is pure Python)")
    if artifact.zipped_bytes > ZIP_LIMIT or artifact.unzipped_bytes > UNZIPPED_LIMIT:
        lines.append("WARNING: over a Lambda limit")
    return "\n".join(lines)


def _shown(path: Path, base: Path) -> str:
    return str(path.relative_to(base)) if path.is_relative_to(base) else path.name


# ------------------------------------------------------------------ checks


def import_check(root: Path, modules: Sequence[str]) -> str | None:
    """Imports `modules` from `root` alone in a fresh interpreter; the error if any.

    `-I -S` keep this project's environment out: only the standard library and
    `root` are on the path. Meaningful only for a tree without compiled modules,
    since those are built for the Lambda platform, not this one.
    """
    code = (
        "import importlib, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "for name in sys.argv[2:]:\n"
        "    importlib.import_module(name)\n"
    )
    result = subprocess.run(  # noqa: S603 - our own arguments
        [sys.executable, "-I", "-S", "-c", code, str(root), *modules],
        capture_output=True,
        text=True,
        check=False,
        cwd=root,
    )
    if result.returncode == 0:
        return None
    lines = result.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit status {result.returncode}"


# ------------------------------------------------------------------ the build


def build(src: Path, lock: Path, build_dir: Path, install: Installer) -> Artifact:
    """Installs the locked dependencies, adds the project, zips the lot."""
    selection = select_sources(src)
    directory = build_dir / "lambda"
    zip_path = build_dir / "bankbot-lambda.zip"
    shutil.rmtree(directory, ignore_errors=True)
    zip_path.unlink(missing_ok=True)
    directory.mkdir(parents=True)

    install(lock, directory)
    prune(directory)
    clashes = [name for name in PACKAGES if (directory / name).exists()]
    if clashes:
        raise PackagingError(f"a dependency installs {', '.join(clashes)}")
    copy_sources(selection, directory)
    write_zip(directory, zip_path)

    return Artifact(
        directory=directory,
        zip_path=zip_path,
        unzipped_bytes=tree_size(directory),
        zipped_bytes=zip_path.stat().st_size,
        binary_extensions=binary_extensions(directory),
        largest=largest_entries(directory),
    )


def main(argv: Sequence[str] | None = None, install: Installer | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=ROOT / "src")
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build")
    parser.add_argument("--python-version", default=LAMBDA_PYTHON)
    parser.add_argument("--platform", default=LAMBDA_PLATFORM)
    args = parser.parse_args(argv)
    installer = install or pip_installer(args.python_version, args.platform)

    started = time.monotonic()
    try:
        artifact = build(args.src, args.lock, args.build_dir, installer)
    except (PackagingError, subprocess.CalledProcessError) as error:
        print(f"package: {error}", file=sys.stderr)
        return 1
    print(size_report(artifact, Path.cwd()))

    if artifact.binary_extensions:
        print("import check skipped: compiled modules are for the Lambda platform")
    else:
        modules = module_names(select_sources(args.src))
        failure = import_check(artifact.directory, modules)
        if failure:
            print(f"import check failed: {failure}", file=sys.stderr)
            return 1
        print(f"import check: {len(modules)} modules import from the package alone")
    print(f"built in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
