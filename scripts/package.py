"""Builds the Lambda deployment artifact: build/lambda/ and build/bankbot-lambda.zip.

The runtime dependencies come from the lock file, installed with pip for the
Lambda runtime's platform (CPython 3.12 on arm64, manylinux wheels only), so the
artifact never depends on what this machine happens to run. Then the project's
own packages are copied from `src/`: the domain, the adapters (with their locale
catalogues) and the entrypoints, but not the sandbox bank, the bot definition
tools, the tests or any development dependency.

Every module is then compiled to bytecode by a CPython of the runtime's minor
version (bytecode is per minor version), found by `--python`, else the
environment variable LAMBDA_PYTHON_EXECUTABLE, else `python3.12` on PATH: the
function's directory is read-only, so without bytecode every cold start compiles
every module it imports, every time. The bytecode is unchecked-hash (PEP 552),
used without looking at the source, whose zip timestamp would never match; and
it names its source as under /var/task, never as on this machine. Without that
interpreter the package is built without bytecode and a WARNING says so;
`--require-bytecode` makes that an error.

The zip is deterministic: entries sorted, one fixed timestamp and one mode for
every file, so the same inputs give the same bytes and the same code hash. The
bytecode holds a hash of its source, not a time, so it keeps that promise.

botocore goes in, pinned by the lock, for its SigV4 signer and credentials: the
runtime's own copy changes without notice, and the handlers were tested against
the locked one. boto3 does not: the functions never import it.

Run it as `make package`; it needs the package index, so `make test` never does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
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
# Where Lambda unpacks the function: the file name the bytecode records.
LAMBDA_TASK_ROOT = "/var/task"
PYTHON_VARIABLE = "LAMBDA_PYTHON_EXECUTABLE"
# What a candidate interpreter says about itself: "cpython 3.12".
PROBE = "import sys; print(sys.implementation.name, '%d.%d' % sys.version_info[:2])"

# The earliest time a zip entry can hold; every entry gets it.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
UNIX = 3

# Lambda's limits: a zip uploaded directly, and a function unpacked.
ZIP_LIMIT = 50 * 2**20
UNZIPPED_LIMIT = 250 * 2**20

Installer = Callable[[Path, Path], None]
Compiler = Callable[[Path], None]


class PackagingError(Exception):
    """The artifact cannot be built as asked."""


@frozen
class Artifact:
    directory: Path
    zip_path: Path
    unzipped_bytes: int
    zipped_bytes: int
    files: int
    bytecode_files: int
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


# ------------------------------------------------------------------ bytecode


def python_version(executable: str, environ: Mapping[str, str]) -> str | None:
    """What an interpreter says it is ("cpython 3.12"), or None if it cannot say."""
    try:
        result = subprocess.run(  # noqa: S603 - our own arguments
            [executable, "-I", "-c", PROBE],
            capture_output=True,
            text=True,
            check=False,
            env=dict(environ),
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def find_python(
    explicit: str | None,
    environ: Mapping[str, str],
    version: str = LAMBDA_PYTHON,
) -> str | None:
    """The CPython `version` that compiles the bytecode, or None if there is none.

    One named by `--python` or LAMBDA_PYTHON_EXECUTABLE must be that version, or
    the build stops. `python3.12` on PATH is only a guess: it is skipped when it
    is another version or does not run (a pyenv shim without that version).
    """
    wanted = f"cpython {version}"
    named = (("--python", explicit), (PYTHON_VARIABLE, environ.get(PYTHON_VARIABLE)))
    for origin, python in named:
        if python:
            found = python_version(python, environ)
            if found != wanted:
                said = f"it says {found!r}" if found else "it does not run"
                raise PackagingError(
                    f"{origin} {python} is not CPython {version}: {said}"
                )
            return python

    candidate = shutil.which(f"python{version}", path=environ.get("PATH", ""))
    if candidate and python_version(candidate, environ) == wanted:
        return candidate
    return None


def no_bytecode_warning(version: str = LAMBDA_PYTHON) -> str:
    return (
        f"WARNING: no CPython {version} found, so the package has no bytecode and "
        "every cold start compiles the modules it imports from source; "
        + how_to_give_python(version)
    )


def how_to_give_python(version: str) -> str:
    return f"put python{version} on PATH, set {PYTHON_VARIABLE} or pass --python"


def compile_command(python: str, root: Path) -> list[str]:
    """compileall writing unchecked-hash bytecode that names files as on Lambda.

    `-I` keeps PYTHONPYCACHEPREFIX and PYTHONOPTIMIZE, which would put the
    bytecode elsewhere or under another name, out of it.
    """
    return [
        python,
        "-I",
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
        "-d",
        LAMBDA_TASK_ROOT,
        str(root),
    ]


def bytecode_compiler(python: str, version: str = LAMBDA_PYTHON) -> Compiler:
    def compile_tree(root: Path) -> None:
        result = subprocess.run(  # noqa: S603 - our own arguments
            compile_command(python, root.resolve()),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            lines = (result.stdout + result.stderr).strip().splitlines()
            raise PackagingError(f"compileall failed: {' / '.join(lines[-3:])}")
        missing = missing_bytecode(root, version)
        if missing:
            raise PackagingError(
                f"{len(missing)} modules have no CPython {version} bytecode, "
                f"the first {missing[0]}"
            )

    return compile_tree


def missing_bytecode(root: Path, version: str) -> list[PurePosixPath]:
    """Modules under `root` without the bytecode file CPython `version` looks for."""
    name = "{}.cpython-" + version.replace(".", "") + ".pyc"
    return [
        PurePosixPath(path.relative_to(root).as_posix())
        for path in sorted(root.rglob("*.py"))
        if not (path.parent / "__pycache__" / name.format(path.stem)).is_file()
    ]


def leaked_paths(root: Path) -> list[PurePosixPath]:
    """Bytecode files under `root` that record where `root` is on this machine."""
    marks = {str(root.absolute()).encode(), str(root.resolve()).encode()}
    return [
        PurePosixPath(path.relative_to(root).as_posix())
        for path in sorted(root.rglob("*.pyc"))
        if any(mark in path.read_bytes() for mark in marks)
    ]


def bytecode_files(root: Path) -> int:
    return sum(1 for path in root.rglob("*.pyc") if path.is_file())


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
        f"{_shown(artifact.directory, base)}: {unzipped} unzipped, "
        f"{artifact.files} files (Lambda: at most {format_size(UNZIPPED_LIMIT)})",
        "largest: "
        + ", ".join(f"{name} {format_size(size)}" for name, size in artifact.largest),
    ]
    if artifact.bytecode_files:
        lines.append(f"bytecode: {artifact.bytecode_files} files, unchecked-hash")
    else:
        lines.append("bytecode: none (cold starts compile every module they import)")
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


def import_check(
    root: Path, modules: Sequence[str], python: str = sys.executable
) -> str | None:
    """Imports `modules` from `root` alone in a fresh interpreter; the error if any.

    `-I -S` keep this project's environment out: only the standard library and
    `root` are on the path; `-B` keeps the interpreter from writing its own
    bytecode into the tree, which is the package. Meaningful only for a tree
    without compiled modules, since those are built for the Lambda platform.
    """
    code = (
        "import importlib, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "for name in sys.argv[2:]:\n"
        "    importlib.import_module(name)\n"
    )
    result = subprocess.run(  # noqa: S603 - our own arguments
        [python, "-I", "-S", "-B", "-c", code, str(root), *modules],
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


def build(
    src: Path,
    lock: Path,
    build_dir: Path,
    install: Installer,
    compile_tree: Compiler | None = None,
) -> Artifact:
    """Installs the locked dependencies, adds the project, compiles, zips the lot.

    Without `compile_tree` the package has no bytecode at all.
    """
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
    if compile_tree:
        compile_tree(directory)
    leaks = leaked_paths(directory)
    if leaks:
        more = f" and {len(leaks) - 1} more" if len(leaks) > 1 else ""
        raise PackagingError(f"bytecode names the build directory: {leaks[0]}{more}")
    write_zip(directory, zip_path)

    return Artifact(
        directory=directory,
        zip_path=zip_path,
        unzipped_bytes=tree_size(directory),
        zipped_bytes=zip_path.stat().st_size,
        files=len(archive_entries(directory)),
        bytecode_files=bytecode_files(directory),
        binary_extensions=binary_extensions(directory),
        largest=largest_entries(directory),
    )


def main(
    argv: Sequence[str] | None = None,
    install: Installer | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=ROOT / "src")
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build")
    parser.add_argument("--python-version", default=LAMBDA_PYTHON)
    parser.add_argument("--platform", default=LAMBDA_PLATFORM)
    parser.add_argument(
        "--python",
        help=f"the CPython that compiles the bytecode; else ${PYTHON_VARIABLE}",
    )
    parser.add_argument(
        "--require-bytecode",
        action="store_true",
        help="fail instead of building without bytecode when no such CPython is found",
    )
    args = parser.parse_args(argv)
    installer = install or pip_installer(args.python_version, args.platform)

    started = time.monotonic()
    try:
        python = find_python(
            args.python, os.environ if environ is None else environ, args.python_version
        )
        if python is None and args.require_bytecode:
            raise PackagingError(
                f"--require-bytecode, and no CPython {args.python_version} found: "
                + how_to_give_python(args.python_version)
            )
        compiler = bytecode_compiler(python, args.python_version) if python else None
        artifact = build(args.src, args.lock, args.build_dir, installer, compiler)
    except (PackagingError, subprocess.CalledProcessError) as error:
        print(f"package: {error}", file=sys.stderr)
        return 1
    print(size_report(artifact, Path.cwd()))
    if python is None:
        print(no_bytecode_warning(args.python_version), file=sys.stderr)

    if artifact.binary_extensions:
        print("import check skipped: compiled modules are for the Lambda platform")
    else:
        modules = module_names(select_sources(args.src))
        failure = import_check(artifact.directory, modules, python or sys.executable)
        if failure:
            print(f"import check failed: {failure}", file=sys.stderr)
            return 1
        print(f"import check: {len(modules)} modules import from the package alone")
    print(f"built in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
