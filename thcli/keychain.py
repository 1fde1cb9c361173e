"""The operating system's keychain, holding an encrypted database's passphrase between commands.

An encrypted database is opened many times a day. ``thcli db unlock`` stores
its passphrase in the keychain the coordinator's login already unlocks
(Windows Credential Manager, the macOS Keychain, the Secret Service of GNOME
or KDE on Linux), through the ``keyring`` library; ``thcli db lock`` removes
it. A command that needs the passphrase takes it from ``THCLI_KEY`` first
(a script, or a one-off), then from the keychain, then asks in a terminal
(commands/_common.py, ``Session.key``).

- The entry is service ``thcli``, user name the database's resolved path
  (:func:`entry_name`): a copy of the database elsewhere (a backup on a USB
  stick) is not opened by it, and a moved database needs ``db unlock`` again.
- The passphrase never lands in a plain file: keyring backends that keep
  passwords in a readable file (keyrings.alt's ``PlaintextKeyring``), or
  that keep nothing (keyring's ``null`` and ``fail`` backends, the latter
  being what keyring gives when it finds no keychain), are refused
  (:func:`refusal`); where keyring chains several backends, only an
  acceptable one is used.
- Without the ``keyring`` package or a keychain, reading gives None (thcli
  asks, or reads THCLI_KEY, as before) and storing says why it cannot.

``keyring`` costs about 80 ms to import and more to find its backend, so it
is imported only here, inside the functions, and only for an encrypted
database (a plain one never needs a key).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from thcli.cipher import Key
from thcli.errors import NotAllowed

SERVICE = "thcli"
INSTALL_HINT = "install it with: pip install 'thcli[encrypted]'"
#: Friendly names of the keychains keyring reaches, by the backend's module.
NAMES = {
    "keyring.backends.Windows": "the Windows Credential Manager",
    "keyring.backends.macOS": "the macOS Keychain",
    "keyring.backends.SecretService": "the Secret Service keychain (GNOME Keyring, KWallet...)",
    "keyring.backends.libsecret": "the Secret Service keychain (GNOME Keyring, KWallet...)",
    "keyring.backends.kwallet": "KWallet",
}
NO_KEYCHAIN = ("there is no keychain that thcli can use here ({why}), so the passphrase cannot be stored: thcli "
               "reads it from THCLI_KEY or asks for it, as before")


def entry_name(path: Path | str) -> str:
    """The keychain entry's user name for a database: its full path, as the system compares paths."""
    return os.path.normcase(os.path.realpath(os.path.expanduser(os.fspath(path))))


def describe(backend: Any) -> str:
    module = type(backend).__module__
    for prefix, name in NAMES.items():
        if module == prefix or module.startswith(prefix + "."):
            return name
    return f"the {type(backend).__name__} keychain ({module})"


def refusal(backend: Any) -> str | None:
    """Why a keyring backend must not hold a passphrase, or None when it may."""
    cls, module = type(backend).__name__, type(backend).__module__
    if module == "keyring.backends.fail":
        return "keyring found no keychain backend: on Linux, a Secret Service such as GNOME Keyring or KWallet"
    if module == "keyring.backends.null":
        return "keyring is set to its null backend, which keeps nothing"
    if "plaintext" in cls.lower() or (module.startswith("keyrings.alt.file") and "encrypted" not in cls.lower()):
        return f"keyring is set to {cls} ({module}), which keeps passwords in a plain file"
    return None


def _backends() -> tuple[list[Any], str | None]:
    """The usable keychain backends, best first, or none and why."""
    try:
        import keyring
        from keyring.backends.chainer import ChainerBackend
    except ImportError:
        return [], f"the keyring package is not installed: {INSTALL_HINT}"
    try:
        chosen = keyring.get_keyring()
        candidates = list(chosen.backends) if isinstance(chosen, ChainerBackend) else [chosen]
    except Exception as error:  # noqa: BLE001 - a broken keyring configuration must not stop thcli
        return [], f"keyring could not choose a keychain: {error}"
    usable = [backend for backend in candidates if refusal(backend) is None]
    if not usable:
        return [], (refusal(candidates[0]) if candidates else refusal(chosen)) or "keyring found no keychain"
    return usable, None


def stored_key(path: Path | str) -> Key | None:
    """The passphrase the keychain holds for the database at ``path``, or None (none stored, or no keychain)."""
    backends, _ = _backends()
    for backend in backends:
        try:
            value = backend.get_password(SERVICE, entry_name(path))
        except Exception:  # noqa: BLE001 - a locked or unreachable keychain: thcli asks, as before
            continue
        if value:
            return Key(value)
    return None


def store(path: Path | str, key: Key) -> str:
    """Keep ``key`` in the keychain for the database at ``path``; returns the keychain's name.

    NotAllowed, saying why, when there is no keychain thcli may use.
    """
    backends, why = _backends()
    if not backends:
        raise NotAllowed(NO_KEYCHAIN.format(why=why))
    backend = backends[0]
    try:
        backend.set_password(SERVICE, entry_name(path), key.reveal())
    except Exception as error:  # noqa: BLE001 - keyring's own errors differ by platform
        raise NotAllowed(f"{describe(backend)} did not take the passphrase ({type(error).__name__}: "
                         f"{_without(error, key)}): is it locked? Nothing was stored") from None
    return describe(backend)


def forget(path: Path | str) -> list[str]:
    """Remove the keychain's passphrase for the database at ``path``; returns the keychains it was in."""
    backends, why = _backends()
    if not backends:
        raise NotAllowed(NO_KEYCHAIN.format(why=why).replace("cannot be stored", "is not stored there"))
    removed = []
    for backend in backends:
        try:
            if backend.get_password(SERVICE, entry_name(path)) is None:
                continue
            backend.delete_password(SERVICE, entry_name(path))
        except Exception as error:  # noqa: BLE001
            raise NotAllowed(f"{describe(backend)} did not remove the passphrase ({type(error).__name__}): is it "
                             "locked?") from None
        removed.append(describe(backend))
    return removed


def replace_if_stored(path: Path | str, key: Key) -> str | None:
    """After a change of passphrase: the keychain's entry for ``path``, if there is one, now holds ``key``."""
    if stored_key(path) is None:
        return None
    return store(path, key)


def _without(error: BaseException, key: Key) -> str:
    """An error's text, with the passphrase taken out should a backend have put it in."""
    return str(error).replace(key.reveal(), "<hidden>") if key.reveal() else str(error)
