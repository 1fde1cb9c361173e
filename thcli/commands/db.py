"""`thcli db ...`: where the database is; checks, backups, restores and encryption."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from thcli.commands._common import FormatOption, YesOption, out, parse_text, session, stdin_is_terminal, warn

app = typer.Typer(help="Where the database is; check, back up, restore, encrypt.", no_args_is_help=True,
                  add_completion=False)


@app.command()
def path(ctx: typer.Context) -> None:
    """Print where the database is (set it with --db or THCLI_DB).

    Example: thcli db path
    """
    out(str(session(ctx).db_path))


@app.command()
def check(ctx: typer.Context, fmt: FormatOption = None) -> None:
    """Check the database: integrity, foreign keys, audit and ledger chains, encryption, location, permissions.

    Exit code 1 when anything is wrong ("warn" lines do not fail). --format json
    or csv gives the same as rows.

    Example: thcli db check
    """
    from thcli import maintenance, render
    from thcli.errors import NotAllowed

    s = session(ctx)
    db = s.open()
    results = maintenance.check_database(db, s.db_path)
    if fmt is None or fmt.value == "table":  # the check's lines by default, in a pipe too
        for r in results:
            out(f"{r.state:<4}  {r.name}: {r.detail}")
    else:
        render.emit([r.as_dict() for r in results], fmt, [render.Column("check", "Check", kind="text"),
                    render.Column("state", "State", kind="code"), render.Column("detail", "Detail", kind="text")],
                    csv_columns=["check", "state", "detail"])
    failed = [r.name for r in results if not r.ok]
    if failed:
        damaged = {"integrity", "foreign keys", "audit log", "ledger"} & set(failed)
        raise NotAllowed(f"the database failed: {', '.join(failed)} (see the FAIL lines)"
                         + (". Restore the latest backup with `thcli db restore BACKUP`" if damaged else ""))


@app.command()
def backup(
    ctx: typer.Context,
    dest: Annotated[Path, typer.Argument(help="A new file, or a folder to put a dated backup in.",
                                         metavar="DEST")],
    force: Annotated[bool, typer.Option("--force", help="Replace DEST if it is an earlier thcli backup.")] = False,
) -> None:
    """Back up the database through SQLite's backup API, checked after writing (0600).

    The backup is written under a temporary name and renamed once it checks
    out. The backup of an encrypted database is encrypted with the same
    passphrase. An existing file is replaced only with --force, and only when
    it is an earlier thcli backup.

    Example: thcli db backup /media/usb/
    """
    from thcli import maintenance

    s = session(ctx)
    db = s.open()
    written = maintenance.backup(db, dest.expanduser(), by=s.user, force=force)
    out(f"Backed up to {written} (checked{', encrypted' if s.key_for() else ''}).")


@app.command()
def restore(
    ctx: typer.Context,
    src: Annotated[Path, typer.Argument(help="The backup file to restore.", metavar="SRC")],
    yes: YesOption = False,
    decrypt_ok: Annotated[str | None, typer.Option(
        "--decrypt-ok", metavar="REASON", parser=parse_text,
        help="Restore a backup that is not encrypted over an encrypted database (the reason is recorded in the "
             "audit log); refused anywhere else.", show_default=False)] = None,
) -> None:
    """Replace the database with a backup (the current one is kept beside it).

    No other thcli can use the database while it is restored. A backup that
    is not encrypted is refused over an encrypted database unless
    --decrypt-ok REASON. Letter files the restored database cannot find as it
    wrote them are reported.

    Example: thcli db restore /media/usb/thcli-backup-20261122-093000.db --yes
    """
    from thcli import case_files, cipher, maintenance
    from thcli.errors import BadInput

    s = session(ctx)
    src = src.expanduser()
    if not yes:
        if not stdin_is_terminal():
            raise BadInput("restoring replaces the database: add --yes to confirm")
        if not typer.confirm(f"Replace {s.db_path} with {src}?", default=False):
            out("Nothing was changed.")
            return
    was_encrypted = cipher.is_encrypted(s.db_path)
    needs_key = cipher.is_encrypted(src) or was_encrypted
    done = maintenance.restore(s.db_path, src, by=s.user, key=s.key() if needs_key else None,
                               allow_network_share=s.allow_network_share, decrypt_ok=decrypt_ok)
    out(f"Restored {s.db_path} from {src}." + (f" The previous database is kept as {done.kept}." if done.kept
                                                else ""))
    if was_encrypted and not cipher.is_encrypted(s.db_path):
        warn("the backup was not encrypted, so the database is not encrypted now: run `thcli db encrypt`")
    if done.letter_problems:
        warn(f"letter files the restored database recorded are {case_files.summary(done.letter_problems)}")


@app.command()
def encrypt(ctx: typer.Context) -> None:
    """Encrypt a plain database with a passphrase (SQLCipher; needs the encrypted extra).

    The passphrase comes from THCLI_KEY, or is asked twice in a terminal; it is
    never an option. The encrypted copy is checked before it replaces the plain
    file. Backups made before stay plain: delete them and make new ones.

    Example: thcli db encrypt
    """
    from thcli import cipher, crypto, maintenance

    s = session(ctx)
    cipher.sqlcipher()  # say so before asking for a passphrase when sqlcipher3 is missing
    crypto.require_plain(s.db_path)
    key = s.new_key()
    crypto.encrypt_database(s.db_path, key, by=s.user, allow_network_share=s.allow_network_share)
    out(f"Encrypted {s.db_path} (checked). From now on thcli needs its passphrase: type it when asked, set "
        "THCLI_KEY, or keep it in this computer's keychain with `thcli db unlock`. Keep the passphrase safe: "
        "without it the data cannot be recovered.")
    out("Backups made before now are not encrypted: delete them and make a new one with `thcli db backup`.")
    plain = maintenance.plain_copies(s.db_path)
    if plain:
        warn(f"{maintenance.copies_named(plain)}: delete them once you have an encrypted backup")


@app.command()
def rekey(ctx: typer.Context) -> None:
    """Change an encrypted database's passphrase.

    The current passphrase comes from THCLI_KEY (or is asked), the new one from
    THCLI_NEW_KEY (or is asked twice). Backups keep the passphrase they were made with.

    Example: thcli db rekey
    """
    from thcli import cipher, crypto, keychain
    from thcli.errors import BadInput

    s = session(ctx)
    cipher.sqlcipher()
    crypto.require_encrypted(s.db_path)
    s.open().close()  # the current passphrase must open it before a new one is asked for
    old = s.key()
    if old is None:  # pragma: no cover - opening it just above needed the passphrase
        raise BadInput("give the current passphrase in THCLI_KEY, or run this in a terminal to be asked for it")
    new = s.new_key(cipher.NEW_KEY_VARIABLE)
    crypto.rekey_database(s.db_path, old, new, by=s.user, allow_network_share=s.allow_network_share)
    out(f"Changed the passphrase of {s.db_path} (checked). Backups made before still open with the old one.")
    kept = keychain.replace_if_stored(s.db_path, new)
    if kept:
        out(f"{kept[0].upper()}{kept[1:]} now holds the new passphrase.")


@app.command()
def unlock(ctx: typer.Context) -> None:
    """Keep the encrypted database's passphrase in this computer's keychain, so that thcli stops asking for it.

    The keychain is the one your login unlocks: the Windows Credential
    Manager, the macOS Keychain, or the Secret Service (GNOME Keyring,
    KWallet) on Linux. The passphrase comes from THCLI_KEY or is asked once,
    and is checked against the database before it is stored. It is stored
    for this database's path only (a copy elsewhere still asks), never in a
    plain file. Every command then takes it from the keychain (THCLI_KEY
    still comes first). `thcli db lock` removes it.

    Example: thcli db unlock
    """
    from thcli import cipher, crypto, keychain
    from thcli.errors import BadInput

    s = session(ctx)
    crypto.require_encrypted(s.db_path)
    key = cipher.key_from_environment()
    if key is None:
        if not stdin_is_terminal():
            raise BadInput("set THCLI_KEY to the database's passphrase (thcli never takes a passphrase on the command "
                           "line), or run this in a terminal to be asked for it")
        key = s.ask_key()
    s.open(key=key).close()  # the passphrase must open the database before it is kept
    where = keychain.store(s.db_path, key)
    out(f"Stored the passphrase of {s.db_path} in {where}: thcli opens this database without asking while you are "
        "logged in. Remove it with `thcli db lock` (before someone else uses this login, for one).")


@app.command()
def lock(ctx: typer.Context) -> None:
    """Remove the database's passphrase from the keychain (`thcli db unlock` stored it): thcli asks again.

    Works for a database that has moved or gone too: give its old path with --db.

    Example: thcli db lock
    """
    from thcli import keychain

    s = session(ctx)
    removed = keychain.forget(s.db_path)
    if removed:
        out(f"Removed the passphrase of {s.db_path} from {' and '.join(removed)}: thcli asks for it again (or reads "
            "THCLI_KEY).")
    else:
        out(f"The keychain holds no passphrase for {s.db_path}: nothing to remove.")


@app.command()
def migrate(ctx: typer.Context) -> None:
    """Bring the database's schema up to date (thcli also does this on every open).

    Example: thcli db migrate
    """
    from thcli import maintenance
    from thcli.errors import NotAllowed

    s = session(ctx)
    db = s.open()
    if db.read_only:
        raise NotAllowed(db.read_only)
    names = maintenance.migrate(db)
    out(f"The schema is up to date ({len(names)} migrations applied: {', '.join(names)}).")
