"""A PEP 517 build backend for the pure-Python `mpc` package.

pip builds in an isolated environment whose requirements come from PyPI;
mpc's machines cannot reach PyPI, so the package builds itself: a wheel is
a zip of the sources plus a .dist-info directory (PEP 427). The wheel also
records where the source tree's build of mpc-opt lives, so an installed
package finds the tool it was built next to.
"""
import base64
import hashlib
import os
import pathlib
import zipfile

NAME = "mpc"
VERSION = "0.1.0"
HERE = pathlib.Path(__file__).resolve().parent.parent  # python/
TAG = "py3-none-any"


def _metadata():
    return ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n"
            "Summary: Python face of mpc, the mixed-precision graph compiler\n"
            "Requires-Python: >=3.9\nRequires-Dist: numpy\nRequires-Dist: onnx\n"
            % (NAME, VERSION))


def _build_info():
    build_dir = os.environ.get("MPC_BUILD_DIR",
                               str(HERE.parent / "build"))
    return ('"""Written when the wheel was built."""\n'
            "BUILD_DIR = %r\n" % build_dir)


def _files():
    """(archive name, bytes) of everything the wheel holds but its RECORD."""
    for path in sorted((HERE / NAME).rglob("*.py")):
        if "__pycache__" in path.parts or path.name == "_build_info.py":
            continue
        yield path.relative_to(HERE).as_posix(), path.read_bytes()
    yield NAME + "/_build_info.py", _build_info().encode()
    info = "%s-%s.dist-info" % (NAME, VERSION)
    yield info + "/METADATA", _metadata().encode()
    yield info + "/WHEEL", ("Wheel-Version: 1.0\nGenerator: mpc_build_backend\n"
                            "Root-Is-Purelib: true\nTag: %s\n" % TAG).encode()
    yield info + "/entry_points.txt", (
        "[console_scripts]\nmpc = mpc.__main__:main\n").encode()


def _digest(data):
    raw = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def build_wheel(wheel_directory, config_settings=None,
                metadata_directory=None):
    name = "%s-%s-%s.whl" % (NAME, VERSION, TAG)
    info = "%s-%s.dist-info" % (NAME, VERSION)
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w",
                         zipfile.ZIP_DEFLATED) as wheel:
        for arcname, data in _files():
            wheel.writestr(arcname, data)
            record.append("%s,%s,%d" % (arcname, _digest(data), len(data)))
        record.append(info + "/RECORD,,")
        wheel.writestr(info + "/RECORD", "\n".join(record) + "\n")
    return name


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    info = pathlib.Path(metadata_directory) / ("%s-%s.dist-info"
                                               % (NAME, VERSION))
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(_metadata())
    return info.name
