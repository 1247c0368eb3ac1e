"""The one error type: how it reads, and how Hyper-V's records are classified."""

from hvmem.errors import ErrorKind, HostErrorClass, HvmemError, classify_record
from hvmem.hyperv.protocol import ErrorRecord


def test_the_host_is_named_once() -> None:
    named = HvmemError(ErrorKind.TIMEOUT, "hv01 did not answer within 30 s", host="hv01")
    unnamed = HvmemError(ErrorKind.HOST, "Failed to modify device 'Memory'.", host="hv01")

    assert str(named) == "hv01 did not answer within 30 s"
    assert str(unnamed) == "hv01: Failed to modify device 'Memory'."
    assert named.headline() == "hv01 did not answer within 30 s"
    assert unnamed.headline() == str(unnamed)


def test_records_are_classified_by_id_and_hresult_never_by_text() -> None:
    # English words in the text say "access denied"; the id says out of memory.
    misleading = ErrorRecord("Access is denied.", "OutOfMemory,Microsoft.HyperV."
                             "PowerShell.Commands.StartVM", "FromStdErr", None)
    polish = ErrorRecord("Nie można zarezerwować 2048 MB pamięci RAM", "Unspecified,"
                         "Microsoft.HyperV.PowerShell.Commands.StartVM", "NotSpecified",
                         0x800705AA)
    negative = ErrorRecord("x", "", "", -2147024882)  # 0x8007000E as a signed Int32

    assert classify_record(misleading) is HostErrorClass.OUT_OF_MEMORY
    assert classify_record(polish) is HostErrorClass.OUT_OF_MEMORY
    assert classify_record(negative) is HostErrorClass.OUT_OF_MEMORY
    assert classify_record(ErrorRecord("Out of memory")) is HostErrorClass.OTHER



def test_the_full_text_says_each_part_once() -> None:
    error = HvmemError(ErrorKind.AUTH, "The credentials were rejected", details="401",
                       hint="Check the password.", host="hv01")

    assert error.full_text() == ("hv01: The credentials were rejected\n\n401\n\n"
                                 "Check the password.")
