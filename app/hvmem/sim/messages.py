"""The simulated host's texts: status words and error messages, in English and German.

Real Hyper-V localises Status, MemoryStatus and every error message, while error ids stay
English; the simulator does the same so that the client is tested against text it must not
parse. Messages are shaped like real ones ("Failed to modify device 'Memory'." followed by
detail lines ending in the VM's id); the wording of refusals no source captured is ours,
and so is every German text. A failed start reads as field case F20 captured it.
A scenario may override any text by key (host "texts").
"""

from __future__ import annotations

from collections.abc import Mapping

ENGLISH: dict[str, str] = {
    "status.normal": "Operating normally",
    "memory_status.OK": "OK",
    "memory_status.Low": "Low",
    "memory_status.Warning": "Warning",
    "modify_failed": "Failed to modify device 'Memory'.",
    "vm_id_suffix": "(Virtual machine ID {vm_id})",
    "dm-required": "Setting maximum, minimum, and buffer settings requires Dynamic "
    "Memory to be enabled.",
    "align-2mb": "Invalid memory value assigned for '{vm}'. Memory values must be "
    "properly aligned.\nThe memory value assigned ('{value}' MB) is not properly "
    "aligned. Try again with a memory value that is properly aligned.",
    "min-32mb": "The memory value assigned ('{value}' MB) for '{vm}' is below the "
    "minimum of {limit} MB.",
    "max-bound": "The memory value assigned ('{value}' MB) for '{vm}' exceeds the "
    "maximum of {limit} MB this virtual machine supports.",
    "order-min-startup": "'{vm}': Minimum memory ({value} MB) cannot be greater than "
    "startup memory ({limit} MB).",
    "order-startup-max": "'{vm}': Maximum memory value ({value} MB) is less than the "
    "startup memory value ({limit} MB).",
    "buffer-range": "'{vm}': The memory buffer ({value}%) must be between 5 and 2000 "
    "percent.",
    "weight-range": "'{vm}': The memory weight ({value}) must be between 0 and 100.",
    "gpu-startup-min": "'{vm}': The specified memory settings are incompatible with "
    "device assignment or GPU partitioning. With Dynamic Memory, startup memory must "
    "equal minimum memory.",
    "state-readonly": "'{vm}' failed to modify device 'Memory'.\nThe operation cannot be "
    "performed while the virtual machine is in its current state.",
    "running-dm-toggle": "'{vm}': Dynamic Memory cannot be turned on or off while the "
    "virtual machine is running.",
    "running-dm-startup": "'{vm}': Startup memory cannot be changed while the virtual "
    "machine is running with Dynamic Memory.",
    "running-dm-min-raise": "'{vm}': Minimum memory cannot be increased while the "
    "virtual machine is running.",
    "running-dm-max-lower": "'{vm}': Maximum memory cannot be decreased while the "
    "virtual machine is running.",
    "runtime-resize-version": "'{vm}': Changing memory while the virtual machine is "
    "running needs configuration version 6.2 or later (it has version {version}).",
    "runtime-resize-nested": "'{vm}': Memory cannot be changed while the virtual machine "
    "is running because nested virtualization is enabled.",
    "guest-no-hot-add": "'{vm}' failed to add memory: the guest operating system does "
    "not support adding memory while it is running. Assigned memory stays at {achieved} "
    "MB.",
    "guest-no-hot-remove": "'{vm}' failed to remove memory: the guest operating system "
    "does not support removing memory while it is running. Assigned memory stays at "
    "{achieved} MB.",
    "host-free-memory": "'{vm}' could not add all of the requested memory: {requested} "
    "MB requested, {achieved} MB assigned. Not enough memory resources are available to "
    "complete this operation. (0x8007000E)",
    "guest-in-use": "'{vm}' could not remove all of the requested memory: {requested} MB "
    "requested, {achieved} MB assigned. The guest operating system is using the memory.",
    "start-failed": "'{vm}' failed to start.\nNot enough memory in the system to start "
    "the virtual machine {vm}.\nCould not initialize memory: Not enough memory resources "
    "are available to complete this operation. (0x8007000E).",
    "start-failed-detail": "'{vm}' failed to start.\nNot enough memory in the system to "
    "start the virtual machine {vm} with ram size {needed} megabytes.\n'{vm}' could not "
    "initialize memory: Not enough memory resources are available to complete this "
    "operation. (0x8007000E).",
    "power-failed": "'{vm}' failed to change state.",
    "power-invalid-state": "The operation cannot be performed while the object is in its "
    "current state.",
    "not_found": "Hyper-V was unable to find a virtual machine with ID \"{vm_id}\".",
    "no_rights": "You do not have the required permission to complete this task. Contact "
    "the administrator of the authorization policy for the computer '{host}'.",
}

GERMAN: dict[str, str] = {
    "status.normal": "Normaler Betrieb",
    "memory_status.OK": "OK",
    "memory_status.Low": "Niedrig",
    "memory_status.Warning": "Warnung",
    "modify_failed": "Fehler beim Ändern des Geräts \"Arbeitsspeicher\".",
    "vm_id_suffix": "(ID des virtuellen Computers {vm_id})",
    "dm-required": "Zum Festlegen der Einstellungen für Maximum, Minimum und Puffer muss "
    "der dynamische Arbeitsspeicher aktiviert sein.",
    "align-2mb": "Für \"{vm}\" wurde ein ungültiger Arbeitsspeicherwert zugewiesen. "
    "Arbeitsspeicherwerte müssen richtig ausgerichtet sein.\nDer zugewiesene "
    "Arbeitsspeicherwert ({value} MB) ist nicht richtig ausgerichtet. Wiederholen Sie "
    "den Vorgang mit einem richtig ausgerichteten Wert.",
    "min-32mb": "Der für \"{vm}\" zugewiesene Arbeitsspeicherwert ({value} MB) liegt "
    "unter dem Minimum von {limit} MB.",
    "max-bound": "Der für \"{vm}\" zugewiesene Arbeitsspeicherwert ({value} MB) "
    "überschreitet das Maximum von {limit} MB, das dieser virtuelle Computer "
    "unterstützt.",
    "order-min-startup": "\"{vm}\": Der minimale Arbeitsspeicher ({value} MB) darf nicht "
    "größer als der Arbeitsspeicher beim Start ({limit} MB) sein.",
    "order-startup-max": "\"{vm}\": Der maximale Arbeitsspeicher ({value} MB) ist "
    "kleiner als der Arbeitsspeicher beim Start ({limit} MB).",
    "buffer-range": "\"{vm}\": Der Arbeitsspeicherpuffer ({value} %) muss zwischen 5 und "
    "2000 Prozent liegen.",
    "weight-range": "\"{vm}\": Die Arbeitsspeichergewichtung ({value}) muss zwischen 0 "
    "und 100 liegen.",
    "gpu-startup-min": "\"{vm}\": Die Arbeitsspeichereinstellungen sind mit der "
    "Gerätezuweisung oder GPU-Partitionierung nicht kompatibel. Mit dynamischem "
    "Arbeitsspeicher muss der Arbeitsspeicher beim Start dem Minimum entsprechen.",
    "state-readonly": "\"{vm}\" konnte das Gerät \"Arbeitsspeicher\" nicht ändern.\nDer "
    "Vorgang kann im aktuellen Zustand des virtuellen Computers nicht ausgeführt werden.",
    "running-dm-toggle": "\"{vm}\": Der dynamische Arbeitsspeicher kann nicht ein- oder "
    "ausgeschaltet werden, während der virtuelle Computer ausgeführt wird.",
    "running-dm-startup": "\"{vm}\": Der Arbeitsspeicher beim Start kann nicht geändert "
    "werden, während der virtuelle Computer mit dynamischem Arbeitsspeicher läuft.",
    "running-dm-min-raise": "\"{vm}\": Der minimale Arbeitsspeicher kann nicht erhöht "
    "werden, während der virtuelle Computer ausgeführt wird.",
    "running-dm-max-lower": "\"{vm}\": Der maximale Arbeitsspeicher kann nicht "
    "verringert werden, während der virtuelle Computer ausgeführt wird.",
    "runtime-resize-version": "\"{vm}\": Zum Ändern des Arbeitsspeichers im laufenden "
    "Betrieb ist die Konfigurationsversion 6.2 oder höher erforderlich (vorhanden: "
    "{version}).",
    "runtime-resize-nested": "\"{vm}\": Der Arbeitsspeicher kann im laufenden Betrieb "
    "nicht geändert werden, weil die geschachtelte Virtualisierung aktiviert ist.",
    "guest-no-hot-add": "\"{vm}\" konnte keinen Arbeitsspeicher hinzufügen: Das "
    "Gastbetriebssystem unterstützt das Hinzufügen im laufenden Betrieb nicht. "
    "Zugewiesen bleiben {achieved} MB.",
    "guest-no-hot-remove": "\"{vm}\" konnte keinen Arbeitsspeicher entfernen: Das "
    "Gastbetriebssystem unterstützt das Entfernen im laufenden Betrieb nicht. "
    "Zugewiesen bleiben {achieved} MB.",
    "host-free-memory": "\"{vm}\" konnte nicht den gesamten angeforderten "
    "Arbeitsspeicher hinzufügen: {requested} MB angefordert, {achieved} MB zugewiesen. "
    "Nicht genügend Speicherressourcen verfügbar, um diesen Vorgang abzuschließen. "
    "(0x8007000E)",
    "guest-in-use": "\"{vm}\" konnte nicht den gesamten angeforderten Arbeitsspeicher "
    "entfernen: {requested} MB angefordert, {achieved} MB zugewiesen. Das "
    "Gastbetriebssystem verwendet den Arbeitsspeicher.",
    "start-failed": "\"{vm}\" konnte nicht gestartet werden.\nNicht genügend "
    "Arbeitsspeicher im System, um den virtuellen Computer {vm} zu starten.\nDer "
    "Arbeitsspeicher konnte nicht initialisiert werden: Nicht genügend "
    "Speicherressourcen verfügbar, um diesen Vorgang abzuschließen. (0x8007000E).",
    "start-failed-detail": "\"{vm}\" konnte nicht gestartet werden.\nNicht genügend "
    "Arbeitsspeicher im System, um den virtuellen Computer {vm} mit einer RAM-Größe von "
    "{needed} Megabyte zu starten.\n\"{vm}\" konnte den Arbeitsspeicher nicht "
    "initialisieren: Nicht genügend Speicherressourcen verfügbar, um diesen Vorgang "
    "abzuschließen. (0x8007000E).",
    "power-failed": "\"{vm}\" konnte den Status nicht ändern.",
    "power-invalid-state": "Der Vorgang kann im aktuellen Zustand des Objekts nicht "
    "ausgeführt werden.",
    "not_found": "Hyper-V hat keinen virtuellen Computer mit der ID \"{vm_id}\" "
    "gefunden.",
    "no_rights": "Sie verfügen nicht über die erforderliche Berechtigung für diese "
    "Aufgabe. Wenden Sie sich an den Administrator der Autorisierungsrichtlinie für den "
    "Computer \"{host}\".",
}

_BY_LANGUAGE = {"en": ENGLISH, "de": GERMAN}


class _KeepUnknown(dict[str, object]):
    """Leaves a placeholder a text names but the caller did not give as it is."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Texts:
    """The texts of one host: its language's table, the scenario's overrides on top."""

    def __init__(self, locale: str, overrides: Mapping[str, str] | None = None) -> None:
        language = locale.split("-", 1)[0].lower()
        self._table = {**ENGLISH, **_BY_LANGUAGE.get(language, {}), **(overrides or {})}

    def get(self, key: str, **values: object) -> str:
        """The text for `key` with `values` filled in (unknown placeholders stay)."""
        return self._table.get(key, key).format_map(_KeepUnknown(values))

    def keys(self) -> set[str]:
        return set(self._table)
