"""The Lambda packaging script, offline: a fake installer stands in for pip.

Where bytecode must really be compiled, the interpreter running the tests stands
in for the Lambda runtime's CPython 3.12; fake executables stand in for the rest.
"""

from __future__ import annotations

import marshal
import os
import py_compile
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from scripts import package

LOCALES = ("en_US.toml", "es_US.toml")
RUNNING = "{}.{}".format(*sys.version_info[:2])
TAG = sys.implementation.cache_tag
# An environment in which no CPython 3.12 can be found.
NO_PYTHON = {"PATH": ""}


def write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def fake_src(root: Path) -> Path:
    """A src tree shaped like ours, with everything the artifact must leave out."""
    src = root / "src"
    write(src / "banking_domain" / "__init__.py")
    write(src / "banking_domain" / "money.py", "VALUE = 1\n")
    write(src / "adapters" / "__init__.py")
    write(src / "adapters" / "secrets.py", "from banking_domain import money\n")
    write(src / "adapters" / "sandboxing.py", "NAME = 'not the sandbox'\n")
    for name in LOCALES:
        write(src / "adapters" / "locales" / name, "[greeting]\n")
    write(src / "adapters" / "locales" / "__init__.py")
    write(src / "adapters" / "sandbox" / "__init__.py", "import starlette\n")
    write(src / "adapters" / "sandbox" / "app.py")
    write(src / "adapters" / "__pycache__" / "secrets.cpython-311.pyc", "junk")
    write(src / "entrypoints" / "__init__.py")
    write(src / "entrypoints" / "lex_lambda.py", "import adapters.secrets\n")
    write(src / "lexbot" / "__init__.py")
    write(src / "lexbot" / "bankbot.yaml", "bot: {}\n")
    return src


def fake_pip(lock: Path, target: Path) -> None:
    """Installs what pip would, and the junk pip leaves beside it."""
    assert lock.name == "requirements.lock"
    write(target / "fakedep" / "__init__.py", "READY = True\n")
    write(target / "fakedep" / "__pycache__" / "x.cpython-312.pyc", "junk")
    write(target / "fakedep-1.0.dist-info" / "RECORD", "fakedep/__init__.py,,\n")
    write(target / "bin" / "fakedep", "#!/some/python\n")


def fake_python(directory: Path, name: str, script: str) -> Path:
    """An executable that runs `script` with sh, whatever it is asked."""
    path = write(directory / name, f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return path


def answering(directory: Path, name: str, version: str) -> Path:
    """A fake interpreter answering the version probe as CPython `version`."""
    return fake_python(directory, name, f"echo 'cpython {version}'")


def running_compiler() -> package.Compiler:
    """This interpreter's compileall, standing in for CPython 3.12's."""
    return package.bytecode_compiler(sys.executable, RUNNING)


def zip_of(
    tmp_path: Path, build_dir: Path, compiler: package.Compiler | None = None
) -> bytes:
    src = fake_src(tmp_path)
    lock = write(tmp_path / "requirements.lock")
    artifact = package.build(src, lock, build_dir, fake_pip, compiler)
    return artifact.zip_path.read_bytes()


def archived(src: Path) -> set[str]:
    return {str(relative) for _, relative in package.select_sources(src)}


class TestWhatGoesIn:
    def test_keeps_the_three_runtime_packages(self, tmp_path: Path) -> None:
        names = archived(fake_src(tmp_path))

        assert "banking_domain/money.py" in names
        assert "adapters/secrets.py" in names
        assert "entrypoints/lex_lambda.py" in names

    def test_keeps_the_locale_catalogues(self, tmp_path: Path) -> None:
        names = archived(fake_src(tmp_path))

        assert {f"adapters/locales/{name}" for name in LOCALES} <= names

    def test_leaves_out_the_sandbox_and_the_bot_definition(
        self, tmp_path: Path
    ) -> None:
        names = archived(fake_src(tmp_path))

        assert not [n for n in names if n.startswith(("adapters/sandbox/", "lexbot"))]
        assert "adapters/sandboxing.py" in names

    def test_leaves_out_bytecode(self, tmp_path: Path) -> None:
        names = archived(fake_src(tmp_path))

        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]

    def test_refuses_a_tree_without_one_of_the_packages(self, tmp_path: Path) -> None:
        src = fake_src(tmp_path)
        (src / "entrypoints" / "__init__.py").unlink()

        with pytest.raises(package.PackagingError, match="entrypoints"):
            package.select_sources(src)

    def test_names_modules_as_python_imports_them(self, tmp_path: Path) -> None:
        selection = package.select_sources(fake_src(tmp_path))

        names = package.module_names(selection)

        assert "adapters" in names
        assert "adapters.locales" in names
        assert "entrypoints.lex_lambda" in names
        assert not [name for name in names if "sandbox." in name]


class TestThePipCommand:
    def test_asks_for_locked_wheels_for_the_lambda_runtime(self) -> None:
        command = package.pip_command(Path("r.lock"), Path("out"))

        assert "--require-hashes" in command
        assert "--only-binary=:all:" in command
        assert command[command.index("--platform") + 1] == "manylinux2014_aarch64"
        assert command[command.index("--python-version") + 1] == "3.12"
        assert command[command.index("--abi") + 1] == "cp312"
        assert command[command.index("--target") + 1] == "out"
        assert command[-2:] == ["--requirement", "r.lock"]

    def test_lets_pip_check_that_the_lock_is_complete(self) -> None:
        command = package.pip_command(Path("r.lock"), Path("out"))

        assert "--no-deps" not in command


class TestPruning:
    def test_removes_caches_bytecode_and_console_scripts(self, tmp_path: Path) -> None:
        fake_pip(Path("requirements.lock"), tmp_path)
        write(tmp_path / "fakedep" / "stray.pyc", "junk")

        package.prune(tmp_path)

        assert package.archive_entries(tmp_path) == [
            PurePosixPath("fakedep/__init__.py"),
            PurePosixPath("fakedep-1.0.dist-info/RECORD"),
        ]


class TestTheZip:
    def tree(self, root: Path, mtime: int, mode: int) -> Path:
        for name in ("b/two.py", "a/one.py", "a/data/three.toml"):
            path = write(root / name, f"# {name}\n" * 50)
            os.utime(path, (mtime, mtime))
            path.chmod(mode)
        return root

    def test_same_files_give_the_same_bytes(self, tmp_path: Path) -> None:
        first = self.tree(tmp_path / "first", mtime=1_000_000_000, mode=0o600)
        second = self.tree(tmp_path / "second", mtime=1_700_000_000, mode=0o755)

        package.write_zip(first, tmp_path / "first.zip")
        package.write_zip(second, tmp_path / "second.zip")

        assert (tmp_path / "first.zip").read_bytes() == (
            tmp_path / "second.zip"
        ).read_bytes()

    def test_a_changed_file_changes_the_bytes(self, tmp_path: Path) -> None:
        first = self.tree(tmp_path / "first", mtime=0, mode=0o644)
        second = self.tree(tmp_path / "second", mtime=0, mode=0o644)
        write(second / "a" / "one.py", "changed\n")

        package.write_zip(first, tmp_path / "first.zip")
        package.write_zip(second, tmp_path / "second.zip")

        assert (tmp_path / "first.zip").read_bytes() != (
            tmp_path / "second.zip"
        ).read_bytes()

    def test_entries_are_sorted_dated_and_readable_by_all(self, tmp_path: Path) -> None:
        root = self.tree(tmp_path / "tree", mtime=1_700_000_000, mode=0o600)

        package.write_zip(root, tmp_path / "out.zip")

        with zipfile.ZipFile(tmp_path / "out.zip") as archive:
            infos = archive.infolist()
            assert [info.filename for info in infos] == [
                "a/data/three.toml",
                "a/one.py",
                "b/two.py",
            ]
            assert {info.date_time for info in infos} == {package.ZIP_EPOCH}
            assert {info.external_attr >> 16 & 0o777 for info in infos} == {0o644}
            assert archive.read("b/two.py") == (root / "b" / "two.py").read_bytes()

    def test_refuses_a_symbolic_link(self, tmp_path: Path) -> None:
        root = self.tree(tmp_path / "tree", mtime=0, mode=0o644)
        (root / "link.py").symlink_to(root / "a" / "one.py")

        with pytest.raises(package.PackagingError, match=r"link\.py"):
            package.write_zip(root, tmp_path / "out.zip")


class TestTheSizeReport:
    def test_formats_sizes_in_binary_units(self) -> None:
        assert package.format_size(512) == "0.5 KiB"
        assert package.format_size(3 * 2**20 + 2**19) == "3.5 MiB"

    def test_gives_the_zipped_and_unzipped_size(self, tmp_path: Path) -> None:
        artifact = package.Artifact(
            directory=tmp_path / "build" / "lambda",
            zip_path=tmp_path / "build" / "bankbot-lambda.zip",
            unzipped_bytes=25 * 2**20,
            zipped_bytes=17 * 2**20,
            files=4870,
            bytecode_files=2383,
            binary_extensions=(),
            largest=(("botocore", 20 * 2**20), ("anyio", 2**19)),
        )

        report = package.size_report(artifact, tmp_path)

        assert "build/bankbot-lambda.zip: 17.0 MiB zipped" in report
        assert "build/lambda: 25.0 MiB unzipped, 4870 files" in report
        assert "largest: botocore 20.0 MiB, anyio 512.0 KiB" in report
        assert "bytecode: 2383 files, unchecked-hash" in report
        assert "compiled modules: none" in report
        assert "WARNING" not in report

    def test_warns_over_a_lambda_limit(self, tmp_path: Path) -> None:
        artifact = package.Artifact(
            directory=tmp_path / "lambda",
            zip_path=tmp_path / "bankbot-lambda.zip",
            unzipped_bytes=package.UNZIPPED_LIMIT + 1,
            zipped_bytes=2**20,
            files=2,
            bytecode_files=0,
            binary_extensions=(PurePosixPath("fast/_speedups.so"),),
            largest=(),
        )

        report = package.size_report(artifact, tmp_path)

        assert "bytecode: none" in report
        assert "compiled modules: 1" in report
        assert "WARNING: over a Lambda limit" in report

    def test_counts_the_largest_packages_without_their_metadata(
        self, tmp_path: Path
    ) -> None:
        write(tmp_path / "big" / "a.py", "x" * 3000)
        write(tmp_path / "small.py", "x" * 10)
        write(tmp_path / "big-1.0.dist-info" / "RECORD", "x" * 9000)

        assert package.largest_entries(tmp_path) == (("big", 3000), ("small.py", 10))
        assert package.tree_size(tmp_path) == 12010


class TestTheBuild:
    def test_puts_dependencies_and_project_in_one_deterministic_zip(
        self, tmp_path: Path
    ) -> None:
        src = fake_src(tmp_path)
        lock = write(tmp_path / "requirements.lock")

        artifact = package.build(src, lock, tmp_path / "build", fake_pip)
        first = artifact.zip_path.read_bytes()
        package.build(src, lock, tmp_path / "build", fake_pip)

        with zipfile.ZipFile(artifact.zip_path) as archive:
            names = set(archive.namelist())
        assert "fakedep/__init__.py" in names
        assert "adapters/locales/es_US.toml" in names
        assert not [n for n in names if n.startswith(("bin/", "lexbot/"))]
        assert not [n for n in names if "sandbox/" in n or "__pycache__" in n]
        assert artifact.zip_path.read_bytes() == first
        assert artifact.zipped_bytes == len(first)
        assert artifact.unzipped_bytes == package.tree_size(artifact.directory)
        assert artifact.files == len(names)
        assert artifact.bytecode_files == 0

    def test_starts_from_an_empty_directory(self, tmp_path: Path) -> None:
        src = fake_src(tmp_path)
        lock = write(tmp_path / "requirements.lock")
        write(tmp_path / "build" / "lambda" / "left_over.py")

        artifact = package.build(src, lock, tmp_path / "build", fake_pip)

        assert not (artifact.directory / "left_over.py").exists()

    def test_refuses_a_dependency_that_shadows_a_project_package(
        self, tmp_path: Path
    ) -> None:
        def shadowing_pip(lock: Path, target: Path) -> None:
            write(target / "adapters" / "__init__.py")

        with pytest.raises(package.PackagingError, match="adapters"):
            package.build(
                fake_src(tmp_path),
                write(tmp_path / "requirements.lock"),
                tmp_path / "build",
                shadowing_pip,
            )


class TestFindingTheLambdaPython:
    def test_takes_python3_12_from_the_path(self, tmp_path: Path) -> None:
        python = answering(tmp_path, "python3.12", "3.12")

        found = package.find_python(None, {"PATH": str(tmp_path)})

        assert found == str(python)

    def test_skips_a_python3_12_that_is_another_version(self, tmp_path: Path) -> None:
        answering(tmp_path, "python3.12", "3.11")

        assert package.find_python(None, {"PATH": str(tmp_path)}) is None

    def test_skips_a_shim_that_does_not_run(self, tmp_path: Path) -> None:
        fake_python(tmp_path, "python3.12", "echo 'no such version' >&2; exit 127")

        assert package.find_python(None, {"PATH": str(tmp_path)}) is None

    def test_finds_nothing_on_a_path_without_it(self, tmp_path: Path) -> None:
        answering(tmp_path, "python3", "3.12")

        assert package.find_python(None, {"PATH": str(tmp_path)}) is None

    def test_prefers_the_option_then_the_environment(self, tmp_path: Path) -> None:
        answering(tmp_path, "python3.12", "3.12")
        given = answering(tmp_path / "given", "python", "3.12")
        variable = answering(tmp_path / "variable", "python", "3.12")
        environ = {"PATH": str(tmp_path), package.PYTHON_VARIABLE: str(variable)}

        assert package.find_python(str(given), environ) == str(given)
        assert package.find_python(None, environ) == str(variable)

    def test_refuses_an_interpreter_named_by_option_of_another_version(
        self, tmp_path: Path
    ) -> None:
        python = answering(tmp_path, "python", "3.11")

        with pytest.raises(package.PackagingError, match=r"--python .* 'cpython 3.11'"):
            package.find_python(str(python), NO_PYTHON)

    def test_refuses_an_interpreter_named_by_the_environment_that_is_missing(
        self, tmp_path: Path
    ) -> None:
        environ = {package.PYTHON_VARIABLE: str(tmp_path / "nothing")}

        with pytest.raises(package.PackagingError, match="it does not run"):
            package.find_python(None, environ)

    def test_knows_a_real_interpreter_by_its_version(self) -> None:
        found = package.find_python(sys.executable, NO_PYTHON, version=RUNNING)

        assert found == sys.executable


class TestTheBytecode:
    def test_asks_compileall_for_unchecked_bytecode_named_as_on_lambda(self) -> None:
        command = package.compile_command("python3.12", Path("/b/lambda"))

        assert command[:4] == ["python3.12", "-I", "-m", "compileall"]
        assert command[command.index("--invalidation-mode") + 1] == "unchecked-hash"
        assert command[command.index("-d") + 1] == "/var/task"
        assert command[-1] == "/b/lambda"

    def test_compiles_every_module_of_the_package(self, tmp_path: Path) -> None:
        artifact = package.build(
            fake_src(tmp_path),
            write(tmp_path / "requirements.lock"),
            tmp_path / "build",
            fake_pip,
            running_compiler(),
        )

        with zipfile.ZipFile(artifact.zip_path) as archive:
            names = set(archive.namelist())
        assert f"adapters/__pycache__/secrets.{TAG}.pyc" in names
        assert f"fakedep/__pycache__/__init__.{TAG}.pyc" in names
        assert package.missing_bytecode(artifact.directory, RUNNING) == []
        assert artifact.bytecode_files == len([n for n in names if n.endswith(".py")])

    def test_writes_bytecode_used_without_looking_at_the_source(
        self, tmp_path: Path
    ) -> None:
        zip_of(tmp_path, tmp_path / "build", running_compiler())
        pyc = tmp_path / "build" / "lambda" / "adapters" / "__pycache__"

        data = (pyc / f"secrets.{TAG}.pyc").read_bytes()

        assert int.from_bytes(data[4:8], "little") == 0b01  # hash, unchecked
        assert marshal.loads(data[16:]).co_filename == "/var/task/adapters/secrets.py"

    def test_same_sources_built_in_two_places_give_the_same_bytes(
        self, tmp_path: Path
    ) -> None:
        first = zip_of(tmp_path, tmp_path / "one" / "build", running_compiler())
        second = zip_of(tmp_path, tmp_path / "two" / "build", running_compiler())

        assert first == second

    def test_stops_a_build_whose_bytecode_names_the_build_directory(
        self, tmp_path: Path
    ) -> None:
        def leaky_compiler(root: Path) -> None:
            py_compile.compile(str(root / "fakedep" / "__init__.py"))

        with pytest.raises(package.PackagingError, match="names the build directory"):
            zip_of(tmp_path, tmp_path / "build", leaky_compiler)

    def test_finds_the_build_directory_in_any_bytecode_file(
        self, tmp_path: Path
    ) -> None:
        root = tmp_path / "lambda"
        pyc = root / "dep" / "__pycache__" / "m.cpython-312.pyc"
        pyc.parent.mkdir(parents=True)
        pyc.write_bytes(b"\x00\xe3" + str(root.resolve()).encode() + b"/dep/m.py")
        write(root / "dep" / "__pycache__" / "clean.cpython-312.pyc", "/var/task/")

        leaks = package.leaked_paths(root)

        assert leaks == [PurePosixPath("dep/__pycache__/m.cpython-312.pyc")]

    def test_stops_on_a_module_that_does_not_compile(self, tmp_path: Path) -> None:
        src = fake_src(tmp_path)
        write(src / "banking_domain" / "broken.py", "def (:\n")

        with pytest.raises(package.PackagingError, match="compileall failed"):
            package.build(
                src,
                write(tmp_path / "requirements.lock"),
                tmp_path / "build",
                fake_pip,
                running_compiler(),
            )


class TestTheImportCheck:
    def test_passes_when_every_module_imports_from_the_package(
        self, tmp_path: Path
    ) -> None:
        src = fake_src(tmp_path)
        target = tmp_path / "lambda"
        selection = package.select_sources(src)
        package.copy_sources(selection, target)

        failure = package.import_check(target, package.module_names(selection))

        assert failure is None

    def test_names_a_module_that_needs_something_left_out(self, tmp_path: Path) -> None:
        src = fake_src(tmp_path)
        write(src / "entrypoints" / "cli.py", "import adapters.sandbox\n")
        target = tmp_path / "lambda"
        selection = package.select_sources(src)
        package.copy_sources(selection, target)

        failure = package.import_check(target, package.module_names(selection))

        assert failure is not None
        assert "adapters.sandbox" in failure

    def test_writes_no_bytecode_into_the_package(self, tmp_path: Path) -> None:
        target = tmp_path / "lambda"
        selection = package.select_sources(fake_src(tmp_path))
        package.copy_sources(selection, target)

        package.import_check(target, package.module_names(selection))

        assert not list(target.rglob("__pycache__"))

    def test_runs_the_interpreter_it_is_given(self, tmp_path: Path) -> None:
        python = fake_python(tmp_path, "python", "echo 'ran the other one' >&2; exit 1")

        failure = package.import_check(tmp_path, ["anything"], str(python))

        assert failure == "ran the other one"

    def test_does_not_see_this_projects_environment(self, tmp_path: Path) -> None:
        write(tmp_path / "lambda" / "uses_attrs.py", "import attrs\n")

        failure = package.import_check(tmp_path / "lambda", ["uses_attrs"])

        assert failure is not None
        assert "attrs" in failure


class TestMain:
    def test_prints_the_sizes_and_checks_the_imports(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        src = fake_src(tmp_path)
        lock = write(tmp_path / "requirements.lock")
        argv = ["--src", str(src), "--lock", str(lock)]
        argv += ["--build-dir", str(tmp_path / "build")]

        status = package.main(argv, install=fake_pip, environ=NO_PYTHON)

        out = capsys.readouterr().out
        assert status == 0
        assert "zipped" in out
        assert "unzipped" in out
        assert "import check: 8 modules import from the package alone" in out

    def test_warns_in_one_line_when_it_builds_without_bytecode(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        argv = ["--src", str(fake_src(tmp_path)), "--build-dir", str(tmp_path / "b")]
        argv += ["--lock", str(write(tmp_path / "requirements.lock"))]

        status = package.main(argv, install=fake_pip, environ=NO_PYTHON)

        out, err = capsys.readouterr()
        warnings = [line for line in err.splitlines() if "WARNING" in line]
        assert status == 0
        assert "bytecode: none" in out
        assert len(warnings) == 1
        assert "cold start compiles" in warnings[0]
        assert "python3.12 on PATH" in warnings[0]
        assert "LAMBDA_PYTHON_EXECUTABLE" in warnings[0]
        assert "--python" in warnings[0]

    def test_fails_before_installing_when_bytecode_is_required_and_impossible(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        installed: list[Path] = []

        def recording_pip(lock: Path, target: Path) -> None:
            installed.append(target)

        argv = ["--src", str(fake_src(tmp_path)), "--build-dir", str(tmp_path / "b")]
        status = package.main(
            [*argv, "--require-bytecode"], install=recording_pip, environ=NO_PYTHON
        )

        assert status == 1
        assert "--require-bytecode" in capsys.readouterr().err
        assert installed == []

    def test_fails_when_the_named_interpreter_is_another_version(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        python = answering(tmp_path / "bin", "python", "3.11")
        argv = ["--src", str(fake_src(tmp_path)), "--build-dir", str(tmp_path / "b")]

        status = package.main(
            [*argv, "--python", str(python)], install=fake_pip, environ=NO_PYTHON
        )

        assert status == 1
        assert "is not CPython 3.12" in capsys.readouterr().err

    def test_compiles_with_the_interpreter_it_is_given(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        argv = ["--src", str(fake_src(tmp_path)), "--build-dir", str(tmp_path / "b")]
        argv += ["--lock", str(write(tmp_path / "requirements.lock"))]
        argv += ["--python", sys.executable, "--python-version", RUNNING]

        status = package.main(argv, install=fake_pip, environ=NO_PYTHON)

        out, err = capsys.readouterr()
        assert status == 0
        assert "bytecode: 9 files, unchecked-hash" in out
        assert "import check: 8 modules import from the package alone" in out
        assert "WARNING" not in err

    def test_fails_when_the_installer_fails(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        def broken_pip(lock: Path, target: Path) -> None:
            raise package.PackagingError("no wheel for this platform")

        argv = ["--src", str(fake_src(tmp_path)), "--build-dir", str(tmp_path / "b")]
        status = package.main(argv, install=broken_pip, environ=NO_PYTHON)

        assert status == 1
        assert "no wheel for this platform" in capsys.readouterr().err
