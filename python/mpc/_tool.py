"""Finding and running the mpc-opt tool."""
import dataclasses
import logging
import os
import pathlib
import shutil
import subprocess

from ._errors import MpcError

log = logging.getLogger("mpc")


@dataclasses.dataclass(frozen=True)
class Tool:
    """The mpc-opt executable and where it was found: "MPC_OPT", "build
    tree" or "PATH"."""
    path: str
    source: str

    def __str__(self):
        return "%s (from %s)" % (self.path, self.source)

    def run(self, args, *, replace=None):
        """Runs mpc-opt with `args`; a non-zero exit raises MpcError with
        its message (with the strings in `replace` substituted, to show the
        user their names rather than temporary files)."""
        command = [self.path] + [str(a) for a in args]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            message = done.stderr.strip() or done.stdout.strip() or (
                "mpc-opt exited with status %d" % done.returncode)
            for old, new in (replace or {}).items():
                message = message.replace(old, new)
            raise MpcError(message, command=command,
                           returncode=done.returncode)
        return done


def _build_tree_candidates():
    try:
        from . import _build_info  # written into installed wheels
        yield pathlib.Path(_build_info.BUILD_DIR) / "bin" / "mpc-opt"
    except ImportError:
        pass
    # A source checkout: python/mpc/_tool.py -> <repo>/build/bin/mpc-opt.
    yield pathlib.Path(__file__).resolve().parents[2] / "build" / "bin" / \
        "mpc-opt"


def _executable(path):
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_tool():
    """The mpc-opt to use: $MPC_OPT, else the build tree's, else PATH's."""
    explicit = os.environ.get("MPC_OPT")
    if explicit:
        if not _executable(explicit):
            raise MpcError("MPC_OPT=%s is not an executable file" % explicit)
        tool = Tool(os.path.abspath(explicit), "MPC_OPT")
    else:
        tool = None
        for candidate in _build_tree_candidates():
            if _executable(candidate):
                tool = Tool(str(candidate), "build tree")
                break
        if tool is None:
            on_path = shutil.which("mpc-opt")
            if not on_path:
                raise MpcError(
                    "mpc-opt not found: set MPC_OPT to it, build the source "
                    "tree (scripts/bootstrap.sh), or put it on PATH")
            tool = Tool(on_path, "PATH")
    log.info("using mpc-opt %s", tool)
    return tool
