"""The Lambda packaging script, offline: a fake installer stands in for pip."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from scripts import package

LOCALES = ("en_US.toml", "es_US.toml")


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
            binary_extensions=(),
            largest=(("botocore", 20 * 2**20), ("boto3", 2**19)),
        )

        report = package.size_report(artifact, tmp_path)

        assert "build/bankbot-lambda.zip: 17.0 MiB zipped" in report
        assert "build/lambda: 25.0 MiB unzipped" in report
        assert "largest: botocore 20.0 MiB, boto3 512.0 KiB" in report
        assert "compiled modules: none" in report
        assert "WARNING" not in report

    def test_warns_over_a_lambda_limit(self, tmp_path: Path) -> None:
        artifact = package.Artifact(
            directory=tmp_path / "lambda",
            zip_path=tmp_path / "bankbot-lambda.zip",
            unzipped_bytes=package.UNZIPPED_LIMIT + 1,
            zipped_bytes=2**20,
            binary_extensions=(PurePosixPath("fast/_speedups.so"),),
            largest=(),
        )

        report = package.size_report(artifact, tmp_path)

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

        status = package.main(argv, install=fake_pip)

        out = capsys.readouterr().out
        assert status == 0
        assert "zipped" in out
        assert "unzipped" in out
        assert "import check: 8 modules import from the package alone" in out

    def test_fails_when_the_installer_fails(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        def broken_pip(lock: Path, target: Path) -> None:
            raise package.PackagingError("no wheel for this platform")

        argv = ["--src", str(fake_src(tmp_path)), "--build-dir", str(tmp_path / "b")]
        status = package.main(argv, install=broken_pip)

        assert status == 1
        assert "no wheel for this platform" in capsys.readouterr().err
