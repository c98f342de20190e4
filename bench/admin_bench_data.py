"""A portal database at the size it will reach: 100,000 deposits, 1,000,000 journal rows
over 36 months. Fictitious data, built in bulk and cached under /tmp between runs.

The deposits and journal rows are inserted on the schema as it stood before the search
migrations (m0300 and later), then `database.migrate` applies those migrations: the build
also times the backfill a portal in the field will run once.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portail.storage import database  # noqa: E402

DEPOSITS = 100_000
JOURNAL_ROWS = 1_000_000
MONTHS = 36
END = datetime(2026, 3, 1, tzinfo=UTC)
START = END - timedelta(days=MONTHS * 365 // 12)
SEED_VERSION = "5"  # bump when the generated data changes

KINDS = ("Association", "École de musique", "Club sportif", "Comité des fêtes", "Amicale")
KINDS += ("Foyer rural", "Maison des jeunes et de la culture", "Compagnie théâtrale")
KINDS += ("Société de chasse", "Les amis de", "Centre social", "Harmonie municipale")
KINDS += ("Union sportive", "Coopérative scolaire", "Ensemble vocal", "Atelier d'art")
TOWNS = (
    "Saint-Étienne,Besançon,Orléans,Évreux,Nîmes,Béziers,Cahors,Mâcon,Montélimar,Sète,"
    "Pézenas,Lodève,Gérardmer,Épinal,Châlons,Sainte-Ménehould,Bourg-en-Bresse,Aurillac,Millau,"
    "Agen,Périgueux,Angoulême,Cognac,Thouars,Vierzon,Issoudun,Nevers,Dole,Lons-le-Saunier,"
    "Pontarlier,Morteau,Oyonnax,Annecy,Chambéry,Albertville,Briançon,Gap,Digne,Manosque,Apt,"
    "Carpentras,Orange,Uzès,Alès,Mende,Rodez,Figeac,Foix,Pamiers,Tarbes,Lourdes,Pau,Oloron,"
    "Dax,Mont-de-Marsan,Arcachon,Libourne,Royan,Saintes,Niort,Parthenay,Cholet,Saumur,"
    "Laval,Vitré,Fougères,Dinan,Lannion,Morlaix,Quimper,Lorient,Vannes,Pontivy,Redon"
).split(",")
ROUTES = (
    "/v3/insee/sirene/etablissements/diffusibles/{siret}",
    "/v4/djepva/api-association/associations/open_data/{siren_or_rna}",
    "/v3/insee/sirene/unites_legales/diffusibles/{siren}",
)
STATES = (None,) * 12 + ("match",) * 6 + ("differences",) * 1 + ("closed",)


def cache_path() -> Path:
    """The cached database: named after the data version and the migrations before m0300."""
    names = sorted(p.stem for p in (ROOT / "portail/storage/migrations").glob("m0[0-2]*.py"))
    key = hashlib.sha256(("|".join(names) + SEED_VERSION).encode()).hexdigest()[:10]
    return Path(f"/tmp/portail-admin-bench-{key}.sqlite3")


def siret_for(number: int) -> str:
    """A fictitious SIRET (not Luhn-valid: storage never checks it): 20,000 SIRENs."""
    return f"9{number % 20_000:08d}{number % 7:04d}{number % 10}"


def _iso(moment: datetime, ms: bool) -> str:
    return moment.isoformat(timespec="milliseconds" if ms else "seconds")


def _reference(year: int, number: int, rng: random.Random) -> str:
    """AIDE-2025-XXXX-XXXX-XXXX in the real alphabet, unique through `number`."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    digits = "".join(alphabet[(number >> (5 * k)) % 32] for k in range(4))
    chars = "".join(rng.choice(alphabet) for _ in range(8)) + digits
    return f"AIDE-{year}-{chars[:4]}-{chars[4:8]}-{chars[8:]}"


def _deposit_rows(rng: random.Random):
    span = (END - START).total_seconds()
    for number in range(DEPOSITS):
        # Oldest first, like real filing; one second holds several deposits now and then.
        created = START + timedelta(seconds=int(span * number / DEPOSITS))
        name = f"{rng.choice(KINDS)} de {rng.choice(TOWNS)}".upper()
        if rng.random() < 0.3:
            name = name.title()
        siret = siret_for(rng.randrange(60_000))
        values = {
            "siret": siret,
            "raison_sociale": name,
            "adresse": f"{rng.randrange(1, 200)} rue de la République",
            "code_postal": f"{rng.randrange(1000, 95999):05d}",
            "commune": rng.choice(TOWNS),
            "nom": "Dupont",
            "prenom": "Camille",
            "email": f"contact{number}@example.org",
            "telephone": "01 23 45 67 89",
            "intitule_projet": f"Projet culturel n° {number}",
            "description_projet": "Un projet fictif pour le banc d'essai. " * 8,
            "montant_demande": "1234,50",
            "consentement": "y",
        }
        snapshot = (
            {"data": {"siret": siret, "nom": name, "adresse": values}} if number % 2 else None
        )
        yield (
            _reference(created.year, number, rng),
            _iso(created, ms=False),
            siret,
            name,
            values["intitule_projet"],
            rng.randrange(10_000, 5_000_000),
            values["email"],
            json.dumps(values, ensure_ascii=False),
            json.dumps(snapshot, ensure_ascii=False) if snapshot else None,
            "{}",
            "[]",
        )


def _journal_rows(rng: random.Random):
    span = (END - START).total_seconds()
    for number in range(JOURNAL_ROWS):
        at = START + timedelta(seconds=span * number / JOURNAL_ROWS)
        siret = siret_for(rng.randrange(60_000))
        route = rng.choice(ROUTES)
        target = siret[:9] if "siren" in route else siret
        draw = rng.random()
        source, status, kind, outcome = "api", 200, None, "success"
        if draw < 0.08:
            source, outcome = "cache", None
        elif draw < 0.09:
            source, outcome = "joined", None
        elif draw < 0.10:
            source, status, kind, outcome = "refused", None, "budget_spent", None
        elif draw < 0.13:
            status, kind, outcome = 404, "not_found", None
        elif draw < 0.135:
            status, kind, outcome = None, "timeout", "failure"
        elif draw < 0.14:
            status, kind, outcome = 503, "unavailable", "failure"
        elif draw < 0.142:
            status, kind, outcome = 429, "rate_limited", "failure"
        yield (
            _iso(at, ms=True),
            route,
            target,
            f"Demande AIDE-{number % 99_999:05d}" if rng.random() < 0.5 else None,
            "anonyme" if rng.random() < 0.9 else f"agent{rng.randrange(12)}",
            status,
            None if status in (None, 200) else f"0{status}",
            kind,
            round(rng.uniform(40, 900), 1) if source == "api" else None,
            f"{rng.getrandbits(64):016x}" if source == "api" else None,
            source,
            outcome,
        )


def _insert(db, sql: str, rows, batch: int = 20_000) -> None:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == batch:
            db.conn.executemany(sql, chunk)
            chunk.clear()
    if chunk:
        db.conn.executemany(sql, chunk)


def build(path: Path) -> dict[str, float]:
    """Build the database at `path`; returns the seconds each stage took."""
    figures = {}
    partial = path.with_suffix(".building")
    partial.unlink(missing_ok=True)
    db = database.connect(partial)
    db.conn.execute("PRAGMA synchronous = OFF")
    db.conn.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    for name, module in database._migration_modules():  # noqa: SLF001
        if name < "m0300":
            module.up(db)
            db.conn.execute("INSERT INTO _migrations VALUES (?, '')", (name,))
    rng = random.Random(2026)
    started = time.perf_counter()
    db.conn.execute("BEGIN")
    _insert(
        db,
        "INSERT INTO deposits (ref, created_at, siret, raison_sociale, intitule_projet, "
        "montant_demande_cents, email, values_json, snapshot_json, prefilled_json, "
        "changed_fields_json) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        _deposit_rows(rng),
    )
    _insert(
        db,
        "INSERT INTO api_journal (at, route, target, object, actor, status, error_code, kind, "
        "duration_ms, request_id, source, outcome) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        _journal_rows(rng),
    )
    db.conn.execute("COMMIT")
    figures["bulk insert (s)"] = time.perf_counter() - started
    started = time.perf_counter()
    applied = database.migrate(db)
    figures["migrations " + ", ".join(applied) + " + ANALYZE (s)"] = time.perf_counter() - started
    # Certified states as the certified-data check will leave them.
    rows = db.conn.execute("SELECT id FROM deposits").fetchall()
    db.conn.execute("BEGIN")
    db.conn.executemany(
        "UPDATE deposits SET certified_state = ? WHERE id = ?",
        [(rng.choice(STATES), row[0]) for row in rows],
    )
    db.conn.execute("COMMIT")
    db.conn.execute("ANALYZE")
    db.conn.close()
    partial.rename(path)
    return figures


def ready_database(fresh: bool = False) -> tuple[Path, dict[str, float]]:
    """The cached database (built on first use), copied for this run; build figures if built."""
    cached = cache_path()
    figures = {}
    if fresh or not cached.exists():
        figures = build(cached)
    work = cached.with_suffix(".run.sqlite3")
    for suffix in ("", "-wal", "-shm"):
        Path(str(work) + suffix).unlink(missing_ok=True)
    shutil.copyfile(cached, work)
    return work, figures
