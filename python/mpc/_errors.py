"""The exception every failure of mpc surfaces as."""
import re

# The tool names nodes as: node 'NAME' (OpType or mpc.op)
_NODE = re.compile(r"node '([^']*)' \(([^)]*)\)")
# ... and files as: PATH: error: ...
_FILE = re.compile(r"^(.+?): error: ", re.MULTILINE)


class MpcError(Exception):
    """A failure of mpc-opt or of a compiled program.

    `message` is the tool's own text; `node` and `op_type` are the node it
    names (None when it names none), `file` the file it blames.
    """

    def __init__(self, message, *, command=None, returncode=None):
        message = message.strip()
        super().__init__(message)
        self.message = message
        self.command = command
        self.returncode = returncode
        match = _NODE.search(message)
        self.node = match.group(1) if match else None
        self.op_type = match.group(2) if match else None
        match = _FILE.search(message)
        self.file = match.group(1) if match and match.group(1) not in (
            "mpc-opt", "mpc") else None
