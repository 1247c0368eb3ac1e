"""Field cases F01, F02, F04 and F23 in hvmem's design: CLIXML and stray text around the
agent's marked answers, a BOM in front, and VM names that are patterns or twins."""

from __future__ import annotations

import pytest

from hvmem import cli_commands
from hvmem.errors import ErrorKind, HvmemError
from hvmem.hyperv.protocol import LineDecoder, encode_answer, ok_answer
from hvmem.model import HostSnapshot, Inventory, MemorySettings, VmSnapshot

PROGRESS = ('#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/'
            'powershell/2004/04"><Obj S="progress" RefId="0"><MS><PR N="Record"><AV>'
            'Preparing modules for first use.</AV></PR></MS></Obj></Objs>')
ERROR = ('#< CLIXML\r\n<Objs Version="1.1.0.1"><S S="Error">Get-VM : Hyper-V was '
         'unable to find a virtual machine with name "web01"._x000D__x000A_</S></Objs>')


@pytest.mark.parametrize("before, after", [
    (PROGRESS, ""), ("", PROGRESS), (ERROR, ""),  # F01, F02: stderr merged into stdout
    ("\ufeff", ""),  # F04: a BOM in front of the first line
    ("WARNING: profile banner", "trailing text"),
])
def test_stray_output_around_a_marked_answer_never_changes_it(
        before: str, after: str) -> None:
    answer = encode_answer(ok_answer(7, {"vms": []}))
    stream = f"{before}\r\n{answer}\r\n{after}\r\n".encode()
    decoder = LineDecoder()

    # Fed in 5-byte pieces: a marker, a BOM or a character split between two reads.
    answers = [a for i in range(0, len(stream), 5) for a in decoder.feed(stream[i:i + 5])]

    assert answers == [{"id": 7, "ok": True, "result": {"vms": []}}]


def vm(name: str, vm_id: str) -> VmSnapshot:
    memory = MemorySettings(2048, False, 512, 1048576, 20, 50)
    return VmSnapshot(vm_id, name, "Off", 2, "9.0", memory, 0, 0, "", 0, 0, "")


INVENTORY = Inventory(HostSnapshot("HV01", 32768, 8192), (
    vm("db[1]", "1f0c0000-0000-4000-8000-000000000011"),
    vm("db1", "7a2e0000-0000-4000-8000-000000000012"),
    vm("Bob's VM", "9b3d0000-0000-4000-8000-000000000013"),
    vm("web*", "9b3d0000-0000-4000-8000-000000000014"),
))


@pytest.mark.parametrize("wanted, found", [
    ("db[1]", "db[1]"), ("db1", "db1"), ("Bob's VM", "Bob's VM"), ("web*", "web*"),
    ("1F0C0000-0000-4000-8000-000000000011", "db[1]"),  # an Id in upper case
    (" 7a2e0000-0000-4000-8000-000000000012 ", "db1"),
])
def test_names_are_never_patterns_and_ids_ignore_case(wanted: str, found: str) -> None:
    assert cli_commands.find_vm(INVENTORY, wanted, "HV01").name == found


@pytest.mark.parametrize("wanted", ["db*", "db?", "*", "", "db[0-9]"])
def test_a_pattern_or_nothing_matches_no_vm(wanted: str) -> None:  # F23
    with pytest.raises(HvmemError) as caught:
        cli_commands.find_vm(INVENTORY, wanted, "HV01")
    assert caught.value.kind is ErrorKind.NOT_FOUND
    assert "db[1]  1f0c0000-0000-4000-8000-000000000011" in caught.value.details
