"""What reaches the host for a given edit, compared with files under tests/golden/.

A change in what hvmem sends (a field renamed, a value in other units, a second call
where there was one) shows up in review as a change to these files. To accept such a
change on purpose, regenerate them: `HVMEM_UPDATE_GOLDEN=1 uv run pytest
tests/test_golden_requests.py`, and read the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hvmem import controller
from hvmem.hyperv.channel import InProcessChannel
from hvmem.hyperv.client import HostClient
from hvmem.model import MemoryChange
from hvmem.sim.agent import SimAgent
from hvmem.sim.scenario import load_scenario

GOLDEN = Path(__file__).parent / "golden"

# (file name, VM, edit): the field cases' edits, as the window or `hvmem set` sends them.
CASES = [
    # F17: Startup and Maximum raised together go in one call, in bytes.
    ("f17-startup-and-maximum-off-dm", "gpu-cad",
     MemoryChange(startup_mb=8192, minimum_mb=8192, maximum_mb=32768)),
    # F18: a running DM VM's Maximum raised: only -MaximumBytes.
    ("f18-raise-maximum-running-dm", "web-dm", MemoryChange(maximum_mb=16384)),
    # F15: a 1 TB maximum, exactly 1099511627776 bytes.
    ("f15-one-terabyte-maximum", "gpu-cad", MemoryChange(maximum_mb=1048576)),
    # F19: a runtime resize of a running static VM.
    ("f19-runtime-resize", "dev-win11", MemoryChange(startup_mb=12288)),
    # Rejected before sending: the file records that nothing but reads went out.
    ("rejected-dm-toggle-running", "web-dm", MemoryChange(dynamic=False)),
]


class RecordingAgent:
    """The simulator's agent, keeping every request line the client sent it."""

    def __init__(self) -> None:
        self.agent = SimAgent(load_scenario("desktop"))
        self.requests: list[dict[str, object]] = []

    def handle_line(self, line: str) -> str:
        request = json.loads(line)
        request.pop("id")  # a counter; not part of what an edit sends
        self.requests.append(request)
        return self.agent.handle_line(line)


@pytest.mark.parametrize(("name", "vm_name", "change"), CASES,
                         ids=[case[0] for case in CASES])
def test_requests_match_the_golden_file(name: str, vm_name: str,
                                        change: MemoryChange) -> None:
    recorder = RecordingAgent()
    client = HostClient(InProcessChannel(recorder.handle_line, "sim"), "DESKTOP-HV")
    inventory = client.list()
    vm = next(vm for vm in inventory.vms if vm.name == vm_name)

    controller.apply(client, vm, change, inventory.host, settle_timeout=0.0,
                     sleep=lambda _: None)

    sent = "".join(json.dumps(r, sort_keys=True) + "\n" for r in recorder.requests)
    path = GOLDEN / f"{name}.jsonl"
    if os.environ.get("HVMEM_UPDATE_GOLDEN") == "1":
        path.write_text(sent, encoding="utf-8")
    assert sent == path.read_text(encoding="utf-8"), f"what is sent changed: {path}"
